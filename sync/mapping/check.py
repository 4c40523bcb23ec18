"""Check a loaded mapping against the CRM's fields: do the sources exist, do the types fit, do choices translate.

Every Problem returned is an error: the mapping must be fixed before a run. A CRM field whose type does
not fit the provider type (text into ``number``, text into ``date``, a date into ``number``) is an error
rather than a warning, because CRM connectors report real types, so a mismatch is almost always a
mistake, and letting it through would fail contact after contact at run time instead of once up front.
Converting the other way is always allowed: any CRM value can fill a ``text`` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sync.errors import Problem
from sync.mapping.model import (
    CHOICE_TYPES,
    FieldMapping,
    MappingFile,
    Violation,
    closest,
)
from sync.mapping.model import ProviderFieldType as P
from sync.records import CrmField, CrmFieldType

C = CrmFieldType

# Which provider field types each CRM field type can fill; the first is the one to suggest.
FITS: dict[CrmFieldType, tuple[P, ...]] = {
    C.TEXT: (P.TEXT, P.PHONE, P.URL, P.IMAGEURL, P.ZIP, P.RADIO, P.DROPDOWN),
    C.NUMBER: (P.NUMBER, P.TEXT, P.RADIO, P.DROPDOWN),
    C.DATE: (P.DATE, P.BIRTHDAY, P.TEXT),
    C.DATETIME: (P.DATE, P.BIRTHDAY, P.TEXT),
    C.DROPDOWN: (P.DROPDOWN, P.RADIO, P.TEXT),
    C.CHECKBOX: (P.RADIO, P.DROPDOWN, P.TEXT),
    C.EMAIL: (P.TEXT,),
    C.PHONE: (P.PHONE, P.TEXT),
}
# CRM field types that can fill one part of an address.
ADDRESS_PART_TYPES = frozenset({C.TEXT, C.NUMBER, C.DROPDOWN, C.PHONE, C.EMAIL})
CHECKBOX_VALUES = ("true", "false")


def check_mapping(mapping: MappingFile, crm_fields: list[CrmField]) -> list[Problem]:
    """Every problem between the mapping and the CRM's fields, each with the file and line of its key."""
    by_name = {f.name: f for f in crm_fields}
    problems: list[Problem] = []
    for audience_name, audience in mapping.audiences.items():
        for tag, field in audience.fields.items():
            base = f"audiences.{audience_name}.fields.{tag}"
            for option, message, suggestion in _field_problems(field, by_name):
                key = f"{base}.{option}"
                problems.append(Problem(mapping.file, mapping.line_of(key), key, message, suggestion))
    return problems


@dataclass(frozen=True)
class ConfiguredAudience:
    """What the settings say of one audience that the mapping file and the CRM must fit."""

    section: str
    provider: str
    consent_field: str = "email_opt_in"


def check_audiences(mapping: MappingFile, audiences: Mapping[str, ConfiguredAudience],
                    max_fields: Mapping[str, int], crm_fields: list[CrmField] | None = None) -> list[Problem]:
    """Problems between the configured audiences and the mapping file, known without asking any provider.

    ``max_fields``: the most fields a provider's audience can hold (Mailchimp: 30 merge fields). A section no
    audience has is an error; so is a section with more fields than its provider takes (the push would stop
    at the first field too many), and a consent field that is not a CRM checkbox (consent would never be
    read as given, and nobody would be subscribed, without a word).
    """
    problems = []
    checkboxes = {f.name for f in crm_fields or () if f.type is C.CHECKBOX} | {"email_opt_in"}
    for name, audience in sorted(audiences.items()):
        section, provider = audience.section, audience.provider
        if crm_fields is not None and audience.consent_field not in checkboxes:
            problems.append(Problem("settings", None, f"audiences.{name}.consent_field",
                                    f"'{audience.consent_field}' is not a checkbox field of the CRM; consent is read "
                                    f"from email_opt_in or a custom checkbox ({', '.join(sorted(checkboxes))})",
                                    closest(audience.consent_field, sorted(checkboxes))))
        if section not in mapping.audiences:
            sections = ", ".join(mapping.audiences) or "none"
            problems.append(Problem(mapping.file, mapping.line_of("audiences"), f"audiences.{section}",
                                    f"audience {name} uses mapping section '{section}', which the file lacks "
                                    f"(sections: {sections})", closest(section, list(mapping.audiences))))
            continue
        limit = max_fields.get(provider)
        count = len(mapping.audiences[section].fields)
        if limit is not None and count > limit:
            key = f"audiences.{section}.fields"
            problems.append(Problem(mapping.file, mapping.line_of(key), key,
                                    f"{count} fields, but a {provider} audience holds at most {limit} (audience "
                                    f"{name}); drop {count - limit}, or send some to another audience"))
    return problems


def _field_problems(field: FieldMapping, by_name: dict[str, CrmField]) -> list[Violation]:
    findings: list[Violation] = []
    for option, name in field.source_items():
        crm_field = by_name.get(name)
        if crm_field is None:
            findings.append(Violation(option, f"no CRM field named '{name}'", _nearest_field(name, by_name)))
        elif isinstance(field.source, dict) and crm_field.type not in ADDRESS_PART_TYPES:
            message = f"a CRM {crm_field.type} field ('{name}') cannot be part of an address"
            findings.append(Violation(option, message))
    if not isinstance(field.source, str) or field.source not in by_name:
        return findings
    crm_field = by_name[field.source]
    fits = FITS[crm_field.type]
    if field.type not in fits:
        message = f"a CRM {crm_field.type} field ('{crm_field.name}') cannot fill a {field.type} field"
        findings.append(Violation("type", f"{message}; it fits {', '.join(fits)}", fits[0]))
    elif field.type in CHOICE_TYPES:
        findings.extend(_choice_problems(field, crm_field))
    return findings


def _choice_problems(field: FieldMapping, crm_field: CrmField) -> list[Violation]:
    if crm_field.type is C.CHECKBOX:
        crm_values: tuple[str, ...] = CHECKBOX_VALUES
    elif crm_field.type is C.DROPDOWN:
        crm_values = crm_field.choices
    else:
        crm_values = ()  # free text or numbers: each value is looked up when a contact is pushed
    if not field.choices:
        if crm_values and crm_field.type is C.DROPDOWN:
            return _default_problems(field, crm_field)
        example = "{ true: 'Yes', false: 'No' }" if crm_field.type is C.CHECKBOX else "{ crm value: Provider choice }"
        return [Violation("choices", f"a {field.type} field filled from '{crm_field.name}' needs choices: {example}")]
    findings: list[Violation] = []
    if crm_values:
        untranslated = [v for v in crm_values if v not in field.choices]
        if untranslated:
            listed = ", ".join(repr(v) for v in untranslated)
            message = f"no translation for CRM choice(s) {listed} of '{crm_field.name}'"
            findings.append(Violation("choices", message))
        for key in field.choices:
            if key not in crm_values:
                message = f"'{key}' is not a choice of CRM field '{crm_field.name}' ({', '.join(crm_values)})"
                findings.append(Violation(f"choices.{key}", message, closest(key, crm_values)))
    return findings


def _default_problems(field: FieldMapping, crm_field: CrmField) -> list[Violation]:
    # With choices taken from the CRM field, the model could not check the default against them.
    choices = field.provider_choices(crm_field)
    if isinstance(field.default, str) and field.default not in choices:
        message = f"default must be one of the choices of '{crm_field.name}' ({', '.join(choices)})"
        return [Violation("default", message, closest(field.default, list(choices)))]
    return []


def _nearest_field(name: str, by_name: dict[str, CrmField]) -> str | None:
    # Admins often type the label they see in the CRM ("Loyalty tier") rather than the field name.
    by_label = {f.label.lower(): f.name for f in by_name.values()}
    return by_label.get(name.lower()) or closest(name, list(by_name))
