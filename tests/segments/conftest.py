"""Prints how many examples the segment property tried (TRIED in test_property.py)."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    from tests.segments.test_property import TRIED

    if TRIED["examples"]:
        reasons = ", ".join(f"{key.removeprefix('reason ')} {count}" for key, count in sorted(TRIED.items())
                            if key.startswith("reason "))
        terminalreporter.write_line(
            f"segment property: {TRIED['examples']} examples tried, {TRIED['candidates']} candidates; "
            f"{TRIED['recipients']} e-mail and {TRIED['post']} post recipients checked against every rule; "
            f"{TRIED['with_file']} with a recipients file ({TRIED['file_problems']} problem rows); left out: {reasons}")
