"""The vtiger connector's reads against the fake vtiger (HTTP on loopback): login, paging, changes, fields."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from sync.connectors.crm_registry import open_crm
from sync.errors import ConfigError, CrmSyncError, TransientError
from sync.records import ContactFlags, CrmFieldType
from sync.settings import CrmSettings
from tests.connectors.vtiger.conftest import connect

T0 = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def test_reads_the_seed_contacts_and_never_uses_sync(sandbox, crm):
    contacts = list(crm.iter_contacts())
    assert [c.id for c in contacts][:3] == ["12x117", "12x118", "12x119"]
    assert len(contacts) == crm.count_contacts() == 13
    jose = contacts[0]
    assert jose.email == "jose.muller@example.com" and jose.organisation_id == "11x115"
    assert jose.fields["loyalty_tier"] == "Gold" and jose.fields["member_since"] == date(2019, 3, 14)
    assert jose.consent.email_opt_in is None and jose.consent.email_opt_out is False
    soren = next(c for c in contacts if c.id == "12x120")
    assert soren.consent.email_opt_out is True
    assert crm.target_lists() == []
    assert sandbox.operations["sync"] == 0


def test_session_renewed_once_when_vtiger_ended_it(sandbox, crm):
    assert crm.count_contacts() == 13
    sandbox.expire_sessions()
    assert crm.count_contacts() == 13
    assert crm.client.logins == 2 and sandbox.operations["getchallenge"] == 2


def test_pages_past_the_silent_cap_of_100(sandbox, crm):
    sandbox.set_clock(T0)  # all 150 share one modifiedtime: the tie is paged by id
    added = [sandbox.add_contact(lastname=f"Filler {n:03}", email=f"filler{n}@example.com") for n in range(150)]
    ids = [c.id for c in crm.iter_contacts(chunk_size=1000)]
    assert len(ids) == len(set(ids)) == 163 == crm.count_contacts()
    assert set(added) <= set(ids)
    changed = crm.changed_contact_ids(T0, limit=1000)
    assert changed == added
    assert crm.changed_contact_ids(T0, limit=149) is None


def test_incremental_read_is_a_closed_range_at_the_boundary(sandbox, crm):
    sandbox.set_clock(T0)
    sandbox.update("12x121", mobile="+34 600 000 000")
    sandbox.set_clock(T0 + timedelta(seconds=1))
    sandbox.update("12x122", mobile="+48 600 000 000")
    assert crm.changed_contact_ids(T0, 100) == ["12x121", "12x122"]
    assert crm.changed_contact_ids(T0 + timedelta(seconds=1), 100) == ["12x122"]
    assert crm.changed_contact_ids(T0 + timedelta(seconds=2), 100) == []


def test_custom_fields_by_label_with_picklists_and_multipicklists(sandbox, crm):
    sandbox.add_field("cf_867", "Interests", {"name": "multipicklist", "picklistValues": [
        {"label": "Kids", "value": "Kids"}, {"label": "Sale", "value": "Sale"}]})
    sandbox.add_field("cf_869", "Loyalty Points", {"name": "integer"})
    sandbox.update("12x117", cf_867="Sale |##| Kids", cf_869="4200")
    sandbox.update("12x118", cf_861="2020-13-45", cf_869="lots")  # values vtiger accepted but cannot be right
    fields = {f.name: f for f in crm.describe_fields()}
    tier = fields["loyalty_tier"]
    assert (tier.label, tier.type, tier.choices, tier.custom) == ("Loyalty Tier", CrmFieldType.DROPDOWN,
                                                                  ("Bronze", "Silver", "Gold"), True)
    assert fields["interests"].type is CrmFieldType.TEXT and fields["member_since"].type is CrmFieldType.DATE
    assert fields["emailoptout"].type is CrmFieldType.CHECKBOX and not fields["email"].custom
    assert not any(name.startswith("cf_") for name in fields)
    jose, zoe = crm.contacts_by_ids(["12x118", "12x117", "10x130", "12x99999"])
    assert jose.fields["interests"] == "Sale, Kids" and jose.fields["loyalty_points"] == 4200
    assert zoe.fields["member_since"] == "2020-13-45" and zoe.fields["loyalty_points"] == "lots"  # kept as text
    before = crm.schema_fingerprint()
    sandbox.add_field("cf_871", "Loyalty Tier", {"name": "string"})
    with connect(sandbox) as fresh:
        names = [f.name for f in fresh.describe_fields() if f.custom]
        assert "loyalty_tier_cf_871" in names and fresh.schema_fingerprint() != before


def test_addresses_primary_and_secondary_and_shared(crm):
    found = crm.contacts_by_email([" FAMILLE.Dubois@example.org", "hans-peter.schaefer@muller-soehne.example.com",
                                   "nobody@example.com"])
    assert found == {"famille.dubois@example.org": ["12x123", "12x124"],
                     "hans-peter.schaefer@muller-soehne.example.com": ["12x128"]}
    assert crm.shared_emails() == {"famille.dubois@example.org"}


def test_an_address_with_a_quote_is_looked_up(sandbox, crm):
    contact = sandbox.add_contact(lastname="O'Brien", email="o'brien@example.com")
    assert crm.contacts_by_email(["O'Brien@example.com"]) == {"o'brien@example.com": [contact]}


def test_wrong_access_key_user_and_address_are_config_errors_without_the_secret(sandbox):
    with open_crm(CrmSettings(kind="vtiger", base_url=sandbox.base_url, api_user="admin",
                              api_key="wrong-key-123")) as crm, pytest.raises(ConfigError) as wrong_key:
        crm.count_contacts()
    assert "crm.api_key" in str(wrong_key.value) and "wrong-key-123" not in str(wrong_key.value)
    with open_crm(CrmSettings(kind="vtiger", base_url=sandbox.base_url, api_user="nosuchuser",
                              api_key=sandbox.access_key)) as crm, pytest.raises(ConfigError, match="crm.api_user"):
        crm.count_contacts()
    with open_crm(CrmSettings(kind="vtiger", base_url=sandbox.base_url + "/not-vtiger", api_user="admin",
                              api_key=sandbox.access_key)) as crm, pytest.raises(ConfigError, match="crm.base_url"):
        crm.count_contacts()
    for missing in ("base_url", "api_user", "api_key"):
        settings = {"base_url": sandbox.base_url, "api_user": "admin", "api_key": "k", missing: None}
        with pytest.raises(ConfigError, match=f"crm.{missing}"):
            open_crm(CrmSettings(kind="vtiger", **settings))


def test_an_unknown_field_in_a_query_is_a_config_error(crm):
    with pytest.raises(ConfigError, match="nosuchfield"):
        crm.client.query("SELECT id FROM Contacts WHERE nosuchfield = 'x';")


def test_outages_are_retried_then_transient(sandbox, crm):
    sandbox.fail_next(500, 502)
    assert crm.count_contacts() == 13
    sandbox.fail_next(*[503] * 200)
    with pytest.raises(TransientError, match="503"):
        crm.count_contacts()


def test_an_idle_session_that_timed_out_is_renewed(sandbox, crm):
    sandbox.state.session_seconds = 0.2
    assert crm.count_contacts() == 13
    time.sleep(0.4)
    assert crm.count_contacts() == 13 and crm.client.logins == 2


def test_logins_of_parallel_workers_of_one_user_do_not_void_each_other(sandbox):
    """A getchallenge voids the user's earlier token: the logins are serialised."""
    clients = [connect(sandbox) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda crm: crm.count_contacts(), clients))
    assert counts == [13] * 8 and sandbox.operations["login"] == 8
    for crm in clients:
        crm.close()


def test_neither_key_nor_session_reaches_the_logs(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    with connect(sandbox) as crm:
        crm.count_contacts()
        sandbox.fail_next(500)
        crm.count_contacts()
        session = crm.client._session_name
    assert session and session not in caplog.text and sandbox.access_key not in caplog.text
    assert "sessionName=<hidden>" in caplog.text


def test_leads_are_read_and_written_like_contacts(sandbox):
    with connect(sandbox, entity="Leads") as leads:
        found = list(leads.iter_contacts())
        assert [lead.id for lead in found] == ["10x130", "10x131", "10x132"] and leads.count_contacts() == 3
        assert [lead.consent.email_opt_out for lead in found] == [False, True, False]
        assert all(lead.organisation_id is None for lead in found)
        assert list(leads.contacts_by_ids(["12x117"])) == []  # a contact's id is no lead's
        assert leads.contact_owners(["10x130"]) == {"10x130": (None, "Inès Gómez")}
        assert leads.set_flags([ContactFlags("10x130", email_opt_out=True)]) == 1
        assert sandbox.record("10x130")["emailoptout"] == "1"
    with pytest.raises(ConfigError, match="crm.entity"):
        connect(sandbox, entity="Accounts")


def test_the_organisation_name_lock_and_changes(sandbox, crm):
    assert "organisation_name" in {f.name for f in crm.describe_fields()}
    jose, francois = crm.contacts_by_ids(["12x117", "12x119"])
    assert jose.fields["organisation_name"] == "Müller & Söhne GmbH" and not jose.organisation_locked
    assert francois.fields["organisation_name"] is None and francois.organisation_id is None
    sandbox.set_clock(T0)
    sandbox.update("11x115", emailoptout="1")  # the organisation wants no mail
    assert crm.changed_contact_ids(T0, 100) == ["12x117", "12x127", "12x128"]  # its contacts: they did not change
    assert crm.changed_contact_ids(T0, 1) is None
    assert all(c.organisation_locked for c in crm.contacts_by_ids(["12x117", "12x127", "12x128"]))
    (zoe,) = crm.contacts_by_ids(["12x118"])
    assert zoe.fields["organisation_name"] == "Van den Berg Bloemen B.V." and not zoe.organisation_locked
    with connect(sandbox, entity="Leads") as leads:
        assert "organisation_name" not in {f.name for f in leads.describe_fields()}


def test_an_unreachable_database_names_crm_read_url_without_the_password(sandbox):
    with pytest.raises(CrmSyncError) as error:
        connect(sandbox, read_url="mysql+pymysql://vtiger_ro:s3cret-pw@127.0.0.1:1/vtiger")
    assert "crm.read_url" in str(error.value) and "s3cret-pw" not in str(error.value)
