"""Pure: the decision for one contact, rule by rule, and the shared-address rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sync.mapping.model import AudienceMapping
from sync.mapping.payload import payload_hash
from sync.push.households import choose_member
from sync.push.rules import Action, plan_member
from sync.records import Consent, CrmContact
from sync.settings import AudienceSettings
from sync.state.members import MemberStateRow

MAPPING = AudienceMapping.model_validate({"fields": {"FNAME": {"source": "first_name", "type": "text"}}})
AUDIENCE = AudienceSettings(audience_id="L1")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def contact(cid="1", email="anna@ziggo.test", opt_in=True, **changes) -> CrmContact:
    consent = Consent(email_opt_in=opt_in, email_opt_out=changes.pop("opt_out", False),
                      email_invalid=changes.pop("invalid", False))
    base = CrmContact(cid, email, {"first_name": changes.pop("first_name", "Anna")}, consent, NOW)
    return replace(base, **changes)


REFUSED_ANNA = payload_hash({"email": "anna@ziggo.test"})  # an address refusal, keyed to the address


def state(**values) -> MemberStateRow:
    defaults = dict(audience="newsletter", contact_id="1", email="anna@ziggo.test", provider_id="h",
                    payload_hash=payload_hash({"email": "anna@ziggo.test", "merge_fields": {"FNAME": "Anna"}}),
                    payload={"FNAME": "Anna"}, provider_status="subscribed", owned=True, last_error=None,
                    reason_code=None, merged_into=None, pushed_at=NOW, updated_at=NOW)
    return MemberStateRow(**{**defaults, **values})


@pytest.mark.parametrize(("the_contact", "the_state", "action", "reason"), [
    (contact(), None, Action.CREATE, None),
    (contact(opt_in=None), None, Action.SKIP, "no_consent"),
    (contact(opt_in=False), None, Action.SKIP, "consent_withdrawn"),
    (contact(email=None), None, Action.SKIP, "no_email"),
    (contact(email="a@@b.test"), None, Action.SKIP, "malformed_email"),
    (contact(invalid=True), None, Action.SKIP, "email_invalid"),
    (contact(), state(), Action.UNCHANGED, None),
    (contact(first_name="Anne"), state(), Action.UPDATE, None),
    (contact(email="new@ziggo.test"), state(), Action.CHANGE_EMAIL, None),
    (contact(opt_out=True), state(), Action.UNSUBSCRIBE, "opted_out"),
    (contact(opt_out=True), None, Action.SKIP, "opted_out"),
    (contact(deleted=True), state(), Action.SKIP, "kept_deleted"),
    (contact(organisation_locked=True), state(), Action.SKIP, "kept_organisation_locked"),
    (contact(), state(reason_code="compliance_state", rejected_key=REFUSED_ANNA), Action.SKIP, "compliance_state"),
    # A rejection holds while what it was about is unchanged: a corrected address is tried again.
    (contact(email="anna2@ziggo.test"),
     state(reason_code="invalid_address", rejected_key=REFUSED_ANNA, provider_id=None), Action.CREATE, None),
    (contact(), state(reason_code="invalid_field_value", provider_id=None,
                      rejected_key=payload_hash({"email": "anna@ziggo.test", "merge_fields": {"FNAME": "Anna"}})),
     Action.SKIP, "invalid_field_value"),
    (contact(first_name="Anne"), state(reason_code="invalid_field_value", provider_id=None,
                                       rejected_key=payload_hash({"email": "anna@ziggo.test",
                                                                  "merge_fields": {"FNAME": "Anna"}})),
     Action.CREATE, None),
    (contact("x" * 192), None, Action.SKIP, "contact_id_too_long"),
    (contact(email="a" * 185 + "@ziggo.test"), None, Action.SKIP, "email_too_long"),
    (contact(email="a" * 250 + "@ziggo.test"), None, Action.SKIP, "malformed_email"),
    (contact(), state(provider_status="unsubscribed"), Action.SKIP, "unsubscribed_in_provider"),
    # An archived member is not new: re-added only when crm-sync archived it while it received mail (this
    # row pinned the old rule, CREATE for every archived member, which re-subscribed people who unsubscribed).
    (contact(), state(provider_status="archived"), Action.SKIP, "archived_in_provider"),
    (contact(), state(provider_status="archived", reason_code="archived_by_crm_sync"), Action.CREATE, None),
    (contact(), state(provider_status="not_found"), Action.CREATE, None),
    (contact(opt_out=True), state(provider_status="not_found"), Action.SKIP, "opted_out"),
    (contact(opt_in=False), state(provider_status="archived", reason_code="archived_by_crm_sync"),
     Action.SKIP, "archived_by_crm_sync"),
])
def test_rules(the_contact, the_state, action, reason):
    plan = plan_member(the_contact, the_state, AUDIENCE, MAPPING)
    assert (plan.action, plan.reason) == (action, reason)
    if action in (Action.CREATE, Action.UPDATE):
        assert plan.status_if_new == "subscribed"


def test_leave_policies_and_ownership():
    archive = AUDIENCE.model_copy(update={"leave_policy": "archive"})
    assert plan_member(contact(opt_in=False), state(), archive, MAPPING).action is Action.ARCHIVE
    assert plan_member(contact(opt_in=False), state(owned=False), archive, MAPPING).reason == "not_owned"
    unsubscribe = AUDIENCE.model_copy(update={"leave_policy": "unsubscribe"})
    assert plan_member(contact(deleted=True), state(), unsubscribe, MAPPING).action is Action.UNSUBSCRIBE
    assert plan_member(contact(), state(), AUDIENCE, MAPPING, target_list_id="7").reason == "kept_not_in_target_list"


def test_reoptin_only_when_asked_and_only_once():
    unsubscribed = state(provider_status="unsubscribed")
    assert plan_member(contact(), unsubscribed, AUDIENCE, MAPPING).action is Action.SKIP
    asked = AUDIENCE.model_copy(update={"reoptin": True})
    assert plan_member(contact(), unsubscribed, asked, MAPPING).action is Action.REOPTIN
    already = state(provider_status="unsubscribed", reason_code="reoptin_requested")
    assert plan_member(contact(), already, asked, MAPPING).action is Action.SKIP
    assert plan_member(contact(), state(provider_status="cleaned"), asked, MAPPING).action is Action.SKIP
    assert plan_member(contact(), state(reason_code="compliance_state", rejected_key=REFUSED_ANNA), asked,
                       MAPPING).action is Action.SKIP


def test_update_lists_the_fields_that_change():
    plan = plan_member(contact(first_name="Anne"), state(), AUDIENCE, MAPPING)
    assert plan.changes == {"FNAME": ("Anna", "Anne")}


def test_shared_address_prefers_opt_out_then_pushed_then_newest():
    older, newer = contact("1"), contact("2", modified_at=datetime(2026, 11, 5, tzinfo=UTC))
    assert choose_member([older, newer], {}, "email_opt_in")[0].id == "2"
    assert choose_member([older, newer], {"1": state()}, "email_opt_in")[0].id == "1"
    stopped = contact("3", opt_out=True)
    winner, others = choose_member([older, newer, stopped], {"1": state()}, "email_opt_in")
    assert winner.id == "3" and [o.id for o in others] == ["1", "2"]
    gone = contact("4", deleted=True, modified_at=datetime(2026, 11, 9, tzinfo=UTC))
    assert choose_member([older, gone], {}, "email_opt_in")[0].id == "1"
