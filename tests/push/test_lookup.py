"""``lookup``: a member's live state at the provider, read by subscriber hash (Mailchimp) or externalId
(Spotler), over HTTP against the sandboxes. The push uses it to settle writes whose answer it never recorded."""

from __future__ import annotations

from sync.connectors.provider import MemberRef
from sync.runner import prepared, push_audience
from tests.push.world import eligible


def _pushed(world, count: int) -> list[MemberRef]:
    """``count`` contacts the push made members of, as refs (contact id, address)."""
    members = world.members()
    rows = [row for row in world.contacts() if eligible(row) and row["email"].strip().lower() in members]
    return [MemberRef(str(row["id"]), row["email"]) for row in rows[:count]]


def test_lookup_answers_one_result_per_ref_in_order_with_live_status(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    first, second = _pushed(world, 2)
    world.view.unsubscribe(second.email)
    stranger = MemberRef("no-such-contact-9999", "nobody-here@lookup.test")
    with prepared(world.settings, "newsletter") as ready:
        writes_before = world.writes()
        results = ready.provider.lookup([first, stranger, second])
        assert world.writes() == writes_before  # reads only
    assert [r.contact_id for r in results] == [first.contact_id, stranger.contact_id, second.contact_id]
    found, missing, left = results
    assert found.ok and found.status == "subscribed" and found.provider_id
    assert found.email.strip().lower() == first.email.strip().lower()
    assert not missing.ok and missing.reason_code == "not_found"
    assert left.ok and left.status == "unsubscribed"
    assert ready.provider.lookup([]) == []


def test_lookup_sees_an_archived_mailchimp_member_as_archived_and_a_deleted_one_as_not_found(world):
    push_audience(world.settings, "newsletter")
    archived, deleted = _pushed(world, 2)
    world.sandbox.archive(world.list_id, archived.email)
    world.sandbox.permanently_delete(world.list_id, deleted.email)
    with prepared(world.settings, "newsletter") as ready:
        was_archived, was_deleted = ready.provider.lookup([archived, deleted])
    assert was_archived.ok and was_archived.status == "archived"
    assert not was_deleted.ok and was_deleted.reason_code == "not_found"


def test_lookup_of_an_anonymised_spotler_contact_is_not_found(spotler_world):
    world = spotler_world
    push_audience(world.settings, "newsletter")
    (member,) = _pushed(world, 1)
    with prepared(world.settings, "newsletter") as ready:
        assert ready.provider.archive(member).ok  # anonymise: Mail+ lets the externalId go
        (result,) = ready.provider.lookup([member])
    assert not result.ok and result.reason_code == "not_found" and result.contact_id == member.contact_id
