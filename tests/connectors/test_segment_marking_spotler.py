"""Marking a marketer's segment as a Spotler Mail+ audience (sync/connectors/spotler/segments.py) over loopback
HTTP against the stateful Spotler sandbox: crm-sync's audience found or created, one it did not make refused,
contacts added and removed 2500 a request, unknown contacts reported without failing the rest, the Professional
tier's 403 said plainly, retries, and converging without a members list (a record, or empty and refill)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.connectors.provider import MemberRef
from sync.connectors.provider_registry import kit
from sync.connectors.segments import MarkingUnsupported, SegmentLeaveStop, SegmentNotOurs, converge, keys
from sync.connectors.spotler.audience import SpotlerAudience
from sync.connectors.spotler.segments import SpotlerSegments
from sync.sandbox.spotler import SpotlerSandbox
from sync.settings import AudienceSettings, SpotlerSettings


def ids(n: int, start: int = 0) -> list[str]:
    return [f"C{i:06d}" for i in range(start, start + n)]


@pytest.fixture
def sandbox() -> Iterator[SpotlerSandbox]:
    with SpotlerSandbox() as running:
        yield running
        assert running.internal_errors == [], running.internal_errors[-1]


def provider_for(sandbox: SpotlerSandbox) -> SpotlerAudience:
    settings = SpotlerSettings(consumer_key=sandbox.consumer_key, consumer_secret=sandbox.consumer_secret,
                               base_url=sandbox.base_url, requests_per_second=0, retry_seconds=20,
                               retry_initial_wait=0.01, timeout_seconds=30)
    return SpotlerAudience(settings, [1])


@pytest.fixture
def marker(sandbox) -> SpotlerSegments:
    return SpotlerSegments(provider_for(sandbox), "crm-sync")


def fill(sandbox: SpotlerSandbox, contact_ids: list[str]) -> None:
    for contact_id in contact_ids:
        sandbox.add_contact(f"{contact_id.lower()}@ziggo.test", contact_id)


def test_the_audience_is_created_once_then_found(marker, sandbox):
    made = marker.ensure_segment("Spring fair")
    assert made.created and made.id == marker.external_id("Spring fair") and made.id.startswith("crm-sync-spring-fair-")
    audience = sandbox.audience(made.id)
    assert (audience["name"], audience["contacts"]) == ("crm-sync: Spring fair", [])
    assert audience["description"].startswith("Kept by crm-sync from the CRM segment 'Spring fair'")
    again = marker.ensure_segment("Spring fair")
    assert (again.id, again.created) == (made.id, False)
    assert marker.external_id("Spring fair") != marker.external_id("spring fair")  # exact names stay apart
    assert sandbox.request_count("POST", path_contains="/audience") == 1


def test_an_audience_crm_sync_did_not_make_is_refused_and_left_alone(marker, sandbox):
    fill(sandbox, ids(2))
    sandbox.add_audience(marker.external_id("Fair"), "crm-sync: Fair", "made by hand", contacts=tuple(ids(1)))
    sandbox.add_audience("newsletter-vip", "crm-sync: Winter", "another integration's")
    with pytest.raises(SegmentNotOurs, match="was not made by crm-sync"):
        marker.ensure_segment("Fair")
    with pytest.raises(SegmentNotOurs, match="already has an audience called 'crm-sync: Winter'"):
        marker.ensure_segment("Winter")
    assert sandbox.audience(marker.external_id("Fair"))["contacts"] == ids(1)
    assert sandbox.audience(marker.external_id("Winter")) is None
    assert sandbox.request_count(path_contains="/contact") == 0


def test_contacts_go_2500_a_request_and_a_record_makes_the_rerun_send_nothing(marker, sandbox):
    everyone = ids(6000)
    fill(sandbox, everyone)
    ref = marker.ensure_segment("Big")
    wanted = keys(marker, [MemberRef(c, f"{c}@ziggo.test") for c in everyone])
    assert wanted == everyone  # Mail+'s key: the contact's externalId
    sandbox.reset_traffic()
    first = converge(marker, ref, wanted)  # no record: emptied (one DELETE, null body), then filled
    assert (first.added, first.requests, first.problems) == (6000, 4, [])
    assert sandbox.request_count("DELETE", path_contains="/contact") == 1
    assert sandbox.request_count("POST", path_contains="/contact") == 3  # 2500 + 2500 + 1000
    assert sorted(sandbox.audience(ref.id)["contacts"]) == everyone  # two requests in flight: any order

    sandbox.reset_traffic()
    again = converge(marker, ref, wanted, marked_before=set(everyone))
    assert (again.added, again.removed, again.requests, again.already_there) == (0, 0, 0, 6000)
    assert sandbox.request_count() == 0

    fewer = converge(marker, ref, everyone[:1000], marked_before=set(everyone))  # 5000 leave: 2 DELETEs
    assert (fewer.removed, fewer.requests) == (5000, 2)
    assert sorted(sandbox.audience(ref.id)["contacts"]) == everyone[:1000]
    assert marker.change_members(ref, [], []).requests == 0  # never a bodiless DELETE: it would empty the audience
    assert sorted(sandbox.audience(ref.id)["contacts"]) == everyone[:1000]


def test_the_leave_threshold_uses_the_record(marker, sandbox):
    fill(sandbox, ids(1000))
    ref = marker.ensure_segment("Scheduled")
    converge(marker, ref, ids(1000), marked_before=set())
    sandbox.reset_traffic()
    with pytest.raises(SegmentLeaveStop, match="300 of the 1,000"):
        converge(marker, ref, ids(700), marked_before=set(ids(1000)), leave_threshold=0.25)
    assert sandbox.request_count() == 0 and len(sandbox.audience(ref.id)["contacts"]) == 1000


def test_unknown_contacts_are_reported_and_the_rest_marked(marker, sandbox):
    fill(sandbox, ids(3))
    ref = marker.ensure_segment("Unknown")
    report = marker.change_members(ref, [*ids(3), "GHOST-1"], ["GHOST-2"])
    assert [(p.email, p.code, p.marked) for p in report.problems] == [("GHOST-1", "not_in_audience", False)]
    assert (report.added, report.removed) == (3, 1)  # a removal of an unknown contact is as asked
    assert report.requests == 3  # the refused add, the add without the unknown one, the removal
    assert sandbox.audience(ref.id)["contacts"] == ids(3)


def test_the_professional_tier_is_said_plainly(marker, sandbox):
    sandbox.allow_audiences(False)
    with pytest.raises(MarkingUnsupported, match="cannot have audiences.*Professional"):
        marker.ensure_segment("Spring fair")


def test_outages_are_retried(marker, sandbox):
    fill(sandbox, ids(3000))
    ref = marker.ensure_segment("Retry")
    sandbox.faults.fail_next(1, 503, method="POST", path_contains="/contact")
    sandbox.faults.throttle_next(1, method="POST", path_contains="/contact")
    report = converge(marker, ref, ids(3000), marked_before=set())
    assert (report.added, report.requests, report.problems) == (3000, 2, [])
    assert sorted(sandbox.audience(ref.id)["contacts"]) == ids(3000)
    assert sandbox.request_count("POST", path_contains="/contact") == 4  # two answered 503 and 429, then retried


def test_the_kit_hands_out_the_marker(sandbox):
    marker = kit("spotler").segment_marker(provider_for(sandbox),
                                           AudienceSettings(provider="spotler", permission_bits=[1]))
    assert marker.segment_name("Fair") == "crm-sync: Fair" and marker.chunk_size == 2500
