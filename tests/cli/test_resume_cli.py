"""A run killed with SIGKILL halfway continues on the next start: nothing confirmed is lost or sent twice."""

from __future__ import annotations

import signal
import time

import pytest

from sync.errors import EXIT_OK
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import crm_sync, project_copy, sandbox_env, start


@pytest.fixture
def setup(tmp_path):
    project = project_copy(tmp_path)
    with MailchimpSandbox() as sandbox:
        small_batches = {"CRM_SYNC_MAILCHIMP__BATCH_SIZE": "20", "CRM_SYNC_MAILCHIMP__CONCURRENCY": "2",
                         "CRM_SYNC_LOCK_TTL_SECONDS": "1"}
        killed = sandbox_env(tmp_path, sandbox, "Killed", contacts=400, seed=13) | small_batches
        clean = sandbox_env(tmp_path, sandbox, "Clean", 400, 13, state="clean-state.db") | small_batches
        yield project, sandbox, killed, clean


def members(sandbox, env) -> dict[str, tuple]:
    list_id = env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]
    return {m["email_address"]: (m["status"], tuple(sorted(m["merge_fields"].items(), key=str)))
            for m in sandbox.members(list_id)}


def batch_posts(sandbox, env) -> int:
    return sandbox.request_count(method="POST", path=f"/3.0/lists/{env['CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID']}")


@pytest.mark.parametrize("kill_after", [0.2, 0.5, 0.85])
def test_a_push_killed_at_any_point_resumes_without_resending_confirmed_batches(setup, kill_after):
    project, sandbox, killed, clean = setup
    assert crm_sync("push", cwd=project, env=clean).code in (EXIT_OK, 5)
    total_batches = batch_posts(sandbox, clean)
    assert total_batches >= 8

    sandbox.faults.slow_next(1000, seconds=0.15, method="POST", path_contains=killed[
        "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"])
    victim = start(project, killed, "push")
    deadline = time.monotonic() + 60
    while batch_posts(sandbox, killed) < max(1, int(total_batches * kill_after)):
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    sent_before_kill = batch_posts(sandbox, killed)
    sandbox.faults.clear()
    time.sleep(1.5)  # the killed run's lock expires (lock_ttl_seconds=1)

    resumed = crm_sync("push", cwd=project, env=killed)
    assert resumed.code in (EXIT_OK, 5), resumed.err
    assert members(sandbox, killed) == members(sandbox, clean)  # the provider ends as an uninterrupted run's
    resent = batch_posts(sandbox, killed) - sent_before_kill
    # Only batches the killed run had not recorded go out again: at most the two that were in flight.
    # (Restarting from scratch would re-send all of them.)
    assert resent <= total_batches - sent_before_kill + 2
    status = crm_sync("status", cwd=project, env=killed).out
    assert "interrupted" in status
