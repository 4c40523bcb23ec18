"""Named run locks shared through the state store, across processes and machines.

Inserting the lock's row is the mutex (the primary key lets only one insert win). A holder that stops
sending heartbeats loses the lock once its TTL has passed: the next acquirer takes it over with a
conditional UPDATE that only succeeds if the row is still the stale one it saw. Expiry is judged by the
database server's clock, so machines with skewed clocks agree. A holder on this same host whose process
is gone (killed, crashed) is taken over at once: only a holder on another host has to wait for its TTL.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from sync.errors import CrmSyncError
from sync.state.engine import database_now, translate_errors
from sync.state.models import KEY_LENGTH, RunLock, table_of

LOCKS = table_of(RunLock)
ACQUIRE_ATTEMPTS = 3


class LockLost(CrmSyncError):
    """Another process took over our lock (our heartbeat came too late); stop writing."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock; ``stale`` when its heartbeat is older than its TTL, ``gone`` when it ran on this
    host and its process no longer exists."""

    name: str
    holder: str
    pid: int
    host: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    stale: bool
    gone: bool = False

    @property
    def replaceable(self) -> bool:
        """Whether another process may take the lock over now."""
        return self.stale or self.gone


class Lock:
    """A lock this process holds. Call ``heartbeat()`` well within the TTL, ``release()`` when done."""

    def __init__(
        self,
        engine: Engine,
        url: str | URL,
        name: str,
        holder: str,
        ttl_seconds: float,
        previous_holder: LockHolder | None,
    ):
        self._engine = engine
        self._url = url
        self.name = name
        self.holder = holder
        self.ttl_seconds = ttl_seconds
        self.previous_holder = previous_holder  # the stale holder taken over, if any
        self.released = False

    def heartbeat(self) -> None:
        """Push the expiry ``ttl_seconds`` ahead; ``LockLost`` if another process has taken the lock."""
        if self.released:
            raise LockLost(f"lock {self.name!r} was released by this process; acquire it again")
        with translate_errors(self._url, f"renewing lock {self.name!r}"), self._engine.begin() as conn:
            now = database_now(conn)
            renewed = conn.execute(
                update(LOCKS)
                .where(LOCKS.c.name == self.name, LOCKS.c.holder == self.holder)
                .values(heartbeat_at=now, expires_at=now + timedelta(seconds=self.ttl_seconds))
            ).rowcount
        if renewed != 1:
            raise LockLost(
                f"lock {self.name!r} was taken over by another process after this one missed its "
                f"{self.ttl_seconds:g}s heartbeat; stopping so that two runs do not overlap"
            )

    def release(self) -> None:
        """Give the lock up; doing so twice, or after losing it, does nothing."""
        if self.released:
            return
        with translate_errors(self._url, f"releasing lock {self.name!r}"), self._engine.begin() as conn:
            conn.execute(delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.holder == self.holder))
        self.released = True

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def acquire_lock(engine: Engine, url: str | URL, name: str, ttl_seconds: float) -> Lock | None:
    """Take the lock called ``name``, or return None while a live holder has it."""
    if not 0 < len(name) <= KEY_LENGTH:
        raise ValueError(f"lock name {name[:40]!r} must have 1 to {KEY_LENGTH} characters")
    if ttl_seconds <= 0:
        raise ValueError(f"lock {name!r}: ttl_seconds must be positive, got {ttl_seconds}")
    holder = str(uuid.uuid4())
    with translate_errors(url, f"acquiring lock {name!r}"), engine.connect() as conn:
        for _ in range(ACQUIRE_ATTEMPTS):
            if _insert(conn, name, holder, ttl_seconds):
                return Lock(engine, url, name, holder, ttl_seconds, previous_holder=None)
            # The insert and the takeover run in separate transactions: on MariaDB the failed insert
            # keeps a shared lock on the row until its transaction ends, and two such transactions
            # both upgrading to an UPDATE would deadlock.
            with conn.begin():
                current = _holder(conn, name)
                if current is None:
                    continue  # released meanwhile: try the insert again
                if not current.replaceable:
                    return None
                if _take_over(conn, current, holder, ttl_seconds):
                    return Lock(engine, url, name, holder, ttl_seconds, previous_holder=current)
    return None


def lock_holder(engine: Engine, url: str | URL, name: str) -> LockHolder | None:
    """Who holds the lock called ``name``, or None when nobody does."""
    with translate_errors(url, f"reading lock {name!r}"), engine.connect() as conn:
        return _holder(conn, name)


def _insert(conn: Connection, name: str, holder: str, ttl_seconds: float) -> bool:
    try:
        with conn.begin():
            now = database_now(conn)
            conn.execute(insert(LOCKS).values(_claim(name, holder, ttl_seconds, now)))
        return True
    except IntegrityError:
        return False


def _take_over(conn: Connection, previous: LockHolder, holder: str, ttl_seconds: float) -> bool:
    """Replace ``previous`` if the row is still the one seen (and, unless its process is gone, still expired)."""
    now = database_now(conn)
    still_that_row = (LOCKS.c.name == previous.name, LOCKS.c.holder == previous.holder)
    condition = still_that_row if previous.gone else (*still_that_row, LOCKS.c.expires_at < now)
    taken = conn.execute(update(LOCKS).where(*condition).values(_claim(previous.name, holder, ttl_seconds, now))
                         ).rowcount
    return taken == 1


def _holder(conn: Connection, name: str) -> LockHolder | None:
    row = conn.execute(select(LOCKS).where(LOCKS.c.name == name)).one_or_none()
    if row is None:
        return None
    now = database_now(conn)
    return LockHolder(
        name=row.name,
        holder=row.holder,
        pid=row.pid,
        host=row.host,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
        stale=row.expires_at < now,
        gone=row.host == _this_host() and not _process_exists(row.pid),
    )


def _this_host() -> str:
    return socket.gethostname()[:255]


def _process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this host (one we may not signal still exists)."""
    if pid <= 0:
        return True  # no usable id: never assume the holder is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(name: str, holder: str, ttl_seconds: float, now: datetime) -> dict[str, object]:
    return {
        "name": name,
        "holder": holder,
        "pid": os.getpid(),
        "host": _this_host(),
        "acquired_at": now,
        "heartbeat_at": now,
        "expires_at": now + timedelta(seconds=ttl_seconds),
    }
