"""`crm-sync plan`, `push` and `demo run` through the real console command, configured by environment alone."""

from __future__ import annotations

import json

import pytest

from sync.demo.crm.generate import create_demo_crm
from sync.errors import EXIT_CONFIG, EXIT_OK, EXIT_RECORDS_REJECTED
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import crm_sync, project_copy
from tests.push.world import edit_contact


@pytest.fixture
def setup(tmp_path):
    project = project_copy(tmp_path)
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=150, seed=9)
    edit_contact(crm_url, 1, email="info@example.com", email_opt_in=True, email_opt_out=False,
                 email_invalid=False, deleted=False, organisation_id=None)
    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("CLI")
        env = {  # the single-audience setup a container would use: environment variables only
            "CRM_SYNC_CRM__URL": crm_url,
            "CRM_SYNC_STATE__URL": f"sqlite:///{tmp_path / 'state.db'}",
            "CRM_SYNC_MAILCHIMP__API_KEY": sandbox.api_key,
            "CRM_SYNC_MAILCHIMP__BASE_URL": sandbox.base_url,
            "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": list_id,
        }
        yield project, env, sandbox, list_id


def test_plan_json_then_push_then_a_quiet_rerun(setup):
    project, env, sandbox, list_id = setup
    planned = crm_sync("plan", "--json", "--limit", "3", cwd=project, env=env)
    assert planned.code == EXIT_OK, planned.err
    [summary] = json.loads(planned.out)
    assert summary["audience"] == "newsletter" and summary["actions"]["create"] > 50
    assert "TIER" in summary["merge_fields_to_create"] and len(summary["changes"]) == 3
    assert sandbox.member_count(list_id) == 0
    pushed = crm_sync("push", cwd=project, env=env)
    # The demo CRM has fake-looking addresses: Mailchimp rejects them, so the exit code says so.
    assert pushed.code == EXIT_RECORDS_REJECTED, pushed.err
    assert "rejected contact" in pushed.out and "invalid_address" in pushed.out
    assert sandbox.member_count(list_id) == summary["actions"]["create"] - pushed.out.count("rejected contact ")
    again = crm_sync("run", cwd=project, env=env)
    assert again.code == EXIT_OK and "written 0, rejected 0" in again.out
    assert "Audience newsletter: pulled 0 campaign(s)" in again.out
    status = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)
    assert [(run["kind"], run["outcome"]) for run in status["runs"]] == [("pull", "ok"), ("push", "ok"),
                                                                        ("push", "partial")]
    assert ("1", "invalid_address") in {(failure["contact_id"], failure["reason_code"])
                                        for failure in status["failures"]}


def test_no_audience_configured_is_a_clear_error(setup):
    project, env, _, _ = setup
    env = {k: v for k, v in env.items() if "AUDIENCES" not in k}
    result = crm_sync("push", cwd=project, env=env)
    assert result.code == EXIT_CONFIG and "no audience is configured" in result.err


def test_a_wrong_api_key_stops_with_what_to_fix(setup):
    project, env, _, _ = setup
    result = crm_sync("push", cwd=project, env={**env, "CRM_SYNC_MAILCHIMP__API_KEY": "0" * 32 + "-us9"})
    assert result.code == EXIT_CONFIG
    assert "CRM_SYNC_MAILCHIMP__API_KEY" in result.err and "0" * 32 not in result.err


def test_demo_run_pushes_the_demo_crm_into_the_sandbox(tmp_path):
    project = project_copy(tmp_path)
    result = crm_sync("demo", "run", "--contacts", "200", cwd=project)
    assert result.code == EXIT_OK, result.err
    assert "Audience newsletter: pushed" in result.out
    assert "Second push, nothing changed in the CRM: 0 written" in result.out
    assert "pulled 2 campaign(s)" in result.out and "What a CRM user now sees on contact" in result.out
    assert "Newsletter May: delivered, opened" in result.out


def test_demo_run_with_spotler_pushes_and_pulls_through_the_spotler_sandbox(tmp_path):
    project = project_copy(tmp_path)
    result = crm_sync("demo", "run", "--provider", "spotler", "--contacts", "200", cwd=project)
    assert result.code == EXIT_OK, result.err
    assert "Spotler Mail+ sandbox at" in result.out and "Audience newsletter: pushed" in result.out
    assert "Second push, nothing changed in the CRM: 0 written" in result.out
    assert "pulled 2 campaign(s)" in result.out and "Newsletter May: delivered, opened" in result.out


def test_online_mapping_check_lists_the_merge_fields_the_push_will_create(setup):
    project, env, sandbox, list_id = setup
    result = crm_sync("mapping", "check", "--online", cwd=project, env=env)
    assert result.code == EXIT_OK, result.err
    assert "audience newsletter (mailchimp)" in result.out
    assert "will be created by the push: TIER" in result.out
    assert "note: BIRTHDAY is written as MM/DD, the date format the field already has" in result.out
    assert sandbox.request_count(method="POST") == 0  # a check creates nothing


@pytest.mark.parametrize("crm", ["espocrm", "vtiger"])
@pytest.mark.parametrize("provider", ["mailchimp", "spotler"])
def test_demo_run_with_a_fake_crm_pushes_its_people_and_pulls_into_its_history(tmp_path, crm, provider):
    project = project_copy(tmp_path)
    result = crm_sync("demo", "run", "--crm", crm, "--provider", provider, "--contacts", "120", cwd=project)
    assert result.code == EXIT_OK, result.err
    assert f"Fake {crm} at http://127.0.0.1:" in result.out and "Audience newsletter: pushed" in result.out
    assert "Second push, nothing changed in the CRM: 0 written" in result.out
    # EspoCRM's campaign log holds one entry per event; vtiger one per contact and campaign
    delivered = "Delivered: Newsletter May" if crm == "espocrm" else "Newsletter May: delivered"
    assert "pulled 2 campaign(s)" in result.out and delivered in result.out
