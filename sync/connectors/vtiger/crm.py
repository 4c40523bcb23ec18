"""The vtiger CRM connector: contacts read through the webservice (or, with ``crm.read_url``, from vtiger's
database, read-only), history and flags written through the webservice as ModComments and ``revise``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sync.connectors.vtiger.client import VtigerClient
from sync.connectors.vtiger.history import WebserviceHistory
from sync.connectors.vtiger.reads import WebserviceReads
from sync.errors import ConfigError
from sync.records import ActivityRecord, ContactFlags, CrmContact, CrmField

MODULES = ("Contacts", "Leads")


class VtigerCrm:
    """One vtiger: ``reads`` answers ContactReads, ``history`` HistoryWrites. Close it, or use ``with``."""

    history_per_event = False  # one comment per contact and campaign, revised as events arrive

    def __init__(self, client: VtigerClient, module: str = "Contacts", database: Any = None):
        self.client = client
        self.webservice = WebserviceReads(client, module)
        self.history = WebserviceHistory(client, self.webservice)
        self.database = database
        self.reads: Any = database if database is not None else self.webservice

    def close(self) -> None:
        self.client.close()
        if self.database is not None:
            self.database.close()

    def __enter__(self) -> VtigerCrm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ContactReads
    def describe_fields(self) -> list[CrmField]:
        return self.reads.describe_fields()

    def target_lists(self) -> list[tuple[str, str]]:
        return self.reads.target_lists()

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        return self.reads.iter_contacts(chunk_size, list_id)

    def count_contacts(self, list_id: str | None = None) -> int:
        return self.reads.count_contacts(list_id)

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        return self.reads.changed_contact_ids(since, limit)

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        return self.reads.contacts_by_ids(contact_ids, chunk_size)

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        return self.reads.contacts_by_email(emails, include_deleted)

    def shared_emails(self) -> set[str]:
        return self.reads.shared_emails()

    def schema_fingerprint(self) -> str:
        return self.reads.schema_fingerprint()

    # HistoryWrites
    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        return self.history.existing_contacts(contact_ids)

    def contact_owners(self, contact_ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        return self.history.contact_owners(contact_ids)

    def write_activities(self, records: Iterable[ActivityRecord]) -> int:
        return self.history.write_activities(records)

    def set_flags(self, flags: Iterable[ContactFlags]) -> int:
        return self.history.set_flags(flags)

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        return self.history.history_of(contact_id)


def open_vtiger(base_url: str | None, api_user: str | None, api_key: str | None, entity: str | None = None,
                timeout_seconds: float = 30.0, read_url: str | None = None,
                retry_seconds: float = 120.0) -> VtigerCrm:
    """Check the settings and connect (logging in happens on the first request)."""
    for setting, value in (("crm.base_url", base_url), ("crm.api_user", api_user), ("crm.api_key", api_key)):
        if not value or not str(value).strip():
            raise ConfigError(f"{setting} is required for crm.kind vtiger")
    module = entity or "Contacts"
    if module not in MODULES:
        raise ConfigError(f"crm.entity {module!r}: vtiger contacts are Contacts or Leads")
    assert base_url and api_user and api_key
    client = VtigerClient(base_url, api_user, api_key, timeout_seconds, retry_seconds)
    database = None
    if read_url:
        from sync.connectors.vtiger.database import DatabaseReads
        try:
            database = DatabaseReads(read_url, module, WebserviceReads(client, module))
        except BaseException:
            client.close()
            raise
    return VtigerCrm(client, module, database)
