"""Pure: one CRM contact + one audience mapping -> the provider field values, and their stable hash.

Empty CRM values (None, or text that is only whitespace) become the field's ``default`` when it has
one, else ``""``, which clears the provider field: the CRM is the source of the mapped fields. A CRM
field missing from ``contact.fields`` counts as empty (``check_mapping`` catches misspelt sources).
The e-mail address is not part of the payload: it is the member's identity, handled by the push.

One bad value costs only that value: a field whose value cannot be converted (text in a number field,
``2023-02-30``, a choice without translation, NUL, too long for the provider) is left out of the payload,
so the provider keeps what it holds (it is never cleared), and the contact is still synced; the problem
is a ``FieldWarning`` that the push records and counts. Control characters are stripped from text, also
with a warning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

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
    clean_text,
    format_date,
    is_empty,
    join_text,
    to_number,
    to_text,
    translate_choice,
)
from sync.records import CrmContact, FieldValue

ProviderValue = str | int | float | dict[str, str]
# Mailchimp keeps at most 255 characters in a text merge field (and in each part of an address).
MAILCHIMP_TEXT_LIMIT = 255


@dataclass(frozen=True, slots=True)
class FieldWarning:
    """One field of one contact that was left out of the payload (``left_out``) or sent cleaned."""

    field: str  # the provider field (merge tag or property name)
    sources: str  # the CRM field(s) it reads
    problem: str  # a code: not_a_number, not_a_date, unknown_choice, nul_character, too_long, control_characters, ...
    detail: str  # what was wrong, with an excerpt of the value

    @property
    def left_out(self) -> bool:
        return self.problem != "control_characters"

    def text(self) -> str:
        """One line for logs, `why` and `plan`."""
        effect = "left out, the provider keeps its value" if self.left_out else "sent without them"
        return f"{self.field} (from {self.sources}): {self.detail}; {effect}"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "sources": self.sources, "problem": self.problem, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Payload:
    """The provider values of one contact and the problems met while converting them."""

    values: dict[str, object]
    warnings: tuple[FieldWarning, ...] = ()


class PayloadBuilder:
    """Collects converted field values: a value that cannot be converted becomes a warning, not an error."""

    def __init__(self, max_text: int | None = None):
        self.max_text = max_text
        self.values: dict[str, object] = {}
        self.warnings: list[FieldWarning] = []

    def add(self, name: str, mapped: FieldMapping, convert: Callable[[], object], sources: str | None = None) -> None:
        """Set ``name`` to ``convert()``, cleaned; on a ``ConversionError`` leave it out with a warning.
        ``sources`` names the CRM field(s) read, when not all of the mapped field's."""
        try:
            value, stripped = _cleaned(convert(), self.max_text)
        except ConversionError as error:
            self.warnings.append(FieldWarning(name, sources or ", ".join(mapped.source_fields), error.code,
                                              str(error)))
            return
        if stripped:
            self.warnings.append(FieldWarning(name, sources or ", ".join(mapped.source_fields), "control_characters",
                                              f"{stripped} control character(s) removed"))
        self.values[name] = value

    def payload(self) -> Payload:
        return Payload(self.values, tuple(self.warnings))


def build_payload(contact: CrmContact, audience: AudienceMapping, max_text: int | None = MAILCHIMP_TEXT_LIMIT
                  ) -> Payload:
    """The provider field values for one contact, by tag, in mapping order (JSON-serialisable), with the
    warnings of the fields left out or cleaned."""
    builder = PayloadBuilder(max_text)
    for tag, field in audience.fields.items():
        builder.add(tag, field, partial(field_value, field, contact.fields))
    return builder.payload()


def _cleaned(value: object, max_text: int | None) -> tuple[object, int]:
    """Text (or each text part of an address) without control characters, and how many were removed."""
    if isinstance(value, str):
        return clean_text(value, max_text)
    if isinstance(value, dict):
        parts, removed = {}, 0
        for part, text in value.items():
            parts[part], count = _cleaned(text, max_text)
            removed += count
        return parts, removed
    return value, 0


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
    parts = dict.fromkeys(ADDRESS_PARTS, "")
    for part, name in source.items():
        parts[part] = to_text(read_value(values, name, trim))
    # Without street, city and zip there is no address to send (a country alone is common in CRMs).
    if not any(parts[p].strip() for p in REQUIRED_ADDRESS_PARTS):
        return ""
    missing = [f"{p} ({source[p]})" for p in REQUIRED_ADDRESS_PARTS if not parts[p].strip()]
    if missing:
        raise ConversionError(
            f"incomplete address {parts!r}: {', '.join(missing)} empty; Mailchimp rejects an address without "
            "addr1, city, state and zip", "incomplete_address"
        )
    return parts
