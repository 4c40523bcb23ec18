"""Plain typed records passed between connectors, the pure core and the state store.

Connectors return and accept these; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

# A CRM field value as the connector hands it over: already converted to a Python type.
FieldValue = str | int | float | bool | date | datetime | None


class CrmFieldType(StrEnum):
    """The CRM-side field types the mapping understands."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    DROPDOWN = "dropdown"
    CHECKBOX = "checkbox"
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class CrmField:
    """One field a CRM contact has: a standard column or a custom field."""

    name: str
    label: str
    type: CrmFieldType
    choices: tuple[str, ...] = ()
    custom: bool = False


@dataclass(frozen=True, slots=True)
class Consent:
    """What the CRM says about a contact's e-mail consent. Never invented: unknown is None."""

    email_opt_in: bool | None
    email_opt_out: bool = False
    email_invalid: bool = False
    invalid_reason: str | None = None
    postal_opt_in: bool | None = None


@dataclass(frozen=True, slots=True)
class CrmContact:
    """One contact as read from the CRM, with standard and custom field values by field name."""

    id: str
    email: str | None
    fields: Mapping[str, FieldValue]
    consent: Consent
    modified_at: datetime
    deleted: bool = False
    organisation_id: str | None = None
    organisation_locked: bool = False
    list_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One entry in the CRM's activity history, identified by a stable external key.

    Writing a record whose ``external_key`` already exists updates that entry in place.
    Exactly one of ``contact_id`` and ``organisation_id`` is set.
    """

    external_key: str
    kind: str
    subject: str
    body: str
    first_at: datetime
    last_at: datetime
    contact_id: str | None = None
    organisation_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContactFlags:
    """Flag changes for one contact. None leaves a flag as it is; an address already invalid keeps its first reason."""

    contact_id: str
    email_opt_out: bool | None = None
    email_invalid: bool | None = None
    invalid_reason: str | None = None
    email: str | None = None  # the address the change is about (normalised); None: the contact's primary address
