"""One bad CRM value costs only that value; a refused address is tried again once the CRM corrects it.

Runs `crm-sync` as a user would against a demo CRM (SQLite, which keeps any text in a typed column) and the
Mailchimp sandbox on loopback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from sync.addresses import normalise_email
from tests.cli.run import crm_sync


def _sql(env: dict, statement: str, **values) -> list:
    engine = create_engine(env["CRM_SYNC_CRM__URL"])
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), values)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def _edit(env: dict, statement: str, **values) -> None:
    """Change the CRM with plain SQL, moving the contact's modification time as the CRM does (``id``)."""
    _sql(env, statement, **values)
    _sql(env, "UPDATE contacts SET modified_at = :now WHERE id = :id",
         now=datetime.now(UTC).replace(tzinfo=None, microsecond=0), id=values["id"])


def _members(sandbox, env) -> dict[str, dict]:
    return {normalise_email(m["email_address"]): m
            for m in sandbox.members(env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"])}


def _pushed_contacts(project, env, sandbox, count: int) -> list[tuple[int, str]]:
    """Push once; ``count`` contacts that are members now, each the only one with its address."""
    assert crm_sync("push", cwd=project, env=env).code == 0
    members = _members(sandbox, env)
    rows = _sql(env, "SELECT id, email FROM contacts WHERE email IS NOT NULL ORDER BY id")
    addresses = [normalise_email(email) for _, email in rows]
    return [(cid, email) for cid, email in rows
            if normalise_email(email) in members and addresses.count(normalise_email(email)) == 1][:count]


def test_bad_values_cost_only_their_field_and_every_output_names_them(mailchimp_project):
    project, sandbox, env = mailchimp_project
    (number_id, number_email), (date_id, date_email), (noisy_id, noisy_email), (long_id, _) = \
        _pushed_contacts(project, env, sandbox, 4)
    held = _members(sandbox, env)[normalise_email(number_email)]["merge_fields"]["LTV"]
    _edit(env, "UPDATE contacts_cf SET cf_3 = 'twelve' WHERE contact_id = :id", id=number_id)
    _edit(env, "UPDATE contacts_cf SET cf_2 = '2023-02-30' WHERE contact_id = :id", id=date_id)
    _edit(env, "UPDATE contacts SET first_name = :name WHERE id = :id", name="Ann\x1b[31me\x07", id=noisy_id)
    long_address = "a" * 60 + "." + "b" * 60 + "@" + "c" * 63 + "." + "d" * 63 + ".nl"  # 254 characters, valid
    _edit(env, "UPDATE contacts SET email = :email WHERE id = :id", email=long_address, id=long_id)

    run = crm_sync("run", cwd=project, env=env)
    assert run.code == 0, run.err
    assert "field warnings" in run.out
    members = _members(sandbox, env)
    assert members[normalise_email(number_email)]["merge_fields"]["LTV"] == held  # left out, never cleared
    assert members[normalise_email(noisy_email)]["merge_fields"]["FNAME"] == "Anne"  # sent without them
    assert normalise_email(long_address) not in members
    again = crm_sync("push", cwd=project, env=env)
    assert again.code == 0 and "written 0, rejected 0" in again.out, again.out  # nothing poisons the next push

    status = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    warnings = {(w["field"], w["problem"]): w["contacts"] for w in status["field_warnings"]["newsletter"]}
    assert warnings == {("LTV", "not_a_number"): 1, ("SINCE", "not_a_date"): 1, ("FNAME", "control_characters"): 1,
                        ("FULLNAME", "control_characters"): 1}  # FULLNAME joins first_name and last_name
    assert any(f["contact_id"] == str(long_id) and f["reason_code"] == "email_too_long" for f in status["failures"])
    printed = crm_sync("status", cwd=project, env=env).out
    assert "Field warnings in newsletter" in printed and "LTV: not_a_number: 1" in printed

    why = crm_sync("why", number_email, cwd=project, env=env).out
    assert "field warnings" in why and "'twelve' is not a number" in why and "(from lifetime_value)" in why
    why_date = crm_sync("why", date_email, cwd=project, env=env).out
    assert "'2023-02-30' is not a date" in why_date

    # Fixed in the CRM: the value is sent and the warning goes.
    _edit(env, "UPDATE contacts_cf SET cf_3 = 17.5 WHERE contact_id = :id", id=number_id)
    assert crm_sync("push", cwd=project, env=env).code == 0
    assert _members(sandbox, env)[normalise_email(number_email)]["merge_fields"]["LTV"] == 17.5
    status = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    assert ("LTV", "not_a_number") not in {(w["field"], w["problem"]) for w in status["field_warnings"]["newsletter"]}


def test_a_refused_address_is_tried_again_once_the_crm_corrects_it(mailchimp_project):
    project, sandbox, env = mailchimp_project
    [(contact_id, _)] = _pushed_contacts(project, env, sandbox, 1)
    # The CRM user mistypes the address: Mailchimp refuses the new one ("looks fake or invalid").
    _edit(env, "UPDATE contacts SET email = 'anna.fake@example.com' WHERE id = :id", id=contact_id)
    pushed = crm_sync("push", cwd=project, env=env)
    refused = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)["failures"]
    assert [(f["contact_id"], f["reason_code"]) for f in refused] == [(str(contact_id), "invalid_address")], \
        pushed.out
    assert "tried again once the CRM address changes" in crm_sync("why", "anna.fake@example.com", cwd=project,
                                                                   env=env).out
    unchanged = crm_sync("push", cwd=project, env=env)
    assert "written 0, rejected 0" in unchanged.out  # the same address is not sent again

    _edit(env, "UPDATE contacts SET email = 'anna.fixed@ziggo.nl' WHERE id = :id", id=contact_id)
    fixed = crm_sync("push", cwd=project, env=env)
    assert fixed.code == 0 and "written 1, rejected 0" in fixed.out, fixed.out
    assert "anna.fixed@ziggo.nl" in _members(sandbox, env)
    assert json.loads(crm_sync("status", "--json", cwd=project, env=env).out)["failures"] == []
