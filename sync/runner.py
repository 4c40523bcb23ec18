"""Plan and push one configured audience: wires settings, the CRM, the state store and the provider."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sync.connectors.crm import CrmPort
from sync.connectors.crm_registry import open_crm
from sync.connectors.kit import ProviderKit
from sync.connectors.provider import FieldPlan, ProviderAudience
from sync.connectors.provider_registry import kit
from sync.errors import ConfigError
from sync.mapping.load import load_mapping
from sync.progress import Tracker
from sync.pull.importer import (
    Checkpoint,
    EventImporter,
    PullProgress,
    PullReport,
    pull_window_start,
)
from sync.push.executor import Checkpoint as PushCheckpoint
from sync.push.executor import PushExecutor
from sync.push.households import id_order
from sync.push.incremental import (
    PushScope,
    choose_mode,
    fingerprint,
    stream_changed_plans,
)
from sync.push.intents import resolve_unsettled
from sync.push.rules import RETRY_REASONS, MemberPlan
from sync.push.stream import AudienceJob, PlanSummary, stream_plans
from sync.push.summary import LeaveLimit, PushReport, summarise
from sync.run_record import RunRecord, recorded_run
from sync.settings import Settings
from sync.state.members import MemberStateRow
from sync.state.runs import PushMode
from sync.state.store import StateStore, open_state

log = logging.getLogger(__name__)
# An incremental push reads at most this many changed contacts, or a quarter of the CRM if that is more;
# beyond it a full read costs no more.
INCREMENTAL_MINIMUM = 10_000


@dataclass
class Prepared:
    """One audience ready to plan or push."""

    job: AudienceJob
    crm: CrmPort
    store: StateStore
    provider: ProviderAudience
    field_plan: FieldPlan
    member_count: int
    kit: ProviderKit  # the provider's (sync/connectors/provider_registry.py)
    provider_shape: object = None  # what of the provider's fields the values depend on (Spotler property types)

    @property
    def fingerprint(self) -> str:
        """The configuration this audience is pushed with: a change makes the next push a full one."""
        settings = self.job.settings.model_dump(mode="json", exclude={"pull_window_days", "history",
                                                                     "full_every_days", "safety_threshold"})
        return fingerprint(self.job.mapping.model_dump(mode="json", warnings=False), settings, self.job.target_list_id,
                           self.crm.schema_fingerprint(), self.provider_shape)


def audience_names(settings: Settings, only: str | None) -> list[str]:
    """The audiences to work on: all configured ones, or the one asked for."""
    if not settings.audiences:
        raise ConfigError("no audience is configured: add one under `audiences:` in the settings file, or set "
                          "CRM_SYNC_AUDIENCES__<NAME>__AUDIENCE_ID (see README)")
    if only is None:
        return list(settings.audiences)
    if only not in settings.audiences:
        raise ConfigError(f"no audience called {only!r}; configured: {', '.join(settings.audiences)}")
    return [only]


@contextmanager
def prepared(settings: Settings, name: str, store: StateStore | None = None) -> Iterator[Prepared]:
    """Open the CRM, the state store (unless given) and the provider for one audience, and check its
    fields (the provider's kit: sync/connectors/kit.py)."""
    audience = settings.audiences[name]
    mapping_file = load_mapping(settings.mapping_file)
    mapping_name = audience.mapping or name
    if mapping_name not in mapping_file.audiences:
        raise ConfigError(f"{settings.mapping_file}: no audience section {mapping_name!r} for audience {name} "
                          f"(sections: {', '.join(mapping_file.audiences)})")
    with open_crm(settings.crm) as crm, \
            (nullcontext(store) if store else open_state(settings.state.url.get_secret_value())) as state:
        job = AudienceJob(name, audience, mapping_file.audiences[mapping_name],
                          _target_list_id(crm, audience.target_list), settings.crm.chunk_size)
        provider_kit = kit(audience.provider)
        setup = provider_kit.prepare(settings, audience, job, crm, state)
        if setup.field_plan.conflicts:
            raise ConfigError("\n".join(setup.field_plan.conflicts))
        yield Prepared(setup.job, crm, state, setup.provider, setup.field_plan, setup.member_count, provider_kit,
                       setup.shape)


def plan_audience(settings: Settings, name: str, sample_limit: int = 20, full: bool = False) -> PlanSummary:
    """What a push of this audience would do, and which kind of push it would be. Writes nothing anywhere."""
    with prepared(settings, name) as ready:
        scope = push_scope(settings, ready, full)
        summary = summarise(ready.job, plans_in_scope(ready, scope), ready.field_plan, sample_limit)
        summary.scope = scope.describe()
        return summary


def push_scope(settings: Settings, ready: Prepared, asked_full: bool) -> PushScope:
    """Full or incremental (``sync/push/incremental.py``), with the contacts an incremental push reads: those
    changed since the last completed push, and those the state store says are due another try."""
    name, audience = ready.job.name, ready.job.settings
    choice = choose_mode(datetime.now(UTC), ready.store.last_completed_push(name, PushMode.FULL),
                         ready.store.last_completed_push(name), ready.fingerprint, audience.full_every_days,
                         timedelta(seconds=settings.crm.change_overlap_seconds), asked_full)
    if choice.mode is PushMode.FULL or choice.since is None:  # an incremental choice always says since when
        return choice
    limit = max(INCREMENTAL_MINIMUM, ready.crm.count_contacts() // 4)
    changed = ready.crm.changed_contact_ids(choice.since, limit)
    if changed is None:
        return PushScope(PushMode.FULL, f"more than {limit:,} contacts changed since the last push: reading them "
                                        "all costs no more")
    due = ready.store.contacts_with_reasons(name, RETRY_REASONS)
    due += [intent.contact_id for intent in ready.store.unsettled_intents(name)]
    return replace(choice, contact_ids=tuple(sorted(set(changed) | set(due), key=id_order)))


def plans_in_scope(ready: Prepared, scope: PushScope) -> Iterator[tuple[MemberPlan, MemberStateRow | None]]:
    """The plans a push of ``scope`` carries out: every contact's, or the changed ones' and their ties'."""
    if scope.mode is PushMode.FULL:
        return stream_plans(ready.job, ready.crm, ready.store)
    return stream_changed_plans(ready.job, ready.crm, ready.store, scope.contact_ids)


def push_audience(settings: Settings, name: str, force: bool = False, on_progress: Tracker | None = None,
                  checkpoint: PushCheckpoint | None = None, full: bool = False) -> PushReport:
    """Push one audience in one pass over the CRM: choose full or incremental, settle writes an earlier push
    left unanswered, create merge fields, then plan and write together (unsubscribes and archives last, and
    only within the safety threshold), recording every outcome. The run is recorded before anything else, so
    a push that fails at any point is in `crm-sync status` with its reason. ``on_progress`` follows contacts
    read, members sent and batches answered; ``checkpoint`` is for tests."""
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "push", name) as run, prepared(settings, name, store) as ready:
        scope = push_scope(settings, ready, full)
        store.set_push_mode(run.id, scope.mode, ready.fingerprint)
        log.info("audience %s: %s", name, scope.describe())
        report = push_in_scope(ready, scope, run, force, on_progress, checkpoint)
        run.outcome = "partial" if report.rejected else "ok"
        return report


def push_in_scope(ready: Prepared, scope: PushScope, run: RunRecord, force: bool = False,
                  on_progress: Tracker | None = None, checkpoint: PushCheckpoint | None = None) -> PushReport:
    """Push the contacts of ``scope`` on a prepared audience: settle writes an earlier push left unanswered,
    create merge fields, then plan and write together, recording every outcome; ``run`` counts what it did."""
    name = ready.job.name
    track = on_progress or (lambda what, done, total, note: None)
    held_back = resolve_unsettled(name, ready.provider, ready.store)
    recounted = ready.kit.recount(ready.provider, ready.store, name)
    if recounted is not None:
        ready.member_count = recounted
    ready.kit.create_fields(ready.provider, ready.field_plan)
    total = ready.crm.count_contacts() if scope.mode is PushMode.FULL else len(scope.contact_ids)

    def written(done: int, answered: int) -> None:  # how many will be sent is known only at the end
        track("members sent", done, None, f"{answered:,} batches answered, "
                                           f"{ready.provider.requests_made:,} provider requests so far")
    owner_tag = ready.kit.owner_tag(ready.provider, ready.job.settings)
    threshold = ready.job.settings.safety_threshold
    executor = PushExecutor(ready.job, ready.provider, ready.store, ready.provider.batch_size,
                            ready.provider.concurrency, owner_tag, checkpoint=checkpoint,
                            leave_limit=None if force else LeaveLimit(name, ready.member_count, threshold),
                            held_back=frozenset(held_back), opt_outs=ready.crm, on_write=written)
    executor.report.summary.scope = scope.describe()

    def counts() -> dict[str, int]:
        return executor.report.counts() | {"requests": ready.provider.requests_made,
                                           "write_requests": ready.provider.write_requests_made}
    run.counts = counts
    return executor.run(plans_in_scope(ready, scope), lambda done: track("contacts read", done, total, ""))


def pull_audience(settings: Settings, name: str, since: datetime | None = None,
                  checkpoint: Checkpoint | None = None, on_progress: Tracker | None = None) -> PullReport:
    """Pull one audience's engagement into the CRM's history and flags (see sync/pull/importer.py). The run is
    recorded before anything else; ``on_progress`` follows the campaigns or feeds and the events."""
    audience = settings.audiences[name]
    report = PullReport(name)
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "pull", name) as run:
        run.counts = report.counts
        run_start = datetime.now(UTC).replace(microsecond=0)
        with open_crm(settings.crm) as crm:
            provider_kit = kit(audience.provider)
            provider = provider_kit.open_pull(settings, audience)
            per_event = audience.history == "event" or crm.history_per_event
            importer = EventImporter(name, crm, store, report, per_event, run.id,
                                     checkpoint or (lambda point: None), _pull_progress(on_progress))
            window_start = pull_window_start(run_start, audience.pull_window_days, since)
            try:
                provider_kit.pull(settings, provider, importer, run_start, window_start)
            finally:
                report.requests = provider.requests_made
        run.outcome = "ok"
        return report


def _pull_progress(track: Tracker | None) -> PullProgress | None:
    if track is None:
        return None

    def tell(report: PullReport, step: str, done: int, total: int) -> None:
        note = f"{report.events_read:,} events read, {report.events_imported:,} imported"
        track("", done, total, note if step == "done" else f"{step}: {note}")
    return tell


def _target_list_id(crm: CrmPort, wanted: str | None) -> str | None:
    if wanted is None:
        return None
    for list_id, list_name in crm.target_lists():
        if wanted in (list_id, list_name):
            return list_id
    names = ", ".join(name for _, name in crm.target_lists())
    raise ConfigError(f"the CRM has no target list {wanted!r} (target_list setting); lists: {names}")
