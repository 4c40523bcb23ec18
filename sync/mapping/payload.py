"""Pure: one CRM contact + one audience mapping -> the provider field values, and their stable hash.

Empty CRM values (None, or text that is only whitespace) become the field's ``default`` when it has
one, else ``""``, which clears the provider field: the CRM is the source of the mapped fields. A CRM
field missing from ``contact.fields`` counts as empty (``check_mapping`` catches misspelt sources).
The e-mail address is not part of the payload: it is the member's identity, handled by the push.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from sync.errors import RecordError
from sync.mapping.model import (
    ADDRESS_PARTS,
    CHOICE_TYPES,
    DATE_FORMATS_BY_TYPE,
    REQUIRED_ADDRESS_PARTS,
    AudienceMapping,
    FieldMapping,
)
from sync.mapping.model import ProviderFieldType as T
from sync.mapping.transforms import (
    ConversionError,
    apply_case,
    format_date,
    is_empty,
    join_text,
    to_number,
    to_text,
    translate_choice,
)
from sync.records import CrmContact, FieldValue

ProviderValue = str | int | float | dict[str, str]


def build_payload(contact: CrmContact, audience: AudienceMapping) -> dict[str, object]:
    """The provider field values for one contact, by tag, in mapping order (JSON-serialisable).

    Raises ``RecordError(contact.id, "invalid_field_value", ...)`` naming the field and the value when a
    value cannot be converted; the caller records it and carries on with the other contacts.
    """
    payload: dict[str, object] = {}
    for tag, field in audience.fields.items():
        try:
            payload[tag] = field_value(field, contact.fields)
        except ConversionError as exc:
            sources = ", ".join(field.source_fields)
            raise RecordError(contact.id, "invalid_field_value", f"{tag} (from {sources}): {exc}") from None
    return payload


def payload_hash(payload: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the payload's canonical JSON: sorted keys, no spaces, UTF-8."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def field_value(field: FieldMapping, values: Mapping[str, FieldValue]) -> ProviderValue:
    """The provider value of one field, from a contact's CRM values. Raises ``ConversionError``."""
    if isinstance(field.source, dict):  # the model allows a map of parts for address fields only
        return _address(field.source, field.trim, values)
    raw = raw_value(field, values)
    if is_empty(raw):
        return "" if field.default is None else field.default
    kind = field.type
    if kind is T.NUMBER:
        return to_number(raw, field.decimals)
    if kind in DATE_FORMATS_BY_TYPE:
        return format_date(raw, field.date_format or "")
    if kind in CHOICE_TYPES:
        return translate_choice(raw, field.choices) if field.choices else to_text(raw)
    return apply_case(to_text(raw), field.case)


def raw_value(field: FieldMapping, values: Mapping[str, FieldValue]) -> FieldValue:
    """The CRM value a (non-address) field reads: one field, or several joined as text; trimmed if asked."""
    if isinstance(field.source, tuple):
        return join_text((read_value(values, name, field.trim) for name in field.source), field.join or " ")
    return read_value(values, field.source_fields[0], field.trim)


def read_value(values: Mapping[str, FieldValue], name: str, trim: bool) -> FieldValue:
    """One CRM value by field name (missing counts as empty), trimmed if asked."""
    value = values.get(name)
    return value.strip() if trim and isinstance(value, str) else value


def _address(source: Mapping[str, str], trim: bool, values: Mapping[str, FieldValue]) -> dict[str, str] | str:
    parts = {part: "" for part in ADDRESS_PARTS}
    for part, name in source.items():
        parts[part] = to_text(read_value(values, name, trim))
    # Without street, city and zip there is no address to send (a country alone is common in CRMs).
    if not any(parts[p].strip() for p in REQUIRED_ADDRESS_PARTS):
        return ""
    missing = [f"{p} ({source[p]})" for p in REQUIRED_ADDRESS_PARTS if not parts[p].strip()]
    if missing:
        raise ConversionError(
            f"incomplete address {parts!r}: {', '.join(missing)} empty; Mailchimp rejects an address without "
            "addr1, city, state and zip"
        )
    return parts
