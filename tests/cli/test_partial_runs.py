"""One audience failing never costs the others their push and pull; the exit code is the worst outcome."""

from __future__ import annotations

import json

import pytest

from sync.errors import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_RECORDS_REJECTED,
    EXIT_UNREACHABLE,
    worst_exit_code,
)
from tests.cli.run import crm_sync


def _runs(project, env) -> list[dict]:
    runs = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    return runs["runs"] if isinstance(runs, dict) else runs


@pytest.mark.parametrize(("broken", "exit_code", "message"), [
    pytest.param({"CRM_SYNC_AUDIENCES__AAA_BROKEN__AUDIENCE_ID": "no-such-list"}, EXIT_CONFIG,
                 "Mailchimp has no audience 'no-such-list'", id="missing audience"),
    pytest.param({"CRM_SYNC_AUDIENCES__AAA_BROKEN__PROVIDER": "spotler",
                  "CRM_SYNC_AUDIENCES__AAA_BROKEN__PERMISSION_BITS": "[1]",
                  "CRM_SYNC_SPOTLER__CONSUMER_KEY": "key-4d8f", "CRM_SYNC_SPOTLER__CONSUMER_SECRET": "secret-9a1c",
                  "CRM_SYNC_SPOTLER__BASE_URL": "http://127.0.0.1:1/api", "CRM_SYNC_SPOTLER__RETRY_SECONDS": "1"},
                 EXIT_UNREACHABLE, "Spotler", id="provider unreachable"),
])
def test_a_broken_audience_is_reported_and_the_others_still_push_and_pull(mailchimp_project, broken, exit_code,
                                                                          message):
    project, sandbox, env = mailchimp_project
    env = env | broken | {"CRM_SYNC_AUDIENCES__AAA_BROKEN__MAPPING": "newsletter"}  # sorted first: runs first

    result = crm_sync("run", cwd=project, env=env)

    assert result.code == exit_code, result.err
    assert "audience aaa_broken: push failed" in result.err and message in result.err
    assert "audience aaa_broken: pull failed" in result.err
    assert "Audience newsletter: pushed" in result.out and "Audience newsletter: pulled" in result.out
    assert len(list(sandbox.members(env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"]))) > 10
    newsletter_runs = sorted(run["kind"] for run in _runs(project, env) if run["audience"] == "newsletter")
    assert newsletter_runs == ["pull", "push"]


def test_the_worst_outcome_decides_the_exit_code():
    assert worst_exit_code() == EXIT_OK
    assert worst_exit_code(EXIT_OK, EXIT_RECORDS_REJECTED) == EXIT_RECORDS_REJECTED
    assert worst_exit_code(EXIT_RECORDS_REJECTED, EXIT_UNREACHABLE, EXIT_OK) == EXIT_UNREACHABLE
    assert worst_exit_code(EXIT_UNREACHABLE, EXIT_CONFIG) == EXIT_CONFIG


def test_outputs_without_a_terminal_are_not_cut_and_say_what_they_left_out(mailchimp_project):
    project, _, env = mailchimp_project
    plan = crm_sync("plan", "--limit", "3", cwd=project, env=env)
    assert plan.code == 0, plan.err
    creates = int(next(line.split()[1] for line in plan.out.splitlines() if line.strip().startswith("create")))
    merged = sum(int(line.split()[1]) for line in plan.out.splitlines() if line.strip().startswith("merged"))
    assert f"… and {creates + merged - 3:,} more (`crm-sync plan --limit 0` shows all" in plan.out

    crm_sync("push", cwd=project, env=env)
    status = crm_sync("status", cwd=project, env=env)  # stdout is a pipe here, as under cron
    assert "…" not in status.out
    push_run = next(run for run in _runs(project, env) if run["kind"] == "push")
    counts = push_run["counts"]
    plan = ", ".join(f"{name} {counts[name]}" for name in ("create", "merged", "skip") if counts.get(name))
    assert f"plan: {plan}; {counts['create']} to send: written {counts['written']}, rejected 0;" in status.out
