"""The segment marking port: a marketer's segment kept as a provider-side segment that crm-sync owns.

A provider kit hands generic code a ``SegmentMarker`` for an audience (``ProviderKit.segment_marker``). The
marker finds or creates the segment (recognisably crm-sync's, and refusing one crm-sync did not create), reads
its members as normalised addresses, and adds and removes members in requests of at most ``chunk_size`` each,
several in flight together. ``converge`` is the generic "make the segment hold exactly these addresses":
it reads the segment and sends only the difference, so a re-run after a crash sends only what is still missing.
The caller pushes missing members to the audience first; an address the audience lacks is reported, not fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Protocol

from sync.addresses import normalise_email
from sync.connectors.provider import MemberRef
from sync.errors import ConfigError, CrmSyncError


class SegmentNotOurs(ConfigError):
    """A segment with the name crm-sync would use exists, but crm-sync did not make it: nothing is touched."""


class MarkingUnsupported(ConfigError):
    """The provider (or the account's tier) offers no segment crm-sync can mark."""


class SegmentLeaveStop(CrmSyncError):
    """More members would leave the segment than the safety threshold allows; nothing was changed."""

    def __init__(self, segment: str, leaving: int, current: int, threshold: float):
        self.leaving, self.current, self.threshold = leaving, current, threshold
        super().__init__(f"{leaving:,} of the {current:,} members of segment {segment!r} would leave it, more than "
                         f"the safety threshold of {threshold:.0%}: nothing was changed. Check the segment's "
                         "definition and the CRM; if it is right, run again with the threshold lifted")


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """A segment at the provider: its id there, the name it has there, and the marketer's segment name."""

    id: str
    provider_name: str
    name: str
    created: bool = False  # made by this ensure_segment call


@dataclass(frozen=True, slots=True)
class AddressProblem:
    """One member a change could not make, or made with a caveat (``marked`` True: it is in the segment).
    ``email`` holds the member's key (an address at Mailchimp, a contact id at Spotler)."""

    email: str
    code: str  # not_in_audience | unsubscribed | cleaned | pending | rejected
    detail: str
    marked: bool = False


@dataclass
class MarkReport:
    """What one marking did: addresses added and removed, problems per address, and the requests it took."""

    added: int = 0
    removed: int = 0
    already_there: int = 0  # asked to add but already a member (or to remove but not one)
    problems: list[AddressProblem] = field(default_factory=list)
    requests: int = 0  # write requests (each carries at most chunk_size additions and chunk_size removals)

    def merge(self, other: MarkReport) -> None:
        self.added += other.added
        self.removed += other.removed
        self.already_there += other.already_there
        self.problems.extend(other.problems)
        self.requests += other.requests

    def failed(self) -> list[AddressProblem]:
        """The problems whose address did not end where it was asked to be."""
        return [problem for problem in self.problems if not problem.marked]


class SegmentMarker(Protocol):
    """The segment calls generic code makes on one audience at one provider."""

    chunk_size: int  # the most additions (and, separately, removals) one request carries
    concurrency: int  # requests in flight together

    def member_key(self, member: MemberRef) -> str | None:
        """How this provider names ``member`` in a segment (normalised), None when it cannot."""
        ...

    def segment_name(self, name: str) -> str:
        """The name the segment ``name`` has at the provider (crm-sync's recognisable form of it)."""
        ...

    def ensure_segment(self, name: str, known_id: str | None = None) -> SegmentRef:
        """Find crm-sync's segment for ``name`` or create it; ``known_id`` is the id crm-sync recorded for it.

        Raises SegmentNotOurs when a same-named segment exists that crm-sync did not create (another kind, a name
        differing only in case, or an id other than ``known_id``)."""
        ...

    def segment_members(self, ref: SegmentRef) -> set[str] | None:
        """Every member key in the segment (unsubscribed and cleaned members included); None when the provider
        has no call that lists them."""
        ...

    def change_members(self, ref: SegmentRef, add: Iterable[str], remove: Iterable[str]) -> MarkReport:
        """Add and remove members (keys) in chunked requests, several in flight; per-member problems reported."""
        ...

    def empty(self, ref: SegmentRef) -> MarkReport:
        """Take every member out of the segment."""
        ...


def keys(marker: SegmentMarker, members: Iterable[MemberRef]) -> list[str]:
    """The members' keys at the provider, each once (members it cannot name are left out)."""
    return list(dict.fromkeys(key for key in (marker.member_key(member) for member in members) if key))


def converge(marker: SegmentMarker, ref: SegmentRef, wanted: Iterable[str],
             marked_before: set[str] | None = None, leave_threshold: float | None = None) -> MarkReport:
    """Make the segment hold exactly the member keys ``wanted``: add what is missing, remove what is extra.

    What is there now is read from the provider; a provider that cannot list a segment's members is diffed
    against ``marked_before`` (the caller's record of what crm-sync marked), and without one the segment is
    emptied first and filled again. Idempotent: a second run against a readable segment sends no write at all,
    and after an interrupted run it sends only the part that did not happen. With ``leave_threshold`` (the
    audience's safety threshold, a share), more members leaving than that share of the segment raises
    SegmentLeaveStop before anything is written (a scheduled segment kept in step with the CRM)."""
    target = set(wanted)
    current = marker.segment_members(ref)
    report = MarkReport()
    if current is None and marked_before is not None:
        current = set(marked_before)
    leaving = len(current - target) if current is not None else 0
    if leave_threshold is not None and current and leaving > leave_threshold * len(current):
        raise SegmentLeaveStop(ref.name, leaving, len(current), leave_threshold)
    if current is None:
        report.merge(marker.empty(ref))
        current = set()
    report.merge(marker.change_members(ref, sorted(target - current), sorted(current - target)))
    report.already_there += len(target & current)
    return report


def normalised(addresses: Iterable[str]) -> list[str]:
    """The addresses normalised, empty ones dropped, each once, in first-seen order."""
    seen: dict[str, None] = {}
    for raw in addresses:
        email = normalise_email(raw)
        if email:
            seen.setdefault(email, None)
    return list(seen)


def paired_chunks(add: Sequence[str], remove: Sequence[str], size: int) -> Iterator[tuple[list[str], list[str]]]:
    """Requests' worth of changes: the i-th ``size`` additions with the i-th ``size`` removals."""
    adds = [list(add[i:i + size]) for i in range(0, len(add), size)]
    removes = [list(remove[i:i + size]) for i in range(0, len(remove), size)]
    empty: list[str] = []
    for chunk_add, chunk_remove in zip_longest(adds, removes, fillvalue=empty):
        yield list(chunk_add), list(chunk_remove)


def run_in_flight(jobs: Iterable[Callable[[], MarkReport]], concurrency: int) -> MarkReport:
    """Run the jobs with at most ``concurrency`` in flight (submitted lazily: memory stays flat) and sum them.

    The first error (an outage past the retry budget, a configuration error) is raised after the requests already
    in flight have ended; nothing more is sent then."""
    total = MarkReport()
    in_flight: set[Future[MarkReport]] = set()
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mark") as pool:
        for job in jobs:
            if len(in_flight) >= concurrency:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                error = _collect(done, total) or error
                if error is not None:
                    break
            in_flight.add(pool.submit(job))
        done, _ = wait(in_flight)
        error = _collect(done, total) or error
    if error is not None:
        raise error
    return total


def _collect(done: set[Future[MarkReport]], total: MarkReport) -> BaseException | None:
    error = None
    for future in done:
        if future.exception() is not None:
            error = error or future.exception()
        else:
            total.merge(future.result())
    return error
