"""The mapping file as pydantic models: per audience, which CRM field fills which provider field, and how.

```yaml
audiences:
  newsletter:
    fields:
      FNAME:   { source: first_name, type: text, trim: true }
      TIER:    { source: loyalty_tier, type: dropdown, choices: { gold: Gold, silver: Silver } }
      ADDRESS: { type: address, source: { addr1: street, city: city, zip: postal_code } }
```

The provider field types are Mailchimp's merge-field types, used as the neutral vocabulary. Options that
make no sense together (``date_format`` on a text field, ``choices`` on a number field, ...) are refused
with one ``mapping_rules`` error that lists every violation with the option it concerns.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sync.mapping.transforms import BIRTHDAY_FORMATS, DATE_FORMATS, to_text
from sync.records import CrmField


class ProviderFieldType(StrEnum):
    """Provider field types: Mailchimp's merge-field types."""

    TEXT = "text"
    NUMBER = "number"
    ADDRESS = "address"
    PHONE = "phone"
    DATE = "date"
    URL = "url"
    IMAGEURL = "imageurl"
    RADIO = "radio"
    DROPDOWN = "dropdown"
    BIRTHDAY = "birthday"
    ZIP = "zip"


MAX_TAG_LENGTH = 10
ADDRESS_PARTS = ("addr1", "addr2", "city", "state", "zip", "country")
REQUIRED_ADDRESS_PARTS = ("addr1", "city", "state", "zip")  # Mailchimp refuses an address without any of them
CHOICE_TYPES = frozenset({ProviderFieldType.RADIO, ProviderFieldType.DROPDOWN})
CASE_TYPES = frozenset({ProviderFieldType.TEXT, ProviderFieldType.ZIP})
DATE_FORMATS_BY_TYPE = {ProviderFieldType.DATE: DATE_FORMATS, ProviderFieldType.BIRTHDAY: BIRTHDAY_FORMATS}
# Types whose "empty" is better left empty than filled with a made-up value.
NO_DEFAULT_TYPES = frozenset({ProviderFieldType.ADDRESS, ProviderFieldType.DATE, ProviderFieldType.BIRTHDAY})

_TAG = re.compile(rf"[A-Z0-9_]{{1,{MAX_TAG_LENGTH}}}")
_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
RESERVED_PROPERTIES = frozenset({"email", "permissions"})

# Where a field's values come from: one CRM field, several joined as text, or address part -> CRM field.
FieldSource = str | tuple[str, ...] | dict[str, str]


class Violation(NamedTuple):
    """What is wrong with one option of a field (``source.city``, ``type``, ...), with the nearest valid value."""

    option: str
    message: str
    suggestion: str | None = None


def closest(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The candidate nearest to a misspelt ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in candidates}
    return lowered.get(word.lower())


def _check_tag(tag: str) -> str:
    if _TAG.fullmatch(tag):
        return tag
    suggestion = tag.upper() if _TAG.fullmatch(tag.upper()) else None
    raise PydanticCustomError(
        "merge_tag",
        "'{tag}' is not a valid provider field tag: at most {max} characters, only A-Z, 0-9 and _",
        {"tag": tag, "max": MAX_TAG_LENGTH, "suggestion": suggestion},
    )


MergeTag = Annotated[str, AfterValidator(_check_tag)]


class FieldMapping(BaseModel):
    """How one provider field gets its value from the CRM."""

    model_config = ConfigDict(extra="forbid")

    source: FieldSource
    type: ProviderFieldType
    name: str | None = Field(default=None, min_length=1)
    trim: bool = False
    case: Literal["upper", "lower", "title"] | None = None
    join: str | None = None
    date_format: Literal["MM/DD/YYYY", "DD/MM/YYYY", "MM/DD", "DD/MM"] | None = None
    decimals: int | None = Field(default=None, ge=0, le=10)
    default: str | int | float | None = None
    choices: dict[str, str] | None = None
    # The Spotler Mail+ property this field fills (camelCase, as contact/properties/list names it); for an
    # address, a map of address parts to properties. Fields without it are not sent to Spotler.
    spotler: str | dict[str, str] | None = None

    @field_validator("spotler", mode="plain")
    @classmethod
    def _spotler_shape(cls, value: Any) -> str | dict[str, str] | None:
        if value is None:
            return None
        names = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else None
        if names and all(isinstance(name, str) and _PROPERTY.fullmatch(name) for name in names):
            reserved = [name for name in names if name in RESERVED_PROPERTIES]
            if reserved:
                raise PydanticCustomError(
                    "spotler_reserved", "'{name}' is filled by crm-sync itself (the e-mail address and the "
                    "audience's permission_bits), not by the mapping", {"name": reserved[0]})
            return value if isinstance(value, str) else {str(part): name for part, name in value.items()}
        raise PydanticCustomError(
            "spotler_shape",
            "spotler must name a Spotler property (letters, digits and _, starting with a letter), "
            "or for an address map address parts to properties",
        )

    @field_validator("source", mode="plain")
    @classmethod
    def _source_shape(cls, value: Any) -> FieldSource:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        if isinstance(value, dict) and value and all(isinstance(v, str) and v for v in value.values()):
            return {str(k): v for k, v in value.items()}
        raise PydanticCustomError(
            "source_shape",
            "source must be a CRM field name, a list of CRM field names (joined as text), "
            "or for an address a map of address parts to CRM field names",
        )

    @field_validator("default", mode="plain")
    @classmethod
    def _default_scalar(cls, value: Any) -> str | int | float | None:
        if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
            return value
        raise PydanticCustomError("default_type", "default must be text or a number")

    @field_validator("choices", mode="before")
    @classmethod
    def _choices_as_text(cls, value: Any) -> Any:
        # YAML reads `true: Yes` or `1: One` as a bool or int key; a CRM value is matched on its text.
        if isinstance(value, dict):
            return {to_text(k): to_text(v) if isinstance(v, (bool, int, float)) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _options_fit_together(self) -> FieldMapping:
        violations = self.violations()
        if violations:
            raise PydanticCustomError(
                "mapping_rules",
                "{summary}",
                {"summary": "; ".join(f"{v.option}: {v.message}" for v in violations), "violations": violations},
            )
        return self

    @property
    def source_fields(self) -> tuple[str, ...]:
        """The CRM field names read, in order."""
        if isinstance(self.source, str):
            return (self.source,)
        if isinstance(self.source, tuple):
            return self.source
        return tuple(self.source.values())

    def source_items(self) -> list[tuple[str, str]]:
        """(key under the field, CRM field name) per source: ``source``, ``source.0``, ``source.city``."""
        if isinstance(self.source, str):
            return [("source", self.source)]
        if isinstance(self.source, tuple):
            return [(f"source.{i}", name) for i, name in enumerate(self.source)]
        return [(f"source.{part}", name) for part, name in self.source.items()]

    def provider_choices(self, crm_field: CrmField | None = None) -> tuple[str, ...]:
        """The choices the provider field offers: the translations, else the CRM field's own choices."""
        if self.choices:
            return tuple(dict.fromkeys(self.choices.values()))
        return crm_field.choices if crm_field is not None else ()

    def label(self, tag: str, crm_fields: Mapping[str, CrmField]) -> str:
        """The provider field's name: ``name:`` if given, else the CRM field labels, else the tag."""
        if self.name:
            return self.name
        if self.type is ProviderFieldType.ADDRESS:
            return "Address"
        labels = [crm_fields[n].label for n in self.source_fields if n in crm_fields]
        return (self.join or " ").join(labels) if labels else tag

    def violations(self) -> list[Violation]:
        """Every option that makes no sense with the field's type or its other options."""
        found = _source_violations(self)
        kind = self.type
        if self.date_format is not None and kind not in DATE_FORMATS_BY_TYPE:
            found.append(Violation("date_format", f"only date and birthday fields take a date_format, not {kind}"))
        elif kind in DATE_FORMATS_BY_TYPE:
            allowed = DATE_FORMATS_BY_TYPE[kind]
            if self.date_format is None:
                found.append(Violation("date_format", f"a {kind} field needs date_format: {' or '.join(allowed)}"))
            elif self.date_format not in allowed:
                hint = next((f for f in allowed if f.startswith(self.date_format[:5])), None)
                found.append(Violation("date_format", f"a {kind} field takes {' or '.join(allowed)}", hint))
        if self.decimals is not None and kind is not ProviderFieldType.NUMBER:
            found.append(Violation("decimals", f"only number fields take decimals, not {kind}"))
        if self.choices is not None and kind not in CHOICE_TYPES:
            found.append(Violation("choices", f"only dropdown and radio fields take choices, not {kind}"))
        elif self.choices is not None and not self.choices:
            found.append(Violation("choices", "choices must translate at least one CRM value"))
        if self.case is not None and kind not in CASE_TYPES:
            found.append(Violation("case", f"only text and zip fields take case, not {kind}"))
        found.extend(_default_violations(self))
        return found


def _source_violations(field: FieldMapping) -> list[Violation]:
    found: list[Violation] = []
    is_address = field.type is ProviderFieldType.ADDRESS
    if isinstance(field.source, dict):
        if not is_address:
            found.append(Violation("source", "a map of address parts is only for address fields"))
        for part in field.source:
            if part not in ADDRESS_PARTS:
                found.append(Violation(f"source.{part}", "unknown address part", closest(part, ADDRESS_PARTS)))
        if is_address:
            missing = [p for p in REQUIRED_ADDRESS_PARTS if p not in field.source]
            if missing:
                found.append(Violation("source", f"an address needs {', '.join(missing)} (Mailchimp requires them)"))
    elif is_address:
        parts = ", ".join(ADDRESS_PARTS)
        found.append(Violation("source", f"an address field needs a map of address parts ({parts}) to CRM fields"))
    if isinstance(field.source, tuple) and field.type is not ProviderFieldType.TEXT:
        found.append(Violation("source", f"several sources can only be joined into a text field, not {field.type}"))
    if field.join is not None and not isinstance(field.source, tuple):
        found.append(Violation("join", "join needs a list of sources, e.g. source: [first_name, last_name]"))
    if isinstance(field.spotler, dict):
        if not is_address:
            found.append(Violation("spotler", "a map of address parts is only for address fields"))
        elif isinstance(field.source, dict):
            for part in field.spotler:
                if part not in field.source:
                    found.append(Violation(f"spotler.{part}", "this address part has no source",
                                           closest(part, list(field.source))))
    elif is_address and field.spotler is not None:
        found.append(Violation("spotler", "Spotler has no address type: map address parts to properties, "
                               "e.g. spotler: { addr1: street, city: city, zip: postalCode }"))
    return found


def _default_violations(field: FieldMapping) -> list[Violation]:
    default, kind = field.default, field.type
    if default is None:
        return []
    if kind in NO_DEFAULT_TYPES:
        return [Violation("default", f"a {kind} field takes no default; an empty value clears it")]
    if kind is ProviderFieldType.NUMBER and not isinstance(default, (int, float)):
        return [Violation("default", f"a number field needs a number as default, not {default!r}")]
    if kind is not ProviderFieldType.NUMBER and not isinstance(default, str):
        return [Violation("default", f"a {kind} field needs text as default (put it in quotes)")]
    if kind in CHOICE_TYPES and field.choices and default not in field.provider_choices():
        choices = list(field.provider_choices())
        message = f"default must be one of the provider choices: {', '.join(choices)}"
        return [Violation("default", message, closest(str(default), choices))]
    return []


class AudienceMapping(BaseModel):
    """The provider fields of one audience (list), keyed by tag."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[MergeTag, FieldMapping] = Field(min_length=1)


class MappingFile(BaseModel):
    """A whole mapping file: audiences by name. Remembers where each key was, for error messages."""

    model_config = ConfigDict(extra="forbid")

    audiences: dict[str, AudienceMapping] = Field(min_length=1)

    _file: str = PrivateAttr(default="")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    def set_origin(self, file: str, lines: Mapping[str, int]) -> None:
        """Remember the file this was read from and the line of each dotted key in it."""
        self._file = file
        self._lines = dict(lines)

    @property
    def file(self) -> str:
        """The file this mapping was read from ("" when built in code)."""
        return self._file

    def line_of(self, key: str) -> int | None:
        """The line of a dotted key, or of its nearest ancestor that has one (None when unknown)."""
        return nearest_line(self._lines, key)


def nearest_line(lines: Mapping[str, int], key: str) -> int | None:
    """The line of a dotted key in ``lines``, or of its nearest ancestor that has one."""
    parts = key.split(".")
    while parts:
        line = lines.get(".".join(parts))
        if line is not None:
            return line
        parts.pop()
    return None
