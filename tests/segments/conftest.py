"""How much the segment properties tried (printed at the end of the session by tests/conftest.py, the one
conftest a pytest-xdist controller loads)."""

from __future__ import annotations


def summary(terminalreporter) -> None:
    from tests.segments.test_property import TRIED
    from tests.segments.test_push_property import TRIED as PUSHES
    from tests.segments.test_pushdown import PUSHDOWN_TRIED

    if not (TRIED["examples"] or PUSHES["pushes"] or PUSHDOWN_TRIED):
        return
    terminalreporter.section("segment properties")
    if TRIED["examples"]:
        reasons = ", ".join(f"{key.removeprefix('reason ')} {count}" for key, count in sorted(TRIED.items())
                            if key.startswith("reason "))
        terminalreporter.write_line(
            f"selection: {TRIED['examples']} examples tried, {TRIED['candidates']} candidates; "
            f"{TRIED['recipients']} e-mail and {TRIED['post']} post recipients checked against every rule; "
            f"{TRIED['with_file']} with a recipients file ({TRIED['file_problems']} problem rows); left out: {reasons}")
    for backend in sorted(key.removesuffix(" examples") for key in PUSHDOWN_TRIED if key.endswith(" examples")):
        terminalreporter.write_line(
            f"pushdown ({backend}): {PUSHDOWN_TRIED[f'{backend} examples']} examples tried, "
            f"{PUSHDOWN_TRIED[f'{backend} candidates']} candidates the same; the database left out "
            f"{PUSHDOWN_TRIED[f'{backend} left out']} contacts and let through "
            f"{PUSHDOWN_TRIED[f'{backend} let through']} that the stream then dropped")
    if PUSHES["pushes"]:
        terminalreporter.write_line("segment push: " + ", ".join(f"{name} {count}"
                                                                 for name, count in sorted(PUSHES.items())))
