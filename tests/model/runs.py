"""Pushes and pulls for the model test, in-process, plain or crashed at a random point or hit by faults.

A crash is an exception raised at a named point of the run and never caught by crm-sync, as a kill would
leave it: the pull's ``checkpoint`` points (sync/pull/importer.py); for the push, its ``checkpoint`` points when
``push_audience`` takes one (intent recorded, batch answered, outcome recorded), else the moment a
confirmed batch's outcomes are about to be recorded (the provider applied it; crm-sync has not written it
down). Faults are the sandbox's own: 429/5xx/dropped connections, a few (retried away) or a flood (the run
gives up, as when Mailchimp stays down past ``retry_seconds``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sync.connectors.sql.crm import SqlCrm
from sync.push.executor import SafetyStop
from sync.runner import pull_audience, push_audience
from sync.settings import Settings
from tests.model.clock import MAILCHIMP_LAG
from tests.model.provider import ProviderSide
from tests.pull.crash import Crash, crash_at

REPO = Path(__file__).resolve().parents[2]
PULL_POINTS = ("activities_written", "crm_written", "ledger_written", "cursor_written")
PUSH_POINTS = ("intent_recorded", "batch_answered", "outcome_recorded")
FAULT_STATUSES = (429, 500, 503, 599)
FLOOD = 10_000  # more faults than any retry budget gets through


@dataclass(frozen=True)
class Injection:
    """What to do to one run: ``plain``, ``faults`` (a few, retried away), ``flood`` (it gives up) or ``crash``
    at the ``occurrence``-th pass of ``point``."""

    mode: str = "plain"
    count: int = 1
    status: int = 503
    method: str | None = None
    point: str = ""
    occurrence: int = 1

    @property
    def ends_run(self) -> bool:
        """Whether the run is meant to be cut short (so it may fail)."""
        return self.mode in ("flood", "crash")


@dataclass(frozen=True)
class Outcome:
    completed: bool
    error: BaseException | None = None
    crashed: bool = False


def model_settings(provider: ProviderSide, crm_url: str, state_url: str, leave_policy: str,
                   page_size: int) -> Settings:
    """Settings for a small run: batches of two, one request in flight (deterministic), short retries,
    small pages (so paging over a list that changes is exercised), the CRM read two contacts at a time,
    one CRM history entry per event."""
    common = {"concurrency": 1, "batch_size": 2, "retry_seconds": 1.0, "retry_initial_wait": 0.01}
    audience = {"leave_policy": leave_policy, "history": "event"}
    crm = {"url": crm_url, "chunk_size": 2}  # read in chunks, as a big CRM is: edits made meanwhile are seen
    sandbox = provider.sandbox
    if provider.provider == "spotler":
        return Settings(
            crm=crm, state={"url": state_url}, mapping_file=REPO / "config" / "mapping.yaml",
            spotler={**common, "consumer_key": sandbox.consumer_key, "consumer_secret": sandbox.consumer_secret,
                     "base_url": sandbox.base_url, "requests_per_second": 0, "feed_lag_seconds": 1,
                     "page_size": page_size},
            audiences={"newsletter": {**audience, "provider": "spotler", "permission_bits": [1]}})
    return Settings(
        crm=crm, state={"url": state_url}, mapping_file=REPO / "config" / "mapping.yaml",
        mailchimp={**common, "api_key": sandbox.api_key, "base_url": sandbox.base_url,
                   "report_page_size": page_size, **({"feed_lag_seconds": MAILCHIMP_LAG} if MAILCHIMP_LAG else {})},
        audiences={"newsletter": {**audience, "audience_id": provider.list_id}})


def push(settings: Settings, provider: ProviderSide, injection: Injection, force: bool,
         during: Callable[[], None] | None = None) -> Outcome:
    """One push; ``completed`` when it returned (a SafetyStop is not a completed push). ``during`` is called
    once, when the push starts reading the CRM a second time (the CRM changing between planning and writing)."""
    _arm_faults(provider, injection)
    try:
        if injection.mode == "crash":
            push_audience(settings, "newsletter", force=force,
                          checkpoint=crash_at(injection.point, injection.occurrence))
        elif during is not None:
            with _between_passes(during):
                push_audience(settings, "newsletter", force=force)
        else:
            push_audience(settings, "newsletter", force=force)
    except Crash as crash:
        return Outcome(False, crash, crashed=True)
    except SafetyStop as stop:
        return Outcome(False, stop)
    except Exception as error:  # noqa: BLE001 (any other failure is judged by the caller)
        return Outcome(False, error)
    finally:
        provider.clear_faults()
    return Outcome(True)


def pull(settings: Settings, provider: ProviderSide, injection: Injection,
         during: Callable[[str], None] | None = None) -> Outcome:
    """One pull; ``during`` is called at every checkpoint (a provider act while the pull runs)."""
    _arm_faults(provider, injection)
    crash = crash_at(injection.point, injection.occurrence) if injection.mode == "crash" else None

    def checkpoint(point: str) -> None:
        if during is not None:
            during(point)
        if crash is not None:
            crash(point)
    try:
        pull_audience(settings, "newsletter", checkpoint=checkpoint)
    except Crash as crashed:
        return Outcome(False, crashed, crashed=True)
    except Exception as error:  # noqa: BLE001
        return Outcome(False, error)
    finally:
        provider.clear_faults()
    return Outcome(True)


class _between_passes:
    """Call ``act`` when the push starts its second read of the CRM: its writing pass (a CRM user at work while
    the push runs). A push that reads the CRM once never calls it."""

    def __init__(self, act: Callable[[], None]):
        self.act = act

    def __enter__(self) -> None:
        original = self.original = SqlCrm.iter_contacts
        reads = {"count": 0}

        def iter_contacts(crm, *args, **kwargs):
            reads["count"] += 1
            if reads["count"] == 2:
                self.act()
            return original(crm, *args, **kwargs)
        SqlCrm.iter_contacts = iter_contacts

    def __exit__(self, *exc_info: object) -> None:
        SqlCrm.iter_contacts = self.original


def _arm_faults(provider: ProviderSide, injection: Injection) -> None:
    if injection.mode == "faults":
        provider.fail_next(injection.count, injection.status, None)
    elif injection.mode == "flood":
        provider.fail_next(FLOOD, injection.status, injection.method)
