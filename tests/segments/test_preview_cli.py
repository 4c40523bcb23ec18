"""`crm-sync segment preview` as a marketer runs it: counts, JSON, the export, the edited file read back."""

from __future__ import annotations

import csv
import json

import pytest

from sync.segments.recipients import neutralise, restore
from tests.cli.run import crm_sync
from tests.segments.world import SEGMENTS, build_crm


@pytest.fixture
def project(tmp_path):
    build_crm(f"sqlite:///{tmp_path / 'crm.db'}")
    (tmp_path / "segments.yaml").write_text(SEGMENTS)
    env = {"CRM_SYNC_CRM__URL": f"sqlite:///{tmp_path / 'crm.db'}",
           "CRM_SYNC_SEGMENTS_FILE": str(tmp_path / "segments.yaml"),
           "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": "list1"}
    return tmp_path, env


def preview(project, *args):
    folder, env = project
    return crm_sync("segment", "preview", *args, cwd=folder, env=env)


def read_csv(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def write_csv(path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_preview_counts_steps_reasons_and_a_sample(project):
    done = preview(project, "spring", "--sample", "3")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "Segment spring (audience newsletter, mailing 'Spring promotion 2027'): 23 CRM contacts read"
    assert lines[1:7] == [
        "  step 1: include country in 'NL', 'BE' and loyalty_tier = 'gold'",
        "    selected after it                   21   (line 6)",
        "  step 2: include on list VIP",
        "    selected after it                   22   (line 10)",
        "  step 3: exclude member_since after 2026-01-01 or keywords contains 'do-not-mail'",
        "    selected after it                   20   (line 11)"]
    assert "  e-mail recipients                      7" in lines
    assert "  post recipients                        1" in lines
    assert "  left out                              12" in lines
    assert "    opted_out                            2" in lines
    assert "    contact_locked                       1" in lines
    assert "  sample (3 of 8):" in lines
    assert "    contact 1          <p1@x.test> Person N1 (Open BV)" in lines


def test_preview_json(project):
    done = preview(project, "spring", "--json")
    report = json.loads(done.out)
    assert [step["selected"] for step in report["steps"]] == [21, 22, 20]
    assert report["steps"][1] == {"step": 2, "action": "include", "condition": "on list VIP", "line": 10,
                                  "selected": 22}
    assert (report["email"], report["post"], report["candidates"]) == (7, 1, 20)
    assert report["left_out"] == {"consent_withdrawn": 1, "contact_locked": 1, "deleted": 1, "email_invalid": 1,
                                  "exclusion_list": 1, "malformed_email": 1, "no_consent": 1, "no_email": 1,
                                  "opted_out": 2, "organisation_locked": 1, "shared_email": 1}


def test_export_neutralises_formulas_and_post_export(project):
    folder, _ = project
    done = preview(project, "spring", "--export", "out.csv", "--post-export", "post.csv")
    assert done.code == 0, done.err
    rows = read_csv(folder / "out.csv")
    assert len(rows) == 20 and list(rows[0]) == ["organisation_id", "organisation", "contact_id", "name", "email",
                                                  "channel", "send", "reason", "status"]
    formula = next(row for row in rows if row["contact_id"] == "19")
    assert formula["name"] == "'=HYPERLINK(\"http://x.test\") N19" and formula["organisation"] == "'@Formula BV"
    assert {row["contact_id"]: (row["send"], row["reason"], row["status"]) for row in rows}["2"] == \
        ("no", "opted_out", "left out")
    assert read_csv(folder / "post.csv") == [{"contact_id": "7", "name": "Person N7", "organisation": "Open BV",
                                              "city": "Utrecht", "country": "NL"}]
    for cell in rows[0].values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("text", ["=1+1", "+31 6", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "'quoted", ""])
def test_neutralised_cells_read_back_unchanged(text):
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_edited_file_takes_recipients_out(project):
    folder, _ = project
    preview(project, "spring", "--export", "out.csv")
    rows = read_csv(folder / "out.csv")
    for row in rows:
        if row["contact_id"] in ("1", "7"):
            row["send"] = "no"
    write_csv(folder / "edited.csv", rows)
    done = preview(project, "spring", "--recipients", "edited.csv", "--json")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert (report["email"], report["post"], report["left_out"]["taken_out"]) == (6, 0, 2)
    assert report["recipients_file_problems"] == []


def test_file_rows_the_rules_forbid_are_never_obeyed(project):
    folder, _ = project
    preview(project, "spring", "--export", "out.csv")
    rows = read_csv(folder / "out.csv")
    by_id = {row["contact_id"]: row for row in rows}
    by_id["2"]["send"] = "yes"  # opted out
    by_id["9"]["send"] = "yes"  # on the exclusion list
    by_id["8"]["email"] = "someone.else@x.test"
    by_id["17"]["send"] = "perhaps"
    rows.append(dict(by_id["1"], contact_id="21", email="shared-out@x.test", send="yes"))  # not selected
    rows = [row for row in rows if row["contact_id"] != "22"]  # a row taken out of the file
    write_csv(folder / "edited.csv", rows)
    done = preview(project, "spring", "--recipients", "edited.csv")
    assert done.code == 3
    problems = [line for line in done.err.splitlines() if line.startswith("problem: ")]
    assert problems == [
        "problem: edited.csv:3: contact 2 has send 'yes' but the rules leave it out (opted_out); it is not sent "
        "(not obeyed)",
        "problem: edited.csv:9: contact 8's address was changed in the file (p8@x.test -> someone.else@x.test); "
        "change addresses in the CRM. The contact is left out (not obeyed)",
        "problem: edited.csv:10: contact 9 has send 'yes' but the rules leave it out (exclusion_list); it is not "
        "sent (not obeyed)",
        "problem: edited.csv:18: send must be yes or no, not 'perhaps'; the contact is left out",
        "problem: edited.csv:21: contact '21' is not in the segment's selection; a recipients file can only take "
        "recipients out, not add them (not obeyed)",
    ]
    assert "error: 5 row(s) of edited.csv not obeyed (see above)" in done.err
    assert "  e-mail recipients                      4" in done.out.splitlines()  # 1, 14|15, 18, 19
    assert "    not_in_recipients_file               1" in done.out.splitlines()
    assert "    recipients_file_problem              2" in done.out.splitlines()


def test_semicolon_file_from_a_spreadsheet(project):
    folder, _ = project
    preview(project, "spring", "--export", "out.csv")
    text = (folder / "out.csv").read_text(encoding="utf-8").replace(",", ";")
    (folder / "edited.csv").write_text("\ufeff" + text, encoding="utf-8")
    done = preview(project, "spring", "--recipients", "edited.csv", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["email"] == 7


def test_bad_names_and_definitions(project):
    folder, env = project
    done = crm_sync("segment", "check", cwd=folder, env=env)
    assert done.code == 0, done.err
    assert done.out == (f"{folder / 'segments.yaml'}: OK (4 segment(s): spring, literal-quotes, literal-percent, "
                        "nobody)\n")
    done = preview(project, "sprng")
    assert done.code == 3 and "no segment 'sprng'" in done.err and "(did you mean 'spring'?)" in done.err
    (folder / "segments.yaml").write_text(SEGMENTS.replace("{field: lifetime_value, gt: 1000000}",
                                                           "{field: lifetime_value, gt: many}"))
    for done in (preview(project, "spring"), crm_sync("segment", "check", cwd=folder, env=env)):
        assert done.code == 3 and done.out == ""
        assert f"{folder / 'segments.yaml'}:31: segments.nobody.steps.0.include.gt: must be a number" in done.err


def test_an_empty_result_says_so(project):
    done = preview(project, "nobody")
    assert done.code == 0
    assert "nobody to send to: the steps select no contact the rules allow" in done.out
