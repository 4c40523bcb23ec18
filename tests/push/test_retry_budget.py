"""Retries stay inside ``retry_seconds``: a server asking for a longer wait is given up on at once, and says so."""

from __future__ import annotations

import logging

import pytest

from sync.errors import TransientError
from sync.jobs import push_audience


def test_a_retry_after_beyond_the_budget_gives_up_at_once_and_says_why(spotler_world, caplog):
    world = spotler_world
    world.sandbox.faults.fail_next(1000, 503, method="POST", path_contains="contact", retry_after=3600)
    spotler = world.settings.spotler.model_copy(update={"retry_seconds": 600, "retry_initial_wait": 0.01})
    settings = world.settings.model_copy(update={"spotler": spotler})

    with pytest.raises(TransientError, match="retried after 3600 s, more than the 600 s left of retry_seconds"):
        push_audience(settings, "newsletter")

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
