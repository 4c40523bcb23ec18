"""One vtiger record (a row keyed by webservice field names) as a CrmContact, whichever path read it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sync.connectors.values import to_bool, to_datetime
from sync.connectors.vtiger.fields import VtigerField, field_values
from sync.records import Consent, CrmContact

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def crmid(record_id: str) -> int:
    """The number after the prefix: ``12x117`` → 117 (ordering key; -1 for a malformed id)."""
    _, _, number = str(record_id).partition("x")
    return int(number) if number.isdigit() else -1


def vtiger_time(moment: datetime) -> str:
    """An aware datetime as vtiger's UTC ``YYYY-MM-DD HH:MM:SS`` (naive means UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%M:%S")


def _opted_out(value: object) -> bool:
    """``emailoptout``: set unless it clearly says no (an unreadable flag stops mail)."""
    return value is not None and to_bool(value) is not False


def to_contact(row: dict[str, Any], fields: Sequence[VtigerField], deleted: bool = False,
               invalid_column: str | None = None, organisation_locked: bool = False) -> CrmContact:
    """A record as a CrmContact. vtiger has no e-mail consent field: ``email_opt_in`` is None (an audience's
    ``consent_field`` may name a custom checkbox instead); ``emailoptout`` is the opt-out; ``invalid_column``
    is a custom checkbox that marks a hard bounce, when the CRM has one; ``organisation_locked`` is the
    organisation's own ``emailoptout``."""
    modified = to_datetime(row.get("modifiedtime"))
    invalid = bool(invalid_column) and to_bool(row.get(invalid_column or "")) is True
    return CrmContact(
        id=str(row["id"]),
        email=str(row.get("email") or "") or None,
        fields=field_values(fields, row),
        consent=Consent(email_opt_in=None, email_opt_out=_opted_out(row.get("emailoptout", "0")),
                        email_invalid=invalid),
        modified_at=modified if isinstance(modified, datetime) else _EPOCH,
        deleted=deleted,
        organisation_id=str(row.get("account_id") or "") or None,
        organisation_locked=organisation_locked,
    )


def organisation_opted_out(value: object) -> bool:
    """An organisation's ``emailoptout``: its mailing lock (set unless it clearly says no)."""
    return _opted_out(value)


def fingerprint(module: str, fields: Sequence[VtigerField]) -> str:
    """A hash of what is read: the module and every field's name, column, type and choices."""
    text = "|".join([module] + [f"{spec.field.name}:{spec.column}:{spec.field.type}:{','.join(spec.field.choices)}"
                                for spec in fields])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
