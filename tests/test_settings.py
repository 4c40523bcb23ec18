"""Settings: environment over secrets file over settings file over defaults; errors name variable and key."""

from __future__ import annotations

import pytest

from sync.errors import ConfigError
from sync.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("CRM_SYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file():
    settings = load_settings()
    assert settings.crm.url.get_secret_value() == "sqlite:///data/crm.db"
    assert settings.state.url.get_secret_value() == "sqlite:///data/state.db"


def test_default_settings_file_is_read(tmp_path):
    write(tmp_path / "config/sync.yaml", "crm:\n  chunk_size: 250\n")
    assert load_settings().crm.chunk_size == 250


def test_environment_beats_file(tmp_path, monkeypatch):
    config = write(tmp_path / "s.yaml", "crm:\n  chunk_size: 250\n")
    monkeypatch.setenv("CRM_SYNC_CRM__CHUNK_SIZE", "300")
    assert load_settings(config).crm.chunk_size == 300


def test_config_path_from_environment(tmp_path, monkeypatch):
    write(tmp_path / "elsewhere.yaml", "state:\n  url: sqlite:///x.db\n")
    monkeypatch.setenv("CRM_SYNC_CONFIG", str(tmp_path / "elsewhere.yaml"))
    assert load_settings().state.url.get_secret_value() == "sqlite:///x.db"


def test_secrets_file_is_read_and_secret_stays_hidden(tmp_path):
    secrets = write(tmp_path / "secrets.env", "CRM_SYNC_CRM__URL=postgresql://u:hunter2@db/crm\n")
    secrets.chmod(0o600)
    settings = load_settings(secrets_file=secrets)
    assert settings.crm.url.get_secret_value() == "postgresql://u:hunter2@db/crm"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


def test_wrong_value_names_variable_file_key_and_line(tmp_path):
    config = write(tmp_path / "s.yaml", "# settings\ncrm:\n  chunk_size: lots\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "CRM_SYNC_CRM__CHUNK_SIZE" in message
    assert "crm.chunk_size" in message and "line 3" in message and str(config) in message


def test_unknown_key_suggests_the_nearest(tmp_path):
    config = write(tmp_path / "s.yaml", "crm:\n  chunk_sise: 5\n")
    with pytest.raises(ConfigError, match=r"crm.chunk_sise: unknown setting \(did you mean 'chunk_size'\?\).*line 2"):
        load_settings(config)


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_bad_yaml_names_the_line(tmp_path):
    config = write(tmp_path / "s.yaml", "crm:\n  url: [unclosed\n")
    with pytest.raises(ConfigError, match=r"s.yaml:\d+: \(yaml\): not valid YAML"):
        load_settings(config)


def test_the_shipped_example_settings_file_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "config" / "sync.example.yaml"
    settings = load_settings(example)
    assert settings.audiences["newsletter"].leave_policy == "keep"


def test_a_spotler_audience_needs_its_consent_bits(tmp_path):
    config = write(tmp_path / "s.yaml", "audiences:\n  newsletter:\n    provider: spotler\n")
    with pytest.raises(ConfigError, match=r"audiences\.newsletter.*permission_bits"):
        load_settings(config)


def test_a_spotler_audience_refuses_reoptin_and_takes_secrets_from_the_environment(tmp_path, monkeypatch):
    config = write(tmp_path / "s.yaml",
                   "audiences:\n  newsletter:\n    provider: spotler\n    permission_bits: [1]\n    reoptin: true\n")
    with pytest.raises(ConfigError, match="re-subscribe someone who unsubscribed"):
        load_settings(config)
    write(config, "audiences:\n  newsletter:\n    provider: spotler\n    permission_bits: [1, 3]\n")
    monkeypatch.setenv("CRM_SYNC_SPOTLER__CONSUMER_SECRET", "top-secret")
    settings = load_settings(config)
    assert (settings.audiences["newsletter"].permission_bits == [1, 3]
            and settings.audiences["newsletter"].audience_id is None)
    assert settings.spotler.consumer_secret.get_secret_value() == "top-secret" and "top-secret" not in repr(settings)


def test_spotler_bulk_size_cannot_exceed_what_spotler_accepts(tmp_path):
    config = write(tmp_path / "s.yaml", "spotler:\n  batch_size: 500\n")
    with pytest.raises(ConfigError, match=r"spotler\.batch_size"):
        load_settings(config)


def test_an_audience_name_longer_than_the_state_store_keeps_is_a_setting_error(tmp_path):
    config = tmp_path / "sync.yaml"
    name = "newsletter_" + "x" * 90
    config.write_text(f"audiences:\n  {name}:\n    audience_id: abc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"audience name '{name}' has 101 characters; at most 100"):
        load_settings(config)
    config.write_text(f"audiences:\n  {name[:100]}:\n    audience_id: abc\n", encoding="utf-8")
    assert list(load_settings(config).audiences) == [name[:100]]
