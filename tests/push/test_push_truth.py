"""Pure: what the push records for a write whose answer was lost, given the provider's lookups. Only what the
lookup proves: id, address, status; never a payload hash or ownership."""

from __future__ import annotations

from datetime import UTC, datetime

from sync.connectors.provider import MemberResult
from sync.push.intents import lookup_refs, provider_truth
from sync.push.rules import REOPTIN_ASKED
from sync.state.intents import IntentRow
from sync.state.members import MemberStateRow

NOW = datetime(2026, 12, 7, tzinfo=UTC)
MISSING = "not_found"


def state(**values) -> MemberStateRow:
    row = {"audience": "newsletter", "contact_id": "7", "email": "old@example.test", "provider_id": "p-old",
           "payload_hash": "h1", "payload": {"FNAME": "Ann"}, "provider_status": "subscribed", "owned": True,
           "last_error": None, "reason_code": None, "merged_into": None, "pushed_at": NOW, "updated_at": NOW}
    return MemberStateRow(**(row | values))


def found(email: str, provider_id: str, status: str = "subscribed") -> MemberResult:
    return MemberResult(email, True, provider_id, status, contact_id="7")


def missing(email: str) -> MemberResult:
    return MemberResult(email, False, reason_code=MISSING, contact_id="7")


def test_a_create_the_provider_holds_is_recorded_as_a_member_without_claiming_ownership_or_a_payload():
    intent = IntentRow("7", "create", "ann@example.test", payload_hash="h2")
    outcome = provider_truth(intent, None, [found("Ann@Example.test", "p1")], NOW)
    assert (outcome.email, outcome.provider_id, outcome.provider_status) == ("ann@example.test", "p1", "subscribed")
    assert outcome.pushed_at == NOW and outcome.payload_hash is None and outcome.owned is False


def test_a_create_the_provider_does_not_hold_records_nothing():
    assert provider_truth(IntentRow("7", "create", "ann@example.test"), None, [missing("ann@example.test")], NOW) \
        is None


def test_an_email_change_that_landed_moves_the_state_to_the_new_address_and_keeps_ownership():
    intent = IntentRow("7", "change_email", "new@example.test", "old@example.test")
    outcome = provider_truth(intent, state(), [found("new@example.test", "p-new"), missing("old@example.test")], NOW)
    assert (outcome.email, outcome.provider_id, outcome.owned) == ("new@example.test", "p-new", True)


def test_an_email_change_that_did_not_land_keeps_the_old_address():
    intent = IntentRow("7", "change_email", "new@example.test", "old@example.test")
    outcome = provider_truth(intent, state(), [missing("new@example.test"), found("old@example.test", "p-old")], NOW)
    assert (outcome.email, outcome.provider_id) == ("old@example.test", "p-old")


def test_two_members_for_an_email_change_mean_the_move_did_not_happen():
    intent = IntentRow("7", "change_email", "new@example.test", "old@example.test")
    both = [found("new@example.test", "p-other"), found("old@example.test", "p-old", "unsubscribed")]
    outcome = provider_truth(intent, state(), both, NOW)
    assert (outcome.email, outcome.provider_id, outcome.provider_status) == ("old@example.test", "p-old",
                                                                              "unsubscribed")


def test_an_unanswered_unsubscribe_records_the_live_status_only():
    intent = IntentRow("7", "unsubscribe", "old@example.test", reason_code="opted_out")
    outcome = provider_truth(intent, state(), [found("old@example.test", "p-old", "unsubscribed")], NOW)
    assert outcome.pushed_at is None and outcome.provider_status == "unsubscribed"
    assert outcome.reason_code == "opted_out"


def test_a_member_gone_from_the_provider_is_no_longer_active():
    intent = IntentRow("7", "update", "old@example.test")
    outcome = provider_truth(intent, state(), [missing("old@example.test")], NOW)
    assert outcome.provider_status == "archived" and outcome.pushed_at is None


def test_an_unanswered_reoptin_is_never_asked_again():
    intent = IntentRow("7", "reoptin", "old@example.test")
    outcome = provider_truth(intent, state(provider_status="unsubscribed"),
                             [found("old@example.test", "p-old", "pending")], NOW)
    assert outcome.reason_code == REOPTIN_ASKED and outcome.provider_status == "pending"


def test_lookups_go_to_every_address_the_contact_may_be_at_once_each():
    intent = IntentRow("7", "change_email", "New@example.test", "old@example.test")
    refs = lookup_refs(intent, state(email="OLD@example.test"))
    assert [ref.email for ref in refs] == ["New@example.test", "old@example.test"]
