"""The CRM registry: which connector opens the CRM that ``crm.kind`` names. A new CRM is one line here."""

from __future__ import annotations

from collections.abc import Callable

from sync.connectors.crm import CrmPort
from sync.connectors.espocrm.crm import open_crm as open_espocrm
from sync.connectors.sql.crm import open_crm as open_sql_crm
from sync.connectors.vtiger.crm import open_vtiger
from sync.errors import ConfigError
from sync.settings import CrmSettings


def _open_sql(settings: CrmSettings) -> CrmPort:
    return open_sql_crm(settings.url.get_secret_value(), settings.schema_file)


def _open_vtiger(settings: CrmSettings) -> CrmPort:
    return open_vtiger(settings.base_url, settings.api_user,
                       settings.api_key.get_secret_value() if settings.api_key else None, settings.entity,
                       settings.timeout_seconds, settings.read_url.get_secret_value() if settings.read_url else None,
                       settings.retry_seconds)


CRM_KINDS: dict[str, Callable[[CrmSettings], CrmPort]] = {
    "sql": _open_sql,  # an SQL database described by a schema description (the embedded CRM by default)
    "espocrm": open_espocrm,  # EspoCRM over its REST API (crm.base_url, crm.api_key, crm.entity)
    "vtiger": _open_vtiger,  # vtiger 8.x: webservice, optionally contacts from its database (crm.read_url)
}


def open_crm(settings: CrmSettings) -> CrmPort:
    """Connect to the CRM the settings describe. Close it, or use it with ``with``."""
    opener = CRM_KINDS.get(settings.kind)
    if opener is None:
        raise ConfigError(f"crm.kind: unknown CRM kind {settings.kind!r}; known: {', '.join(sorted(CRM_KINDS))}")
    return opener(settings)
