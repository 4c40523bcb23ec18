"""CRM rows with values that cannot be converted (text in a number column, impossible dates, unclear booleans,
control characters, NUL, overlong text and addresses): one bad value costs only that value. The field is left out
of that contact's payload (the provider keeps what it holds), the contact is still synced in both audiences, and
the warning names the record, the field and the value; consent is read from a clear yes only.

Each case makes contact 7 a consenting contact with an address of its own, then gives one of its values the
bad input, and runs `crm-sync run` in a ``fresh`` workspace (new sandboxes, empty state store).
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.badinput.harness import Case, param
from tests.badinput.worlds import WRITTEN

CONTACT = 7
ADDRESS = "case.seven@ziggo.test"
READY = (f"UPDATE contacts SET email = '{ADDRESS}', email_opt_in = 1, email_opt_out = 0, email_invalid = 0, "
         f"deleted = 0, organisation_id = NULL WHERE id = {CONTACT}")


def _warnings(workspace, audience: str) -> list[str]:
    """The problems the state store recorded for contact 7's last payload in ``audience``."""
    with sqlite3.connect(workspace.dir / "state.db") as conn:
        row = conn.execute("SELECT warnings FROM member_state WHERE audience = ? AND contact_id = ?",
                           (audience, str(CONTACT))).fetchone()
    return sorted(warning["problem"] for warning in json.loads(row[0] or "[]")) if row else []


def synced(problems: dict[str, list[str]], member: bool = True):
    """Contact 7 is a member of both audiences (or, ``member=False``, of neither) with these warnings per
    audience, and everyone else was synced as without the bad value; returns the members synced."""
    def check(workspace, result) -> int:
        mailchimp = workspace.mailchimp.member(workspace.list_id, ADDRESS)
        spotler = workspace.spotler.contact(str(CONTACT))
        assert (mailchimp is not None and mailchimp["status"] == "subscribed") is member, result.text
        assert (spotler is not None and spotler["properties"].get("email") == ADDRESS) is member, result.text
        for audience in ("newsletter", "nieuwsbrief"):
            assert _warnings(workspace, audience) == sorted(problems.get(audience, [])), result.text
        members = workspace.mailchimp.member_count(workspace.list_id), len(workspace.spotler.contacts())
        assert min(members) >= WRITTEN - 1, members  # contact 7 may have been one of them before
        assert [outcome for _, _, outcome, _ in workspace.runs()] == ["ok"] * 4, workspace.runs()
        return sum(members)
    return check


def value(name: str, sql: str, problems: dict[str, list[str]], *expect: str, member: bool = True) -> Case:
    return Case(f"crm value {name}", ("run",), code=0, network=True, expect=expect,
                forbid=("internal error", "Traceback"),
                setup=lambda ws: ws.crm(READY, sql.format(id=CONTACT)), still=synced(problems, member))


BOTH = ("newsletter", "nieuwsbrief")


def both(*problems: str) -> dict[str, list[str]]:
    return {audience: list(problems) for audience in BOTH}


CRM_VALUE_CASES: list[Case] = [
    # Text in a number column (SQLite keeps it): LTV (Mailchimp) and lifetimeValue (Spotler) left out.
    value("number as words", "UPDATE contacts_cf SET cf_3 = 'lots' WHERE contact_id = {id}", both("not_a_number"),
          "contact 7: LTV (from lifetime_value): 'lots' is not a number"),
    value("number with a decimal comma", "UPDATE contacts_cf SET cf_3 = '12,50' WHERE contact_id = {id}",
          both("not_a_number"), "'12,50' is not a number (use a dot for decimals"),
    value("number NaN", "UPDATE contacts_cf SET cf_3 = 'NaN' WHERE contact_id = {id}", both("not_a_number"),
          "'NaN' is not a number"),
    # SQLite's numeric affinity stores these as the REAL infinity: that is what the CRM holds.
    value("number too large", "UPDATE contacts_cf SET cf_3 = '1e999' WHERE contact_id = {id}",
          both("not_a_number"), "LTV (from lifetime_value): inf is not a finite number"),
    value("number with a currency sign", "UPDATE contacts_cf SET cf_3 = '€ 12' WHERE contact_id = {id}",
          both("not_a_number"), "'€ 12' is not a number"),
    value("number of 10,000 digits", "UPDATE contacts_cf SET cf_3 = '" + "9" * 10_000 + "' WHERE contact_id = {id}",
          both("not_a_number"), "lifetimeValue (from lifetime_value): inf is not a finite number"),
    # Dates a date column cannot hold: SINCE / memberSince and BIRTHDAY / birthday left out.
    value("date 30 February", "UPDATE contacts_cf SET cf_2 = '2023-02-30' WHERE contact_id = {id}",
          both("not_a_date"), "SINCE (from member_since): '2023-02-30' is not a date"),
    value("date as words", "UPDATE contacts_cf SET cf_2 = 'not a date' WHERE contact_id = {id}",
          both("not_a_date"), "'not a date' is not a date (expected YYYY-MM-DD)"),
    value("date day first", "UPDATE contacts_cf SET cf_2 = '31-12-2020' WHERE contact_id = {id}",
          both("not_a_date"), "'31-12-2020' is not a date"),
    value("birthday month 13", "UPDATE contacts SET birthday = '1980-13-01' WHERE id = {id}", both("not_a_date"),
          "BIRTHDAY (from birthday): '1980-13-01' is not a date"),
    value("zero date is empty", "UPDATE contacts_cf SET cf_2 = '0000-00-00' WHERE contact_id = {id}", {}),
    value("unreadable modification time", "UPDATE contacts SET modified_at = 'yesterday' WHERE id = {id}", {}),
    # A choice the mapping cannot translate.
    value("unknown loyalty tier", "UPDATE contacts_cf SET cf_1 = 'platinum' WHERE contact_id = {id}",
          {"newsletter": ["unknown_choice"], "nieuwsbrief": ["unknown_choice"]},
          "TIER (from loyalty_tier): 'platinum' has no translation"),
    # Consent is read from a clear yes only; an opt-out or a deletion that cannot be read counts as set.
    value("consent nee", f"UPDATE contacts SET email_opt_in = 'nee' WHERE id = {CONTACT}", {}, member=False),
    value("consent maybe", f"UPDATE contacts SET email_opt_in = 'maybe' WHERE id = {CONTACT}", {}, member=False),
    value("consent 2", f"UPDATE contacts SET email_opt_in = 2 WHERE id = {CONTACT}", {}, member=False),
    value("consent ja", f"UPDATE contacts SET email_opt_in = 'ja' WHERE id = {CONTACT}", {}),
    value("consent YES", f"UPDATE contacts SET email_opt_in = ' YES ' WHERE id = {CONTACT}", {}),
    value("opt-out unclear", f"UPDATE contacts SET email_opt_out = 'misschien' WHERE id = {CONTACT}", {},
          member=False),
    value("deleted unclear", f"UPDATE contacts SET deleted = 'unknown' WHERE id = {CONTACT}", {}, member=False),
    # Text hygiene: control characters and ANSI escapes stripped (a warning), NUL refused, overlong left out.
    value("ansi escapes in a name", "UPDATE contacts SET first_name = char(27) || '[31mAnna' || char(27) || '[0m' "
          "WHERE id = {id}", {"newsletter": ["control_characters", "control_characters"],
                              "nieuwsbrief": ["control_characters"]}, "control character(s) removed"),
    value("bell and DEL in a name", "UPDATE contacts SET last_name = 'Beek' || char(7) || char(127) WHERE id = {id}",
          {"newsletter": ["control_characters", "control_characters"], "nieuwsbrief": ["control_characters"]},
          "2 control character(s) removed"),
    value("NUL in a name", "UPDATE contacts SET first_name = 'An' || char(0) || 'na' WHERE id = {id}",
          {"newsletter": ["nul_character", "nul_character"], "nieuwsbrief": ["nul_character"]},
          "holds a NUL character"),
    value("a 300-character city", "UPDATE contacts SET city = '" + "Utrecht" * 43 + "' WHERE id = {id}",
          both("too_long"), "has 301 characters; the provider keeps at most 255"),
    value("a spreadsheet formula", "UPDATE contacts_cf SET cf_6 = '=cmd|'' /C calc''!A0' WHERE contact_id = {id}",
          {}),  # text to a provider: sent as is (no CSV is written)
    # Addresses the provider or the state store cannot take: skipped before anything is sent.
    value("an address of 10,000 characters", "UPDATE contacts SET email = '" + "a" * 10_000 + "@ziggo.test' "
          "WHERE id = {id}", {}, member=False),
    value("an address of 230 characters", "UPDATE contacts SET email = '" + "a" * 60 + "." + "b" * 60 + "@"
          + "c" * 50 + "." + "d" * 50 + ".nl' WHERE id = {id}", {}, member=False),
    value("an address with a control character", "UPDATE contacts SET email = 'case' || char(7) || "
          "'seven@ziggo.test' WHERE id = {id}", {}, member=False),
    value("an address in capitals with spaces", f"UPDATE contacts SET email = '  {ADDRESS.upper()} ' "
          "WHERE id = {id}", {}),
]


@pytest.mark.parametrize("case", [param(case) for case in CRM_VALUE_CASES])
def test_a_crm_value_that_cannot_be_converted(fresh, case):
    fresh.run("crm values", case)
