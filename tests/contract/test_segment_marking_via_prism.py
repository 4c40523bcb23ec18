"""Contract test: crm-sync's segment marking (sync/connectors/mailchimp/segments.py) through a validating Prism proxy
in front of the Mailchimp sandbox. Prism (``--errors``) stops a request that breaks the official spec with 422 and
turns a sandbox answer that breaks it into 500, so a marking that succeeds here sent conforming requests and got
conforming answers: segment list and create, member changes of 500 + 500, paged member reads, a rename."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.mailchimp.segments import MailchimpSegments
from sync.connectors.segments import converge
from sync.connectors.spotler.audience import SpotlerAudience
from sync.connectors.spotler.segments import SpotlerSegments
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from sync.settings import MailchimpSettings, SpotlerSettings
from tests.contract.prism import SHARED, PrismProxy, prism_proxy

CHANGE_ROUTE = "/lists/{list_id}/segments/{segment_id}"


def emails(n: int, start: int = 0) -> list[str]:
    return [f"contract{i:05d}@ziggo.test" for i in range(start, start + n)]


@pytest.fixture(scope="module")
def behind_prism() -> Iterator[tuple[MailchimpSandbox, PrismProxy]]:
    with MailchimpSandbox() as sandbox, prism_proxy(sandbox.base_url) as proxy:
        yield sandbox, proxy
        assert sandbox.internal_errors == []


def test_marking_through_prism_conforms_both_ways(behind_prism):
    sandbox, proxy = behind_prism
    list_id = sandbox.create_audience("Contract marking")
    for email in emails(1300):
        sandbox.add_member(list_id, email)
    sandbox.unsubscribe(list_id, emails(1)[0])
    settings = MailchimpSettings(api_key=sandbox.api_key, base_url=proxy.url, concurrency=3, retry_seconds=5,
                                 retry_initial_wait=0.01)
    marker = MailchimpSegments(MailchimpAudience(settings, list_id), "crm-sync")
    ref = marker.ensure_segment("Contract fair")
    assert ref.created and marker.ensure_segment("Contract fair").id == ref.id

    sandbox.reset_traffic()
    first = converge(marker, ref, [*emails(1100), "nobody@ziggo.test"])
    assert (first.added, first.requests) == (1100, 3)
    assert {(p.email, p.code) for p in first.problems} == {("nobody@ziggo.test", "not_in_audience"),
                                                           (emails(1)[0], "unsubscribed")}
    second = converge(marker, ref, emails(700, start=600))  # 600 out, 200 in: two requests carrying both
    assert (second.added, second.removed, second.requests) == (200, 600, 2)
    assert marker.segment_members(ref) == set(emails(700, start=600))  # two pages, unsubscribed included
    assert sandbox.status_count(500) == 0 and sandbox.status_count(422) == 0
    assert sandbox.request_count("POST", route=CHANGE_ROUTE) == 5

    renamed = marker.audience.call_lists("update_segment", list_id, ref.id, {"name": "Lente"})
    assert renamed["name"] == "Lente"


def test_the_500_limit_and_bad_bodies(behind_prism):
    sandbox, proxy = behind_prism
    list_id = sandbox.create_audience("Contract limits")
    segment_id = sandbox.add_segment(list_id, "crm-sync: Limits")
    url = f"{proxy.url}/lists/{list_id}/segments/{segment_id}"
    auth = ("anystring", sandbox.api_key)
    too_many = requests.post(url, json={"members_to_add": emails(501)}, auth=auth, timeout=30)
    assert too_many.status_code == 400  # conforms to the spec (no maxItems there); the sandbox refuses like Mailchimp
    assert too_many.headers["Content-Type"].startswith("application/problem+json")
    assert "at most 500 items in members_to_add" in too_many.json()["detail"]
    sandbox.reset_traffic()
    wrong = requests.post(url, json={"members_to_add": "contract00000@ziggo.test"}, auth=auth, timeout=30)
    assert wrong.status_code == 422  # Prism stops it: members_to_add must be an array
    assert sandbox.request_count() == 0


def test_spotler_audience_marking_through_prism_conforms_both_ways(tmp_path):
    spec = SHARED / "specs" / "spotler-mailplus-swagger-2.0.json"
    with SpotlerSandbox() as sandbox, \
            prism_proxy(sandbox.base_url.replace("integrationservice-1.1.0", "integrationservice"), spec) as proxy:
        sandbox.serve_behind(proxy.url, spec_strict_paging=True)
        for n in range(3000):
            sandbox.add_contact(f"c{n}@ziggo.test", f"C{n:05d}")
        settings = SpotlerSettings(consumer_key=sandbox.consumer_key, consumer_secret=sandbox.consumer_secret,
                                   base_url=proxy.url, requests_per_second=0, retry_seconds=5,
                                   retry_initial_wait=0.01)
        marker = SpotlerSegments(SpotlerAudience(settings, [1]), "crm-sync")
        ref = marker.ensure_segment("Contract fair")  # GET 404, then POST audience
        assert marker.ensure_segment("Contract fair").id == ref.id
        wanted = [f"C{n:05d}" for n in range(2600)]
        first = converge(marker, ref, [*wanted, "GHOST"])  # DELETE with a null body, POSTs of 2500 and 101
        assert first.added == 2600 and [p.email for p in first.problems] == ["GHOST"]
        second = converge(marker, ref, wanted[100:], marked_before=set(wanted))  # a DELETE with contacts
        assert (second.removed, second.requests) == (100, 1)
        assert sorted(sandbox.audience(ref.id)["contacts"]) == wanted[100:]
        assert sandbox.internal_errors == []
