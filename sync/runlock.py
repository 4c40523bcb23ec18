"""One run at a time: every command that writes (push, pull, run, the scheduler's job) holds this lock.

The lock lives in the state store, so it works across processes and across machines that share a
PostgreSQL state store. A background thread renews it; a lock whose holder died (kill -9, lost machine)
expires after its TTL and the next run takes it over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sync.errors import EXIT_BUSY, CrmSyncError
from sync.state.lock import Lock, LockLost
from sync.state.store import open_state

log = logging.getLogger(__name__)

LOCK_NAME = "crm-sync:run"
TTL_SECONDS = 120.0


class AnotherRunActive(CrmSyncError):
    """Another crm-sync run holds the lock."""

    exit_code = EXIT_BUSY


@contextmanager
def run_lock(state_url: str, wait: bool = False, wait_seconds: float = 3600, ttl_seconds: float = TTL_SECONDS,
             poll_seconds: float = 2.0) -> Iterator[Lock]:
    """Hold the run lock for the block; without ``wait`` a busy lock is an error naming its holder."""
    with open_state(state_url) as store:
        deadline = time.monotonic() + wait_seconds
        while (lock := store.acquire_lock(LOCK_NAME, ttl_seconds)) is None:
            holder = store.lock_holder(LOCK_NAME)
            who = (f"process {holder.pid} on {holder.host}, running since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
                   if holder else "another process")
            if not wait or time.monotonic() > deadline:
                raise AnotherRunActive(f"another crm-sync run is active ({who}); nothing was done. "
                                       "Use --wait to wait for it.")
            log.info("waiting for the other run to finish (%s)", who)
            time.sleep(poll_seconds)
        if lock.previous_holder is not None:
            log.warning("took over the run lock of a run that stopped answering (process %s on %s)",
                        lock.previous_holder.pid, lock.previous_holder.host)
        # Holding the lock, no other run can be going on: runs still marked running died halfway.
        interrupted = store.mark_running_interrupted()
        if interrupted:
            log.warning("%d earlier run(s) had stopped halfway; marked interrupted, this run resumes them",
                        interrupted)
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(lock, stop, ttl_seconds / 3), daemon=True)
        beat.start()
        try:
            yield lock
        finally:
            stop.set()
            beat.join()
            lock.release()


def _heartbeat(lock: Lock, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            lock.heartbeat()
        except LockLost as lost:  # the run goes on, but say so loudly: another run may now overlap
            log.error("%s", lost)
            return
        except CrmSyncError as error:  # the state store blinked; try again next beat
            log.warning("could not renew the run lock: %s", error)
