"""The EspoCRM connector: the CRM port over EspoCRM's REST API (``crm.kind: espocrm``).

Contacts are the records of ``crm.entity`` (Contact by default, or Lead); ids are EspoCRM's own. E-mail consent
(opt-in) is never invented: EspoCRM has no such field, so it is unknown (None) and an audience names a custom
checkbox field as its consent field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sync.connectors.espocrm.client import EspoClient
from sync.connectors.espocrm.fields import EntityFields, entity_fields
from sync.connectors.espocrm.flags import set_flags
from sync.connectors.espocrm.history import HistoryWriter
from sync.connectors.espocrm.read import ContactReader
from sync.connectors.espocrm.where import NOTHING, contact_where
from sync.errors import ConfigError
from sync.records import ActivityRecord, ContactFlags, CrmContact, CrmField
from sync.segments.model import Condition
from sync.settings import CrmSettings

ENTITIES = ("Contact", "Lead")


class EspoCrm:
    """An EspoCRM reached over its API. Close it, or use it with ``with``."""

    history_per_event = True  # EspoCRM's campaign log is a log of single events

    def __init__(self, client: EspoClient, entity: str = "Contact"):
        if entity not in ENTITIES:
            raise ConfigError(f"crm.entity: EspoCRM contacts are read from Contact or Lead, not {entity!r}")
        self.client = client
        self.entity = entity
        self._fields: EntityFields | None = None
        self._history = HistoryWriter(client, entity)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> EspoCrm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _entity_fields(self) -> EntityFields:
        if self._fields is None:
            metadata = self.client.get("Metadata", params={"key": f"entityDefs.{self.entity}.fields"})
            if not isinstance(metadata, dict) or not metadata:
                raise ConfigError(f"crm.base_url: EspoCRM at {self.client.root} gave no field metadata of "
                                  f"{self.entity}: is it EspoCRM, and may the API user read {self.entity}?")
            self._fields = entity_fields(self.entity, metadata)
        return self._fields

    def _reader(self) -> ContactReader:
        return ContactReader(self.client, self._entity_fields())

    # ContactReads

    def describe_fields(self) -> list[CrmField]:
        """The stored scalar fields of the entity, custom (``c…``) ones included, by name."""
        return list(self._entity_fields().fields)

    def schema_fingerprint(self) -> str:
        """A hash of the entity and its field metadata."""
        return self._entity_fields().fingerprint

    def target_lists(self) -> list[tuple[str, str]]:
        """(id, name) of every target list, by id."""
        return [(row["id"], str(row.get("name") or "")) for page in self.client.pages(
            "TargetList", {"select": ["id", "name"], "orderBy": "id", "order": "asc"}) for row in page]

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        """Every record (of one target list), in id order, read up to 200 a request."""
        return self._reader().iter_contacts(chunk_size, list_id)

    # FilteredReads

    def iter_contacts_matching(self, condition: Condition, chunk_size: int = 1000) -> Iterator[CrmContact]:
        """Every record that may meet ``condition``, in id order: the parts EspoCRM can filter go into the
        ``where`` of the same keyset pages (``sync/connectors/espocrm/where.py``), the rest counts as met."""
        reader = self._reader()
        matching = contact_where(condition, self._entity_fields().espo_types)
        if matching is NOTHING:
            return iter(())
        return reader.iter_contacts(chunk_size, None, matching if isinstance(matching, dict) else None)

    def count_contacts(self, list_id: str | None = None) -> int:
        return self._reader().count(list_id)

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        """Ids whose ``modifiedAt`` (or their account's) is at or after ``since``'s second; None over ``limit``."""
        return self._reader().changed(since, limit)

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        return self._reader().by_ids(contact_ids, chunk_size)

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        """Ids per normalised address (primary or secondary). Deleted records are invisible to the API."""
        return self._reader().by_email(emails)

    def shared_emails(self) -> set[str]:
        return self._reader().shared_emails()

    # HistoryWrites

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        return self._reader().existing(contact_ids)

    def contact_owners(self, contact_ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """Per contact: its account id (None for a lead) and name."""
        return self._reader().owners(contact_ids)

    def write_activities(self, records: Iterable[ActivityRecord]) -> int:
        """Per-event records → CampaignLogRecords, organisation entries → account Notes; each key once."""
        return self._history.write(records, self.existing_contacts)

    def set_flags(self, flags: Iterable[ContactFlags]) -> int:
        return set_flags(self.client, self.entity, flags)

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        return self._history.history_of(contact_id)


def open_crm(settings: CrmSettings) -> EspoCrm:
    """The EspoCRM the settings name; ConfigError for a missing base_url or api_key."""
    if not settings.base_url:
        raise ConfigError("crm.base_url: set EspoCRM's web address (e.g. https://crm.example.org) for kind espocrm")
    if settings.api_key is None or not settings.api_key.get_secret_value():
        raise ConfigError("crm.api_key: set the API key of EspoCRM's API user for kind espocrm")
    secret = settings.api_secret.get_secret_value() if settings.api_secret else None
    client = EspoClient(settings.base_url, settings.api_key.get_secret_value(), secret or None,
                        timeout=settings.timeout_seconds, retry_seconds=settings.retry_seconds)
    return EspoCrm(client, settings.entity or "Contact")
