"""The push executor: one pass over the plans, every write in flight together, every answer recorded.

Plans stream in from the planner (the CRM read in chunks) and writes go out as they are ready: batch upserts
of up to 500 members, tag requests, e-mail changes, unsubscribes and archives all share one bounded pool
(the provider's concurrency), so planning, sending and recording overlap and memory stays flat. Before a
request goes out its members' intents are stored; each answer is recorded as soon as it arrives, settling
those intents in the same transaction (sync/push/intents.py resolves the ones a dead or failed push left).
E-mail changes wait until every contact is planned (a move into an address another member leaves in the same
run goes after it), and so do unsubscribes and archives: they are sent only if all of them stay within the
safety threshold, so a push never takes out more of the audience than allowed, whatever the CRM does
while it runs. `crm-sync plan` counts the same plans (``sync/push/summary.py``).

Leaves never create: unsubscribes go one request per existing member (in small batches, several in
flight), and a member is archived only after its live status was read: one found unsubscribed or cleaned
is not archived but recorded as found (an unsubscribe also becomes the CRM opt-out of every contact with
the address), so nobody who unsubscribed is ever archived and later added again. What each answer means for
the member's state and the push's counts is ``sync/push/outcomes.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from sync.addresses import normalise_email
from sync.connectors.provider import (
    MemberRef,
    MemberResult,
    OwnerTag,
    ProviderAudience,
)
from sync.errors import CrmSyncError, ProviderRejected
from sync.push.intents import intent_for
from sync.push.outcomes import Answers, address_of, member_write
from sync.push.rules import (
    ARCHIVED_BY_SYNC,
    INACTIVE_STATUSES,
    LEAVES,
    Action,
    MemberPlan,
    is_active,
)
from sync.push.stream import AudienceJob, PlanSummary, records_reason
from sync.push.summary import (  # noqa: F401 (SafetyStop and summarise are the push's API too)
    LeaveLimit,
    PushIncomplete,
    PushReport,
    SafetyStop,
    summarise,
)
from sync.records import ContactFlags
from sync.state.members import MemberOutcome, MemberStateRow
from sync.state.store import StateStore

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]  # called with "intent_recorded", "batch_answered", "outcome_recorded"
UNCONFIRMED = "write_unconfirmed"  # sent, but no answer: the next push looks the member up first

BATCHED = {Action.CREATE: "upsert", Action.UPDATE: "upsert", Action.REOPTIN: "upsert",
           Action.UNSUBSCRIBE: "unsubscribe"}
# Unsubscribes are one request per member: this many go to one worker, so several workers share them.
UNSUBSCRIBE_BATCH = 25


class OptOutSink(Protocol):
    """Where an unsubscribe found at the provider is written as the CRM opt-out (the SQL CRM)."""

    def contacts_by_email(self, emails: Iterable[str]) -> dict[str, list[str]]: ...

    def set_flags(self, flags: Iterable[ContactFlags]) -> int: ...


class PushExecutor:
    """Carries plans out as they stream in: writes in batches, several in flight, every outcome recorded."""

    def __init__(self, job: AudienceJob, provider: ProviderAudience, store: StateStore, batch_size: int,
                 concurrency: int, owner_tag: OwnerTag | None, *, checkpoint: Checkpoint | None = None,
                 leave_limit: LeaveLimit | None = None, held_back: frozenset[str] = frozenset(),
                 opt_outs: OptOutSink | None = None, on_write: Callable[[int, int], None] | None = None):
        """``owner_tag`` is the tag members crm-sync creates get, and who sets it (None: the provider has no tags).
        ``leave_limit`` None sends every leave (``--force``); otherwise the unsubscribes and archives are held
        until every contact is planned, and sent only if they stay within it. ``held_back`` are contacts whose
        earlier write could not be looked up: nothing is written for them this run. ``opt_outs`` is the CRM,
        told of unsubscribes found at the provider. ``on_write(members answered, batches answered)`` follows
        the writes."""
        self.on_write = on_write
        self._answered_members = self._answered_batches = 0
        self.job = job
        self.opt_outs = opt_outs
        self.provider = provider
        self.store = store
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.owner_tag = owner_tag
        self._owner_segment: int | None = None  # looked up when the first created member is to be tagged
        self.checkpoint: Checkpoint = checkpoint or (lambda point: None)
        self.leave_limit = leave_limit
        self.held_back = held_back
        self.report = PushReport(job.name, PlanSummary(job.name, sample_limit=-1))
        self.answers = Answers(self.report, tags_created=owner_tag is not None)
        self._pending: dict[str, list[tuple[MemberPlan, MemberStateRow | None]]] = {"upsert": [], "unsubscribe": []}
        self._quiet: list[MemberOutcome] = []
        self._in_flight: set[Future] = set()
        self._leaves: list[tuple[MemberPlan, MemberStateRow | None]] = []  # held until every contact is planned
        self._moves: list[tuple[MemberPlan, MemberStateRow | None]] = []  # e-mail changes, held likewise
        self._leaving = 0  # unsubscribes and archives planned
        self._stopped: CrmSyncError | None = None  # why no more requests go out

    def run(self, plans: Iterable[tuple[MemberPlan, MemberStateRow | None]],
            on_progress: Callable[[int], None] | None = None) -> PushReport:
        """Carry the plans out; raises SafetyStop or PushIncomplete after recording every answer received."""
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="push") as pool:
            self._pool = pool
            self._send_all(plans, on_progress)
            self._drain(until=0)
            while self.answers.to_tag and self._stopped is None:
                self._tag(final=True)
                self._drain(until=0)
        self._save(self._quiet, force=True)
        self.report.requests = self.provider.requests_made
        self.report.write_requests = self.provider.write_requests_made
        if self._stopped is not None:
            raise self._stopped
        return self.report

    def _send_all(self, plans: Iterable[tuple[MemberPlan, MemberStateRow | None]],
                  on_progress: Callable[[int], None] | None) -> None:
        count = 0
        for count, (plan, state) in enumerate(plans, start=1):
            self.report.summary.add(plan, state)
            self._route(plan, state)
            self._record_answered()
            self._tag(final=False)
            if self._stopped is not None:
                return  # batches not sent yet are dropped; the next push plans them again
            if on_progress and count % 500 == 0:
                on_progress(count)
        if on_progress:
            on_progress(count)
        self._flush("upsert")
        self._send_moves()
        self._send_leaves()

    def _send_moves(self) -> None:
        """E-mail changes, once every contact is planned: a move into an address another member is leaving in
        this run waits until that move is answered (the provider refuses an address still taken)."""
        moves, self._moves = self._moves, []
        vacated = {normalise_email(plan.previous_email) for plan, _ in moves}
        for move in list(moves):
            if move[0].email not in vacated and self._held_by_another(move[0]):
                moves.remove(move)  # the address has a member already: the contact takes it over (an update)
                self._dispatch(replace(move[0], action=Action.UPDATE, previous_email=None), move[1])
        self._flush("upsert")
        while moves and self._stopped is None:
            vacated = {normalise_email(plan.previous_email) for plan, _ in moves}
            ready = [move for move in moves
                     if move[0].email not in vacated - {normalise_email(move[0].previous_email)}] or moves  # a swap
            for plan, state in ready:
                self._submit([(plan, state)], partial(self._change_email, plan))
            moves = [move for move in moves if all(move is not sent for sent in ready)]
            if moves:
                self._drain(until=0)

    def _change_email(self, plan: MemberPlan) -> list[MemberResult]:
        if plan.previous_email is None:
            raise ValueError(f"contact {plan.contact_id}: an address change without the previous address")
        return [self.provider.change_email(plan.previous_email, member_write(plan))]

    def _held_by_another(self, plan: MemberPlan) -> bool:
        """Whether another contact's member that still receives mail has ``plan.email`` (one left behind when
        that contact moved onto a shared address), so a move there would be refused as taken."""
        return any(row.audience == self.job.name and row.contact_id != plan.contact_id and is_active(row)
                   for row in self.store.member_states_by_email(address_of(plan)))

    def _route(self, plan: MemberPlan, state: MemberStateRow | None) -> None:
        if plan.contact_id in self.held_back and plan.action not in (Action.SKIP, Action.MERGED, Action.UNCHANGED):
            log.info("contact %s: %s held back: its earlier write is still unknown", plan.contact_id, plan.action)
            self.report.held_back += 1
            return
        if plan.action in LEAVES and self.leave_limit is not None:
            self._leaving += 1
            if self.leave_limit.allows(self._leaving):  # past the limit none is sent: no need to hold more
                self._leaves.append((plan, state))
            return
        self._dispatch(plan, state)

    def _send_leaves(self) -> None:
        """The held unsubscribes and archives, all of them if they stay within the threshold, else none."""
        if self.leave_limit is not None and not self.leave_limit.allows(self._leaving):
            self._stopped = self.leave_limit.stop(self._leaving)
            return
        leaves, self._leaves = self._leaves, []
        for plan, state in leaves:
            self._dispatch(plan, state)
            self._record_answered()
        self._flush("unsubscribe")

    def _dispatch(self, plan: MemberPlan, state: MemberStateRow | None) -> None:
        kind = BATCHED.get(plan.action)
        if kind:
            self._pending[kind].append((plan, state))
            if len(self._pending[kind]) >= (self.batch_size if kind == "upsert" else UNSUBSCRIBE_BATCH):
                self._flush(kind)
        elif plan.action is Action.CHANGE_EMAIL:
            self._moves.append((plan, state))
        elif plan.action is Action.ARCHIVE:
            self._submit([(plan, state)], lambda: [self._archive_if_receiving(plan)])
        elif plan.action in (Action.SKIP, Action.MERGED):
            self._note_quiet(plan, state)

    def _flush(self, kind: str) -> None:
        batch, self._pending[kind] = self._pending[kind], []
        if not batch:
            return
        if kind == "upsert":
            writes = [member_write(plan) for plan, _ in batch]
            self._submit(batch, lambda: self.provider.upsert(writes))
        else:
            members = [MemberRef(plan.contact_id, address_of(plan)) for plan, _ in batch]
            self._submit(batch, lambda: self.provider.unsubscribe(members))

    def _submit(self, batch: list[tuple[MemberPlan, MemberStateRow | None]],
                send: Callable[[], list[MemberResult]]) -> None:
        self._drain(until=self.concurrency - 1)
        if self._stopped is not None:
            return
        self.store.record_intents(self.job.name, [intent_for(plan) for plan, _ in batch])
        self.checkpoint("intent_recorded")
        future = self._pool.submit(send)
        future.batch = batch  # type: ignore[attr-defined]
        self._in_flight.add(future)

    def _archive_if_receiving(self, plan: MemberPlan) -> MemberResult:
        """Archive a member only when its live status says it still receives mail; else what was found."""
        member = MemberRef(plan.contact_id, address_of(plan))
        [live] = self.provider.lookup([member])
        if not live.ok or live.status in INACTIVE_STATUSES:
            return live
        archived = self.provider.archive(member)
        return replace(archived, reason_code=ARCHIVED_BY_SYNC) if archived.ok else archived

    def _drain(self, until: int) -> None:
        """Wait until at most ``until`` requests are in flight, recording each answer as it comes."""
        while len(self._in_flight) > until:
            done, self._in_flight = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                self._answered(future)

    def _record_answered(self) -> None:
        """Record the batches that have been answered, without waiting for the others."""
        done = {future for future in self._in_flight if future.done()}
        self._in_flight -= done
        for future in done:
            self._answered(future)

    def _answered(self, future: Future) -> None:
        batch = future.batch  # type: ignore[attr-defined]
        if batch is None:  # a tag request
            try:
                future.result()
            except Exception as error:  # noqa: BLE001 (the members are written and recorded as owned)
                self.report.tag_failures += 1
                log.warning("audience %s: %d created members could not be tagged %r: %s", self.job.name,
                            future.tagged, self.owner_tag.name if self.owner_tag else None, error)  # type: ignore[attr-defined]
            return
        settled = True
        try:
            results = future.result()
        except ProviderRejected as error:  # the whole request refused: each of its members says why
            results = [MemberResult(plan.email, False, reason_code="provider_rejected", error=str(error),
                                    contact_id=plan.contact_id) for plan, _ in batch]
        except Exception as error:  # noqa: BLE001 (no answer: whether it was applied is unknown)
            settled = False
            results = [MemberResult(plan.email, False, reason_code=UNCONFIRMED, error=f"no answer: {error}",
                                    contact_id=plan.contact_id) for plan, _ in batch]
            if not isinstance(self._stopped, PushIncomplete):
                self._stopped = PushIncomplete(
                    f"audience {self.job.name}: a batch of {len(batch)} writes got no answer ({error}). Every "
                    "answered batch is recorded; the next push looks the unanswered members up at the provider "
                    "before deciding anything about them.", error)
        self.checkpoint("batch_answered")
        self._record(batch, results, settled)
        self.checkpoint("outcome_recorded")
        self._answered_members += len(batch)
        self._answered_batches += 1
        if self.on_write:
            self.on_write(self._answered_members, self._answered_batches)

    def _record(self, batch: list[tuple[MemberPlan, MemberStateRow | None]], results: list[MemberResult],
                settled: bool) -> None:
        """Save the batch's outcomes; an answered batch's intents are settled in the same transaction."""
        now = datetime.now(UTC)
        by_contact = {result.contact_id: result for result in results}
        outcomes = []
        for plan, state in batch:
            result = by_contact.get(plan.contact_id)
            outcomes.append(self.answers.outcome(plan, state, result, now))
        self.store.record_answers(self.job.name, outcomes, [plan.contact_id for plan, _ in batch] if settled else [])
        self._write_opt_outs()

    def _write_opt_outs(self) -> None:
        """Every contact with an address found unsubscribed gets the CRM opt-out (the pull may never see it)."""
        if not self.answers.found_unsubscribed or self.opt_outs is None:
            return
        found, self.answers.found_unsubscribed = self.answers.found_unsubscribed, []
        by_address = self.opt_outs.contacts_by_email(address for _, address in found)
        contacts = {cid for cid, _ in found} | {cid for ids in by_address.values() for cid in ids}
        self.opt_outs.set_flags(ContactFlags(cid, email_opt_out=True) for cid in sorted(contacts))

    def _note_quiet(self, plan: MemberPlan, state: MemberStateRow | None) -> None:
        """Skips and merges are recorded only when their reason changed, so a quiet re-run writes nothing."""
        if records_reason(plan, state):
            return
        if plan.reason == "contact_id_too_long":  # cannot be stored: reported, and planned again next run
            self.report.rejected += 1
            self.report.rejections.append((plan.contact_id[:80] + "…", plan.reason, plan.detail or ""))
            return
        self._quiet.append(MemberOutcome(plan.contact_id, email=None, last_error=plan.detail,
                                         reason_code=plan.reason, merged_into=plan.merged_into))
        self._save(self._quiet, force=False)

    def _save(self, outcomes: list[MemberOutcome], force: bool) -> None:
        if outcomes and (force or len(outcomes) >= 1000):
            self.store.save_member_outcomes(self.job.name, outcomes)
            outcomes.clear()

    def _tag(self, final: bool) -> None:
        """Tag created members in batches, in flight with the other writes (the tag marks what crm-sync added;
        ownership itself is recorded in the state store, so a tag that fails is logged, not retried)."""
        while self.answers.to_tag and (final or len(self.answers.to_tag) >= self.batch_size) and self._stopped is None:
            emails, self.answers.to_tag = self.answers.to_tag[:self.batch_size], self.answers.to_tag[self.batch_size:]
            assert self.owner_tag is not None  # only created members of a tagging provider are queued
            if self._owner_segment is None:
                self._owner_segment = self.owner_tag.audience.tag_segment(self.owner_tag.name)
            self._drain(until=self.concurrency - 1)
            future = self._pool.submit(self.owner_tag.audience.tag, self._owner_segment, emails)
            future.batch = None  # type: ignore[attr-defined]
            future.tagged = len(emails)  # type: ignore[attr-defined]
            self._in_flight.add(future)

