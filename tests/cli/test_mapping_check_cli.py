"""`crm-sync mapping check` offline knows what the settings ask of the mapping file and the providers' limits."""

from __future__ import annotations

from tests.cli.run import crm_sync, project_copy


def test_offline_check_names_a_missing_section_and_a_section_over_the_field_limit(tmp_path):
    project = project_copy(tmp_path)
    assert crm_sync("demo", "init", "--contacts", "20", cwd=project).code == 0
    mapping = project / "config" / "mapping.yaml"
    extra = "".join(f"      EXTRA{i}: {{source: first_name, type: text}}\n" for i in range(20))
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("    fields:\n", "    fields:\n" + extra, 1),
                       encoding="utf-8")
    env = {"CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": "abc123",
           "CRM_SYNC_AUDIENCES__CUSTOMERS__AUDIENCE_ID": "def456"}

    result = crm_sync("mapping", "check", cwd=project, env=env)

    assert result.code == 3
    assert "audience customers uses mapping section 'customers', which the file lacks" in result.err
    assert "a mailchimp audience holds at most 30 (audience newsletter)" in result.err
