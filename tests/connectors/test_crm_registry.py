"""Opening the configured CRM through the registry: the kind the settings name, or a clear error."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from sync.connectors.crm_registry import CRM_KINDS, open_crm
from sync.demo.crm.generate import create_demo_crm
from sync.errors import ConfigError
from sync.settings import CrmSettings


def test_the_sql_kind_opens_the_described_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(url, contacts=20, seed=3)
    with open_crm(CrmSettings(kind="sql", url=SecretStr(url))) as crm:
        assert crm.count_contacts() == 20
        assert {field.name for field in crm.describe_fields()} >= {"email", "first_name"}


def test_an_unknown_kind_names_the_setting_and_the_known_kinds():
    with pytest.raises(ConfigError, match=r"crm.kind: unknown CRM kind 'salesforce'; known: espocrm, sql, vtiger"):
        open_crm(CrmSettings(kind="salesforce"))
    assert {"sql", "espocrm", "vtiger"} <= set(CRM_KINDS)
