"""Plan and push one configured audience: wires settings, the CRM, the state store and the provider."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from sync.mapping.fields import FieldPlan, plan_merge_fields
from sync.mapping.load import load_mapping
from sync.mapping.spotler import build_properties, plan_properties
from sync.pull import Checkpoint, EventImporter, Puller, PullReport, pull_window_start
from sync.pull_spotler import SpotlerPuller
from sync.push import Checkpoint as PushCheckpoint
from sync.push import LeaveLimit, PushExecutor, PushReport, check_threshold, summarise
from sync.push_intents import resolve_unsettled
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
def prepared(settings: Settings, name: str) -> Iterator[Prepared]:
    """Open the CRM, the state store and the provider for one audience, and check its merge fields."""
    audience = settings.audiences[name]
    mapping_file = load_mapping(settings.mapping_file)
    mapping_name = audience.mapping or name
    if mapping_name not in mapping_file.audiences:
        raise ConfigError(f"{settings.mapping_file}: no audience section {mapping_name!r} for audience {name} "
                          f"(sections: {', '.join(mapping_file.audiences)})")
    with open_crm(settings.crm.url.get_secret_value(), settings.crm.schema_file) as crm, \
            open_state(settings.state.url.get_secret_value()) as store:
        job = AudienceJob(name, audience, mapping_file.audiences[mapping_name],
                          _target_list_id(crm, audience.target_list), settings.crm.chunk_size)
        if audience.provider == "spotler":
            provider = SpotlerAudience(settings.spotler, audience.permission_bits)
            job, field_plan = _spotler_fields(provider, job)
            member_count = store.active_member_count(name)  # Mail+ has no per-audience count
        else:
            provider = MailchimpAudience(settings.mailchimp, audience.audience_id)
            member_count = provider.describe()["member_count"]
            crm_fields = {crm_field.name: crm_field for crm_field in crm.describe_fields()}
            field_plan = plan_merge_fields(job.mapping, provider.merge_fields(), crm_fields, name)
        if field_plan.conflicts:
            raise ConfigError("\n".join(field_plan.conflicts))
        yield Prepared(job, crm, store, provider, field_plan, member_count)


def plan_audience(settings: Settings, name: str, sample_limit: int = 20) -> PlanSummary:
    """What a push of this audience would do. Writes nothing anywhere."""
    with prepared(settings, name) as ready:
        return summarise(ready.job, ready.crm, ready.store, ready.field_plan, sample_limit)


def push_audience(settings: Settings, name: str, force: bool = False,
                  on_progress: Callable[[int, int], None] | None = None,
                  checkpoint: PushCheckpoint | None = None) -> PushReport:
    """Push one audience: settle writes an earlier push left unanswered, plan, check the threshold, create
    merge fields, write (stopping at the threshold), record every outcome. ``checkpoint`` is for tests."""
    with prepared(settings, name) as ready:
        run_id = ready.store.start_run("push", name)
        try:
            held_back = resolve_unsettled(name, ready.provider, ready.store)
            if isinstance(ready.provider, SpotlerAudience):  # counted from the state store: count the resolved too
                ready.member_count = ready.store.active_member_count(name)
            total = ready.crm.count_contacts()
            summary = summarise(ready.job, ready.crm, ready.store, ready.field_plan, sample_limit=-1)
            threshold = ready.job.settings.safety_threshold
            check_threshold(summary, ready.member_count, threshold, force)
            for provider_field in ready.field_plan.to_create:
                ready.provider.create_merge_field(provider_field)
                log.info("created merge field %s (%s)", provider_field.tag, provider_field.type)
            if summary.has_work:
                owner_segment = ready.provider.tag_segment(ready.job.settings.ownership_tag) \
                    if summary.actions["create"] and isinstance(ready.provider, MailchimpAudience) else None
                executor = PushExecutor(ready.job, ready.provider, ready.store, ready.provider.batch_size,
                                        ready.provider.concurrency, owner_segment, checkpoint=checkpoint,
                                        leave_limit=None if force else LeaveLimit(name, ready.member_count, threshold),
                                        held_back=frozenset(held_back))
                report = executor.run(stream_plans(ready.job, ready.crm, ready.store),
                                      (lambda done: on_progress(done, total)) if on_progress else None)
            else:  # the first pass found nothing to send or record: no second pass
                report = PushReport(name, summary, requests=ready.provider.requests_made)
        except BaseException as error:
            ready.store.finish_run(run_id, "failed", {}, error=str(error)[:500])
            raise
        outcome = "partial" if report.rejected else "ok"
        ready.store.finish_run(run_id, outcome, report.counts())
        return report


def pull_audience(settings: Settings, name: str, since: datetime | None = None,
                  checkpoint: Checkpoint | None = None) -> PullReport:
    """Pull one audience's engagement into the CRM's history and flags (see sync/pull.py)."""
    audience = settings.audiences[name]
    with open_crm(settings.crm.url.get_secret_value(), settings.crm.schema_file) as crm, \
            open_state(settings.state.url.get_secret_value()) as store:
        provider = _pull_provider(settings, audience)
        run_start = datetime.now(UTC).replace(microsecond=0)
        run_id = store.start_run("pull", name)
        report = PullReport(name)
        importer = EventImporter(name, crm, store, report, audience.history == "event", run_id,
                                 checkpoint or (lambda point: None))
        window_start = pull_window_start(run_start, audience.pull_window_days, since)
        try:
            if isinstance(provider, SpotlerAudience):
                SpotlerPuller(importer, SpotlerFeeds(provider, name), run_start, window_start,
                              timedelta(seconds=settings.spotler.feed_lag_seconds)).run()
            else:
                reports = MailchimpReports(provider, name, settings.mailchimp.report_page_size)
                Puller(importer, reports, run_start, window_start).run()
        except BaseException as error:
            report.requests = provider.requests_made
            store.finish_run(run_id, "failed", report.counts(), error=str(error)[:500])
            raise
        report.requests = provider.requests_made
        store.finish_run(run_id, "ok", report.counts())
        return report


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
