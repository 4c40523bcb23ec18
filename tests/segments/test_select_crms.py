"""The same segment selects the same recipients on SQLite, PostgreSQL and MariaDB, each rule counted."""

from __future__ import annotations

import os

import pytest

from sync.segments.select import select_recipients
from tests.segments.world import (
    EXPECTED_EMAIL,
    EXPECTED_POST,
    EXPECTED_REASONS,
    EXPECTED_STEPS,
    SEGMENTS,
    build_crm,
    settings_for,
)


@pytest.fixture
def crm_settings(database_url, tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_")
                 and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    build_crm(database_url)
    (tmp_path / "segments.yaml").write_text(SEGMENTS)
    return settings_for(database_url, tmp_path / "segments.yaml")


def test_every_rule_counted_the_same_on_every_database(crm_settings):
    selection = select_recipients(crm_settings, "spring")
    assert selection.step_counts == EXPECTED_STEPS
    assert dict(selection.reasons()) == EXPECTED_REASONS
    email = {candidate.contact_id for candidate in selection.email_recipients}
    assert email - {"14", "15"} == EXPECTED_EMAIL and len(email & {"14", "15"}) == 1
    assert {candidate.contact_id for candidate in selection.post_recipients} == EXPECTED_POST
    assert selection.post_values == {"7": {"city": "Utrecht", "country": "NL"}}
    by_id = {candidate.contact_id: candidate for candidate in selection.candidates}
    assert by_id["16"].detail == "contact 21 with this address opted out"
    assert by_id["1"].name == "Person N1" and by_id["1"].organisation == "Open BV"


def test_quotes_and_sql_text_select_literally(crm_settings):
    quotes = select_recipients(crm_settings, "literal-quotes")
    assert [candidate.contact_id for candidate in quotes.candidates] == ["17"]
    percent = select_recipients(crm_settings, "literal-percent")
    assert [candidate.contact_id for candidate in percent.candidates] == ["18"]


def test_an_empty_result_is_an_answer(crm_settings):
    selection = select_recipients(crm_settings, "nobody")
    assert selection.step_counts == [0] and selection.candidates == []


def test_an_audience_limited_to_a_target_list_takes_no_one_else(crm_settings):
    crm_settings.audiences["newsletter"].target_list = "VIP"
    selection = select_recipients(crm_settings, "spring")
    assert [candidate.contact_id for candidate in selection.email_recipients] == ["22"]
    # before consent and the address rules, as in the push: 1, 3, 4, 8, 10, 11, 12, 14, 15, 16, 17, 18, 19
    assert selection.reasons()["not_in_target_list"] == 13 and selection.reasons()["opted_out"] == 1
    assert {candidate.contact_id for candidate in selection.post_recipients} == EXPECTED_POST
