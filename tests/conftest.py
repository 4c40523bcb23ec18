"""Shared fixtures: throw-away databases on every configured backend."""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, settings

from tests.databases import BACKENDS, fresh_database
from tests.live.crms import exclusive


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """URL of an empty database, once per backend (SQLite always; PostgreSQL/MariaDB when configured)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(autouse=True)
def one_test_at_a_time_per_live_crm(request):
    """A test in the xdist group of a live CRM holds that CRM's lock from before its first fixture to after its
    last (``tests/live/crms.py``)."""
    groups = {str(mark.args[0]) for mark in request.node.iter_markers("xdist_group")
              if mark.args and str(mark.args[0]).startswith("live-")}
    with ExitStack() as locks:
        for group in sorted(groups):
            locks.enter_context(exclusive(group))
        yield


# Profiles of the model-based test (tests/model): a bounded one for CI, and `--hypothesis-profile=long`.
# Registered here so hypothesis's own option finds them when it loads a profile at start-up.
# The CI profile is derandomized: the same examples every run, so a red CI is a reproducible failure, never a
# draw; `--hypothesis-profile=long` (random) and `--hypothesis-seed` explore new histories.
settings.register_profile("model-ci", max_examples=12, stateful_step_count=30, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=150, stateful_step_count=60, deadline=None,
                          suppress_health_check=list(HealthCheck))


# The figures some tests print at the end (the model test's STATS, the bad-input corpus's TOTALS, the
# incremental property's TRIED) are counted where the tests run. Under pytest-xdist those are worker processes:
# each worker sends its counts when it finishes and the controller, which prints the terminal summary, adds
# them up ("peak ..." counts take the largest).
def _counters() -> dict[str, Counter]:
    from tests.badinput.harness import TOTALS
    from tests.model.machine import STATS
    from tests.push.test_incremental import TRIED
    from tests.segments.test_property import TRIED as SELECTIONS
    from tests.segments.test_push_property import TRIED as SEGMENT_PUSHES
    from tests.segments.test_pushdown import PUSHDOWN_TRIED

    return {"badinput": TOTALS, "incremental": TRIED, "segments": SELECTIONS, "segment pushes": SEGMENT_PUSHES,
            "segment pushdown": PUSHDOWN_TRIED,
            **{f"model {name}": counts for name, counts in STATS.items()}}


def pytest_sessionfinish(session):
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # a pytest-xdist worker: hand the counts to the controller
        output["counters"] = {name: dict(counts) for name, counts in _counters().items()}


def pytest_testnodedown(node, error):
    for name, counts in getattr(node, "workeroutput", {}).get("counters", {}).items():
        mine = _counters()[name]
        for key, value in counts.items():
            mine[key] = max(mine[key], value) if key.startswith("peak") else mine[key] + value


def pytest_terminal_summary(terminalreporter):
    """The figures of the model test, the bad-input corpus, the incremental and segment properties (their
    conftests say how), here because a pytest-xdist controller loads only this conftest."""
    from tests.badinput.conftest import summary as corpus
    from tests.model.conftest import summary as model
    from tests.push.conftest import summary as incremental
    from tests.segments.conftest import summary as segments

    for report in (model, corpus, incremental, segments):
        report(terminalreporter)
