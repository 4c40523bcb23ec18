"""Crash injection for the pull: stop it at the n-th time it passes a named point, then compare runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from sync.runner import pull_audience
from sync.settings import Settings, StateSettings
from tests.pull.history import flags, history

POINTS = ("activities_written", "crm_written", "ledger_written", "cursor_written")


class Crash(Exception):
    """The injected crash."""


def crash_at(point: str, occurrence: int):
    """A checkpoint hook that raises the ``occurrence``-th time ``point`` is passed."""
    passed = {"count": 0}

    def checkpoint(name: str) -> None:
        if name == point:
            passed["count"] += 1
            if passed["count"] == occurrence:
                raise Crash(f"crash at {point} #{occurrence}")
    return checkpoint


def clean_copy(settings: Settings, crm_url: str, state_url: str, folder: Path) -> tuple[Settings, str]:
    """Settings for copies of the CRM and state databases, to run an uninterrupted pull beside the crashed one."""
    folder.mkdir(parents=True, exist_ok=True)
    crm_copy, state_copy = folder / "crm.db", folder / "state.db"
    shutil.copy(crm_url.removeprefix("sqlite:///"), crm_copy)
    shutil.copy(state_url.removeprefix("sqlite:///"), state_copy)
    copy = settings.model_copy(update={
        "crm": settings.crm.model_copy(update={"url": settings.crm.url.__class__(f"sqlite:///{crm_copy}")}),
        "state": StateSettings(url=f"sqlite:///{state_copy}"),
    })
    return copy, f"sqlite:///{crm_copy}"


def crashed_then_resumed_equals_clean(settings: Settings, crm_url: str, state_url: str, folder: Path,
                                      point: str, occurrence: int) -> bool:
    """Run a clean pull on copies; crash the real one at the point, re-run it; both CRMs must be equal.

    Returns whether the crash happened at all (a point passed fewer times is no crash).
    """
    clean_settings, clean_crm = clean_copy(settings, crm_url, state_url, folder)
    pull_audience(clean_settings, "newsletter")
    crashed = False
    try:
        pull_audience(settings, "newsletter", checkpoint=crash_at(point, occurrence))
    except Crash:
        crashed = True
        pull_audience(settings, "newsletter")
    assert history(crm_url) == history(clean_crm)
    assert flags(crm_url) == flags(clean_crm)
    again = pull_audience(settings, "newsletter")
    assert again.events_imported == 0 and again.entries_written == 0
    return crashed
