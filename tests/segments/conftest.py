"""Prints how many examples the segment properties tried (TRIED in test_property.py, PUSHDOWN_TRIED in
test_pushdown.py)."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    from tests.segments.test_property import TRIED
    from tests.segments.test_pushdown import PUSHDOWN_TRIED

    for backend in sorted(key.removesuffix(" examples") for key in PUSHDOWN_TRIED if key.endswith(" examples")):
        terminalreporter.write_line(
            f"segment pushdown ({backend}): {PUSHDOWN_TRIED[f'{backend} examples']} examples tried, "
            f"{PUSHDOWN_TRIED[f'{backend} candidates']} candidates the same; the database left out "
            f"{PUSHDOWN_TRIED[f'{backend} left out']} contacts and let through "
            f"{PUSHDOWN_TRIED[f'{backend} let through']} that the stream then dropped")
    if TRIED["examples"]:
        reasons = ", ".join(f"{key.removeprefix('reason ')} {count}" for key, count in sorted(TRIED.items())
                            if key.startswith("reason "))
        terminalreporter.write_line(
            f"segment property: {TRIED['examples']} examples tried, {TRIED['candidates']} candidates; "
            f"{TRIED['recipients']} e-mail and {TRIED['post']} post recipients checked against every rule; "
            f"{TRIED['with_file']} with a recipients file ({TRIED['file_problems']} problem rows); left out: {reasons}")
