"""Pure: the provider's merge fields versus the mapping: what to create, and what conflicts.

A missing field is created with its type, date format and choices. An existing field of another type or
with missing choices is a conflict: values would be rejected or misread, so the push stops with a message
that says how to fix it, instead of silently writing text. An existing date or birthday field's date format
is followed (the mapping's ``date_format`` is what crm-sync creates a field with): a fresh Mailchimp
audience's BIRTHDAY is ``MM/DD``, and values are then written that way.
"""

from __future__ import annotations

from collections.abc import Mapping

from sync.connectors.provider import FieldPlan, ProviderField
from sync.mapping.model import CHOICE_TYPES, AudienceMapping, ProviderFieldType
from sync.records import CrmField

MAX_MERGE_FIELDS = 30  # Mailchimp refuses the 31st merge field of an audience


def plan_merge_fields(mapping: AudienceMapping, existing: list[ProviderField],
                      crm_fields: Mapping[str, CrmField], audience_name: str) -> FieldPlan:
    """Compare the mapping's fields with the audience's; check the 30-field limit before creating any."""
    by_tag = {provider_field.tag: provider_field for provider_field in existing}
    plan = FieldPlan()
    for tag, wanted in mapping.fields.items():
        crm_field = crm_fields.get(wanted.source_fields[0]) if len(wanted.source_fields) == 1 else None
        desired = ProviderField(
            tag=tag, name=wanted.label(tag, crm_fields)[:100], type=wanted.type.value,
            date_format=_api_date_format(wanted.type, wanted.date_format),
            choices=wanted.provider_choices(crm_field) if wanted.type in CHOICE_TYPES else (),
        )
        have = by_tag.get(tag)
        if have is None:
            plan.to_create.append(desired)
            continue
        plan.conflicts.extend(_conflicts(desired, have, audience_name))
        if desired.date_format and have.date_format and have.date_format.upper() != desired.date_format.upper():
            plan.followed_formats[tag] = have.date_format.upper()
    total = len(existing) + len(plan.to_create)
    if plan.to_create and total > MAX_MERGE_FIELDS:
        plan.conflicts.append(
            f"audience {audience_name}: creating {len(plan.to_create)} merge field(s) "
            f"({', '.join(f.tag for f in plan.to_create)}) would make {total}; Mailchimp allows "
            f"{MAX_MERGE_FIELDS}. Remove fields from the mapping or delete unused ones in Mailchimp."
        )
    return plan


def _conflicts(desired: ProviderField, have: ProviderField, audience_name: str) -> list[str]:
    where = f"audience {audience_name}: merge field {have.tag}"
    if have.type != desired.type:
        return [f"{where} is of type {have.type} in Mailchimp but the mapping says {desired.type}: "
                f"change the mapping's type to {have.type}, or map to a new tag (a field's type cannot change)"]
    found = []
    missing = [choice for choice in desired.choices if choice not in have.choices]
    if missing and have.choices:
        found.append(f"{where} lacks the choice(s) {', '.join(missing)}: add them in Mailchimp "
                     "or translate them in the mapping's choices")
    return found


def _api_date_format(kind: ProviderFieldType, date_format: str | None) -> str | None:
    if kind in (ProviderFieldType.DATE, ProviderFieldType.BIRTHDAY):
        return date_format
    return None


def follow_formats(mapping: AudienceMapping, formats: Mapping[str, str]) -> AudienceMapping:
    """``mapping`` with the date formats of fields that already exist in the provider (see FieldPlan)."""
    if not formats:
        return mapping
    fields = {tag: mapped.model_copy(update={"date_format": formats[tag]}) if tag in formats else mapped
              for tag, mapped in mapping.fields.items()}
    return mapping.model_copy(update={"fields": fields})
