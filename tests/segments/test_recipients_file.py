"""Reading an edited recipients file defensively: encodings, headers, broken rows."""

from __future__ import annotations

import pytest

from sync.errors import ConfigError, ProblemsFound
from sync.segments.recipients import RecipientRow, read_recipients

HEADER = "organisation_id,organisation,contact_id,name,email,channel,send,reason,status\n"


def test_rows_are_read_with_their_lines_and_neutralised_cells_restored(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + ",,1,A,A@X.test,email,Yes,,e-mail\n\n,,'-7,\"B, b\",'=b@x.test,email,no,,e-mail\n")
    assert read_recipients(path) == [RecipientRow(2, "1", "a@x.test", "yes"), RecipientRow(4, "-7", "=b@x.test", "no")]


def test_columns_in_another_order_and_extra_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("send;note;EMAIL;contact_id\nno;call first;a@x.test;1\n")
    assert read_recipients(path) == [RecipientRow(2, "1", "a@x.test", "no")]


def test_a_file_saved_in_a_windows_code_page_is_refused_with_its_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes((HEADER + ",Caf\u00e9 BV,1,A,a@x.test,email,yes,,e-mail\n").encode("cp1252"))
    with pytest.raises(ProblemsFound, match=r"r.csv:2: \(file\): not UTF-8 text .*save the file as UTF-8"):
        read_recipients(path)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("contact_id,name\n1,A\n", r":1: the header lacks email, send"),
])
def test_unusable_files(tmp_path, text, message):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_recipients(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        read_recipients(tmp_path / "nope.csv")
