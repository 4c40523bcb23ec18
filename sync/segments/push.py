"""A marketer's segment pushed to the provider, marked there and recorded in the CRM (`crm-sync segment push`),
and scheduled segments kept in step on every `crm-sync run`.

A push of a selection (``sync/segments/select.py``) that the marketer confirmed:

1. every contact the steps selected goes through the push executor: the same plans, intents, household rule
   and safety threshold as `crm-sync push`, for these contacts and those sharing their addresses only (one who
   opted out is unsubscribed at once). It is recorded as a
   ``segment`` run, so the audience's incremental pushes still read everything changed since their own last run;
2. the provider segment (``sync/connectors/segments.py``) is found or created, its id kept in the state store,
   and made to hold exactly the members of the recipients. The keys crm-sync may put in are recorded before the
   provider is asked and trimmed after it answered, so a provider that cannot list a segment's members is still
   diffed against everything crm-sync ever put in;
3. the mailing is recorded in the CRM history of each recipient now in the segment, each post recipient, and once
   per organisation (``sync/segments/history.py``), by stable keys: a re-run adds nothing twice;
4. the post part goes to a mail-merge CSV.

A scheduled segment (``scheduled: true``) is kept in step after every push of its audience: steps 2 and 3, with
the audience's safety threshold on members leaving the segment (``--force`` lifts it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sync.connectors.crm import CrmPort
from sync.connectors.crm_registry import open_crm
from sync.connectors.provider import MemberRef
from sync.connectors.segments import MarkReport, converge
from sync.errors import ConfigError, RecordError
from sync.progress import Tracker
from sync.push.households import id_order
from sync.push.incremental import PushScope
from sync.push.rules import is_active
from sync.push.summary import PushReport
from sync.records import ActivityRecord
from sync.run_record import recorded_run
from sync.runner import Prepared, prepared, push_in_scope
from sync.segments.history import mailing_records
from sync.segments.load import load_segments
from sync.segments.model import Segment
from sync.segments.recipients import write_post_export
from sync.segments.select import select_in
from sync.segments.selection import Candidate, SegmentSelection
from sync.settings import Settings
from sync.state.members import MemberStateRow
from sync.state.runs import PushMode
from sync.state.store import StateStore, open_state

log = logging.getLogger(__name__)
ENTRY_CHUNK = 500  # history entries written per call


@dataclass
class SegmentPushReport:
    """What one segment push (or keeping a scheduled segment in step) did."""

    segment: str
    audience: str
    mailing: str | None
    email_recipients: int = 0
    post_recipients: int = 0
    provider_segment: str = ""
    segment_created: bool = False
    push: PushReport | None = None  # None: the members were not pushed (a scheduled segment after its push)
    mark: MarkReport = field(default_factory=MarkReport)
    not_marked: dict[str, str] = field(default_factory=dict)  # contact id -> why it is not in the segment
    entries_written: int = 0
    entry_failures: list[str] = field(default_factory=list)
    post_file: Path | None = None

    @property
    def marked(self) -> int:
        return self.email_recipients - len(self.not_marked)

    def counts(self) -> dict[str, int]:
        """The run's counts for `crm-sync status`."""
        pushed = self.push.counts() if self.push is not None else {}
        return pushed | {"recipients": self.email_recipients, "post": self.post_recipients,
                         "joined": self.mark.added, "left": self.mark.removed, "not_marked": len(self.not_marked),
                         "mark_requests": self.mark.requests, "entries_written": self.entries_written,
                         "entry_failures": len(self.entry_failures)}


def refuse_unfit(selection: SegmentSelection, recipients_file: Path | None) -> None:
    """A recipients file with problems, or a selection with nobody to send to, is refused before anything is
    sent (ConfigError saying what to fix)."""
    if selection.file_problems:
        listed = "\n".join(f"  {problem}" for problem in selection.file_problems)
        raise ConfigError(f"{recipients_file}: {len(selection.file_problems)} row(s) not obeyed, nothing was pushed:"
                          f"\n{listed}\nfix the file, or export it again with `crm-sync segment preview "
                          f"{selection.segment.name} --export FILE`")
    if not selection.email_recipients and not selection.post_recipients:
        raise ConfigError(f"segment {selection.segment.name}: nobody to send to (the steps select no contact the "
                          "rules allow); nothing was pushed. See `crm-sync segment preview "
                          f"{selection.segment.name} --export FILE` for who was left out and why")


def push_segment(settings: Settings, selection: SegmentSelection, force: bool = False, post_path: Path | None = None,
                 on_progress: Tracker | None = None) -> SegmentPushReport:
    """Push every contact the selection's steps selected, mark the e-mail recipients as the segment at the
    provider, record the mailing in the CRM and write the post part to ``post_path``. The selection must have
    passed ``refuse_unfit``."""
    segment = selection.segment
    report = SegmentPushReport(segment.name, segment.audience, segment.mailing,
                               len(selection.email_recipients), len(selection.post_recipients))
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "segment", segment.audience) as run, \
            prepared(settings, segment.audience, store) as ready:
        # Every contact the steps selected, left out or not: a selected contact who opted out is unsubscribed
        # now, as the nightly push would (an unsubscribe is always honoured).
        ids = tuple(sorted({candidate.contact_id for candidate in selection.candidates}, key=id_order))
        scope = PushScope(PushMode.INCREMENTAL, f"the {len(ids):,} contacts segment {segment.name} selects",
                          contact_ids=ids)
        report.push = push_in_scope(ready, scope, run, force, on_progress)
        run.counts = report.counts
        marked = mark_segment(ready, segment, selection.email_recipients, report, leave_threshold=None)
        record_mailing(ready.crm, store, segment, [*marked, *selection.post_recipients], report)
        if post_path is not None and selection.post_recipients:
            write_post_export(post_path, selection.post_recipients, segment.post_fields, selection.post_values)
            report.post_file = post_path
        run.outcome = "partial" if report.not_marked or report.entry_failures or \
            (report.push is not None and report.push.rejected) else "ok"
    return report


def scheduled_segments(settings: Settings, audience: str) -> list[str]:
    """The names of the segments marked ``scheduled: true`` for ``audience``; none without a segments file."""
    if not settings.segments_file.exists():
        return []
    with open_crm(settings.crm) as crm:
        segments = load_segments(settings.segments_file, crm.describe_fields(), crm.target_lists(),
                                 settings.audiences)
    return [name for name, segment in segments.items() if segment.scheduled and segment.audience == audience]


def keep_in_step(settings: Settings, name: str, audience: str, force: bool = False) -> SegmentPushReport:
    """Make the scheduled segment ``name`` of ``audience`` at the provider hold the members the CRM selects now
    (after the audience's push), recording the mailing for those who joined; more leaving than the audience's
    safety threshold stops it before any change unless ``force``."""
    report = SegmentPushReport(name, audience, None)
    with open_state(settings.state.url.get_secret_value()) as store, \
            recorded_run(settings, store, "segment", audience) as run, prepared(settings, audience, store) as ready:
        run.counts = report.counts
        selection = select_in(ready.crm, settings, name)
        segment = selection.segment
        report.mailing = segment.mailing
        report.email_recipients, report.post_recipients = len(selection.email_recipients), \
            len(selection.post_recipients)
        threshold = None if force else ready.job.settings.safety_threshold
        marked = mark_segment(ready, segment, selection.email_recipients, report, threshold)
        record_mailing(ready.crm, store, segment, [*marked, *selection.post_recipients], report)
        run.outcome = "partial" if report.not_marked or report.entry_failures else "ok"
    return report


def mark_segment(ready: Prepared, segment: Segment, recipients: Sequence[Candidate], report: SegmentPushReport,
                 leave_threshold: float | None) -> list[Candidate]:
    """Make the provider segment hold exactly the recipients' members; the recipients now in it."""
    store, audience = ready.store, ready.job.name
    marker = ready.kit.segment_marker(ready.provider, ready.job.settings)
    known = store.segment_mark(audience, segment.name)
    ref = marker.ensure_segment(segment.name, known.segment_id if known else None)
    report.provider_segment, report.segment_created = ref.provider_name, ref.created
    if known is None or known.segment_id != ref.id:
        store.save_segment_mark(audience, segment.name, ref.id, ref.provider_name)
    refs, report.not_marked = member_refs(store, audience, recipients)
    key_of = {contact_id: key for contact_id, member in refs.items() if (key := marker.member_key(member))}
    for contact_id in refs.keys() - key_of.keys():
        report.not_marked[contact_id] = "the provider cannot name this member in a segment"
    wanted = set(key_of.values())
    before = store.marked_keys(audience, segment.name)
    store.change_marked_keys(audience, segment.name, added=wanted - before)
    recorded = before if known is not None or ref.created else None  # None: read it, or empty and refill
    report.mark = converge(marker, ref, wanted, recorded, leave_threshold)
    store.change_marked_keys(audience, segment.name, removed=before - wanted)
    failed = {problem.email: problem for problem in report.mark.failed()}
    for contact_id, key in key_of.items():
        if key in failed:
            report.not_marked[contact_id] = f"{failed[key].code}: {failed[key].detail}"
    return [candidate for candidate in recipients if candidate.contact_id not in report.not_marked]


def member_refs(store: StateStore, audience: str, recipients: Iterable[Candidate]
                ) -> tuple[dict[str, MemberRef], dict[str, str]]:
    """Each recipient's member at the provider (the member of its address, whichever contact holds it), and
    why the others have none that receives mail."""
    wanted = [candidate.contact_id for candidate in recipients]
    states = store.member_states(audience, wanted)
    holders = {state.merged_into for state in states.values() if state.merged_into and not is_active(state)}
    states |= store.member_states(audience, holders - states.keys())
    refs: dict[str, MemberRef] = {}
    missing: dict[str, str] = {}
    for contact_id in wanted:
        state = states.get(contact_id)
        if state is not None and not is_active(state) and state.merged_into:
            state = states.get(state.merged_into, state)
        if is_active(state) and state.email:
            refs[contact_id] = MemberRef(state.contact_id, state.email)
        else:
            missing[contact_id] = _not_receiving(state)
    return refs, missing


def _not_receiving(state: MemberStateRow | None) -> str:
    if state is None or state.provider_id is None:
        return "not a member of the audience (" + (state.reason_code if state and state.reason_code
                                                    else "not pushed") + ")"
    return f"its member does not receive mail ({state.reason_code or state.provider_status})"


def record_mailing(crm: CrmPort, store: StateStore, segment: Segment, recipients: Sequence[Candidate],
                   report: SegmentPushReport) -> None:
    """Write the mailing's history entries that are new or changed (a record the CRM refuses costs only
    itself: listed in ``report.entry_failures``), keeping their details in the state store."""
    now = datetime.now(UTC).replace(microsecond=0)
    records = mailing_records(segment.audience, segment.name, segment.mailing, recipients, now)
    kept = store.history_entries(record.external_key for record in records)
    fresh = [replace(record, first_at=kept[record.external_key][1], last_at=kept[record.external_key][1])
             if record.external_key in kept else record
             for record in records if record.external_key not in kept
             or kept[record.external_key][0] != dict(record.details)]
    for start in range(0, len(fresh), ENTRY_CHUNK):
        chunk = fresh[start:start + ENTRY_CHUNK]
        written = _write_each_on_failure(crm, chunk, report)
        with store.transaction() as tx:
            tx.save_history_entries(written)


def _write_each_on_failure(crm: CrmPort, records: list[ActivityRecord], report: SegmentPushReport
                           ) -> list[ActivityRecord]:
    """Write the records together; when the CRM refuses one, write them one by one. The records written."""
    try:
        report.entries_written += crm.write_activities(records)
        return records
    except RecordError:
        pass
    written = []
    for record in records:
        try:
            report.entries_written += crm.write_activities([record])
            written.append(record)
        except RecordError as error:
            log.warning("segment %s: history entry for %s not written: %s", report.segment,
                        record.contact_id or f"organisation {record.organisation_id}", error.detail)
            report.entry_failures.append(f"{record.contact_id or record.organisation_id}: {error.detail}")
    return written
