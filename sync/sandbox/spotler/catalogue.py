"""The account's contact properties (``GET contact/properties/list``): defaults, permission bits, custom fields.

Properties are fixed for the sandbox's lifetime, as the API has no call to create them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PROPERTY_TYPES = frozenset(
    {"birthdate", "date", "dateTime", "email", "gender", "int", "mobNr", "money", "postcode", "set", "string"})
DEFAULT_PERMISSION_BITS: Mapping[int, str] = MappingProxyType({1: "Nieuwsbrief", 2: "Acties"})
DEFAULT_PROPERTIES = (
    ("email", "E-mailadres", "email"), ("firstName", "Voornaam", "string"), ("infix", "Tussenvoegsel", "string"),
    ("lastName", "Achternaam", "string"), ("gender", "Geslacht", "gender"), ("birthday", "Geboortedatum", "birthdate"),
    ("postalCode", "Postcode", "postcode"), ("city", "Plaats", "string"), ("country", "Land", "string"),
    ("street", "Straat", "string"), ("phoneNumber", "Telefoonnummer", "string"),
    ("mobileNumber", "Mobiel nummer", "mobNr"), ("organisation", "Organisatie", "string"),
)


@dataclass(frozen=True, slots=True)
class Property:
    """One contact property; ``entries`` maps bit to description (``set`` properties only), in rank order."""

    name: str
    description: str
    type: str
    entries: Mapping[int, str] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "description": self.description, "type": self.type}
        if self.type == "set":
            body["entries"] = [{"bit": bit, "description": text, "rank": rank}
                               for rank, (bit, text) in enumerate(self.entries.items(), start=1)]
        return body


class Catalogue:
    """The properties by name, in the order the API lists them."""

    def __init__(self, permission_bits: Mapping[int, str], extra: Iterable[Mapping[str, Any]] = ()):
        self._by_name: dict[str, Property] = {}
        for name, description, kind in DEFAULT_PROPERTIES:
            self._add(Property(name, description, kind))
        self._add(Property("permissions", "Permissies", "set", _entries(
            [{"bit": bit, "description": text} for bit, text in permission_bits.items()], "permissions")))
        for spec in extra:
            self._add(_custom(spec))

    def __iter__(self) -> Iterator[Property]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Property | None:
        return self._by_name.get(name)

    @property
    def permissions(self) -> Property:
        return self._by_name["permissions"]

    @property
    def sets(self) -> list[Property]:
        return [prop for prop in self._by_name.values() if prop.type == "set"]

    def views(self) -> list[dict[str, Any]]:
        return [prop.view() for prop in self._by_name.values()]

    def _add(self, prop: Property) -> None:
        if prop.name in self._by_name:
            raise ValueError(f"property {prop.name!r} is defined twice")
        self._by_name[prop.name] = prop


def _custom(spec: Mapping[str, Any]) -> Property:
    """A custom property from ``{"name", "description", "type", "entries"?}``."""
    name, kind = spec.get("name"), spec.get("type")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a custom property needs a name: {dict(spec)!r}")
    if kind not in PROPERTY_TYPES:
        raise ValueError(f"property {name!r}: type must be one of {sorted(PROPERTY_TYPES)}; got {kind!r}")
    entries = _entries(spec.get("entries") or [], name) if kind == "set" else MappingProxyType({})
    return Property(name, str(spec.get("description") or name), kind, entries)


def _entries(items: Iterable[Mapping[str, Any]], name: str) -> Mapping[int, str]:
    entries: dict[int, str] = {}
    for item in sorted(items, key=lambda entry: entry.get("rank", entry["bit"])):
        bit = item["bit"]
        if not isinstance(bit, int) or isinstance(bit, bool) or bit < 1 or bit in entries:
            raise ValueError(f"property {name!r}: bits must be distinct positive integers; got {bit!r}")
        entries[bit] = str(item.get("description") or bit)
    return MappingProxyType(entries)
