"""Retries stay inside ``retry_seconds``: a server asking for a longer wait is given up on at once, and says so."""

from __future__ import annotations

import logging

import pytest

from sync.errors import EXIT_UNREACHABLE, TransientError
from sync.push.executor import PushIncomplete
from sync.runner import push_audience


def test_a_retry_after_beyond_the_budget_gives_up_at_once_and_says_why(spotler_world, caplog):
    world = spotler_world
    world.sandbox.faults.fail_next(1000, 503, method="POST", path_contains="contact", retry_after=3600)
    spotler = world.settings.spotler.model_copy(update={"retry_seconds": 600, "retry_initial_wait": 0.01})
    settings = world.settings.model_copy(update={"spotler": spotler})

    with pytest.raises(PushIncomplete, match="retried after 3600 s, more than the 600 s left of retry_seconds") as stop:
        push_audience(settings, "newsletter")
    assert stop.value.exit_code == EXIT_UNREACHABLE

    assert world.sandbox.faults.pending >= 1000 - 2  # one attempt per request in flight, no sleeping an hour


def test_every_retry_is_logged_with_attempt_wait_and_deadline(spotler_world, caplog):
    world = spotler_world
    world.sandbox.faults.fail_next(2, 503, method="POST", path_contains="contact", retry_after=0)
    spotler = world.settings.spotler.model_copy(update={"retry_seconds": 60, "retry_initial_wait": 0.01})
    with caplog.at_level(logging.WARNING, logger="sync.retry"):
        push_audience(world.settings.model_copy(update={"spotler": spotler}), "newsletter")
    retries = [record.getMessage() for record in caplog.records if record.name == "sync.retry"]
    assert len(retries) == 2
    assert all("failed: Spotler" in line and "retrying in" in line and "gives up at" in line for line in retries)
    assert retries[0].startswith("attempt 1 failed")


def _quick(world, **update):
    provider = "spotler" if world.list_id is None else "mailchimp"
    section = getattr(world.settings, provider).model_copy(update={"retry_initial_wait": 0.01, **update})
    return world.settings.model_copy(update={provider: section})


def test_a_page_that_is_not_json_under_a_success_status_is_retried_not_read_as_empty(any_world):
    world = any_world
    world.sandbox.faults.fail_next(2, 200, body="html", method="GET")  # a proxy's page, twice
    report = push_audience(_quick(world, retry_seconds=30), "newsletter")
    assert world.sandbox.faults.pending == 0
    assert report.written == len(world.view.members()) > 100
    assert report.rejected == 0 or all(reason == "invalid_address" for _, reason, _ in report.rejections)


def test_a_lasting_non_json_page_fails_the_run_saying_where_to_look(any_world):
    world = any_world
    world.sandbox.faults.fail_next(10_000, 200, body="html", method="GET")
    with pytest.raises((TransientError, PushIncomplete), match="with a page that is not JSON .*Check the base_url"):
        push_audience(_quick(world, retry_seconds=1), "newsletter")
    assert world.view.members() == {}  # nothing was written from a misread answer
