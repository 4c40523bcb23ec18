"""Hostile or broken files: the settings file, the mapping file, the secrets file and the CRM schema description.

Each is refused before any request or state change with exit 3, naming the file and (where there is one) the
line and key, in bounded memory.
"""

from __future__ import annotations

import pytest

from sync.yamlfile import MAX_FILE_BYTES
from tests.badinput.harness import Case, param

SETTINGS, MAPPING = "config/sync.yaml", "config/mapping.yaml"
OVERSIZED = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)


def bomb(levels: int = 9) -> str:
    """The "billion laughs": each anchor repeats the previous one nine times."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def hostile(file: str, args: tuple[str, ...]) -> list[Case]:
    """The same hostile YAML, as one file or another."""
    short = file.split("/")[-1].split(".")[0]
    return [
        Case(f"{short} alias bomb", args, expect=(f"{file}:6: (yaml): expands to more than 200,000 values",),
             files={file: bomb()}),
        Case(f"{short} 100,000 nested brackets", args, expect=(f"{file}:1: (yaml): nested more than 64 levels",),
             files={file: "a: " + "[" * 100_000 + "]" * 100_000 + "\n"}),
        Case(f"{short} python object tag", args,
             expect=(f"{file}:1: (yaml): the tag tag:yaml.org,2002:python/object:os.system is not allowed",),
             files={file: "audiences: !!python/object:os.system echo\n"}),
        Case(f"{short} custom tag", args, expect=(f"{file}:2: (yaml): the tag !vault is not allowed",),
             files={file: "crm:\n  url: !vault secret/crm\n"}),
        Case(f"{short} 2 MB of comments", args, expect=(f"{file}: the file is larger than 2048 kB",),
             files={file: OVERSIZED}),
        Case(f"{short} latin-1", args, expect=(f"{file}:3: (file): not UTF-8 text (byte 0xe9)",),
             files={file: "audiences:\n  news:\n    title: caf\udce9\n"}),
        Case(f"{short} utf-16", args, expect=(f"{file}:1: (file): not UTF-8 text (byte 0xff)",),
             files={file: "crm:\n  chunk_size: 10\n".encode("utf-16")}),
        Case(f"{short} unclosed bracket", args, expect=(f"{file}:2: (yaml): ", "expected ',' or '}', but got ':'"),
             files={file: "crm: {url: sqlite:///x.db\nstate: {}\n"}),
        Case(f"{short} tab indentation", args,
             expect=(f"{file}:2: (yaml): ", "found character '\\t' that cannot start any token"),
             files={file: "crm:\n\turl: sqlite:///x.db\n"}),
        Case(f"{short} duplicate key", args, expect=(f"{file}:3: (yaml): ", 'found duplicate key "crm"'),
             files={file: "crm:\n  chunk_size: 10\ncrm:\n  chunk_size: 20\n"}),
        Case(f"{short} NUL byte", args,
             expect=(f"{file}:2: (yaml): not valid YAML: character #x0000 is not allowed in a YAML file",),
             files={file: "crm:\n  chunk_size: {a: 1\x00}\n"}),
        Case(f"{short} ANSI escape", args,
             expect=(f"{file}:1: (yaml): not valid YAML: character #x001b is not allowed in a YAML file",),
             files={file: "crm: {url: \x1b[31mred}\n"}),
    ]


def settings(name: str, text: str, *expect: str, **more) -> Case:
    return Case(f"settings {name}", ("push",), expect=expect, files={SETTINGS: text}, **more)


def mapping(name: str, text: str, *expect: str, args=("mapping", "check")) -> Case:
    return Case(f"mapping {name}", args, expect=expect, files={MAPPING: text})


def fields(*lines: str) -> str:
    return "audiences:\n  newsletter:\n    fields:\n" + "".join(f"      {line}\n" for line in lines)


SETTINGS_CASES = [
    *hostile(SETTINGS, ("push",)),
    settings("a list", "- crm\n- state\n", f"{SETTINGS}: the settings file must be a mapping of keys, not list"),
    settings("a scalar", "just words\n", f"{SETTINGS}: the settings file must be a mapping of keys, not str"),
    settings("unknown top key", "crm: {}\nmailchimpp:\n  concurrency: 2\n",
             "- mailchimpp: unknown setting (did you mean 'mailchimp'?). Set CRM_SYNC_MAILCHIMPP or key "
             f"mailchimpp in {SETTINGS} (line 2)."),
    settings("unknown nested key", "crm:\n  chunksize: 10\n",
             "- crm.chunksize: unknown setting (did you mean 'chunk_size'?). Set CRM_SYNC_CRM__CHUNKSIZE or key "
             f"crm.chunksize in {SETTINGS} (line 2)."),
    settings("text for a number", "crm:\n  chunk_size: lots\n",
             "- crm.chunk_size: Input should be a valid integer", f"key crm.chunk_size in {SETTINGS} (line 2)."),
    settings("concurrency above the limit", "mailchimp:\n  concurrency: 11\n",
             "- mailchimp.concurrency: Input should be less than or equal to 10", "(line 2)"),
    settings("spotler batch above the limit", "spotler:\n  batch_size: 500\n",
             "- spotler.batch_size: Input should be less than or equal to 100", "(line 2)"),
    settings("unknown time zone", "schedule:\n  timezone: Mars/Olympus\n",
             "unknown time zone 'Mars/Olympus'; use a name like Europe/Amsterdam", "(line 2)"),
    settings("unknown leave policy", "audiences:\n  newsletter:\n    audience_id: x\n    leave_policy: delete\n",
             "- audiences.newsletter.leave_policy: Input should be 'keep', 'unsubscribe' or 'archive'",
             "(line 4)"),
    settings("unknown provider", "audiences:\n  extra:\n    provider: sendgrid\n",
             "- audiences.extra.provider: Input should be 'mailchimp' or 'spotler'", "(line 3)"),
    settings("spotler audience without bits", "audiences:\n  extra:\n    provider: spotler\n",
             "a Spotler audience needs permission_bits", "key audiences.extra in"),
    settings("spotler re-opt-in", "audiences:\n  extra:\n    provider: spotler\n    permission_bits: [1]\n"
             "    reoptin: true\n", "Spotler has no re-opt-in confirmation mail"),
    settings("permission bit zero", "audiences:\n  extra:\n    provider: spotler\n    permission_bits: [0]\n",
             "permission_bits are positive numbers"),
    settings("threshold above 1", "audiences:\n  newsletter:\n    audience_id: x\n    safety_threshold: 1.5\n",
             "- audiences.newsletter.safety_threshold: Input should be less than or equal to 1", "(line 4)"),
    settings("malformed base_url", "crm: {}\nmailchimp:\n  base_url: htp://nowhere\n",
             "'htp://nowhere' is not an http(s) URL with a host", f"key mailchimp.base_url in {SETTINGS} (line 3)",
             env={"CRM_SYNC_MAILCHIMP__BASE_URL": None}),
    settings("unknown log format", "log_format: xml\n", "- log_format: Input should be 'text' or 'json'",
             "(line 1)"),
    settings("negative lock ttl", "lock_ttl_seconds: -1\n", "- lock_ttl_seconds: Input should be greater than 0"),
    settings("schedule as a list", "schedule:\n  - 0 2 * * *\n",
             "- schedule: Input should be a valid dictionary", "(line 1)"),
    settings("zero pull window", "audiences:\n  newsletter:\n    audience_id: x\n    pull_window_days: 0\n",
             "- audiences.newsletter.pull_window_days: Input should be greater than or equal to 1"),
    Case("settings --config missing", ("--config", "$dir/nowhere.yaml", "push"),
         expect=("$dir/nowhere.yaml: file not found",)),
    Case("settings --config a folder", ("--config", "$dir/config", "push"),
         expect=("$dir/config: cannot read it (Is a directory)",)),
    Case("settings CRM_SYNC_CONFIG missing", env={"CRM_SYNC_CONFIG": "$dir/gone.yaml"},
         expect=("$dir/gone.yaml: file not found",)),
]

MAPPING_CASES = [
    *hostile(MAPPING, ("mapping", "check")),
    mapping("type typo", fields("TIER: { source: loyalty_tier, type: dropdwon }"),
            f"{MAPPING}:4: audiences.newsletter.fields.TIER.type: 'dropdwon' is not one of",
            "(did you mean 'dropdown'?)"),
    mapping("tag too long", fields("FIRSTNAMEXX: { source: first_name, type: text }"),
            f"{MAPPING}:4: audiences.newsletter.fields.FIRSTNAMEXX: 'FIRSTNAMEXX' is not a valid provider field "
            "tag: at most 10 characters"),
    mapping("no source", fields("FNAME: { type: text }"),
            f"{MAPPING}:4: audiences.newsletter.fields.FNAME.source: 'source' is missing"),
    mapping("unknown CRM field", fields("FNAME: { source: frist_name, type: text }"),
            f"{MAPPING}:4: audiences.newsletter.fields.FNAME.source", "(did you mean 'first_name'?)"),
    mapping("date without format", fields("SINCE: { source: member_since, type: date }"),
            f"{MAPPING}:4: audiences.newsletter.fields.SINCE.date_format: a date field needs date_format"),
    mapping("case typo", fields("FNAME: { source: first_name, type: text, case: titel }"),
            f"{MAPPING}:4: audiences.newsletter.fields.FNAME.case", "(did you mean 'title'?)"),
    mapping("34 fields", fields(*(f"F{i}: {{ source: first_name, type: text }}" for i in range(34))),
            f"{MAPPING}:3: audiences.newsletter.fields: 34 fields, but a mailchimp audience holds at most 30 "
            "(audience newsletter); drop 4"),
    mapping("empty file", "", f"{MAPPING}:1: audiences: the file is empty; it needs an 'audiences:' section"),
    mapping("a list", "- FNAME\n", f"{MAPPING}: (file): the file must be a mapping of keys to values, not a list"),
    Case("mapping file setting missing", ("mapping", "check"), env={"CRM_SYNC_MAPPING_FILE": "$dir/none.yaml"},
         expect=("$dir/none.yaml: file not found",)),
    Case("mapping section the settings name is missing", ("mapping", "check"),
         env={"CRM_SYNC_AUDIENCES__NIEUWSBRIEF__MAPPING": "nieuws"},
         expect=((f"{MAPPING}:56: audiences.nieuws: audience nieuwsbrief uses mapping section 'nieuws', which the "
                 "file lacks (sections: newsletter)"),)),
    Case("mapping consent field is text", ("mapping", "check"),
         env={"CRM_SYNC_AUDIENCES__NEWSLETTER__CONSENT_FIELD": "first_name"},
         expect=("settings: audiences.newsletter.consent_field: 'first_name' is not a checkbox field of the CRM",)),
    Case("mapping check --mapping missing", ("mapping", "check", "--mapping", "$dir/x.yaml"),
         expect=("$dir/x.yaml: file not found",)),
]

SECRETS = "$dir/secrets.env"
SECRET_CASES = [
    Case("secrets readable by others", env={"CRM_SYNC_SECRETS_FILE": SECRETS},
         files={"secrets.env": "CRM_SYNC_MAILCHIMP__API_KEY=0123abcd-us1\n"},
         setup=lambda ws: (ws.dir / "secrets.env").chmod(0o644),
         expect=(f"run `chmod 600 {SECRETS}`", "CRM_SYNC_SECRETS_FILE_READABLE=warn"), forbid=("0123abcd",)),
    Case("secrets file missing", ("--secrets-file", SECRETS, "push"),
         expect=(f"secrets file {SECRETS} (CRM_SYNC_SECRETS_FILE) does not exist",)),
    Case("secrets latin-1", env={"CRM_SYNC_SECRETS_FILE": SECRETS},
         files={"secrets.env": b"CRM_SYNC_CRM__CHUNK_SIZE=5\nCRM_SYNC_MAILCHIMP__API_KEY=\xff\xfe-us1\n"},
         setup=lambda ws: (ws.dir / "secrets.env").chmod(0o600),
         expect=(f"{SECRETS}:2: (file): not UTF-8 text (byte 0xff)",)),
    Case("secrets oversized", env={"CRM_SYNC_SECRETS_FILE": SECRETS}, files={"secrets.env": OVERSIZED},
         setup=lambda ws: (ws.dir / "secrets.env").chmod(0o600),
         expect=(f"{SECRETS}: the file is larger than 2048 kB",)),
    Case("secrets text for a number", env={"CRM_SYNC_SECRETS_FILE": SECRETS, "CRM_SYNC_CRM__CHUNK_SIZE": None},
         files={"secrets.env": "CRM_SYNC_CRM__CHUNK_SIZE=lots\n"},
         setup=lambda ws: (ws.dir / "secrets.env").chmod(0o600),
         expect=("- crm.chunk_size: Input should be a valid integer", "Set CRM_SYNC_CRM__CHUNK_SIZE")),
    Case("secrets bits not a list", env={"CRM_SYNC_SECRETS_FILE": SECRETS,
                                         "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS": None},
         files={"secrets.env": "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS=notalist\n"},
         setup=lambda ws: (ws.dir / "secrets.env").chmod(0o600),
         expect=("cannot read CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS (environment or secrets file)",),
         forbid=("notalist",)),
    Case("secrets a folder", ("--secrets-file", "$dir/config", "push"),
         expect=("secrets file $dir/config (CRM_SYNC_SECRETS_FILE) does not exist",)),
]

SCHEMA_CASES = [
    Case("schema file missing", env={"CRM_SYNC_CRM__SCHEMA_FILE": "$dir/schema.yaml"},
         expect=("$dir/schema.yaml: file not found",)),
    Case("schema alias bomb", env={"CRM_SYNC_CRM__SCHEMA_FILE": "$dir/schema.yaml"},
         files={"schema.yaml": bomb()}, expect=("$dir/schema.yaml:6: (yaml): expands to more than",)),
    Case("schema a list", env={"CRM_SYNC_CRM__SCHEMA_FILE": "$dir/schema.yaml"},
         files={"schema.yaml": "- contacts\n"},
         expect=("$dir/schema.yaml:1: (top): a schema description must be a mapping of sections",)),
]


@pytest.mark.parametrize("case", [param(case) for case in SETTINGS_CASES + SCHEMA_CASES])
def test_a_broken_settings_or_schema_file(pushed, case):
    pushed.run("files", case)


@pytest.mark.parametrize("case", [param(case) for case in MAPPING_CASES])
def test_a_broken_mapping_file(pushed, case):
    pushed.run("files", case)


@pytest.mark.parametrize("case", [param(case) for case in SECRET_CASES])
def test_a_broken_secrets_file(pushed, case):
    pushed.run("files", case)
