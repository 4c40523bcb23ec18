"""`crm-sync schedule`: a foreground scheduler with its job store in the state database."""

from __future__ import annotations

import json
import signal
import time

import pytest
from sqlalchemy import create_engine, text

from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import crm_sync, project_copy, sandbox_env, start


@pytest.fixture
def setup(tmp_path):
    project = project_copy(tmp_path)
    with MailchimpSandbox() as sandbox:
        env = sandbox_env(tmp_path, sandbox, "Scheduled", contacts=60, seed=8)
        env["CRM_SYNC_SCHEDULE__TIMEZONE"] = "Europe/Amsterdam"
        yield project, env, sandbox, env["CRM_SYNC_STATE__URL"]


def runs(project, env) -> list[dict]:
    status = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    return status["runs"] if isinstance(status, dict) else status


def test_schedule_runs_now_and_keeps_the_nightly_job_in_the_state_store(setup):
    project, env, sandbox, state_url = setup
    scheduler = start(project, env, "schedule", "--run-now")
    deadline = time.monotonic() + 60
    while sorted(run["kind"] for run in runs(project, env)) != ["pull", "push"]:
        assert time.monotonic() < deadline and scheduler.poll() is None, scheduler.stderr.read()
        time.sleep(0.5)
    assert sandbox.member_count(sandbox_list := env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]) > 0, sandbox_list
    engine = create_engine(state_url)
    with engine.connect() as connection:
        jobs = connection.execute(text("SELECT id, next_run_time, job_state FROM crm_sync_scheduler_jobs")).all()
    engine.dispose()
    nightly = [job for job in jobs if job[0] == "crm-sync-run"]
    assert len(nightly) == 1
    assert env["CRM_SYNC_MAILCHIMP__API_KEY"].encode() not in nightly[0][2]  # no secret in the job store
    scheduler.send_signal(signal.SIGTERM)
    scheduler.wait(timeout=30)


def test_a_bad_cron_expression_names_the_setting(setup):
    project, env, _, _ = setup
    result = crm_sync("schedule", cwd=project, env={**env, "CRM_SYNC_SCHEDULE__CRON": "every night"})
    assert result.code == 3 and "CRM_SYNC_SCHEDULE__CRON" in result.err


def test_an_unknown_time_zone_names_the_setting(setup):
    project, env, _, _ = setup
    result = crm_sync("status", cwd=project, env={**env, "CRM_SYNC_SCHEDULE__TIMEZONE": "Mars/Olympus"})
    assert result.code == 3 and "CRM_SYNC_SCHEDULE__TIMEZONE" in result.err and "unknown time zone" in result.err
