"""Recording runs for `crm-sync status`: every push and pull, failed or not, with a short reason.

A run is recorded as started before its job opens anything else, so a job that fails early (a mapping
section missing, a provider unreachable while its fields are read) is in `status` too, with the error
as its reason, secrets masked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sync.errors import CrmSyncError
from sync.logs import RedactionFilter, secrets_in
from sync.settings import Settings
from sync.state.store import StateStore, open_state

log = logging.getLogger(__name__)
REASON_LENGTH = 2000


@dataclass
class RunRecord:
    """One recorded run: set ``counts`` (read when the run ends) and ``outcome`` as the job goes."""

    id: int
    outcome: str = "ok"
    counts: Callable[[], Mapping[str, int]] = field(default=dict)


def failure_reason(error: BaseException, settings: Settings) -> str:
    """What went wrong, for people: the error's own message (a bug's type too), secrets masked, at most
    ``REASON_LENGTH`` characters."""
    if isinstance(error, CrmSyncError):
        text = str(error)
    elif isinstance(error, KeyboardInterrupt):
        text = "interrupted (Ctrl-C or SIGINT)"
    else:
        text = f"internal error: {type(error).__name__}: {error}"
    text = RedactionFilter(secrets_in(settings)).redact(text.strip() or type(error).__name__)
    cut = " [cut here]"
    return text if len(text) <= REASON_LENGTH else text[:REASON_LENGTH - len(cut)] + cut


@contextmanager
def recorded_run(settings: Settings, store: StateStore, kind: str, audience: str | None) -> Iterator[RunRecord]:
    """Record a run around the block: its outcome and counts, or ``failed`` with the error as its reason."""
    record = RunRecord(store.start_run(kind, audience))
    try:
        yield record
    except BaseException as error:
        _finish(store, record, "failed", failure_reason(error, settings))
        raise
    _finish(store, record, record.outcome, None)


def record_failed_run(settings: Settings, kind: str, audience: str | None, error: BaseException) -> None:
    """Record a run that failed before its job could start one (e.g. no such audience). A state store
    that cannot be reached is only logged: the error itself is reported anyway."""
    try:
        with open_state(settings.state.url.get_secret_value()) as store:
            _finish(store, RunRecord(store.start_run(kind, audience), counts=dict), "failed",
                    failure_reason(error, settings))
    except Exception as store_error:  # noqa: BLE001 (the error being reported is the one that matters)
        log.warning("the failed %s could not be recorded in the state store: %s", kind, store_error)


def _finish(store: StateStore, record: RunRecord, outcome: str, reason: str | None) -> None:
    try:
        counts = dict(record.counts())
    except Exception as error:  # noqa: BLE001 (counts of a run that broke half-way: record the run without)
        log.debug("run %s: no counts (%s)", record.id, error)
        counts = {}
    try:
        store.finish_run(record.id, outcome, counts, error=reason)
    except CrmSyncError as error:
        if reason is None:
            raise
        log.warning("run %s: its failure could not be recorded in the state store: %s", record.id, error)
