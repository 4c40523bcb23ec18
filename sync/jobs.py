"""Plan and push one configured audience: wires settings, the CRM, the state store and the provider."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sync.audience_plan import AudienceJob, PlanSummary, stream_plans
from sync.connectors.crm_sql import SqlCrm, open_crm
from sync.connectors.mailchimp import MailchimpAudience
from sync.connectors.mailchimp_reports import MailchimpReports
from sync.connectors.provider import ProviderAudience
from sync.connectors.spotler import SpotlerAudience
from sync.connectors.spotler_feeds import SpotlerFeeds
from sync.errors import ConfigError
from sync.mapping.fields import FieldPlan, follow_formats, plan_merge_fields
from sync.mapping.load import load_mapping
from sync.mapping.spotler import build_properties, plan_properties
from sync.plan import LEAVES, WRITES, Action
from sync.progress import Tracker
from sync.pull import (
    Checkpoint,
    EventImporter,
    PullProgress,
    PullReport,
    pull_window_start,
)
from sync.pull_mailchimp import MailchimpPuller
from sync.pull_spotler import SpotlerPuller
from sync.push import (
    BATCHED,
    UNSUBSCRIBE_BATCH,
    LeaveLimit,
    PushExecutor,
    PushReport,
    check_threshold,
    summarise,
)
from sync.push import Checkpoint as PushCheckpoint
from sync.push_intents import resolve_unsettled
from sync.run_record import recorded_run
from sync.settings import AudienceSettings, Settings
from sync.state.store import StateStore, open_state

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """One audience ready to plan or push."""

    job: AudienceJob
    crm: SqlCrm
    store: StateStore
    provider: ProviderAudience
    field_plan: FieldPlan
    member_count: int


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
    merge fields."""
    audience = settings.audiences[name]
    mapping_file = load_mapping(settings.mapping_file)
    mapping_name = audience.mapping or name
    if mapping_name not in mapping_file.audiences:
        raise ConfigError(f"{settings.mapping_file}: no audience section {mapping_name!r} for audience {name} "
                          f"(sections: {', '.join(mapping_file.audiences)})")
    with open_crm(settings.crm.url.get_secret_value(), settings.crm.schema_file) as crm, \
            (nullcontext(store) if store else open_state(settings.state.url.get_secret_value())) as state:
        job = AudienceJob(name, audience, mapping_file.audiences[mapping_name],
                          _target_list_id(crm, audience.target_list), settings.crm.chunk_size)
        if audience.provider == "spotler":
            provider = SpotlerAudience(settings.spotler, audience.permission_bits)
            job, field_plan = _spotler_fields(provider, job)
            member_count = state.active_member_count(name)  # Mail+ has no per-audience count
        else:
            provider = MailchimpAudience(settings.mailchimp, audience.audience_id)
            member_count = provider.describe()["member_count"]
            crm_fields = {crm_field.name: crm_field for crm_field in crm.describe_fields()}
            field_plan = plan_merge_fields(job.mapping, provider.merge_fields(), crm_fields, name)
            job = replace(job, mapping=follow_formats(job.mapping, field_plan.followed_formats))
        if field_plan.conflicts:
            raise ConfigError("\n".join(field_plan.conflicts))
        yield Prepared(job, crm, state, provider, field_plan, member_count)


def plan_audience(settings: Settings, name: str, sample_limit: int = 20) -> PlanSummary:
    """What a push of this audience would do. Writes nothing anywhere."""
    with prepared(settings, name) as ready:
        return summarise(ready.job, ready.crm, ready.store, ready.field_plan, sample_limit)


def push_audience(settings: Settings, name: str, force: bool = False, on_progress: Tracker | None = None,
                  checkpoint: PushCheckpoint | None = None) -> PushReport:
    """Push one audience: settle writes an earlier push left unanswered, plan, check the threshold, create
    merge fields, write (stopping at the threshold), record every outcome. The run is recorded before
    anything else, so a push that fails at any point is in `crm-sync status` with its reason.
    ``on_progress`` follows contacts planned, members sent and batches answered; ``checkpoint`` is for tests."""
    track = on_progress or (lambda what, done, total, note: None)
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "push", name) as run, prepared(settings, name, store) as ready:
        held_back = resolve_unsettled(name, ready.provider, ready.store)
        if isinstance(ready.provider, SpotlerAudience):  # counted from the state store: count the resolved too
            ready.member_count = ready.store.active_member_count(name)
        total = ready.crm.count_contacts()
        summary = summarise(ready.job, ready.crm, ready.store, ready.field_plan, sample_limit=-1,
                            on_progress=lambda done: track("contacts planned", done, total, ""))
        run.counts = lambda: dict(summary.actions)
        threshold = ready.job.settings.safety_threshold
        check_threshold(summary, ready.member_count, threshold, force)
        for provider_field in ready.field_plan.to_create:
            ready.provider.create_merge_field(provider_field)
            log.info("created merge field %s (%s)", provider_field.tag, provider_field.type)
        if not summary.has_work:  # the first pass found nothing to send or record: no second pass
            report = PushReport(name, summary, requests=ready.provider.requests_made)
            run.counts, run.outcome = report.counts, "ok"
            return report
        members, batches = planned_writes(summary, ready.provider.batch_size)

        def written(done: int, answered: int) -> None:
            requests = f"({ready.provider.requests_made:,} provider requests so far)"
            track("members sent", done, members, "")
            track("batches answered", answered, batches, requests)
        owner_segment = ready.provider.tag_segment(ready.job.settings.ownership_tag) \
            if summary.actions["create"] and isinstance(ready.provider, MailchimpAudience) else None
        executor = PushExecutor(ready.job, ready.provider, ready.store, ready.provider.batch_size,
                                ready.provider.concurrency, owner_segment, checkpoint=checkpoint,
                                leave_limit=None if force else LeaveLimit(name, ready.member_count, threshold),
                                held_back=frozenset(held_back), opt_outs=ready.crm, on_write=written)

        def counts() -> dict[str, int]:
            return executor.report.counts() | {"requests": ready.provider.requests_made,
                                               "write_requests": ready.provider.write_requests_made}
        run.counts = counts
        written(0, 0)
        report = executor.run(stream_plans(ready.job, ready.crm, ready.store),
                              lambda done: track("contacts read for writing", done, total, ""))
        run.outcome = "partial" if report.rejected else "ok"
        return report


def pull_audience(settings: Settings, name: str, since: datetime | None = None,
                  checkpoint: Checkpoint | None = None, on_progress: Tracker | None = None) -> PullReport:
    """Pull one audience's engagement into the CRM's history and flags (see sync/pull.py). The run is
    recorded before anything else; ``on_progress`` follows the campaigns or feeds and the events."""
    audience = settings.audiences[name]
    report = PullReport(name)
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "pull", name) as run:
        run.counts = report.counts
        run_start = datetime.now(UTC).replace(microsecond=0)
        with open_crm(settings.crm.url.get_secret_value(), settings.crm.schema_file) as crm:
            provider = _pull_provider(settings, audience)
            importer = EventImporter(name, crm, store, report, audience.history == "event", run.id,
                                     checkpoint or (lambda point: None), _pull_progress(on_progress))
            window_start = pull_window_start(run_start, audience.pull_window_days, since)
            try:
                if isinstance(provider, SpotlerAudience):
                    SpotlerPuller(importer, SpotlerFeeds(provider, name), run_start, window_start,
                                  timedelta(seconds=settings.spotler.feed_lag_seconds)).run()
                else:
                    reports = MailchimpReports(provider, name, settings.mailchimp.report_page_size)
                    MailchimpPuller(importer, reports, run_start, window_start,
                                    timedelta(seconds=settings.mailchimp.feed_lag_seconds)).run()
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


def planned_writes(summary: PlanSummary, batch_size: int) -> tuple[int, int]:
    """How many members the plan sends and in how many batches (a batch is one write request, or one
    member's read and write for an unsubscribe or archive)."""
    members = sum(summary.actions[action.value] for action in WRITES | LEAVES)
    upserts = sum(summary.actions[action.value] for action, kind in BATCHED.items() if kind == "upsert")
    unsubscribes = summary.actions[Action.UNSUBSCRIBE.value]
    singles = members - upserts - unsubscribes
    return members, -(-upserts // batch_size) - (-unsubscribes // UNSUBSCRIBE_BATCH) + singles


def _spotler_fields(provider: SpotlerAudience, job: AudienceJob) -> tuple[AudienceJob, FieldPlan]:
    """Check the mapping against the account's properties; the job then formats values for their types."""
    plan = plan_properties(job.mapping, provider.properties(), job.name, job.settings.permission_bits)
    mapping = job.mapping
    job = replace(job, build=lambda contact: build_properties(contact, mapping, plan))
    return job, FieldPlan(conflicts=plan.conflicts)


def _pull_provider(settings: Settings, audience: AudienceSettings) -> MailchimpAudience | SpotlerAudience:
    if audience.provider == "spotler":
        return SpotlerAudience(settings.spotler, audience.permission_bits)
    provider = MailchimpAudience(settings.mailchimp, audience.audience_id or "")
    provider.describe()  # a missing audience is a configuration error before anything is read
    return provider


def _target_list_id(crm: SqlCrm, wanted: str | None) -> str | None:
    if wanted is None:
        return None
    for list_id, list_name in crm.target_lists():
        if wanted in (list_id, list_name):
            return list_id
    names = ", ".join(name for _, name in crm.target_lists())
    raise ConfigError(f"the CRM has no target list {wanted!r} (target_list setting); lists: {names}")
