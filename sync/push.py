"""The push orchestrator: plan one audience, check the safety threshold, then carry the plan out.

Two passes over the CRM, one code path: the first only counts (that is `crm-sync plan`, and the
threshold check), the second plans again and writes. Writes go out in batches of up to 500 members
with several requests in flight; every member's outcome lands in the state store.

Leaves never create: unsubscribes go one request per existing member (in small batches, several in
flight), and a member is archived only after its live status was read: one found unsubscribed or cleaned
is not archived but recorded as found (an unsubscribe also becomes the CRM opt-out of every contact with
the address), so nobody who unsubscribed is ever archived and later added again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from sync.addresses import normalise_email
from sync.audience_plan import AudienceJob, PlanSummary, records_reason, stream_plans
from sync.connectors.provider import MemberRef, MemberResult, MemberWrite, ProviderAudience
from sync.errors import CrmSyncError, ProviderRejected
from sync.mapping.fields import FieldPlan
from sync.plan import ARCHIVED_BY_SYNC, INACTIVE_STATUSES, LEAVES, NOT_FOUND, SHARED_EMAIL, Action, MemberPlan
from sync.records import ContactFlags
from sync.state.members import MemberOutcome, MemberStateRow
from sync.state.store import StateStore

log = logging.getLogger(__name__)

BATCHED = {Action.CREATE: "upsert", Action.UPDATE: "upsert", Action.REOPTIN: "upsert",
           Action.UNSUBSCRIBE: "unsubscribe"}
# Unsubscribes are one request per member: this many go to one worker, so several workers share them.
UNSUBSCRIBE_BATCH = 25


class OptOutSink(Protocol):
    """Where an unsubscribe found at the provider is written as the CRM opt-out (the SQL CRM)."""

    def contacts_by_email(self, emails: Iterable[str]) -> dict[str, list[str]]: ...

    def set_flags(self, flags: Iterable[ContactFlags]) -> int: ...


class SafetyStop(CrmSyncError):
    """The push would unsubscribe or archive more members than the audience's threshold allows."""


@dataclass
class PushReport:
    """What one audience's push did."""

    audience: str
    summary: PlanSummary
    written: int = 0
    rejected: int = 0
    not_found: int = 0  # leaves that found no member at the provider (nothing was created)
    opt_outs_found: int = 0  # members found unsubscribed instead of archived: written as CRM opt-outs
    requests: int = 0
    write_requests: int = 0
    rejections: list[tuple[str, str, str]] = field(default_factory=list)  # contact, reason, detail

    def counts(self) -> dict[str, int]:
        counts = dict(self.summary.actions)
        counts.update(written=self.written, rejected=self.rejected, not_found=self.not_found,
                      opt_outs_found=self.opt_outs_found, requests=self.requests, write_requests=self.write_requests)
        return counts


def check_threshold(summary: PlanSummary, member_count: int, threshold: float, force: bool) -> None:
    """Stop before writing when too many members would be unsubscribed or archived."""
    leaving = summary.leaving
    if leaving == 0 or force:
        return
    if leaving > threshold * max(member_count, 1):
        raise SafetyStop(
            f"audience {summary.audience}: this push would unsubscribe {summary.actions['unsubscribe']} and "
            f"archive {summary.actions['archive']} of {member_count} members, more than the safety threshold "
            f"of {threshold:.0%}. Nothing was written. Review it with `crm-sync plan --audience "
            f"{summary.audience}`, then run `crm-sync push --audience {summary.audience} --force` if it is right."
        )


def summarise(job: AudienceJob, crm, store: StateStore, field_plan: FieldPlan, sample_limit: int = 20) -> PlanSummary:
    """The first pass: what a push would do, without writing anything."""
    summary = PlanSummary(job.name, fields_to_create=[f.tag for f in field_plan.to_create],
                          sample_limit=sample_limit)
    for plan, state in stream_plans(job, crm, store):
        summary.add(plan, state)
    return summary


class PushExecutor:
    """The second pass: sends the plan's writes in batches, several in flight, and records outcomes."""

    def __init__(self, job: AudienceJob, provider: ProviderAudience, store: StateStore, batch_size: int,
                 concurrency: int, owner_segment: int | None, opt_outs: OptOutSink | None = None):
        self.job = job
        self.opt_outs = opt_outs
        self._found_unsubscribed: list[tuple[str, str]] = []  # (contact id, address) found unsubscribed
        self.provider = provider
        self.store = store
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.owner_segment = owner_segment
        self.report = PushReport(job.name, PlanSummary(job.name, sample_limit=-1))
        self._pending: dict[str, list[tuple[MemberPlan, MemberStateRow | None]]] = {"upsert": [], "unsubscribe": []}
        self._quiet: list[MemberOutcome] = []
        self._to_tag: list[str] = []

    def run(self, plans: Iterable[tuple[MemberPlan, MemberStateRow | None]],
            on_progress: Callable[[int], None] | None = None) -> PushReport:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="push") as pool:
            self._pool = pool
            self._in_flight: set[Future] = set()
            for count, (plan, state) in enumerate(plans, start=1):
                self.report.summary.add(plan, state)
                self._route(plan, state)
                if on_progress and count % 500 == 0:
                    on_progress(count)
            for kind in self._pending:
                self._flush(kind)
            self._drain(until=0)
            self._tag(final=True)
        self._save(self._quiet, force=True)
        self.report.requests = self.provider.requests_made
        self.report.write_requests = self.provider.write_requests_made
        return self.report

    def _route(self, plan: MemberPlan, state: MemberStateRow | None) -> None:
        kind = BATCHED.get(plan.action)
        if kind:
            self._pending[kind].append((plan, state))
            if len(self._pending[kind]) >= (self.batch_size if kind == "upsert" else UNSUBSCRIBE_BATCH):
                self._flush(kind)
        elif plan.action is Action.CHANGE_EMAIL:
            self._submit([(plan, state)], lambda: [self.provider.change_email(plan.previous_email, _write(plan))])
        elif plan.action is Action.ARCHIVE:
            self._submit([(plan, state)], lambda: [self._archive_if_receiving(plan)])
        elif plan.action in (Action.SKIP, Action.MERGED):
            self._note_quiet(plan, state)

    def _flush(self, kind: str) -> None:
        batch, self._pending[kind] = self._pending[kind], []
        if not batch:
            return
        if kind == "upsert":
            writes = [_write(plan) for plan, _ in batch]
            self._submit(batch, lambda: self.provider.upsert(writes))
        else:
            members = [MemberRef(plan.contact_id, plan.email) for plan, _ in batch]
            self._submit(batch, lambda: self.provider.unsubscribe(members))

    def _submit(self, batch: list[tuple[MemberPlan, MemberStateRow | None]],
                send: Callable[[], list[MemberResult]]) -> None:
        self._drain(until=self.concurrency - 1)
        future = self._pool.submit(send)
        future.batch = batch  # type: ignore[attr-defined]
        self._in_flight.add(future)

    def _archive_if_receiving(self, plan: MemberPlan) -> MemberResult:
        """Archive a member only when its live status says it still receives mail; else what was found."""
        member = MemberRef(plan.contact_id, plan.email)
        [live] = self.provider.lookup([member])
        if not live.ok or live.status in INACTIVE_STATUSES:
            return live
        archived = self.provider.archive(member)
        return replace(archived, reason_code=ARCHIVED_BY_SYNC) if archived.ok else archived

    def _drain(self, until: int) -> None:
        while len(self._in_flight) > until:
            done, self._in_flight = wait(self._in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                batch = future.batch  # type: ignore[attr-defined]
                try:
                    results = future.result()
                except ProviderRejected as error:  # the whole request refused: each of its members says why
                    results = [MemberResult(plan.email, False, reason_code="provider_rejected", error=str(error),
                                            contact_id=plan.contact_id) for plan, _ in batch]
                self._record(batch, results)

    def _record(self, batch: list[tuple[MemberPlan, MemberStateRow | None]], results: list[MemberResult]) -> None:
        now = datetime.now(UTC)
        by_contact = {result.contact_id: result for result in results}
        outcomes = []
        for plan, state in batch:
            result = by_contact.get(plan.contact_id)
            outcomes.append(self._outcome(plan, state, result, now))
        self.store.save_member_outcomes(self.job.name, outcomes)
        self._write_opt_outs()
        self._tag(final=False)

    def _write_opt_outs(self) -> None:
        """Every contact with an address found unsubscribed gets the CRM opt-out (the pull may never see it)."""
        if not self._found_unsubscribed or self.opt_outs is None:
            return
        found, self._found_unsubscribed = self._found_unsubscribed, []
        by_address = self.opt_outs.contacts_by_email(address for _, address in found)
        contacts = {cid for cid, _ in found} | {cid for ids in by_address.values() for cid in ids}
        self.opt_outs.set_flags(ContactFlags(cid, email_opt_out=True) for cid in sorted(contacts))

    def _outcome(self, plan: MemberPlan, state: MemberStateRow | None, result: MemberResult | None,
                 now: datetime) -> MemberOutcome:
        if plan.action in LEAVES and result is not None and (result.ok or result.reason_code == NOT_FOUND):
            return self._left(plan, result)
        if result is None or not result.ok:
            reason = result.reason_code if result else "provider_rejected"
            detail = result.error if result else "no answer for this address"
            self.report.rejected += 1
            self.report.rejections.append((plan.contact_id, reason, detail))
            return MemberOutcome(plan.contact_id, email=plan.email, last_error=detail, reason_code=reason)
        self.report.written += 1
        owned = result.created or bool(state and state.owned)
        if result.created and self.owner_segment is not None:
            self._to_tag.append(result.email)
        # An update Spotler answers without a status leaves the one the state store knew.
        status = result.status or (state.provider_status if state else None)
        return MemberOutcome(plan.contact_id, email=plan.email, provider_id=result.provider_id,
                             payload_hash=plan.payload_hash, payload=dict(plan.merge_fields or {}),
                             provider_status=status, owned=owned, pushed_at=now,
                             reason_code=plan.reason if plan.action is Action.REOPTIN else None)

    def _left(self, plan: MemberPlan, result: MemberResult) -> MemberOutcome:
        """The outcome of an unsubscribe or archive. The reason stays the plan's (``shared_email`` for a member
        held for another contact), so the next run, planning the same, has nothing to record."""
        reason = SHARED_EMAIL if plan.merged_into else plan.reason
        if not result.ok:  # no member at the provider: nothing to end, and nothing was created
            self.report.not_found += 1
            return MemberOutcome(plan.contact_id, provider_status=NOT_FOUND, reason_code=reason,
                                 merged_into=plan.merged_into,
                                 last_error=f"no member at the provider to {plan.action.value}; nothing was written")
        if plan.action is Action.ARCHIVE and result.reason_code != ARCHIVED_BY_SYNC:
            # Found no longer receiving mail: not archived, so the provider keeps showing it as it is.
            if result.status == "unsubscribed":
                self.report.opt_outs_found += 1
                self._found_unsubscribed.append((plan.contact_id, normalise_email(result.email) or plan.email))
            return MemberOutcome(plan.contact_id, provider_status=result.status, reason_code=reason,
                                 merged_into=plan.merged_into)
        self.report.written += 1
        if plan.action is Action.ARCHIVE:
            reason = ARCHIVED_BY_SYNC
        return MemberOutcome(plan.contact_id, provider_status=result.status or "unsubscribed", reason_code=reason,
                             merged_into=plan.merged_into)

    def _note_quiet(self, plan: MemberPlan, state: MemberStateRow | None) -> None:
        """Skips and merges are recorded only when their reason changed, so a quiet re-run writes nothing."""
        if records_reason(plan, state):
            return
        self._quiet.append(MemberOutcome(plan.contact_id, email=None, last_error=plan.detail,
                                         reason_code=plan.reason, merged_into=plan.merged_into))
        self._save(self._quiet, force=False)

    def _save(self, outcomes: list[MemberOutcome], force: bool) -> None:
        if outcomes and (force or len(outcomes) >= 1000):
            self.store.save_member_outcomes(self.job.name, outcomes)
            outcomes.clear()

    def _tag(self, final: bool) -> None:
        while self._to_tag and (final or len(self._to_tag) >= self.batch_size):
            emails, self._to_tag = self._to_tag[:self.batch_size], self._to_tag[self.batch_size:]
            self.provider.tag(self.owner_segment, emails)


def _write(plan: MemberPlan) -> MemberWrite:
    status = "pending" if plan.action is Action.REOPTIN else None
    return MemberWrite(plan.email, dict(plan.merge_fields or {}), plan.status_if_new or "subscribed", status,
                       contact_id=plan.contact_id, new=plan.action is Action.CREATE)
