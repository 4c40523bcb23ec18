"""Log output of the real console command: JSON lines or text on stderr, and no secret in any output."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import make_url

from sync.demo.crm.generate import create_demo_crm
from sync.errors import EXIT_CONFIG, EXIT_OK, EXIT_RECORDS_REJECTED
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import crm_sync, project_copy

TEXT_LINE = re.compile(r"\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w-]+: .+")


@pytest.fixture
def setup(tmp_path, database_url):
    """A demo CRM, an empty sandbox audience and a state store on each backend, set by environment alone."""
    project = project_copy(tmp_path)
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=80, seed=5)
    state_url = make_url(database_url)
    if state_url.get_backend_name() == "postgresql" and not state_url.password:
        # So a real password travels through the run; a trust-auth server ignores it.
        state_url = state_url.set(password="St4te-Pw-9q")
    with MailchimpSandbox() as sandbox:
        env = {
            "CRM_SYNC_CRM__URL": crm_url,
            "CRM_SYNC_STATE__URL": state_url.render_as_string(hide_password=False),
            "CRM_SYNC_MAILCHIMP__API_KEY": sandbox.api_key,
            "CRM_SYNC_MAILCHIMP__BASE_URL": sandbox.base_url,
            "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": sandbox.create_audience("Logs"),
        }
        yield project, env, sandbox, state_url.password


def json_records(stderr: str) -> list[dict]:
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert {"ts", "level", "logger", "message"} <= record.keys(), record
    return records


def assert_no_secret(output: str, api_key: str, password: str | None) -> None:
    assert api_key.split("-")[0] not in output
    if password:
        assert password not in output


def test_verbose_json_push_writes_json_lines_and_no_secret(setup):
    project, env, sandbox, password = setup
    result = crm_sync("-v", "--log-format", "json", "push", cwd=project, env=env)
    assert result.code in (EXIT_OK, EXIT_RECORDS_REJECTED), result.err
    assert "Audience newsletter: pushed" in result.out
    records = json_records(result.err)
    loggers = {record["logger"] for record in records}
    assert {"alembic.runtime.migration", "urllib3.connectionpool", "sync.runner"} <= loggers
    assert any(record["level"] == "DEBUG" for record in records)
    assert_no_secret(result.out + result.err, sandbox.api_key, password)


def test_log_format_setting_applies_and_the_option_overrides_it(setup):
    project, env, sandbox, password = setup
    from_setting = crm_sync("push", cwd=project, env={**env, "CRM_SYNC_LOG_FORMAT": "json"})
    assert from_setting.code in (EXIT_OK, EXIT_RECORDS_REJECTED), from_setting.err
    records = json_records(from_setting.err)
    assert records and all(record["logger"].startswith("sync.") for record in records)  # third parties quiet
    assert any(record["message"].startswith("created merge field") for record in records)
    overridden = crm_sync("-v", "--log-format", "text", "push", cwd=project, env={**env, "CRM_SYNC_LOG_FORMAT": "json"})
    assert overridden.code in (EXIT_OK, EXIT_RECORDS_REJECTED), overridden.err
    lines = overridden.err.splitlines()
    assert lines and all(TEXT_LINE.fullmatch(line) for line in lines), overridden.err
    assert any(" migration: " in line for line in lines)
    assert_no_secret(from_setting.out + from_setting.err + overridden.out + overridden.err, sandbox.api_key, password)


def test_a_wrong_api_key_is_named_but_never_shown(setup):
    project, env, _, password = setup
    wrong_key = "5eb63bbbe01eeed093cb22bb8f5acdc3-us21"
    result = crm_sync("-v", "--log-format", "json", "push", cwd=project,
                      env={**env, "CRM_SYNC_MAILCHIMP__API_KEY": wrong_key})
    assert result.code == EXIT_CONFIG
    assert "Mailchimp refused the credentials" in result.err and "CRM_SYNC_MAILCHIMP__API_KEY" in result.err
    assert_no_secret(result.out + result.err, wrong_key, password)


def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    project = project_copy(tmp_path)
    password = "Unr3ach-Pw-77"
    env = {"CRM_SYNC_STATE__URL": f"postgresql+psycopg://crm:{password}@127.0.0.1:1/state",
           "CRM_SYNC_MAILCHIMP__API_KEY": "5eb63bbbe01eeed093cb22bb8f5acdc3-us21",
           "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": "abc123"}
    result = crm_sync("-v", "--log-format", "json", "status", cwd=project, env=env)
    assert result.code != EXIT_OK
    assert "postgresql+psycopg://crm:***@127.0.0.1:1/state" in result.err
    assert password not in result.out + result.err
