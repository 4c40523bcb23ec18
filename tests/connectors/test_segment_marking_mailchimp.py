"""Marking a marketer's segment in Mailchimp (sync/connectors/mailchimp/segments.py) over loopback HTTP against the
stateful sandbox: find or create crm-sync's static segment, refuse one it did not create, add and remove in requests
of at most 500 several in flight, per-address problems, retries, an interrupted run converging on a re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.mailchimp.segments import MailchimpSegments
from sync.connectors.provider import MemberRef
from sync.connectors.provider_registry import kit
from sync.connectors.segments import SegmentLeaveStop, SegmentNotOurs, converge, keys
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.mailchimp.server import Latency
from sync.settings import AudienceSettings, MailchimpSettings

REPO = Path(__file__).resolve().parents[2]
CHANGE_ROUTE = "/lists/{list_id}/segments/{segment_id}"
CREATE_ROUTE = "/lists/{list_id}/segments"


def emails(n: int, start: int = 0) -> list[str]:
    return [f"person{i:06d}@ziggo.test" for i in range(start, start + n)]


def settings_for(sandbox: MailchimpSandbox, concurrency: int = 9) -> MailchimpSettings:
    return MailchimpSettings(api_key=sandbox.api_key, base_url=sandbox.base_url, concurrency=concurrency,
                             retry_seconds=20, retry_initial_wait=0.01, timeout_seconds=30)


@pytest.fixture
def sandbox() -> Iterator[MailchimpSandbox]:
    # a little latency, so requests overlap and the peak concurrency shows how many were in flight
    with MailchimpSandbox(latency=Latency(base=0.03)) as running:
        yield running
        assert running.internal_errors == [], running.internal_errors[-1]


@pytest.fixture
def list_id(sandbox: MailchimpSandbox) -> str:
    return sandbox.create_audience("Marking test audience")


@pytest.fixture
def marker(sandbox: MailchimpSandbox, list_id: str) -> MailchimpSegments:
    return MailchimpSegments(MailchimpAudience(settings_for(sandbox), list_id), "crm-sync")


def fill(sandbox: MailchimpSandbox, list_id: str, addresses: list[str]) -> None:
    for email in addresses:
        sandbox.add_member(list_id, email)


def test_the_segment_is_created_once_then_found(marker, sandbox, list_id):
    made = marker.ensure_segment("Spring fair")
    assert (made.provider_name, made.name, made.created) == ("crm-sync: Spring fair", "Spring fair", True)
    again = marker.ensure_segment(" Spring fair ")
    assert (again.id, again.created) == (made.id, False)
    assert marker.ensure_segment("Spring fair", known_id=made.id).id == made.id
    assert sandbox.request_count("POST", route=CREATE_ROUTE) == 1
    [listed] = marker.audience.call_lists("list_segments", list_id)["segments"]
    assert (listed["name"], listed["type"], str(listed["id"])) == ("crm-sync: Spring fair", "static", made.id)


def test_a_segment_crm_sync_did_not_create_is_refused_and_left_alone(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(3))
    sandbox.add_segment(list_id, "Spring fair", emails=tuple(emails(1)))  # the marketer's own tag: no conflict
    saved = sandbox.add_segment(list_id, "crm-sync: Autumn", kind="saved")
    sandbox.add_segment(list_id, "CRM-SYNC: winter", emails=tuple(emails(2)))
    sandbox.reset_traffic()
    with pytest.raises(SegmentNotOurs, match=rf"\(id {saved}\) is a saved segment"):
        marker.ensure_segment("Autumn")
    with pytest.raises(SegmentNotOurs, match="'CRM-SYNC: winter'.*did not create"):
        marker.ensure_segment("Winter")
    ours = marker.ensure_segment("Spring fair")
    assert ours.provider_name == "crm-sync: Spring fair" and ours.created
    with pytest.raises(SegmentNotOurs, match="someone else made this one"):
        marker.ensure_segment("Spring fair", known_id="999999")
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 0
    assert sandbox.request_count("POST", route=CREATE_ROUTE) == 1  # only crm-sync's own
    assert sandbox.segment_emails(list_id, "Spring fair") == emails(1)[:1]
    assert sandbox.segment_emails(list_id, "CRM-SYNC: winter") == emails(2)


def test_a_renamed_segment_is_named_in_the_error(marker, sandbox, list_id):
    made = marker.ensure_segment("Spring fair")
    marker.audience.call_lists("update_segment", list_id, made.id, {"name": "Lente"})  # a marketer renamed it
    with pytest.raises(SegmentNotOurs, match="is now called 'Lente'"):
        marker.ensure_segment("Spring fair", known_id=made.id)


def test_members_go_in_chunks_of_500_several_in_flight_and_a_rerun_sends_nothing(marker, sandbox, list_id):
    everyone = emails(2300)
    fill(sandbox, list_id, everyone)
    ref = marker.ensure_segment("Spring fair")
    sandbox.reset_traffic()
    wanted = keys(marker, [MemberRef(str(n), f" {e.upper()} ") for n, e in enumerate(everyone)])
    assert wanted == everyone  # Mailchimp's key: the normalised address
    report = converge(marker, ref, wanted)
    assert (report.added, report.removed, report.problems) == (2300, 0, [])
    assert report.requests == 5 == sandbox.request_count("POST", route=CHANGE_ROUTE)  # ceil(2300 / 500)
    assert 2 <= sandbox.peak_concurrency <= 9
    assert sandbox.status_count(429) == 0 and sandbox.status_count(400) == 0
    assert sorted(sandbox.segment_emails(list_id, "crm-sync: Spring fair")) == everyone
    assert marker.segment_members(ref) == set(everyone)  # 3 pages of 1000

    sandbox.reset_traffic()
    again = converge(marker, ref, everyone)
    assert (again.added, again.removed, again.requests, again.already_there) == (0, 0, 0, 2300)
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 0

    sandbox.reset_traffic()
    smaller = everyone[:700]  # 1600 leave: removals go 500 a request too
    fewer = converge(marker, ref, smaller)
    assert (fewer.added, fewer.removed, fewer.requests) == (0, 1600, 4)
    assert sorted(sandbox.segment_emails(list_id, "crm-sync: Spring fair")) == everyone[:700]


def test_a_scheduled_segment_stops_before_too_many_leave(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(1000))
    ref = marker.ensure_segment("Scheduled")
    converge(marker, ref, emails(1000), leave_threshold=0.10)  # joining is never limited
    sandbox.reset_traffic()
    with pytest.raises(SegmentLeaveStop, match="200 of the 1,000 members .* 10%: nothing was changed"):
        converge(marker, ref, emails(800), leave_threshold=0.10)
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 0
    within = converge(marker, ref, emails(900), leave_threshold=0.10)  # 100 of 1000: at the threshold
    assert within.removed == 100
    assert converge(marker, ref, emails(800)).removed == 100  # no threshold: the caller lifted it


def test_additions_and_removals_share_requests(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(1200))
    ref = marker.ensure_segment("Mixed")
    converge(marker, ref, emails(600))
    sandbox.reset_traffic()
    report = converge(marker, ref, emails(600, start=600))  # 600 in, 600 out: 2 requests, not 4
    assert (report.added, report.removed, report.requests) == (600, 600, 2)
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 2
    assert sorted(sandbox.segment_emails(list_id, "crm-sync: Mixed")) == emails(600, start=600)


def test_per_address_problems_do_not_fail_the_rest(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(10))
    sandbox.unsubscribe(list_id, emails(1, start=3)[0])
    sandbox.clean(list_id, emails(1, start=4)[0])
    sandbox.archive(list_id, emails(1, start=5)[0])
    ref = marker.ensure_segment("Problems")
    wanted = [*emails(10), "nobody@ziggo.test"]
    report = marker.change_members(ref, wanted, ["also-nobody@ziggo.test"])
    by_code = {problem.email: (problem.code, problem.marked) for problem in report.problems}
    assert by_code == {"nobody@ziggo.test": ("not_in_audience", False),
                       emails(1, start=5)[0]: ("not_in_audience", False),  # archived: no longer a member
                       emails(1, start=3)[0]: ("unsubscribed", True),
                       emails(1, start=4)[0]: ("cleaned", True)}
    assert (report.added, report.requests, report.already_there) == (9, 1, 1)  # the remove of a non-member: as asked
    assert sorted(p.email for p in report.failed()) == sorted(["nobody@ziggo.test", emails(1, start=5)[0]])
    assert len(sandbox.segment_emails(list_id, "crm-sync: Problems")) == 9
    assert marker.segment_members(ref) == set(emails(10)) - {emails(1, start=5)[0]}  # unsubscribed, cleaned read too
    rerun = converge(marker, ref, wanted)  # only the two the audience lacks are asked for again
    assert (rerun.added, rerun.requests, rerun.already_there) == (0, 1, 9)
    assert sorted(p.email for p in rerun.problems) == sorted(["nobody@ziggo.test", emails(1, start=5)[0]])


def test_throttling_and_outages_are_retried(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(1500))
    ref = marker.ensure_segment("Retry")
    sandbox.reset_traffic()
    sandbox.faults.throttle_next(2, method="POST", path_contains="/segments/")  # bodiless 429s
    sandbox.faults.fail_next(1, 503, method="POST", path_contains="/segments/", body="html")
    sandbox.faults.fail_next(1, 500, method="GET", path_contains="/members")
    report = converge(marker, ref, emails(1500))
    assert (report.added, report.requests, report.problems) == (1500, 3, [])
    assert sandbox.status_count(429) == 2 and sandbox.status_count(503) == 1 and sandbox.status_count(500) == 1
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 3  # the faulted ones never reached the route
    assert len(sandbox.segment_emails(list_id, "crm-sync: Retry")) == 1500


def test_a_rejected_request_is_reported_for_its_addresses_and_the_rest_goes_on(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(1000))
    ref = marker.ensure_segment("Rejected")
    sandbox.faults.fail_next(1, 400, method="POST", path_contains=f"/segments/{ref.id}")
    report = converge(marker, ref, emails(1000))
    assert report.added == 500 and len(report.failed()) == 500
    assert {p.code for p in report.problems} == {"rejected"}
    assert "Bad Request" in report.problems[0].detail
    rerun = converge(marker, ref, emails(1000))
    assert (rerun.added, rerun.requests, rerun.problems) == (500, 1, [])
    assert len(sandbox.segment_emails(list_id, "crm-sync: Rejected")) == 1000


def test_a_deleted_segment_is_a_clear_error(marker, sandbox, list_id):
    fill(sandbox, list_id, emails(2))
    ref = marker.ensure_segment("Gone")
    marker.audience.call_lists("delete_segment", list_id, ref.id)
    with pytest.raises(Exception, match="is gone from audience"):
        marker.change_members(ref, emails(2), [])


def test_a_killed_marking_converges_on_the_rerun(list_id, sandbox):
    """A separate process marks 5,000 addresses two requests at a time and is SIGKILLed after its second
    request reached Mailchimp; the re-run reads the segment and sends only the chunks that never arrived."""
    everyone = emails(5000)
    fill(sandbox, list_id, everyone)
    script = textwrap.dedent("""
        import os, sys
        from sync.connectors.mailchimp.audience import MailchimpAudience
        from sync.connectors.mailchimp.segments import MailchimpSegments
        from sync.connectors.segments import converge
        from sync.settings import MailchimpSettings
        settings = MailchimpSettings(api_key=os.environ["KEY"], base_url=os.environ["URL"], concurrency=2)
        marker = MailchimpSegments(MailchimpAudience(settings, os.environ["LIST"]), "crm-sync")
        ref = marker.ensure_segment("Killed")
        converge(marker, ref, [f"person{i:06d}@ziggo.test" for i in range(5000)])
        print("finished")
    """)
    sandbox.reset_traffic()
    sandbox.faults.slow_next(10, 0.4, method="POST", path_contains="/segments/")
    env = {**os.environ, "KEY": sandbox.api_key, "URL": sandbox.base_url, "LIST": list_id}
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while sandbox.request_count("POST", route=CHANGE_ROUTE) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=10)
    assert b"finished" not in out, err
    while sandbox.in_flight and time.monotonic() < deadline:  # what the killed run had sent still lands
        time.sleep(0.01)
    done_before = sandbox.request_count("POST", route=CHANGE_ROUTE)
    marked = len(sandbox.segment_emails(list_id, "crm-sync: Killed"))
    assert 2 <= done_before < 10 and 1000 <= marked < 5000

    marker = MailchimpSegments(MailchimpAudience(settings_for(sandbox), list_id), "crm-sync")
    ref = marker.ensure_segment("Killed")
    assert not ref.created
    sandbox.reset_traffic()
    report = converge(marker, ref, everyone)
    assert report.added == 5000 - marked and report.already_there == marked
    assert report.requests == -(-(5000 - marked) // 500)
    assert sorted(sandbox.segment_emails(list_id, "crm-sync: Killed")) == everyone


def test_the_kits_hand_out_the_marker(sandbox, list_id):
    audience = AudienceSettings(provider="mailchimp", audience_id=list_id, ownership_tag="crm")
    provider = MailchimpAudience(settings_for(sandbox), list_id)
    marker = kit("mailchimp").segment_marker(provider, audience)
    assert marker.segment_name("Fair") == "crm: Fair" and marker.chunk_size == 500
    made = marker.ensure_segment("Fair")
    assert made.created and made.provider_name == "crm: Fair"
