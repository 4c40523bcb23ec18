"""`crm-sync status`: every run with its reason, counts that agree with the plan, failures newest first,
and the terminal-less outputs (`status`, `plan`, `why`) never cut; progress lines while pushing and pulling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sync.errors import EXIT_CONFIG, EXIT_OK, EXIT_RECORDS_REJECTED
from sync.state.members import MemberOutcome
from sync.state.store import open_state
from tests.cli.run import crm_sync
from tests.push.world import edit_contact, eligible

TO_SEND = ("create", "update", "change_email", "reoptin", "unsubscribe", "archive")
OUTCOMES = ("written", "rejected", "not_found", "opt_outs_found", "found_left", "held_back")




def _status(project, env) -> dict:
    return json.loads(crm_sync("status", "--json", cwd=project, env=env).out)


def _crm_rows(env) -> list[dict]:
    from sqlalchemy import create_engine, select

    from sync.demo.crm.schema import crm_tables
    engine = create_engine(env["CRM_SYNC_CRM__URL"])
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(crm_tables().contacts))]
    engine.dispose()
    return rows


@pytest.mark.parametrize(("broken", "message", "pull_fails"), [
    pytest.param({"CRM_SYNC_AUDIENCES__AAA_BROKEN__MAPPING": "no_such_section"},
                 "no audience section 'no_such_section' for audience aaa_broken", False, id="mapping section missing"),
    pytest.param({"CRM_SYNC_AUDIENCES__AAA_BROKEN__MAPPING": "newsletter",
                  "CRM_SYNC_AUDIENCES__AAA_BROKEN__TARGET_LIST": "no such list"},
                 "the CRM has no target list 'no such list'", False, id="config error of one audience"),
    pytest.param({"CRM_SYNC_AUDIENCES__AAA_BROKEN__MAPPING": "newsletter",
                  "CRM_SYNC_AUDIENCES__AAA_BROKEN__PROVIDER": "spotler",
                  "CRM_SYNC_AUDIENCES__AAA_BROKEN__PERMISSION_BITS": "[1]",
                  "CRM_SYNC_SPOTLER__CONSUMER_KEY": "key-4d8f", "CRM_SYNC_SPOTLER__CONSUMER_SECRET": "secret-9a1c",
                  "CRM_SYNC_SPOTLER__BASE_URL": "http://127.0.0.1:1/api", "CRM_SYNC_SPOTLER__RETRY_SECONDS": "1"},
                 "Spotler", True, id="provider unreachable while reading fields"),
])
def test_a_run_that_fails_before_it_starts_is_in_status_with_its_reason(mailchimp_project, broken, message, pull_fails):
    project, _, env = mailchimp_project
    env = env | {"CRM_SYNC_AUDIENCES__AAA_BROKEN__AUDIENCE_ID": env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]}
    result = crm_sync("run", cwd=project, env=env | broken)
    assert result.code != EXIT_OK and "audience aaa_broken: push failed" in result.err

    runs = {(run["kind"], run["audience"]): run for run in _status(project, env)["runs"]}
    push = runs[("push", "aaa_broken")]
    assert push["outcome"] == "failed" and message in push["error"] and push["finished_at"]
    assert runs[("pull", "aaa_broken")]["outcome"] == ("failed" if pull_fails else "ok")
    assert runs[("push", "newsletter")]["outcome"] in ("ok", "partial")
    text = crm_sync("status", cwd=project, env=env).out
    assert f"Run {push['id']} (push aaa_broken) failed: {push['error']}" in text
    assert "secret-9a1c" not in text


def test_a_command_with_no_audience_to_work_on_is_in_status(mailchimp_project):
    project, _, env = mailchimp_project
    env = {name: value for name, value in env.items() if "AUDIENCES" not in name}
    result = crm_sync("push", cwd=project, env=env)
    assert result.code == EXIT_CONFIG
    [run] = _status(project, env)["runs"]
    assert (run["kind"], run["audience"], run["outcome"]) == ("push", None, "failed")
    assert run["error"].startswith("no audience is configured")


def test_status_counts_agree_with_the_plan_with_households_and_leaves_that_find_nothing(mailchimp_project):
    project, sandbox, env = mailchimp_project
    list_id = env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]
    env = env | {"CRM_SYNC_AUDIENCES__NEWSLETTER__LEAVE_POLICY": "archive"}
    assert crm_sync("push", cwd=project, env=env).code in (EXIT_OK, EXIT_RECORDS_REJECTED)
    rows = _crm_rows(env)
    members = {member["email_address"].lower() for member in sandbox.members(list_id)}
    addresses = [(row["email"] or "").strip().lower() for row in rows]
    single = [row for row in rows if eligible(row) and row["email"].strip().lower() in members
              and addresses.count(row["email"].strip().lower()) == 1]
    gone, cleaned, leaving, archived = single[:4]
    crm_url = env["CRM_SYNC_CRM__URL"]
    edit_contact(crm_url, gone["id"], email_opt_out=True)
    sandbox.permanently_delete(list_id, gone["email"].strip())  # the unsubscribe finds no member
    edit_contact(crm_url, cleaned["id"], email_opt_in=False)
    sandbox.clean(list_id, cleaned["email"].strip())  # the archive finds it cleaned: nothing to do
    edit_contact(crm_url, leaving["id"], email_opt_out=True)
    edit_contact(crm_url, archived["id"], email_opt_in=False)

    # Full runs: every contact planned, the households' merged contacts too.
    [planned] = json.loads(crm_sync("plan", "--full", "--json", cwd=project, env=env).out)
    plan_text = crm_sync("plan", "--full", cwd=project, env=env).out
    pushed = crm_sync("push", "--force", "--full", cwd=project, env=env)
    assert pushed.code == EXIT_OK, pushed.err

    counts = _status(project, env)["runs"][0]["counts"]
    actions = {name: count for name, count in counts.items() if name in planned["actions"]}
    assert actions == planned["actions"] and planned["actions"]["merged"] > 0
    to_send = sum(counts.get(action, 0) for action in TO_SEND)
    assert to_send == 4 == sum(counts[outcome] for outcome in OUTCOMES)
    assert (counts["written"], counts["not_found"], counts["found_left"]) == (2, 1, 1)
    outcome = "4 to send: written 2, rejected 0, no member found 1, found cleaned or archived 1"
    assert outcome in pushed.out and outcome in crm_sync("status", cwd=project, env=env).out
    for action, reasons in planned["reasons_by_action"].items():  # printed under their action, adding up to it
        assert sum(reasons.values()) == planned["actions"][action]
        block = f"  {action:<14} {planned['actions'][action]:>9,}\n" + "".join(
            f"    {reason:<28} {count:>7,}\n" for reason, count in reasons.items())
        assert block in plan_text


def test_failures_are_listed_newest_first_and_ids_of_one_moment_in_number_order(mailchimp_project):
    project, _, env = mailchimp_project
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for contact_ids, minutes in ((["2"], 0), (["10", "9"], 5), (["100"], 10)):
        with open_state(env["CRM_SYNC_STATE__URL"], clock=lambda m=minutes: start + timedelta(minutes=m)) as store:
            store.save_member_outcomes("newsletter", [MemberOutcome(cid, email=f"c{cid}@shop.test",
                                                                    reason_code="provider_rejected",
                                                                    last_error="refused") for cid in contact_ids])
    assert [row["contact_id"] for row in _status(project, env)["failures"]] == ["100", "9", "10", "2"]
    text = crm_sync("status", "--failures", "3", cwd=project, env=env).out
    listed = [line.split("contact ")[1].split()[0] for line in text.splitlines() if " contact " in line]
    assert listed == ["100", "9", "10"] and "Failed contacts in newsletter: 4 (the 3 newest shown)" in text


def test_status_plan_and_why_without_a_terminal_print_long_names_reasons_ids_and_addresses_whole(mailchimp_project):
    project, _, env = mailchimp_project
    audience = "newsletter_for_the_customers_of_the_northern_region_" + "x" * 48  # 100: the longest allowed
    list_id = env.pop("CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID")
    target = "the list of customers who asked for the newsletter at the spring fair " * 5
    env |= {f"CRM_SYNC_AUDIENCES__{audience.upper()}__AUDIENCE_ID": list_id,
            f"CRM_SYNC_AUDIENCES__{audience.upper()}__MAPPING": "newsletter"}
    address = "firstname.middlename.lastname." + "a" * 30 + "@" + "department-" * 10 + "example-company.test"  # 191
    contact = next(row for row in _crm_rows(env) if eligible(row))
    edit_contact(env["CRM_SYNC_CRM__URL"], contact["id"], email=address)
    long_id = "crm-contact-" + "7" * 170
    long_error = "the provider refused this contact because " + "its address looks like a role account; " * 30
    with open_state(env["CRM_SYNC_STATE__URL"]) as store:
        store.save_member_outcomes(audience, [MemberOutcome(long_id, email=address, reason_code="provider_rejected",
                                                            last_error=long_error)])
    plan = crm_sync("plan", "--limit", "0", cwd=project, env=env).out
    assert crm_sync("push", cwd=project, env=env).code in (EXIT_OK, EXIT_RECORDS_REJECTED)
    failed = crm_sync("push", cwd=project,
                      env=env | {f"CRM_SYNC_AUDIENCES__{audience.upper()}__TARGET_LIST": target})
    assert failed.code == EXIT_CONFIG

    status = crm_sync("status", cwd=project, env=env).out
    why = crm_sync("why", address, cwd=project, env=env).out
    assert "…" not in status + plan + why
    assert audience in status and f"the CRM has no target list {target!r}" in status
    assert f"contact {long_id} <{address}>: provider_rejected: {long_error}" in status
    assert f"Audience {audience}: plan" in plan and f"contact {contact['id']} <{address}>: create" in plan
    assert f"Audience {audience}, contact {long_id}" in why and f"Audience {audience}, contact {contact['id']}" in why
    assert f"pushed address     {address}" in why and long_error.strip() in why


def test_push_and_pull_without_a_terminal_log_their_progress(mailchimp_project):
    project, sandbox, env = mailchimp_project
    pushed = crm_sync("push", cwd=project, env=env)
    members = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)["runs"][0]["counts"]["create"]
    assert "push newsletter: contacts read 60/60" in pushed.err
    assert f"push newsletter: members sent {members} 1 batches answered, " in pushed.err

    list_id = env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    campaign = sandbox.send_campaign(list_id, "Newsletter May", send_time=sent)
    first = next(sandbox.members(list_id, "subscribed"))["email_address"]
    sandbox.record_open(campaign, first, at=sent + timedelta(minutes=5))
    pulled = crm_sync("pull", cwd=project, env=env)
    assert pulled.code == EXIT_OK, pulled.err
    counts = _status(project, env)["runs"][0]["counts"]
    assert "pull newsletter: 0/2 campaign 'Newsletter May': 0 events read, 0 imported" in pulled.err
    assert (f"pull newsletter: 2/2 {counts['events_read']:,} events read, {counts['events_imported']:,} imported"
            in pulled.err)
