"""Fixtures of the bad-input corpus and its totals in the terminal summary (printed with or without -s)."""

from __future__ import annotations

import shutil

import pytest

from sync.connectors.spotler.demo import DEMO_SPOTLER_PROPERTIES
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from tests.badinput.harness import MAX_RSS_KB, TOTALS, run_cli
from tests.badinput.worlds import WRITTEN, Workspace, make_template


@pytest.fixture(scope="session")
def corpus_template(tmp_path_factory):
    return make_template(tmp_path_factory.mktemp("badinput-template"))


@pytest.fixture(scope="session")
def pushed_template(corpus_template, tmp_path_factory):
    """Session sandboxes and a state store that pushed both audiences into them once."""
    with MailchimpSandbox() as mailchimp, SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as spotler:
        folder = tmp_path_factory.mktemp("badinput-pushed")
        first = Workspace.create(folder, corpus_template, mailchimp, spotler, mailchimp.create_audience("Corpus"))
        pushed = run_cli(["push"], folder, first.env)
        assert pushed.code == 0, pushed.err
        assert mailchimp.member_count(first.list_id) == len(spotler.contacts()) == WRITTEN
        yield first
        assert mailchimp.internal_errors == [] and spotler.internal_errors == []


@pytest.fixture
def pushed(pushed_template, tmp_path):
    """A copy of the pushed workspace (CRM, state store, config/), on the session's sandboxes."""
    shutil.rmtree(tmp_path)
    return Workspace.create(tmp_path, pushed_template.dir, pushed_template.mailchimp, pushed_template.spotler,
                            pushed_template.list_id)


@pytest.fixture
def fresh(corpus_template, tmp_path):
    """The demo CRM, an empty state store and new sandboxes of its own (for provider faults)."""
    with MailchimpSandbox() as mailchimp, SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as spotler:
        spotler.run_clock_behind(2)
        yield Workspace.create(tmp_path, corpus_template, mailchimp, spotler, mailchimp.create_audience("Fresh"))
        assert mailchimp.internal_errors == [] and spotler.internal_errors == []


def summary(terminalreporter) -> None:
    """Printed at the end of the session by tests/conftest.py (the one conftest a pytest-xdist controller loads)."""
    if not TOTALS["cases"]:
        return
    terminalreporter.section("bad-input corpus")
    categories = ", ".join(f"{name.removeprefix('category ')} {value}" for name, value in sorted(TOTALS.items())
                           if name.startswith("category "))
    terminalreporter.write_line(
        f"{TOTALS['cases']} cases passed ({categories}): {TOTALS['clear errors']} clear errors (exit 2-6 with "
        f"the expected text), {TOTALS['cases'] - TOTALS['clear errors']} recovered runs (exit 0), "
        f"{TOTALS['recovered records']} records still synced despite the bad input; "
        f"peak RSS of any run {TOTALS['peak rss kb'] // 1024} MB (bound {MAX_RSS_KB // 1024} MB)")
