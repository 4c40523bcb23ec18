"""Progress lines without a terminal, and the reason a failed run is recorded with."""

from __future__ import annotations

import logging
from itertools import pairwise

from sync.errors import ConfigError
from sync.progress import progress_board
from sync.run_record import REASON_LENGTH, failure_reason
from sync.settings import Settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "sync.progress"]


def test_a_count_with_a_total_is_logged_about_every_tenth_and_at_the_end(caplog):
    caplog.set_level(logging.INFO, logger="sync.progress")
    with progress_board("push newsletter", interactive=False, clock=Clock()) as track:
        for done in range(0, 1001, 7):
            track("members sent", done, 1000, "")
        track("members sent", 1000, 1000, "")
    lines = _lines(caplog)
    assert lines[0] == "push newsletter: members sent 0/1,000"
    assert lines[-1] == "push newsletter: members sent 1,000/1,000"
    assert 10 <= len(lines) <= 12
    counts = [int(line.split()[-1].split("/")[0].replace(",", "")) for line in lines]
    assert counts == sorted(counts) and all(later - earlier >= 100 for earlier, later in pairwise(counts[:-1]))


def test_counts_are_logged_apart_and_one_without_a_total_when_it_moved_for_a_while(caplog):
    caplog.set_level(logging.INFO, logger="sync.progress")
    clock = Clock()
    with progress_board("pull newsletter", interactive=False, every_seconds=30, clock=clock) as track:
        track("events", 0, None, "campaign 'May'")
        for page in range(1, 6):
            clock.now += 10
            track("events", page * 100, None, "campaign 'May'")
        track("campaigns", 1, 2, "")
        clock.now += 10
        track("events", 500, None, "campaign 'May'")  # 30 s after the line saying 300
        clock.now += 40
        track("events", 500, None, "campaign 'May'")  # 40 s on, but it did not move: nothing to say
    assert _lines(caplog) == ["pull newsletter: events 0 campaign 'May'",
                              "pull newsletter: events 300 campaign 'May'",
                              "pull newsletter: campaigns 1/2",
                              "pull newsletter: events 500 campaign 'May'"]


def test_a_failed_runs_reason_masks_secrets_and_says_what_kind_of_bug():
    secret = "s3cret-consumer-9f1c"
    settings = Settings(spotler={"consumer_key": "key-4d8f", "consumer_secret": secret})
    reason = failure_reason(ConfigError(f"Spotler refused the key with secret {secret}; fix the settings"), settings)
    assert secret not in reason and reason.startswith("Spotler refused the key with secret ***")
    assert failure_reason(TypeError("must be real number, not str"), settings) == \
        "internal error: TypeError: must be real number, not str"
    long = failure_reason(ConfigError("x" * (REASON_LENGTH * 2)), settings)
    assert len(long) == REASON_LENGTH and long.endswith("[cut here]")
