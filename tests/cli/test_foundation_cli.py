"""The foundation verbs through the real console command: demo CRM, mapping check, status, db upgrade."""

from __future__ import annotations

import json

import pytest

from sync.state.migrate import head_revision
from sync.state.store import open_state
from tests.cli.run import crm_sync, project_copy


@pytest.fixture
def project(tmp_path):
    return project_copy(tmp_path)


def test_help_lists_every_verb_with_one_line(project):
    result = crm_sync("--help", cwd=project)
    assert result.code == 0
    for verb in ("demo", "mapping", "db", "status", "plan", "push", "run", "why"):
        assert f"\n  {verb} " in result.out


def test_newcomer_path_demo_crm_then_mapping_check(project):
    created = crm_sync("demo", "init", "--contacts", "300", cwd=project)
    assert created.code == 0, created.err
    assert "contacts" in created.out and "300" in created.out
    assert (project / "data" / "crm.db").exists()
    checked = crm_sync("mapping", "check", cwd=project)
    assert checked.code == 0, checked.err
    assert "config/mapping.yaml: OK" in checked.out


def test_demo_init_refuses_to_overwrite_without_replace(project):
    assert crm_sync("demo", "init", "--contacts", "20", cwd=project).code == 0
    again = crm_sync("demo", "init", "--contacts", "20", cwd=project)
    assert again.code == 3 and "--replace" in again.err
    assert crm_sync("demo", "init", "--contacts", "20", "--replace", cwd=project).code == 0


def test_mapping_typo_names_file_line_and_suggestion(project):
    assert crm_sync("demo", "init", "--contacts", "20", cwd=project).code == 0
    mapping = project / "config" / "mapping.yaml"
    lines = mapping.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if "source: first_name" in line)
    mapping.write_text("\n".join(line.replace("source: first_name", "source: frist_name") for line in lines),
                       encoding="utf-8")
    result = crm_sync("mapping", "check", cwd=project)
    assert result.code == 3
    assert f"config/mapping.yaml:{number}:" in result.err
    assert "did you mean 'first_name'" in result.err


def test_unreachable_crm_is_one_message_without_the_password(project):
    result = crm_sync("mapping", "check", cwd=project,
                      env={"CRM_SYNC_CRM__URL": "postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm"})
    assert result.code == 4
    assert "cannot connect" in result.err and "s3cret" not in result.err + result.out


def test_wrong_setting_names_variable_and_file_key(project):
    (project / "config" / "sync.yaml").write_text("crm:\n  chunk_size: many\n", encoding="utf-8")
    result = crm_sync("status", cwd=project)
    assert result.code == 3
    assert "CRM_SYNC_CRM__CHUNK_SIZE" in result.err and "crm.chunk_size in config/sync.yaml (line 2)" in result.err


def test_status_before_and_after_a_run(project, database_url):
    env = {"CRM_SYNC_STATE__URL": database_url}
    first = crm_sync("status", cwd=project, env=env)
    assert first.code == 0 and "No runs yet" in first.out
    assert json.loads(crm_sync("status", "--json", cwd=project, env=env).out) == {
        "runs": [], "failures": [], "failure_totals": {}, "field_warnings": {}}
    with open_state(database_url) as store:
        run_id = store.start_run("push", "newsletter")
        store.finish_run(run_id, "partial", {"created": 12, "rejected": 1})
    table = crm_sync("status", cwd=project, env=env)
    assert "newsletter" in table.out and "partial" in table.out and "created 12" in table.out
    runs = json.loads(crm_sync("status", "--json", cwd=project, env=env).out)["runs"]
    assert [(run["id"], run["outcome"], run["counts"]["created"]) for run in runs] == [(run_id, "partial", 12)]


def test_db_upgrade_reports_the_revision(project, database_url):
    result = crm_sync("db", "upgrade", cwd=project, env={"CRM_SYNC_STATE__URL": database_url})
    assert result.code == 0 and f"is at revision {head_revision()}" in result.out
