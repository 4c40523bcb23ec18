"""One run at a time: two `crm-sync run` processes at once, a stale lock, interrupted runs."""

from __future__ import annotations

import json
import signal
import time

import pytest

from sync.errors import EXIT_BUSY, EXIT_OK
from sync.runlock import LOCK_NAME
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.state.store import open_state
from tests.cli.run import crm_sync, project_copy, sandbox_env, start


@pytest.fixture
def setup(tmp_path):
    project = project_copy(tmp_path)
    with MailchimpSandbox() as sandbox:
        env = sandbox_env(tmp_path, sandbox, "Lock", contacts=120, seed=4)
        yield project, env, sandbox, env["CRM_SYNC_STATE__URL"]


def wait_for_lock(state_url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    with open_state(state_url) as store:
        while store.lock_holder(LOCK_NAME) is None:
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.05)


def test_two_concurrent_runs_exactly_one_does_the_work(setup):
    project, env, sandbox, state_url = setup
    sandbox.faults.slow_next(3, seconds=1.5)  # keep the first run busy long enough
    first = start(project, env, "run")
    wait_for_lock(state_url)
    second = crm_sync("run", cwd=project, env=env)
    assert second.code == EXIT_BUSY
    assert "another crm-sync run is active (process" in second.err and "nothing was done" in second.err
    out, err = first.communicate(timeout=120)
    assert first.returncode in (EXIT_OK, 5), err
    runs = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    runs = runs["runs"] if isinstance(runs, dict) else runs
    assert sorted(run["kind"] for run in runs) == ["pull", "push"]  # one run's push and pull, nothing else


def test_wait_runs_after_the_other_finishes(setup):
    project, env, sandbox, state_url = setup
    sandbox.faults.slow_next(2, seconds=1.0)
    first = start(project, env, "push")
    wait_for_lock(state_url)
    second = crm_sync("push", "--wait", cwd=project, env=env)
    first.communicate(timeout=120)
    assert second.code in (EXIT_OK, 5) and "written 0" in second.out  # it found the first push's work done


def test_a_dead_runs_lock_is_taken_over_and_its_run_marked_interrupted(setup):
    project, env, _, state_url = setup
    with open_state(state_url) as store:
        store.start_run("push", "newsletter")  # a run that died without finishing
        stale = store.acquire_lock(LOCK_NAME, ttl_seconds=0.2)  # ... and whose lock nobody renews
        assert stale is not None
    time.sleep(0.5)
    result = crm_sync("push", cwd=project, env=env)
    assert result.code in (EXIT_OK, 5), result.err
    with open_state(state_url) as store:
        outcomes = [run.outcome.value for run in store.recent_runs()]
        assert store.lock_holder(LOCK_NAME) is None
    assert "interrupted" in outcomes


def test_a_run_killed_on_this_host_gives_its_lock_up_at_once(setup):
    project, env, sandbox, state_url = setup  # the default lock TTL: two minutes
    sandbox.faults.slow_next(1000, seconds=0.5)
    victim = start(project, env, "push")
    wait_for_lock(state_url)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    sandbox.faults.clear()

    result = crm_sync("push", cwd=project, env=env)

    assert result.code in (EXIT_OK, 5), result.err
    assert f"took over the run lock of process {victim.pid} on this host" in result.err
    assert "that process is gone" in result.err
