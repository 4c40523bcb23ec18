"""ContactReads of the EspoCRM connector against the fake and the live EspoCRM: fields, contacts, lists,
incremental reads and address look-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sync.errors import ConfigError
from sync.records import ContactFlags, CrmFieldType


def test_custom_fields_are_discovered_with_their_types_and_choices(espo):
    fields = {field.name: field for field in espo.crm().describe_fields()}
    tier = fields["cLoyaltyTier"]
    assert (tier.type, tier.choices, tier.custom) == (CrmFieldType.DROPDOWN, ("Bronze", "Silver", "Gold"), True)
    assert (fields["cMemberSince"].type, fields["cMemberSince"].custom) == (CrmFieldType.DATE, True)
    assert (fields["cCustomerNumber"].type, fields["cPreferredLanguage"].type) == (CrmFieldType.TEXT,
                                                                                   CrmFieldType.DROPDOWN)
    assert fields["emailAddress"].type is CrmFieldType.EMAIL and fields["phoneNumber"].type is CrmFieldType.PHONE
    assert fields["doNotCall"].type is CrmFieldType.CHECKBOX and fields["modifiedAt"].type is CrmFieldType.DATETIME
    assert not fields["firstName"].custom
    # links, derived flags and not-stored fields are not mapping fields
    assert not {"account", "targetLists", "emailAddressIsOptedOut", "address", "opportunityRole"} & set(fields)


def test_every_contact_is_read_once_in_id_order_with_typed_values(espo):
    crm = espo.crm()
    contacts = list(crm.iter_contacts(chunk_size=5))  # several pages of 5
    ids = [contact.id for contact in contacts]
    assert ids == sorted(set(ids)) and len(ids) == crm.count_contacts() >= 13
    by_id = {contact.id: contact for contact in contacts}
    jose = by_id[espo.ids["José"]]
    assert jose.email == "jose.muller@example.com" and jose.organisation_id == espo.accounts["Müller"]
    assert jose.fields["cMemberSince"] == date(2019, 3, 14) and jose.fields["cLoyaltyTier"] == "Gold"
    assert jose.fields["accountName"] == "Müller & Söhne GmbH"
    assert jose.modified_at == datetime(2026, 2, 3, 14, 22, 10, tzinfo=UTC)
    assert jose.list_ids == {espo.newsletter, espo.vip}
    assert jose.consent.email_opt_in is None  # never invented: EspoCRM has no opt-in field by default
    emilie = by_id[espo.ids["Émilie"]]
    assert emilie.email is None and emilie.list_ids == frozenset() and emilie.organisation_id is None
    assert by_id[espo.ids["Søren"]].consent.email_opt_out and not by_id[espo.ids["Søren"]].consent.email_invalid
    assert by_id[espo.ids["Björn"]].consent.email_invalid
    assert by_id[espo.ids["Hans-Peter"]].list_ids == {espo.vip}


def test_a_target_list_is_read_and_a_list_scoped_opt_out_is_no_membership(espo_rw):
    espo = espo_rw
    crm = espo.crm()
    members = {"José", "Zoë", "François", "Søren", "Ana", "Chloé", "Marc", "Björn", "Siobhán"}
    read = [contact.id for contact in crm.iter_contacts(chunk_size=4, list_id=espo.newsletter)]
    assert sorted(read) == read and set(read) == {espo.ids[name] for name in members}
    assert crm.count_contacts(espo.newsletter) == len(members)
    espo.raw("POST", "TargetList/action/optOut", body={"id": espo.newsletter, "targetType": "Contact",
                                                       "targetId": espo.ids["Søren"]})
    read = {contact.id: contact for contact in crm.iter_contacts(list_id=espo.newsletter)}
    assert espo.ids["Søren"] not in read and crm.count_contacts(espo.newsletter) == len(members) - 1
    soren = next(crm.contacts_by_ids([espo.ids["Søren"]]))
    assert soren.list_ids == frozenset()
    with pytest.raises(ConfigError, match="no target list with id 'nope'"):
        list(crm.iter_contacts(list_id="nope"))
    assert dict(crm.target_lists()) == {espo.newsletter: "Newsletter Subscribers", espo.vip: "VIP Gold Members"}


def test_leads_are_read_when_the_entity_is_lead(espo):
    crm = espo.crm(entity="Lead")
    leads = {contact.id: contact for contact in crm.iter_contacts()}
    assert {espo.ids["Inès"], espo.ids["Aoife"], espo.ids["Tomáš"]} <= set(leads)
    assert leads[espo.ids["Aoife"]].consent.email_opt_out
    assert leads[espo.ids["Inès"]].list_ids == {espo.newsletter}
    assert "status" in {field.name for field in crm.describe_fields()}
    assert crm.schema_fingerprint() != espo.crm().schema_fingerprint()


def test_incremental_read_is_a_closed_range_to_the_second(espo):
    crm = espo.crm()
    boundary = datetime(2026, 7, 1, 9, 15, 27, tzinfo=UTC)  # Chloé and Marc share this second
    changed = crm.changed_contact_ids(boundary, limit=100)
    assert changed is not None and {espo.ids["Chloé"], espo.ids["Marc"]} <= set(changed)
    assert espo.ids["Ana"] not in changed and espo.ids["José"] not in changed
    assert crm.changed_contact_ids(boundary + timedelta(microseconds=500_000), 100) == changed  # same second
    later = crm.changed_contact_ids(boundary + timedelta(seconds=1), limit=100)
    assert later is not None and not {espo.ids["Chloé"], espo.ids["Marc"]} & set(later)
    assert set(later) == set(changed) - {espo.ids["Chloé"], espo.ids["Marc"]}
    assert crm.changed_contact_ids(boundary, limit=2) is None


def test_an_account_change_counts_as_a_change_of_its_contacts(espo_rw):
    espo = espo_rw
    crm = espo.crm()
    since = datetime.now(UTC) - timedelta(seconds=2)
    assert crm.changed_contact_ids(since, 100) == []
    espo.raw("PUT", f"Account/{espo.accounts['Müller']}", body={"website": "https://muller.example.com"})
    changed = set(crm.changed_contact_ids(since, 100) or [])
    assert {espo.ids["José"], espo.ids["Mehmet"], espo.ids["Hans-Peter"]} <= changed
    assert espo.ids["Zoë"] not in changed


def test_our_own_opt_out_echoes_into_the_incremental_read(espo_rw):
    espo = espo_rw
    crm = espo.crm()
    since = datetime.now(UTC) - timedelta(seconds=1)
    assert espo.ids["François"] not in (crm.changed_contact_ids(since, 100) or [])
    assert crm.set_flags([ContactFlags(espo.ids["François"], email_opt_out=True)]) == 1
    assert espo.ids["François"] in (crm.changed_contact_ids(since, 100) or [])


def test_contacts_by_ids_and_by_email(espo):
    crm = espo.crm()
    wanted = [espo.ids["Marc"], espo.ids["José"], "00000000000000000"]
    assert [contact.id for contact in crm.contacts_by_ids(wanted)] == sorted(wanted[:2])
    assert crm.existing_contacts(wanted) == set(wanted[:2])
    found = crm.contacts_by_email([" FAMILLE.Dubois@example.org ", "hans-peter.schaefer@muller-soehne.example.com",
                                   "nobody@example.org", "jose.muller@example.com"])
    assert found == {"famille.dubois@example.org": sorted([espo.ids["Chloé"], espo.ids["Marc"]]),
                     "hans-peter.schaefer@muller-soehne.example.com": [espo.ids["Hans-Peter"]],
                     "jose.muller@example.com": [espo.ids["José"]]}
    assert crm.shared_emails() == {"famille.dubois@example.org"}
    assert crm.contact_owners([espo.ids["Mehmet"], espo.ids["Marc"]]) == {
        espo.ids["Mehmet"]: (espo.accounts["Müller"], "Mehmet Yılmaz"), espo.ids["Marc"]: (None, "Marc Dubois")}


def test_the_fingerprint_follows_the_field_metadata(espo):
    crm = espo.crm()
    assert crm.schema_fingerprint() == espo.crm().schema_fingerprint()
    assert len(crm.schema_fingerprint()) == 64


def test_more_than_a_page_of_contacts_is_read_in_pages_of_200(fake):
    for number in range(230):
        fake.raw("POST", "Contact", body={"firstName": "Bulk", "lastName": f"{number:03d}",
                                          "emailAddress": f"bulk{number}@example.org",
                                          "emailAddressIsOptedOut": False, "emailAddressIsInvalid": False})
    crm = fake.crm()
    before = fake.sandbox.traffic.requests["GET /api/v1/Contact"]
    ids = [contact.id for contact in crm.iter_contacts(chunk_size=1000)]
    assert len(ids) == len(set(ids)) == 243 and ids == sorted(ids)
    assert fake.sandbox.traffic.requests["GET /api/v1/Contact"] - before == 2  # 200 + 43
    assert fake.sandbox.traffic.statuses[403] == 0
    assert crm.count_contacts() == 243
    assert crm.changed_contact_ids(datetime(2026, 1, 1, tzinfo=UTC), limit=1000) is not None
    assert crm.changed_contact_ids(datetime(2026, 1, 1, tzinfo=UTC), limit=220) is None


def test_a_value_that_cannot_be_converted_does_not_stop_the_read(fake):
    fake.sandbox.store.records["Contact"][fake.ids["José"]]["cMemberSince"] = "14-03-2019"
    contacts = {contact.id: contact for contact in fake.crm().iter_contacts()}
    assert len(contacts) == 13
    assert contacts[fake.ids["José"]].fields["cMemberSince"] == "14-03-2019"  # left for the mapping to reject


def test_consent_is_never_invented_and_a_checkbox_field_is_read_as_one(fake):
    fake.sandbox.store.fields["Contact"]["cNewsletterOptIn"] = {"type": "bool", "isCustom": True}
    fake.sandbox.store.records["Contact"][fake.ids["José"]]["cNewsletterOptIn"] = True
    fake.sandbox.store.records["Contact"][fake.ids["Zoë"]]["cNewsletterOptIn"] = False
    with fake.crm() as crm:
        contacts = {contact.id: contact for contact in crm.iter_contacts()}
        assert {field.name: field.type for field in crm.describe_fields()}["cNewsletterOptIn"] is CrmFieldType.CHECKBOX
    assert {contact.consent.email_opt_in for contact in contacts.values()} == {None}  # for the audience's consent_field
    assert [contacts[fake.ids[name]].fields["cNewsletterOptIn"] for name in ("José", "Zoë")] == [True, False]


def test_the_where_types_of_segment_pushdown_answer_alike(espo):
    """What sync/connectors/espocrm/where.py relies on, the same on the fake and the live EspoCRM: ``equals``/``in``
    ignore case and trailing spaces, ``contains`` is a LIKE whose ``%``/``_`` are wildcards, dates compare as
    days, whole-number bounds, groups, and ``linkedWith`` on target lists."""
    def last_names(*where):
        return sorted(row["lastName"] for row in espo.search("Contact", list(where), select=["id", "lastName"])["list"])

    connor = ["O'Connor"]
    assert last_names({"type": "equals", "attribute": "lastName", "value": "o'CONNOR "}) == connor
    assert last_names({"type": "in", "attribute": "lastName", "value": ["x' OR '1'='1", "O'CONNOR"]}) == connor
    assert last_names({"type": "in", "attribute": "lastName", "value": []}) == []
    for pattern in ("'c", "o%c", "o_c"):  # not escaped: crm-sync pushes no value holding % _ or \
        assert last_names({"type": "contains", "attribute": "lastName", "value": pattern}) == connor, pattern
    assert last_names({"type": "and", "value": [
        {"type": "before", "attribute": "cMemberSince", "value": "2018-01-01"},
        {"type": "after", "attribute": "cMemberSince", "value": "2017-12-23"},
        {"type": "equals", "attribute": "cMemberSince", "value": "2017-12-24"},
        {"type": "isNotNull", "attribute": "cMemberSince"}]}) == connor
    members = last_names({"type": "linkedWith", "attribute": "targetLists", "value": [espo.vip]})
    either = last_names({"type": "or", "value": [
        {"type": "linkedWith", "attribute": "targetLists", "value": [espo.vip]},
        {"type": "equals", "attribute": "lastName", "value": "o'connor"}]})
    assert members and either == sorted(set(members) | set(connor))
