"""Mailchimp static segments (tags) as crm-sync's marks of a marketer's segment (sync/connectors/segments.py).

crm-sync's segment for ``NAME`` is the static segment ``<ownership_tag>: NAME`` (e.g. ``crm-sync: Spring fair``):
made with ``POST /lists/{id}/segments`` and an empty ``static_segment``, changed with ``POST
/lists/{id}/segments/{sid}`` carrying at most 500 ``members_to_add`` and 500 ``members_to_remove`` (Mailchimp
answers 400 above that), read with ``GET /lists/{id}/segments/{sid}/members`` in pages of 1000 (unsubscribed and
cleaned members included). Mailchimp segments carry no owner or description, so ownership is the name prefix,
the ``static`` type and, when the caller recorded one, the id crm-sync created: a same-named segment of another
kind, a name that differs only in case, or another id is refused, never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sync.addresses import normalise_email
from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.provider import MemberRef
from sync.connectors.segments import (
    AddressProblem,
    MarkReport,
    SegmentNotOurs,
    SegmentRef,
    normalised,
    paired_chunks,
    run_in_flight,
)
from sync.errors import ConfigError, ProviderRejected

MAX_CHANGES = 500  # members_to_add / members_to_remove per request [spec]
PAGE = 1000  # the API's largest page
NOT_RECEIVING = ("unsubscribed", "cleaned", "pending", "transactional")


class MailchimpSegments:
    """crm-sync's static segments in one Mailchimp audience."""

    def __init__(self, audience: MailchimpAudience, owner: str, chunk_size: int = MAX_CHANGES,
                 concurrency: int | None = None):
        if not 1 <= chunk_size <= MAX_CHANGES:
            raise ValueError(f"chunk_size must be 1..{MAX_CHANGES}; got {chunk_size}")
        self.audience = audience
        self.owner = owner
        self.chunk_size = chunk_size
        self.concurrency = concurrency or audience.concurrency

    def member_key(self, member: MemberRef) -> str | None:
        """Mailchimp names segment members by address."""
        return normalise_email(member.email)

    def segment_name(self, name: str) -> str:
        if not name.strip():
            raise ValueError("a segment needs a name")
        return f"{self.owner}: {name.strip()}"

    def ensure_segment(self, name: str, known_id: str | None = None) -> SegmentRef:
        wanted = self.segment_name(name)
        segments = list(self._segments())
        by_id = {str(segment["id"]): segment for segment in segments}
        if known_id is not None and known_id in by_id and by_id[known_id].get("name") != wanted:
            raise SegmentNotOurs(
                f"Mailchimp segment {known_id}, which crm-sync created for {name!r}, is now called "
                f"{by_id[known_id].get('name')!r}: rename it back to {wanted!r} in Mailchimp, or delete it so "
                "crm-sync makes a new one")
        same = [segment for segment in segments if str(segment.get("name", "")).casefold() == wanted.casefold()]
        for segment in same:
            found, kind = str(segment["id"]), segment.get("type")
            if segment.get("name") != wanted:
                raise SegmentNotOurs(f"Mailchimp audience {self.audience.list_id} has a segment or tag "
                                     f"{segment.get('name')!r} (id {found}) that crm-sync did not create; Mailchimp "
                                     f"treats it as the same name as {wanted!r}: rename or delete it in Mailchimp")
            if kind != "static":
                raise SegmentNotOurs(f"the Mailchimp segment {wanted!r} (id {found}) is a {kind} segment, not the "
                                     "static segment crm-sync makes: crm-sync leaves it alone; rename or delete it in "
                                     "Mailchimp, or give the crm-sync segment another name")
            if known_id is not None and found != known_id:
                raise SegmentNotOurs(f"the Mailchimp segment {wanted!r} has id {found}, but crm-sync created id "
                                     f"{known_id} for it: someone else made this one; crm-sync leaves it alone")
            return SegmentRef(found, wanted, name.strip())
        created = self.audience.call_lists("create_segment", self.audience.list_id,
                                           {"name": wanted, "static_segment": []})
        return SegmentRef(str(created["id"]), wanted, name.strip(), created=True)

    def _segments(self) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            body = self.audience.call_lists("list_segments", self.audience.list_id, count=PAGE, offset=offset,
                                            fields=["segments.id", "segments.name", "segments.type", "total_items"])
            page = body.get("segments", [])
            yield from page
            offset += len(page)
            if not page or offset >= int(body.get("total_items", 0)):
                return

    def segment_members(self, ref: SegmentRef) -> set[str]:
        """Every address in the segment: the first page says how many there are; the rest are read in parallel."""
        first = self._members_page(ref, 0)
        total = int(first.get("total_items", 0))
        pages = [first]
        offsets = range(PAGE, total, PAGE)
        if offsets:
            with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="segment-read") as pool:
                pages.extend(pool.map(lambda offset: self._members_page(ref, offset), offsets))
        return {email for page in pages for email in
                (normalise_email(member.get("email_address")) for member in page.get("members", [])) if email}

    def _members_page(self, ref: SegmentRef, offset: int) -> dict[str, Any]:
        # "true", not True: the SDK would put Python's "True" in the query, which the spec's boolean does not allow
        try:
            return self.audience.call_lists("get_segment_members_list", self.audience.list_id, ref.id, count=PAGE,
                                            offset=offset, include_cleaned="true", include_unsubscribed="true",
                                            fields=["members.email_address", "total_items"])
        except ProviderRejected as error:
            raise self._gone(ref, error) from None

    def change_members(self, ref: SegmentRef, add: Iterable[str], remove: Iterable[str]) -> MarkReport:
        to_add, to_remove = normalised(add), normalised(remove)
        both = set(to_add) & set(to_remove)
        if both:
            raise ValueError(f"{len(both)} address(es) both to add and to remove, e.g. {sorted(both)[0]}")
        jobs = (self._job(ref, chunk_add, chunk_remove)
                for chunk_add, chunk_remove in paired_chunks(to_add, to_remove, self.chunk_size))
        return run_in_flight(jobs, self.concurrency)

    def _job(self, ref: SegmentRef, add: list[str], remove: list[str]) -> Callable[[], MarkReport]:
        return lambda: self._change(ref, add, remove)

    def _change(self, ref: SegmentRef, add: list[str], remove: list[str]) -> MarkReport:
        body: dict[str, list[str]] = {}
        if add:
            body["members_to_add"] = add
        if remove:
            body["members_to_remove"] = remove
        report = MarkReport(requests=1)
        try:
            answer = self.audience.call_lists("batch_segment_members", body, self.audience.list_id, ref.id)
        except ProviderRejected as rejected:
            if rejected.status == 404:
                raise self._gone(ref, rejected) from None
            detail = f"{rejected.title}: {rejected.detail}"
            report.problems = [AddressProblem(email, "rejected", detail) for email in add + remove]
            return report
        adding = set(add)
        for member in answer.get("members_added", []):
            report.added += 1
            status = member.get("status")
            if status in NOT_RECEIVING:
                report.problems.append(AddressProblem(
                    normalise_email(member.get("email_address")) or "", status,
                    f"in the segment, but {status}: Mailchimp sends it no campaign", marked=True))
        report.removed = len(answer.get("members_removed", []))
        for error in answer.get("errors", []):
            for raw in error.get("email_addresses", []):
                email = normalise_email(raw) or raw
                if email in adding:  # one to remove that the audience lacks is not in the segment: as asked
                    report.problems.append(AddressProblem(email, "not_in_audience", error.get("error") or
                                                          "not a member of the audience"))
        missing = sum(1 for problem in report.problems if problem.code == "not_in_audience")
        report.already_there = max(0, len(add) + len(remove) - report.added - report.removed - missing)
        return report

    def empty(self, ref: SegmentRef) -> MarkReport:
        """Read the members, then remove them 500 a request."""
        return self.change_members(ref, [], sorted(self.segment_members(ref)))

    def _gone(self, ref: SegmentRef, error: ProviderRejected) -> Exception:
        if error.status == 404:
            return ConfigError(f"the Mailchimp segment {ref.provider_name!r} (id {ref.id}) is gone from audience "
                               f"{self.audience.list_id}: deleted in Mailchimp? The next run makes a new one")
        return error
