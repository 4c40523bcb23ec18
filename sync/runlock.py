"""One run at a time: every command that writes (push, pull, run, the scheduler's job) holds this lock.

The lock lives in the state store, so it works across processes and across machines that share a
PostgreSQL state store. A background thread renews it. A holder killed on this host (kill -9) is taken
over at once, with a log line; a holder on another host (or a lost machine) is taken over once its TTL
has passed without a heartbeat.
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
        previous = lock.previous_holder
        if previous is not None and previous.gone:
            log.warning("took over the run lock of process %s on this host (%s): that process is gone",
                        previous.pid, previous.host)
        elif previous is not None:
            log.warning("took over the run lock of a run that stopped answering (process %s on %s)",
                        previous.pid, previous.host)
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
