"""Pure: the mapping's fields as Spotler Mail+ properties: which property types fit, and the values.

Spotler has no API to create properties, so a property the mapping names but the account lacks is
reported with the type to make it with in the Mail+ interface (`crm-sync mapping check --online`).
Values follow the account property's type: ``date``/``birthdate`` as ``YYYY-MM-DD`` (a birthday keeps
its year, unlike Mailchimp's), ``dateTime`` with an offset, ``int`` as a whole number, the rest as text.
Fields without a ``spotler:`` property name are not sent to Spotler. The e-mail address and the
permission bits are set by the push itself, never by the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sync.errors import RecordError
from sync.mapping.model import AudienceMapping, FieldMapping
from sync.mapping.model import ProviderFieldType as T
from sync.mapping.payload import field_value, raw_value, read_value
from sync.mapping.transforms import ConversionError, is_empty, to_date, to_number, to_text
from sync.records import CrmContact, FieldValue

# Spotler property types each mapping type can fill; the first is the one to create.
FITS: dict[T, tuple[str, ...]] = {
    T.TEXT: ("string",),
    T.NUMBER: ("int", "string"),
    T.DATE: ("date", "dateTime", "string"),
    T.BIRTHDAY: ("birthdate", "date", "string"),
    T.PHONE: ("mobNr", "string"),
    T.ZIP: ("postcode", "string"),
    T.URL: ("string",),
    T.IMAGEURL: ("string",),
    T.DROPDOWN: ("string", "gender"),
    T.RADIO: ("string", "gender"),
}
ADDRESS_PART_FITS = {"zip": ("postcode", "string")}
DATE_TYPES = frozenset({"date", "birthdate"})
DUTCH_POSTCODE = re.compile(r"[1-9][0-9]{3}\s?[A-Za-z]{2}")


@dataclass(frozen=True, slots=True)
class WantedProperty:
    """One Spotler property the mapping fills: from which field (and address part), and which types fit."""

    name: str
    tag: str
    part: str | None
    fits: tuple[str, ...]


@dataclass
class PropertyPlan:
    """The mapping against the account's properties: the types to format for, and what is wrong."""

    types: dict[str, str] = field(default_factory=dict)
    missing: list[WantedProperty] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # mapping fields without a spotler property


def wanted_properties(mapping: AudienceMapping) -> tuple[list[WantedProperty], list[str]]:
    """The properties the mapping fills, and the tags of the fields it does not send to Spotler."""
    wanted, unmapped = [], []
    for tag, mapped in mapping.fields.items():
        if mapped.spotler is None:
            unmapped.append(tag)
        elif isinstance(mapped.spotler, dict):
            wanted += [WantedProperty(name, tag, part, ADDRESS_PART_FITS.get(part, ("string",)))
                       for part, name in mapped.spotler.items()]
        else:
            wanted.append(WantedProperty(mapped.spotler, tag, None, FITS[mapped.type]))
    return wanted, unmapped


def plan_properties(mapping: AudienceMapping, account: Mapping[str, str], audience_name: str,
                    permission_bits: list[int], account_bits: Mapping[int, str]) -> PropertyPlan:
    """Compare the mapping with the account's properties (name -> Spotler type) and permission bits."""
    wanted, unmapped = wanted_properties(mapping)
    plan = PropertyPlan(unmapped=unmapped)
    seen: dict[str, str] = {}
    for prop in wanted:
        where = f"audience {audience_name}: {prop.tag}" + (f".{prop.part}" if prop.part else "")
        if prop.name in seen:
            plan.conflicts.append(f"{where}: Spotler property {prop.name} is already filled by {seen[prop.name]}")
            continue
        seen[prop.name] = prop.tag
        have = account.get(prop.name)
        if have is None:
            plan.missing.append(prop)
        elif have not in prop.fits:
            plan.conflicts.append(f"{where}: Spotler property {prop.name} is of type {have}, which this field "
                                  f"cannot fill; it fits {' or '.join(prop.fits)}")
        else:
            plan.types[prop.name] = have
            decimals = mapping.fields[prop.tag].decimals
            if have == "int" and decimals:
                plan.conflicts.append(f"{where}: Spotler property {prop.name} holds whole numbers; set "
                                      f"decimals: 0 in the mapping or use a string property")
    if plan.missing:
        listed = ", ".join(f"{p.name} ({p.fits[0]})" for p in plan.missing)
        plan.conflicts.append(f"audience {audience_name}: the Spotler account lacks the propert(ies) {listed}. "
                              "Spotler has no API to create them: add them in Mail+ (Contacts > Properties) "
                              "with these types, or remove spotler: from those fields")
    unknown_bits = [bit for bit in permission_bits if bit not in account_bits]
    if unknown_bits:
        known = ", ".join(f"{bit} ({name})" for bit, name in account_bits.items()) or "none"
        plan.conflicts.append(f"audience {audience_name}: permission_bits {unknown_bits} are not permission bits "
                              f"of the Spotler account (it has {known})")
    return plan


def build_properties(contact: CrmContact, mapping: AudienceMapping, types: Mapping[str, str]) -> dict[str, object]:
    """The Spotler property values for one contact, by property name (JSON-serialisable).

    Raises ``RecordError(contact.id, "invalid_field_value", ...)`` naming the field and the value.
    """
    properties: dict[str, object] = {}
    for tag, mapped in mapping.fields.items():
        if mapped.spotler is None:
            continue
        try:
            if isinstance(mapped.spotler, dict) and isinstance(mapped.source, dict):
                for part, name in mapped.spotler.items():
                    text = to_text(read_value(contact.fields, mapped.source[part], mapped.trim))
                    properties[name] = _checked_text(text, types.get(name, "string"))
            elif isinstance(mapped.spotler, str):
                properties[mapped.spotler] = property_value(mapped, contact.fields, types.get(mapped.spotler, "string"))
        except ConversionError as exc:
            raise RecordError(contact.id, "invalid_field_value",
                              f"{tag} (from {', '.join(mapped.source_fields)}): {exc}") from None
    return properties


def property_value(mapped: FieldMapping, values: Mapping[str, FieldValue], kind: str) -> object:
    """One field's value for a Spotler property of type ``kind``. Empty clears the property."""
    raw = raw_value(mapped, values)
    if is_empty(raw) and mapped.default is None:
        return ""
    if kind in DATE_TYPES:
        return to_date(raw).isoformat()
    if kind == "dateTime":
        return _datetime_text(raw)
    if kind == "int":
        return to_number(mapped.default if is_empty(raw) else raw, 0)
    return _checked_text(to_text(field_value(mapped, values)), kind)


def _checked_text(text: str, kind: str) -> str:
    if text and kind == "postcode" and not DUTCH_POSTCODE.fullmatch(text.strip()):
        raise ConversionError(f"{text!r} is not a Dutch postcode (1234 AB), which a Spotler postcode property "
                              "requires; map foreign postcodes to a string property")
    return text


def _datetime_text(raw: FieldValue) -> str:
    if isinstance(raw, datetime):
        return raw.isoformat(timespec="seconds") if raw.tzinfo else raw.isoformat(timespec="seconds") + "+00:00"
    return f"{to_date(raw).isoformat()}T00:00:00+00:00"
