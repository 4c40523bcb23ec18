"""The vtiger connector against the live vtiger 8.2.0 (``tests/live/crms.py``): skipped when it does not run.

Each test that writes restores vtiger's database first (only vtiger's; the server keeps running).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from sync.connectors.vtiger.crm import VtigerCrm, open_vtiger
from sync.errors import ConfigError, RecordError
from sync.records import ActivityRecord, ContactFlags, CrmFieldType
from tests.live.crms import require, restore

pytestmark = pytest.mark.xdist_group("live-vtiger")
SENT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def live(**overrides) -> VtigerCrm:
    env = require("vtiger")
    settings = {"base_url": env["LIVE_VTIGER_WEBSERVICE_URL"], "api_user": env["LIVE_VTIGER_USERNAME"],
                "api_key": env["LIVE_VTIGER_ACCESS_KEY"], "retry_seconds": 10, **overrides}
    return open_vtiger(**settings)


@pytest.fixture
def clean() -> Iterator[VtigerCrm]:
    require("vtiger")
    restore("vtiger")
    with live() as crm:
        yield crm


def campaign(contact_id: str, body: str) -> ActivityRecord:
    return ActivityRecord(f"mailchimp:campaign:live1:{contact_id}", "email_campaign", "Spring Newsletter 2026",
                          body, SENT, SENT, contact_id=contact_id)


def test_reads_contacts_fields_and_addresses(clean):
    env = require("vtiger")
    contacts = list(clean.iter_contacts())
    assert len(contacts) == clean.count_contacts() >= 13
    assert len({c.id for c in contacts}) == len(contacts)
    fields = {f.name: f for f in clean.describe_fields()}
    tier = fields["loyalty_tier"]
    assert tier.type is CrmFieldType.DROPDOWN and tier.choices == ("Bronze", "Silver", "Gold") and tier.custom
    assert fields["preferred_language"].type is CrmFieldType.DROPDOWN
    assert fields["member_since"].type is CrmFieldType.DATE
    assert env["LIVE_VTIGER_CF_LOYALTY_TIER"] not in fields
    jose = next(c for c in contacts if c.id == "12x117")
    assert jose.fields["loyalty_tier"] == "Gold" and jose.fields["member_since"] == date(2019, 3, 14)
    assert jose.organisation_id == "11x115" and jose.consent.email_opt_in is None
    assert "famille.dubois@example.org" in clean.shared_emails()
    assert clean.contacts_by_email(["Famille.Dubois@example.org"])["famille.dubois@example.org"] == ["12x123",
                                                                                                     "12x124"]
    assert clean.client.requests_sent < 15


def test_a_session_vtiger_does_not_know_is_renewed(clean):
    assert clean.count_contacts() >= 13
    clean.client._session_name = "0123456789abcdef"  # what vtiger answers for an expired one: INVALID_SESSIONID
    assert clean.count_contacts() >= 13
    assert clean.client.logins == 2


def test_paging_past_100_and_incremental_boundary(clean):
    start = clean.count_contacts()
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    created = [clean.client.create("Contacts", {"lastname": f"Filler {n:03}", "email": f"filler{n}@example.com",
                                                "assigned_user_id": "19x1"})["id"] for n in range(105)]
    ids = [c.id for c in clean.iter_contacts()]
    assert len(ids) == len(set(ids)) == start + 105 == clean.count_contacts()
    changed = clean.changed_contact_ids(since, 1000)
    assert changed is not None and set(created) <= set(changed)
    assert clean.changed_contact_ids(since, 50) is None
    last = max(c.modified_at for c in clean.contacts_by_ids(created))
    assert set(clean.changed_contact_ids(last, 1000) or []) <= set(created)
    assert clean.changed_contact_ids(last + timedelta(seconds=2), 1000) == []


def test_comment_upsert_without_duplicates_also_after_a_crash(clean):
    assert clean.write_activities([campaign("12x117", "Opened 1 time.")]) == 1
    with live() as after_crash:
        assert after_crash.write_activities([campaign("12x117", "Opened 1 time.")]) == 0
        assert after_crash.write_activities([campaign("12x117", "Opened 2 times.")]) == 1
    rows = clean.client.query("SELECT id, commentcontent FROM ModComments WHERE related_to = 12x117;")
    ours = [row for row in rows if "[crm-sync " in row["commentcontent"]]
    assert len(ours) == 1 and "Opened 2 times." in ours[0]["commentcontent"]
    assert clean.history_of("12x117")[0][:3] == ("email_campaign", "Spring Newsletter 2026", "Opened 2 times.")
    with pytest.raises(RecordError):
        clean.write_activities([campaign("12x99999", "Opened.")])


def test_opt_out_per_record_for_a_shared_address(clean):
    assert clean.set_flags([ContactFlags("12x123", email_opt_out=True)]) == 1
    chloe, marc = clean.contacts_by_ids(["12x123", "12x124"])
    assert chloe.consent.email_opt_out is True and marc.consent.email_opt_out is False
    assert clean.set_flags([ContactFlags("12x123", email_opt_out=True)]) == 0


def test_errors_are_mapped(clean):
    env = require("vtiger")
    with live(api_key="not-the-key") as wrong, pytest.raises(ConfigError, match="crm.api_key") as error:
        wrong.count_contacts()
    assert env["LIVE_VTIGER_ACCESS_KEY"] not in str(error.value)
    with live(api_user="nosuchuser") as nobody, pytest.raises(ConfigError, match="crm.api_user"):
        nobody.count_contacts()
    with live(base_url=env["LIVE_VTIGER_URL"] + "/nothing-here") as lost, pytest.raises(ConfigError,
                                                                                        match="crm.base_url"):
        lost.count_contacts()
    with pytest.raises(ConfigError, match="nosuchfield"):
        clean.client.query("SELECT id FROM Contacts WHERE nosuchfield = 'x';")
    with pytest.raises(RecordError) as refused:
        clean.client.revise({"id": "12x99999", "emailoptout": "1"})
    assert refused.value.record_id == "12x99999"


def database(crm_overrides: dict | None = None) -> VtigerCrm:
    env = require("vtiger")
    read_url = env["LIVE_VTIGER_DB_URL"].replace("mysql://", "mysql+pymysql://", 1)
    return live(read_url=read_url, **(crm_overrides or {}))


def test_the_database_path_reads_the_same_contacts_as_the_webservice(clean):
    clean.write_activities([campaign("12x117", "Opened 1 time.")])  # a comment: the contact's modifiedtime moves
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    with database() as from_db:
        assert from_db.database is not None
        by_db = {c.id: c for c in from_db.iter_contacts(chunk_size=7)}
        by_api = {c.id: c for c in clean.iter_contacts()}
        assert by_db == by_api and len(by_db) >= 13
        assert from_db.describe_fields() == clean.describe_fields()
        assert from_db.schema_fingerprint() == clean.schema_fingerprint()
        assert from_db.count_contacts() == clean.count_contacts()
        assert from_db.shared_emails() == clean.shared_emails()
        assert from_db.contacts_by_email(["hp.schaefer@example.com", "hans-peter.schaefer@muller-soehne.example.com"]
                                         ) == clean.contacts_by_email(["hp.schaefer@example.com",
                                                                       "hans-peter.schaefer@muller-soehne.example.com"])
        assert from_db.changed_contact_ids(since, 100) == clean.changed_contact_ids(since, 100) == ["12x117"]
        # a deletion: gone from the webservice, a tombstone in the database
        clean.client.call("POST", "delete", "12x129", id="12x129")
        (tombstone,) = from_db.contacts_by_ids(["12x129"])
        assert tombstone.deleted and "12x129" in (from_db.changed_contact_ids(since, 100) or [])
        assert list(clean.contacts_by_ids(["12x129"])) == []
        assert from_db.existing_contacts(["12x129", "12x117"]) == {"12x117"}
        # writes still go through the webservice
        assert from_db.set_flags([ContactFlags("12x121", email_opt_out=True)]) == 1
        (ana,) = from_db.contacts_by_ids(["12x121"])
        assert ana.consent.email_opt_out is True


def test_leads_from_the_database_match_the_webservice():
    require("vtiger")
    with live(entity="Leads") as api, database({"entity": "Leads"}) as from_db:
        by_api = {lead.id: lead for lead in api.iter_contacts()}
        by_db = {lead.id: lead for lead in from_db.iter_contacts() if not lead.deleted}
        assert by_api == by_db and {"10x130", "10x131", "10x132"} <= set(by_api)
        assert by_api["10x131"].consent.email_opt_out is True


def test_an_organisation_opt_out_locks_its_contacts_on_both_paths(clean):
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    clean.client.revise({"id": "11x115", "emailoptout": "1"})
    with database() as from_db:
        for crm in (clean, from_db):
            changed = crm.changed_contact_ids(since, 100) or []
            assert {"12x117", "12x127"} <= set(changed)
            jose, mehmet = crm.contacts_by_ids(["12x117", "12x127"])
            assert jose.organisation_locked and mehmet.organisation_locked
            assert jose.fields["organisation_name"] == "Müller & Söhne GmbH"
        (from_api,), (from_sql,) = list(clean.contacts_by_ids(["12x118"])), list(from_db.contacts_by_ids(["12x118"]))
        assert from_api == from_sql and not from_api.organisation_locked
