"""Reporting for the model-based test: how many examples, steps, runs, crashes and faults it ran, per provider
(printed in the terminal summary, with or without -s)."""

from __future__ import annotations

from tests.model.machine import STATS


def summary(terminalreporter) -> None:
    """Printed at the end of the session by tests/conftest.py (the one conftest a pytest-xdist controller loads)."""
    if not any(STATS.values()):
        return
    terminalreporter.section("model-based test")
    for provider, counts in STATS.items():
        if counts:
            terminalreporter.write_line(
                f"{provider}: {counts['examples']} examples, {counts['steps']} steps, {counts['pushes']} pushes, "
                f"{counts['pulls']} pulls ({counts['completed runs']} completed), {counts['crashes']} crashes, "
                f"{counts['faults']} runs with injected faults")
