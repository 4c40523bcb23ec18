"""EspoCRM field metadata as crm-sync fields, and record values as Python types.

Fields come from ``GET Metadata?key=entityDefs.<Entity>.fields``: the stored scalar ones (links, composite
address/name parts' containers and derived flags are left out); custom ones carry EspoCRM's ``c`` prefix and
``isCustom: true``. A value that cannot be converted is handed over as text, as the SQL connector does: the
mapping then rejects it with the contact's id, and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.connectors.values import CONVERTERS
from sync.records import CrmField, CrmFieldType, FieldValue

ESPO_TYPES: dict[str, CrmFieldType] = {
    "varchar": CrmFieldType.TEXT, "text": CrmFieldType.TEXT, "url": CrmFieldType.TEXT,
    "personName": CrmFieldType.TEXT, "barcode": CrmFieldType.TEXT, "wysiwyg": CrmFieldType.TEXT,
    "email": CrmFieldType.EMAIL, "phone": CrmFieldType.PHONE,
    "enum": CrmFieldType.DROPDOWN,
    "bool": CrmFieldType.CHECKBOX,
    "int": CrmFieldType.NUMBER, "float": CrmFieldType.NUMBER, "currency": CrmFieldType.NUMBER,
    "autoincrement": CrmFieldType.NUMBER,
    "date": CrmFieldType.DATE,
    "datetime": CrmFieldType.DATETIME, "datetimeOptional": CrmFieldType.DATETIME,
}
# Read for every contact but not offered as mapping fields (crm-sync uses them itself).
_OWN = {"emailAddressIsOptedOut", "emailAddressIsInvalid", "phoneNumberIsOptedOut", "phoneNumberIsInvalid"}
# Organisation fields a contact list carries (Contact only).
_ACCOUNT_FIELDS = (CrmField("accountName", "Account name", CrmFieldType.TEXT),)


@dataclass(frozen=True, slots=True)
class EntityFields:
    """The fields of the contact entity as read and offered."""

    entity: str
    fields: tuple[CrmField, ...]
    fingerprint: str
    espo_types: Mapping[str, str] = field(default_factory=dict)  # EspoCRM's type of each field, by name

    @property
    def names(self) -> list[str]:
        return [field.name for field in self.fields]

    def converters(self) -> list[tuple[str, Callable[[object], FieldValue]]]:
        return [(field.name, CONVERTERS[field.type]) for field in self.fields]


def _label(name: str, spec: Mapping[str, Any]) -> str:
    if isinstance(spec.get("label"), str):
        return spec["label"]
    bare = name[1:] if spec.get("isCustom") and name[:1] == "c" and name[1:2].isupper() else name
    words = "".join(f" {char}" if char.isupper() else char for char in bare).strip()
    return words[:1].upper() + words[1:]


def entity_fields(entity: str, metadata: Mapping[str, Any]) -> EntityFields:
    """The mapping fields of ``entity`` from its ``entityDefs.<Entity>.fields`` metadata, ordered by name."""
    fields, espo_types = [], {}
    for name, spec in sorted(metadata.items()):
        if not isinstance(spec, Mapping) or name in _OWN:
            continue
        field_type = ESPO_TYPES.get(str(spec.get("type")))
        if field_type is None or spec.get("notStorable") or spec.get("disabled") or spec.get("utility"):
            continue
        choices = tuple(str(option) for option in spec.get("options") or () if option not in ("", None)) \
            if field_type is CrmFieldType.DROPDOWN else ()
        fields.append(CrmField(name, _label(name, spec), field_type, choices, custom=bool(spec.get("isCustom"))))
        espo_types[name] = str(spec.get("type"))
    if entity == "Contact":
        fields.extend(_ACCOUNT_FIELDS)
    text = json.dumps([entity, sorted(metadata.items(), key=lambda item: item[0])], sort_keys=True, default=str)
    return EntityFields(entity, tuple(fields), hashlib.sha256(text.encode("utf-8")).hexdigest(), espo_types)


def espo_time(value: datetime) -> str:
    """An aware time as EspoCRM writes it: UTC ``YYYY-MM-DD HH:MM:SS`` (naive counts as UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: object) -> datetime | None:
    """EspoCRM's UTC ``YYYY-MM-DD HH:MM:SS`` as an aware datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text.strip() or text.startswith("0000-00-00"):
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
    except ValueError:
        return None
