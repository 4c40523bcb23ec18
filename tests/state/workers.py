"""Functions run in child processes (spawned, so each has its own connections) by the race tests."""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from sync.state.migrate import upgrade_schema
from sync.state.store import StateStore

WAIT_SECONDS = 60


def race_for_lock(url: str, name: str, start: Barrier, done: Barrier, results: Queue) -> None:
    """Try to take the lock when everyone is ready; hold it until everyone has tried."""
    store = StateStore(url)
    try:
        start.wait(WAIT_SECONDS)
        lock = store.acquire_lock(name, ttl_seconds=300)
        previous = None if lock is None or lock.previous_holder is None else lock.previous_holder.holder
        results.put((lock is not None, previous))
        done.wait(WAIT_SECONDS)
        if lock is not None:
            lock.release()
    finally:
        store.close()


def race_to_upgrade(url: str, start: Barrier, results: Queue) -> None:
    """Upgrade the schema at the same moment as the other workers; report any error as text."""
    start.wait(WAIT_SECONDS)
    try:
        upgrade_schema(url)
        results.put(None)
    except Exception as failure:  # reported to the test, which fails with the message
        results.put(f"{type(failure).__name__}: {failure}")


def hold_lock_until_killed(url: str, name: str, held: Queue) -> None:
    """Take the lock with a long TTL, say so, and wait to be killed (the test sends SIGKILL)."""
    store = StateStore(url)
    lock = store.acquire_lock(name, ttl_seconds=3600)
    held.put(None if lock is None else lock.holder)
    time.sleep(WAIT_SECONDS)
