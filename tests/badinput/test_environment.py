"""Bad environment variables: every one is refused before any request or state change with exit 3, naming the
variable and the settings-file key, and never echoing a value that may be a secret."""

from __future__ import annotations

import pytest

from tests.badinput.harness import Case, param

BAD_URLS = ("htp://nowhere", "nowhere.example/3.0", "https:///3.0", "mailchimp")
NO_AUDIENCES = {"CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": None, "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PROVIDER": None,
                "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS": None,
                "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__MAPPING": None}


def variable(name: str, value: str | None, *expect: str, **more) -> Case:
    return Case(f"{name}={value}", env={name: value}, expect=expect, **more)


def invalid(name: str, value: str, key: str, message: str) -> Case:
    """A value of the wrong type or range: named by key, variable and pydantic's message."""
    return variable(name, value, f"- {key}: {message}", f"Set {name} or key {key} in config/sync.yaml.")


ENV_CASES = [
    variable("CRM_SYNC_STATE", "text", "invalid settings: cannot read CRM_SYNC_STATE (environment or secrets file)",
             "(e.g. CRM_SYNC_STATE__URL, not CRM_SYNC_STATE)", forbid=("text,",)),
    variable("CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS", "notalist",
             "cannot read CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS (environment", forbid=("notalist",)),
    variable("CRM_SYNC_MAILCHIMP", "notjson", "cannot read CRM_SYNC_MAILCHIMP (environment", forbid=("notjson",)),
    invalid("CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS", '[1, "a"]', "audiences.nieuwsbrief.permission_bits.1",
            "Input should be a valid integer"),
    invalid("CRM_SYNC_CRM__CHUNK_SIZE", "0", "crm.chunk_size", "Input should be greater than or equal to 1"),
    invalid("CRM_SYNC_CRM__CHUNK_SIZE", "1e9", "crm.chunk_size", "Input should be a valid integer"),
    invalid("CRM_SYNC_CRM__CHUNK_SIZE", "1000000", "crm.chunk_size",
            "Input should be less than or equal to 100000"),
    invalid("CRM_SYNC_MAILCHIMP__CONCURRENCY", "11", "mailchimp.concurrency",
            "Input should be less than or equal to 10"),
    invalid("CRM_SYNC_MAILCHIMP__BATCH_SIZE", "501", "mailchimp.batch_size",
            "Input should be less than or equal to 500"),
    invalid("CRM_SYNC_MAILCHIMP__TIMEOUT_SECONDS", "0", "mailchimp.timeout_seconds", "Input should be greater than 0"),
    invalid("CRM_SYNC_SPOTLER__RETRY_SECONDS", "-1", "spotler.retry_seconds", "Input should be greater than 0"),
    invalid("CRM_SYNC_SPOTLER__REQUESTS_PER_SECOND", "-1", "spotler.requests_per_second",
            "Input should be greater than or equal to 0"),
    invalid("CRM_SYNC_SPOTLER__PAGE_SIZE", "10001", "spotler.page_size",
            "Input should be less than or equal to 10000"),
    invalid("CRM_SYNC_LOG_FORMAT", "xml", "log_format", "Input should be 'text' or 'json'"),
    invalid("CRM_SYNC_LOCK_TTL_SECONDS", "soon", "lock_ttl_seconds", "Input should be a valid number"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__PROVIDER", "sendgrid", "audiences.newsletter.provider",
            "Input should be 'mailchimp' or 'spotler'"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__LEAVE_POLICY", "delete", "audiences.newsletter.leave_policy",
            "Input should be 'keep', 'unsubscribe' or 'archive'"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__SAFETY_THRESHOLD", "2", "audiences.newsletter.safety_threshold",
            "Input should be less than or equal to 1"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__REOPTIN", "maybe", "audiences.newsletter.reoptin",
            "Input should be a valid boolean"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__HISTORY", "events", "audiences.newsletter.history",
            "Input should be 'campaign' or 'event'"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__PULL_WINDOW_DAYS", "99999", "audiences.newsletter.pull_window_days",
            "Input should be less than or equal to 3650"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID", "", "audiences.newsletter.audience_id",
            "String should have at least 1 character"),
    invalid("CRM_SYNC_AUDIENCES__NEWSLETTER__OWNERSHIP_TAG", "", "audiences.newsletter.ownership_tag",
            "String should have at least 1 character"),
    variable("CRM_SYNC_SCHEDULE__TIMEZONE", "Mars/Olympus", "- schedule.timezone: Value error, unknown time zone "
             "'Mars/Olympus'; use a name like Europe/Amsterdam or UTC. Set CRM_SYNC_SCHEDULE__TIMEZONE"),
    variable("CRM_SYNC_AUDIENCES__EXTRA__LEAVE_POLICY", "keep",
             "- audiences.extra: Value error, a Mailchimp audience needs audience_id (the list id)"),
    variable("CRM_SYNC_AUDIENCES__NIEUWSBRIEF__REOPTIN", "true", "Spotler has no re-opt-in confirmation mail"),
    variable("CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS", "[]", "- audiences.nieuwsbrief: Value error, "
             "a Spotler audience needs permission_bits"),
    variable("CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS", "[-1]",
             "permission_bits are positive numbers, as Spotler lists them"),
    Case("no audience at all", env=NO_AUDIENCES, expect=("no audience is configured: add one under `audiences:`",)),
    *(variable(f"CRM_SYNC_{provider}__BASE_URL", url, "is not an http(s) URL with a host",
               f"Set CRM_SYNC_{provider}__BASE_URL") for provider in ("MAILCHIMP", "SPOTLER") for url in BAD_URLS),
    Case("CRM_SYNC_SECRETS_FILE_READABLE=yes (only warn relaxes it)",
        env={"CRM_SYNC_SECRETS_FILE": "$dir/secrets.env", "CRM_SYNC_SECRETS_FILE_READABLE": "yes"},
        files={"secrets.env": "CRM_SYNC_CRM__CHUNK_SIZE=10\n"}, setup=lambda ws: (ws.dir / "secrets.env").chmod(0o640),
        expect=(("secrets file $dir/secrets.env can be read by other users (mode -rw-r-----); "
                "run `chmod 600 $dir/secrets.env`"),)),
]


@pytest.mark.parametrize("case", [param(case) for case in ENV_CASES])
def test_a_bad_environment_variable(pushed, case):
    pushed.run("environment", case)
