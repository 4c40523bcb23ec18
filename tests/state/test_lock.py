"""Run locks: one holder at a time, stale holders taken over, and exactly one winner of a real race."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from datetime import timedelta

import pytest
from sqlalchemy import update

from sync.state.lock import LOCKS, LockLost
from tests.state import workers

NAME = "push:newsletter"


def make_stale(engine, name: str) -> None:
    """Backdate a lock as if its holder had stopped sending heartbeats an hour ago."""
    with engine.begin() as conn:
        holder = conn.execute(LOCKS.select().where(LOCKS.c.name == name)).one()
        hour = timedelta(hours=1)
        conn.execute(
            update(LOCKS)
            .where(LOCKS.c.name == name)
            .values(heartbeat_at=holder.heartbeat_at - hour, expires_at=holder.acquired_at - timedelta(minutes=1))
        )


def test_a_second_acquirer_gets_none_until_the_lock_is_released(store):
    first = store.acquire_lock(NAME, ttl_seconds=60)

    assert first is not None
    assert store.acquire_lock(NAME, ttl_seconds=60) is None
    assert store.acquire_lock("push:customers", ttl_seconds=60) is not None

    first.release()
    second = store.acquire_lock(NAME, ttl_seconds=60)
    assert second is not None and second.holder != first.holder and second.previous_holder is None


def test_the_holder_is_reported_with_pid_and_host(store):
    assert store.lock_holder(NAME) is None

    with store.acquire_lock(NAME, ttl_seconds=90) as lock:
        holder = store.lock_holder(NAME)
        assert (holder.holder, holder.pid, holder.host, holder.stale) == (
            lock.holder, os.getpid(), socket.gethostname(), False
        )
        assert holder.expires_at - holder.heartbeat_at == timedelta(seconds=90)

    assert store.lock_holder(NAME) is None


def test_a_stale_lock_is_taken_over_and_its_old_holder_finds_out(store, engine):
    crashed = store.acquire_lock(NAME, ttl_seconds=60)
    make_stale(engine, NAME)
    assert store.lock_holder(NAME).stale

    successor = store.acquire_lock(NAME, ttl_seconds=60)

    assert successor is not None and successor.previous_holder.holder == crashed.holder
    assert store.lock_holder(NAME).holder == successor.holder
    with pytest.raises(LockLost, match="taken over"):
        crashed.heartbeat()
    crashed.release()  # must not remove the successor's lock
    assert store.lock_holder(NAME).holder == successor.holder


def test_a_heartbeat_keeps_a_late_lock_alive(store, engine):
    lock = store.acquire_lock(NAME, ttl_seconds=60)
    make_stale(engine, NAME)

    lock.heartbeat()

    holder = store.lock_holder(NAME)
    assert not holder.stale and holder.holder == lock.holder
    assert store.acquire_lock(NAME, ttl_seconds=60) is None


def test_bad_lock_arguments_are_refused(store):
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        store.acquire_lock(NAME, ttl_seconds=0)
    with pytest.raises(ValueError, match="lock name"):
        store.acquire_lock("x" * 192, ttl_seconds=10)


@pytest.mark.parametrize("starting_state", ["free", "stale"])
def test_processes_racing_for_a_lock_have_exactly_one_winner(store, engine, starting_state):
    stale_holder = None
    if starting_state == "stale":
        stale_holder = store.acquire_lock(NAME, ttl_seconds=60).holder
        make_stale(engine, NAME)
    contenders = 3
    context = multiprocessing.get_context("spawn")
    start, done, results = context.Barrier(contenders), context.Barrier(contenders), context.Queue()
    processes = [
        context.Process(target=workers.race_for_lock, args=(store.url, NAME, start, done, results))
        for _ in range(contenders)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    winners = [previous for won, previous in outcomes if won]
    assert len(winners) == 1
    assert winners[0] == stale_holder
    assert all(process.exitcode == 0 for process in processes)


def _holder_in_child(store) -> tuple[multiprocessing.Process, str]:
    """A child process that holds the lock (TTL one hour) until it is killed."""
    context = multiprocessing.get_context("spawn")
    held = context.Queue()
    child = context.Process(target=workers.hold_lock_until_killed, args=(store.url, NAME, held))
    child.start()
    holder = held.get(timeout=120)
    assert holder is not None
    return child, holder


def test_a_holder_killed_on_this_host_is_taken_over_at_once(store):
    child, holder = _holder_in_child(store)
    assert store.acquire_lock(NAME, ttl_seconds=60) is None  # alive: it keeps the lock
    assert not store.lock_holder(NAME).gone

    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=60)

    assert store.lock_holder(NAME).gone and not store.lock_holder(NAME).stale
    successor = store.acquire_lock(NAME, ttl_seconds=60)
    assert successor is not None and successor.previous_holder.holder == holder
    assert successor.previous_holder.gone


def test_a_holder_on_another_host_waits_for_its_ttl_even_if_its_pid_is_free_here(store, engine):
    child, holder = _holder_in_child(store)
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=60)
    with engine.begin() as conn:
        conn.execute(update(LOCKS).where(LOCKS.c.name == NAME).values(host="other-machine"))

    assert not store.lock_holder(NAME).gone
    assert store.acquire_lock(NAME, ttl_seconds=60) is None
    make_stale(engine, NAME)
    assert store.acquire_lock(NAME, ttl_seconds=60).previous_holder.holder == holder
