"""Hostile or broken settings, mapping and secrets files, and unreadable variables: each is one clear
ConfigError naming the file (and line) or the variable, in bounded memory, before any network call."""

from __future__ import annotations

import logging
import os
import tracemalloc
from pathlib import Path

import pytest

from sync.errors import ConfigError, ProblemsFound
from sync.mapping.load import load_mapping
from sync.settings import load_settings
from sync.yamlfile import MAX_FILE_BYTES
from tests.cli.run import crm_sync, project_copy

MEMORY_BOUND = 64 * 1024 * 1024  # bytes Python may allocate while refusing one file


def _bomb(levels: int = 9) -> str:
    """The "billion laughs": each anchor repeats the previous one nine times (9**levels values)."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


HOSTILE_YAML = {
    "alias bomb": (_bomb(), "expands to more than", 6),  # 9**6 values pass the limit on line 6
    "deep nesting": ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than 64 levels", 1),
    "python object tag": ("audiences: !!python/object:os.system echo\n", "tag tag:yaml.org,2002:python/object", 1),
    "custom tag": ("crm:\n  url: !vault secret/crm\n", "the tag !vault is not allowed", 2),
    "oversized": ("# padding\n" * (MAX_FILE_BYTES // 10 + 1), "larger than 2048 kB", None),
    "not utf-8": ("audiences:\n  news:\n    title: caf\udce9\n", "not UTF-8 text (byte 0xe9)", 3),
    "NUL byte": ("crm:\n  chunk_size: {a: 1\x00}\n", "character #x0000 is not allowed in a YAML file", 2),
    "bell character": ("crm:\n  url: a\x07b\n", "character #x0007 is not allowed in a YAML file", 2),
}


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return path


def _load_both(path: Path):
    """Refusals from the mapping loader and from the settings loader for the same file."""
    for load in (load_mapping, lambda file: load_settings(file)):
        tracemalloc.start()
        try:
            with pytest.raises(ConfigError) as refused:
                load(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        yield refused.value, peak


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_a_hostile_yaml_file_is_refused_with_its_file_and_line_in_bounded_memory(tmp_path, case):
    text, message, line = HOSTILE_YAML[case]
    path = _write(tmp_path / "hostile.yaml", text)
    for error, peak in _load_both(path):
        assert message in str(error)
        assert str(path) in str(error)
        if line is not None:
            assert isinstance(error, ProblemsFound) and error.problems[0].line == line
        assert peak < MEMORY_BOUND


def test_anchors_within_the_limits_still_work(tmp_path):
    path = _write(tmp_path / "sync.yaml", "mailchimp: &http\n  timeout_seconds: 30\nspotler:\n  <<: *http\n"
                                          "  page_size: 500\n")
    settings = load_settings(path)
    assert (settings.mailchimp.timeout_seconds, settings.spotler.timeout_seconds) == (30, 30)
    assert settings.spotler.page_size == 500


@pytest.mark.parametrize(("variables", "named"), [
    ({"CRM_SYNC_AUDIENCES__NEWS__PERMISSION_BITS": "notalist", "CRM_SYNC_AUDIENCES__NEWS__PROVIDER": "spotler"},
     "CRM_SYNC_AUDIENCES__NEWS__PERMISSION_BITS"),
    ({"CRM_SYNC_STATE": "text"}, "cannot read CRM_SYNC_STATE "),
])
def test_a_variable_that_cannot_be_parsed_is_named_without_its_value(monkeypatch, variables, named):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert named in str(refused.value) and "JSON" in str(refused.value)
    assert "notalist" not in str(refused.value) and "text," not in str(refused.value)


@pytest.mark.parametrize("url", ["htp://nowhere", "nowhere.example/3.0", "https:///3.0", "mailchimp"])
@pytest.mark.parametrize("provider", ["MAILCHIMP", "SPOTLER"])
def test_a_malformed_base_url_is_a_configuration_error(monkeypatch, url, provider):
    monkeypatch.setenv(f"CRM_SYNC_{provider}__BASE_URL", url)
    with pytest.raises(ConfigError, match=f"not an http\\(s\\) URL with a host.*CRM_SYNC_{provider}__BASE_URL"):
        load_settings()


def test_a_secrets_file_readable_by_others_is_refused_with_the_chmod_to_run(tmp_path, monkeypatch, caplog):
    secrets = _write(tmp_path / "secrets.env", "CRM_SYNC_MAILCHIMP__API_KEY=0123abcd-us1\n")
    secrets.chmod(0o644)
    with pytest.raises(ConfigError, match=f"run `chmod 600 {secrets}`"):
        load_settings(secrets_file=secrets)

    monkeypatch.setenv("CRM_SYNC_SECRETS_FILE_READABLE", "warn")
    with caplog.at_level(logging.WARNING):
        settings = load_settings(secrets_file=secrets)
    assert settings.mailchimp.api_key.get_secret_value() == "0123abcd-us1"
    assert "can be read by other users" in caplog.text and "0123abcd" not in caplog.text

    monkeypatch.delenv("CRM_SYNC_SECRETS_FILE_READABLE")
    secrets.chmod(0o600)
    assert load_settings(secrets_file=secrets).mailchimp.api_key.get_secret_value() == "0123abcd-us1"


def test_a_secrets_file_that_is_not_utf8_names_file_and_line(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_bytes(b"CRM_SYNC_CRM__URL=sqlite:///crm.db\nCRM_SYNC_MAILCHIMP__API_KEY=\xff\xfe-us1\n")
    secrets.chmod(0o600)
    with pytest.raises(ProblemsFound, match=f"{secrets}:2: .*not UTF-8 text"):
        load_settings(secrets_file=secrets)


def test_the_cli_refuses_a_bomb_and_a_bad_url_with_exit_3(tmp_path):
    project = project_copy(tmp_path)
    _write(project / "config" / "mapping.yaml", _bomb())
    bomb = crm_sync("mapping", "check", cwd=project)
    assert bomb.code == 3 and "expands to more than" in bomb.err

    bad_url = crm_sync("push", cwd=project, env={"CRM_SYNC_MAILCHIMP__BASE_URL": "htp://nowhere"}, timeout=60)
    assert bad_url.code == 3 and "CRM_SYNC_MAILCHIMP__BASE_URL" in bad_url.err
