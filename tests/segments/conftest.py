"""How much the segment properties tried (printed at the end of the session by tests/conftest.py, the one
conftest a pytest-xdist controller loads)."""

from __future__ import annotations


def summary(terminalreporter) -> None:
    from tests.segments.test_property import TRIED
    from tests.segments.test_push_property import TRIED as PUSHES

    if TRIED["examples"]:
        reasons = ", ".join(f"{key.removeprefix('reason ')} {count}" for key, count in sorted(TRIED.items())
                            if key.startswith("reason "))
        terminalreporter.section("segment properties")
        terminalreporter.write_line(
            f"selection: {TRIED['examples']} examples tried, {TRIED['candidates']} candidates; "
            f"{TRIED['recipients']} e-mail and {TRIED['post']} post recipients checked against every rule; "
            f"{TRIED['with_file']} with a recipients file ({TRIED['file_problems']} problem rows); left out: {reasons}")
    if PUSHES["pushes"]:
        terminalreporter.write_line("segment push: " + ", ".join(f"{name} {count}"
                                                                 for name, count in sorted(PUSHES.items())))
