"""Pure: the mapping's fields as Spotler Mail+ properties: which property types fit, and the values.

Spotler has no API to create properties, so a property the mapping names but the account lacks is
reported with the type to make it with in the Mail+ interface (`crm-sync mapping check --online`).
Values follow the account property's type: ``date``/``birthdate`` as ``YYYY-MM-DD`` (a birthday keeps
its year, unlike Mailchimp's), ``dateTime`` with an offset, ``int`` as a whole number, ``set`` as every entry's
bit switched on or off (the field's value names entries by description; several separated by commas, as a
multi-select field holds them), the rest as text.
Fields without a ``spotler:`` property name are not sent to Spotler. The e-mail address and the
permission bits are set by the push itself, never by the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sync.mapping.model import AudienceMapping, FieldMapping
from sync.mapping.model import ProviderFieldType as T
from sync.mapping.payload import (
    Payload,
    PayloadBuilder,
    field_value,
    raw_value,
    read_value,
)
from sync.mapping.transforms import (
    ConversionError,
    is_empty,
    to_date,
    to_number,
    to_text,
)
from sync.records import CrmContact, FieldValue

# Spotler property types each mapping type can fill; the first is the one to create.
FITS: dict[T, tuple[str, ...]] = {
    T.TEXT: ("string", "set"),
    T.NUMBER: ("int", "string"),
    T.DATE: ("date", "dateTime", "string"),
    T.BIRTHDAY: ("birthdate", "date", "string"),
    T.PHONE: ("mobNr", "string"),
    T.ZIP: ("string", "postcode"),  # a postcode property takes Dutch postcodes only: advise string
    T.URL: ("string",),
    T.IMAGEURL: ("string",),
    T.DROPDOWN: ("string", "gender", "set"),
    T.RADIO: ("string", "gender", "set"),
}
ADDRESS_PART_FITS = {"zip": ("string", "postcode")}
# Spotler's contact API documents no length for string properties; its specification holds property values to
# 255 characters where it says (product properties), and so does the sandbox: text longer is left out.
SPOTLER_TEXT_LIMIT = 255
DATE_TYPES = frozenset({"date", "birthdate"})
DUTCH_POSTCODE = re.compile(r"[1-9][0-9]{3}\s?[A-Za-z]{2}")
SET_SEPARATORS = re.compile(r"\s*(?:,|;|\|##\|)\s*")  # commas, semicolons, vtiger's multi-select " |##| "


@dataclass(frozen=True)
class SpotlerAccount:
    """What ``contact/properties/list`` says of an account: property types by name, the permission bits, and
    the entries (bit -> description) of its ``set`` properties."""

    types: Mapping[str, str]
    permission_bits: Mapping[int, str] = field(default_factory=dict)
    entries: Mapping[str, Mapping[int, str]] = field(default_factory=dict)


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
    entries: dict[str, Mapping[int, str]] = field(default_factory=dict)  # the set properties the mapping fills
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
        elif mapped.type is T.NUMBER and mapped.decimals:
            # An int property cannot hold decimals: advise a string for numbers that have them.
            wanted.append(WantedProperty(mapped.spotler, tag, None, ("string", "int")))
        else:
            wanted.append(WantedProperty(mapped.spotler, tag, None, FITS[mapped.type]))
    return wanted, unmapped


def plan_properties(mapping: AudienceMapping, account: SpotlerAccount, audience_name: str,
                    permission_bits: list[int]) -> PropertyPlan:
    """Compare the mapping with the account's properties and permission bits."""
    wanted, unmapped = wanted_properties(mapping)
    plan = PropertyPlan(unmapped=unmapped)
    seen: dict[str, str] = {}
    for prop in wanted:
        where = f"audience {audience_name}: {prop.tag}" + (f".{prop.part}" if prop.part else "")
        if prop.name in seen:
            plan.conflicts.append(f"{where}: Spotler property {prop.name} is already filled by {seen[prop.name]}")
            continue
        seen[prop.name] = prop.tag
        have = account.types.get(prop.name)
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
            if have == "set":
                plan.entries[prop.name] = account.entries.get(prop.name, {})
                plan.conflicts += _missing_entries(where, prop.name, mapping.fields[prop.tag],
                                                   plan.entries[prop.name])
    if plan.missing:
        listed = ", ".join(f"{p.name} ({p.fits[0]})" for p in plan.missing)
        plan.conflicts.append(f"audience {audience_name}: the Spotler account lacks the propert(ies) {listed}. "
                              "Spotler has no API to create them: add them in Mail+ (Contacts > Properties) "
                              "with these types, or remove spotler: from those fields")
    unknown_bits = [bit for bit in permission_bits if bit not in account.permission_bits]
    if unknown_bits:
        known = ", ".join(f"{bit} ({name})" for bit, name in account.permission_bits.items()) or "none"
        plan.conflicts.append(f"audience {audience_name}: permission_bits {unknown_bits} are not permission bits "
                              f"of the Spotler account (it has {known})")
    return plan


def _missing_entries(where: str, name: str, mapped: FieldMapping, entries: Mapping[int, str]) -> list[str]:
    """A choice field into a set property: every choice must be one of its entries (by description)."""
    known = {text.casefold() for text in entries.values()}
    missing = [choice for choice in mapped.provider_choices() if choice.casefold() not in known]
    if not missing:
        return []
    return [f"{where}: Spotler set property {name} has no entries {', '.join(missing)} (it has "
            f"{', '.join(entries.values()) or 'none'}); add them in Mail+ (Contacts > Properties)"]


def build_properties(contact: CrmContact, mapping: AudienceMapping, plan: PropertyPlan) -> Payload:
    """The Spotler property values for one contact, by property name (JSON-serialisable); a value that
    cannot be converted is left out with a warning (``sync/mapping/payload.py``), text longer than
    ``SPOTLER_TEXT_LIMIT`` too."""
    builder = PayloadBuilder(SPOTLER_TEXT_LIMIT)
    for mapped in mapping.fields.values():
        if isinstance(mapped.spotler, dict) and isinstance(mapped.source, dict):
            for part, name in mapped.spotler.items():
                source = mapped.source[part]
                builder.add(name, mapped, partial(_part_text, contact.fields, source, mapped.trim,
                                                  plan.types.get(name, "string")), sources=source)
        elif isinstance(mapped.spotler, str):
            name = mapped.spotler
            builder.add(name, mapped, partial(property_value, mapped, contact.fields, plan.types.get(name, "string"),
                                              plan.entries.get(name)))
    return builder.payload()


def _part_text(values: Mapping[str, FieldValue], source: str, trim: bool, kind: str) -> str:
    """One part of an address, as the text of the property it fills."""
    return _checked_text(to_text(read_value(values, source, trim)), kind)


def _field_text(mapped: FieldMapping, values: Mapping[str, FieldValue]) -> str:
    value = field_value(mapped, values)
    if isinstance(value, dict):  # an address maps its parts to properties of their own (``spotler: {...}``)
        raise ConversionError(f"an address needs one property per part, not {mapped.spotler!r}")
    return to_text(value)


def property_value(mapped: FieldMapping, values: Mapping[str, FieldValue], kind: str,
                   entries: Mapping[int, str] | None = None) -> object:
    """One field's value for a Spotler property of type ``kind`` (``entries``: a set property's). Empty clears
    the property (a set: every entry off)."""
    if kind == "set":
        return set_value(_field_text(mapped, values), entries or {})
    raw = raw_value(mapped, values)
    if is_empty(raw) and mapped.default is None:
        return ""
    if kind in DATE_TYPES:
        return to_date(raw).isoformat()
    if kind == "dateTime":
        return _datetime_text(raw)
    if kind == "int":
        return to_number(mapped.default if is_empty(raw) else raw, 0)
    return _checked_text(_field_text(mapped, values), kind)


def set_value(text: str, entries: Mapping[int, str]) -> list[dict[str, object]]:
    """Every entry of a set property, on when ``text`` names it (by description, any case), else off."""
    bits = {description.casefold(): bit for bit, description in entries.items()}
    wanted = [name for name in SET_SEPARATORS.split(text.strip()) if name]
    unknown = [name for name in wanted if name.casefold() not in bits]
    if unknown:
        raise ConversionError(f"the Spotler set property has no entry {', '.join(map(repr, unknown))} "
                              f"(its entries: {', '.join(entries.values()) or 'none'})", "unknown_choice")
    chosen = {bits[name.casefold()] for name in wanted}
    return [{"bit": bit, "enabled": bit in chosen} for bit in entries]


def _checked_text(text: str, kind: str) -> str:
    if text and kind == "postcode" and not DUTCH_POSTCODE.fullmatch(text.strip()):
        raise ConversionError(f"{text!r} is not a Dutch postcode (1234 AB), which a Spotler postcode property "
                              "requires; map foreign postcodes to a string property", "not_a_postcode")
    return text


def _datetime_text(raw: FieldValue) -> str:
    if isinstance(raw, datetime):
        return raw.isoformat(timespec="seconds") if raw.tzinfo else raw.isoformat(timespec="seconds") + "+00:00"
    return f"{to_date(raw).isoformat()}T00:00:00+00:00"
