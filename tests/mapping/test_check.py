from __future__ import annotations

import textwrap

import pytest

from sync.mapping.check import ConfiguredAudience, check_audiences, check_mapping
from sync.mapping.load import load_mapping
from sync.mapping.model import ProviderFieldType
from sync.records import CrmField, CrmFieldType
from tests.mapping.demo import DEMO_CRM_FIELDS, SHIPPED_MAPPING

NEWSLETTER = "audiences.newsletter.fields"


def load(tmp_path, *field_lines: str):
    """A one-audience mapping whose field lines start on line 4."""
    text = "audiences:\n  newsletter:\n    fields:\n" + "".join(f"      {line}\n" for line in field_lines)
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def check(tmp_path, *field_lines: str, crm_fields=DEMO_CRM_FIELDS):
    mapping = load(tmp_path, *field_lines)
    problems = check_mapping(mapping, list(crm_fields))
    assert all(p.file == mapping.file for p in problems)
    return [(p.line, p.key, p.suggestion) for p in problems], [p.message for p in problems]


def test_shipped_mapping_checks_clean_against_the_demo_crm():
    mapping = load_mapping(SHIPPED_MAPPING)
    assert check_mapping(mapping, DEMO_CRM_FIELDS) == []
    sources = {name for f in mapping.audiences["newsletter"].fields.values() for name in f.source_fields}
    custom = {f.name for f in DEMO_CRM_FIELDS if f.custom}
    assert custom <= sources  # every custom field of the demo CRM is shown in the example


def test_shipped_mapping_labels_come_from_the_crm_or_the_file():
    fields = load_mapping(SHIPPED_MAPPING).audiences["newsletter"].fields
    by_name = {f.name: f for f in DEMO_CRM_FIELDS}
    assert fields["TIER"].label("TIER", by_name) == "Loyalty tier"
    assert fields["FULLNAME"].label("FULLNAME", by_name) == "Full name"
    assert fields["ADDRESS"].label("ADDRESS", by_name) == "Address"
    assert fields["TIER"].provider_choices(by_name["loyalty_tier"]) == ("Gold", "Silver", "Bronze")


def test_unknown_source_suggests_the_nearest_crm_field_custom_ones_included(tmp_path):
    found, messages = check(
        tmp_path,
        "TIER: { source: loyalty_teir, type: dropdown }",
        "FNAME: { source: firstname, type: text }",
        "SINCE: { source: Member since, type: date, date_format: DD/MM/YYYY }",
        "X: { source: shoe_size, type: text }",
    )
    assert found == [
        (4, f"{NEWSLETTER}.TIER.source", "loyalty_tier"),
        (5, f"{NEWSLETTER}.FNAME.source", "first_name"),
        (6, f"{NEWSLETTER}.SINCE.source", "member_since"),
        (7, f"{NEWSLETTER}.X.source", None),
    ]
    assert messages[0] == "no CRM field named 'loyalty_teir'"


def test_a_label_typed_as_source_suggests_that_fields_name(tmp_path):
    # vtiger names custom fields cf_<number>; admins see only the label.
    crm = [*DEMO_CRM_FIELDS, CrmField("cf_853", "Shoe size", CrmFieldType.NUMBER, custom=True)]
    found, _ = check(tmp_path, "SHOES: { source: shoe size, type: number }", crm_fields=crm)
    assert found == [(4, f"{NEWSLETTER}.SHOES.source", "cf_853")]


def test_unknown_sources_in_lists_and_addresses_point_at_the_part(tmp_path):
    found, _ = check(
        tmp_path,
        "FULL: { source: [first_name, lastname], type: text }",
        "ADDRESS:",
        "  type: address",
        "  source:",
        "    addr1: street",
        "    city: town",
        "    zip: postal_code",
        "    state: region",
    )
    assert found == [
        (4, f"{NEWSLETTER}.FULL.source.1", "last_name"),
        (9, f"{NEWSLETTER}.ADDRESS.source.city", None),
    ]


@pytest.mark.parametrize(
    ("line", "suggestion", "fragment"),
    [
        ("N: { source: customer_number, type: number }", "text", "a CRM text field ('customer_number') cannot fill"),
        ("D: { source: newsletter_topics, type: date, date_format: DD/MM/YYYY }", "text", "cannot fill a date field"),
        ("D: { source: lifetime_value, type: date, date_format: DD/MM/YYYY }", "number", "it fits number, text"),
        ("N: { source: member_since, type: number }", "date", "a CRM date field"),
        ("N: { source: vip, type: number }", "radio", "a CRM checkbox field"),
        ("E: { source: email, type: url }", "text", "a CRM email field"),
        ("P: { source: phone, type: zip }", "phone", "a CRM phone field"),
    ],
)
def test_crm_type_that_does_not_fit_the_provider_type_is_reported_on_type(tmp_path, line, suggestion, fragment):
    found, messages = check(tmp_path, line)
    tag = line.split(":")[0]
    assert found == [(4, f"{NEWSLETTER}.{tag}.type", suggestion)]
    assert fragment in messages[0]


@pytest.mark.parametrize(
    "line",
    [
        "S: { source: member_since, type: text }",
        "S: { source: member_since, type: birthday, date_format: MM/DD }",
        "L: { source: lifetime_value, type: text }",
        "V: { source: vip, type: text }",
        "T: { source: loyalty_tier, type: text }",
        "T: { source: loyalty_tier, type: radio }",
        "P: { source: phone, type: text }",
        "U: { source: newsletter_topics, type: url }",
        "C: { source: customer_number, type: dropdown, choices: { c-1: One } }",
        "F: { source: [first_name, birthday, vip, lifetime_value], type: text }",
    ],
)
def test_types_that_fit(tmp_path, line):
    assert check(tmp_path, line) == ([], [])


def test_datetime_fills_date_and_birthday(tmp_path):
    crm = [CrmField("seen_at", "Last seen", CrmFieldType.DATETIME)]
    found, _ = check(
        tmp_path,
        "SEEN: { source: seen_at, type: date, date_format: DD/MM/YYYY }",
        "SEENDAY: { source: seen_at, type: birthday, date_format: DD/MM }",
        "SEENN: { source: seen_at, type: number }",
        crm_fields=crm,
    )
    assert found == [(6, f"{NEWSLETTER}.SEENN.type", "date")]


def test_every_crm_choice_needs_a_translation(tmp_path):
    found, messages = check(
        tmp_path,
        "TIER:",
        "  source: loyalty_tier",
        "  type: dropdown",
        "  choices:",
        "    gold: Gold",
        "    silvr: Silver",
    )
    assert found == [
        (7, f"{NEWSLETTER}.TIER.choices", None),
        (9, f"{NEWSLETTER}.TIER.choices.silvr", "silver"),
    ]
    assert messages[0] == "no translation for CRM choice(s) 'silver', 'bronze' of 'loyalty_tier'"
    assert messages[1] == "'silvr' is not a choice of CRM field 'loyalty_tier' (gold, silver, bronze)"


def test_a_checkbox_needs_translations_for_true_and_false(tmp_path):
    found, messages = check(
        tmp_path,
        "VIP: { source: vip, type: radio }",
        "VIP2: { source: vip, type: radio, choices: { true: 'Yes' } }",
        "VIP3: { source: vip, type: radio, choices: { yes: 'Yes', false: 'No', true: 'Yes' } }",
    )
    assert found == [
        (4, f"{NEWSLETTER}.VIP.choices", None),
        (5, f"{NEWSLETTER}.VIP2.choices", None),
        (6, f"{NEWSLETTER}.VIP3.choices.yes", None),
    ]
    assert "needs choices: { true: 'Yes', false: 'No' }" in messages[0]
    assert "no translation for CRM choice(s) 'false'" in messages[1]


def test_a_free_text_field_into_a_dropdown_needs_choices(tmp_path):
    found, messages = check(tmp_path, "TOPIC: { source: newsletter_topics, type: dropdown }")
    assert found == [(4, f"{NEWSLETTER}.TOPIC.choices", None)]
    assert "needs choices" in messages[0]


def test_default_must_be_one_of_the_crm_choices_when_choices_come_from_the_crm(tmp_path):
    found, messages = check(
        tmp_path,
        "TIER: { source: loyalty_tier, type: dropdown, default: glod }",
        "TIER2: { source: loyalty_tier, type: dropdown, default: bronze }",
    )
    assert found == [(4, f"{NEWSLETTER}.TIER.default", "gold")]
    assert "one of the choices of 'loyalty_tier' (gold, silver, bronze)" in messages[0]


def test_address_parts_must_be_text_like(tmp_path):
    found, messages = check(
        tmp_path,
        "ADDRESS: { type: address, source: { addr1: street, city: city, zip: postal_code, state: birthday } }",
    )
    assert found == [(4, f"{NEWSLETTER}.ADDRESS.source.state", None)]
    assert "a CRM date field ('birthday') cannot be part of an address" in messages[0]


def test_problems_from_several_audiences_name_their_audience(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            audiences:
              newsletter:
                fields:
                  FNAME: { source: first_name, type: text }
              shop:
                fields:
                  FNAME: { source: frist_name, type: text }
            """
        ),
        encoding="utf-8",
    )
    problems = check_mapping(load_mapping(path), DEMO_CRM_FIELDS)
    assert [(p.line, p.key, p.suggestion) for p in problems] == [
        (7, "audiences.shop.fields.FNAME.source", "first_name")
    ]
    assert str(problems[0]) == (
        f"{path}:7: audiences.shop.fields.FNAME.source: no CRM field named 'frist_name' (did you mean 'first_name'?)"
    )


def test_check_works_on_a_mapping_built_in_code():
    from sync.mapping.model import MappingFile

    mapping = MappingFile.model_validate(
        {"audiences": {"n": {"fields": {"LTV": {"source": "lifetime_value", "type": ProviderFieldType.TEXT}}}}}
    )
    assert check_mapping(mapping, DEMO_CRM_FIELDS) == []
    broken = MappingFile.model_validate({"audiences": {"n": {"fields": {"X": {"source": "nope", "type": "text"}}}}})
    [problem] = check_mapping(broken, DEMO_CRM_FIELDS)
    assert (problem.file, problem.line, problem.key) == ("", None, "audiences.n.fields.X.source")


def test_offline_check_refuses_more_fields_than_the_provider_holds(tmp_path):
    mapping = load(tmp_path, *(f"F{i}: {{source: first_name, type: text}}" for i in range(34)))
    limits = {"mailchimp": 30}
    problems = check_audiences(mapping, {"newsletter": ConfiguredAudience("newsletter", "mailchimp")}, limits)
    assert [(p.line, p.key) for p in problems] == [(3, NEWSLETTER)]
    assert "34 fields, but a mailchimp audience holds at most 30 (audience newsletter); drop 4" in problems[0].message
    assert check_audiences(mapping, {"newsletter": ConfiguredAudience("newsletter", "spotler")}, limits) == []


def test_offline_check_names_a_section_an_audience_uses_but_the_file_lacks(tmp_path):
    mapping = load(tmp_path, "FNAME: {source: first_name, type: text}")
    problems = check_audiences(mapping, {"customers": ConfiguredAudience("newsleter", "mailchimp")}, {"mailchimp": 30})
    assert [(p.line, p.key, p.suggestion) for p in problems] == [(1, "audiences.newsleter", "newsletter")]
    assert "audience customers uses mapping section 'newsleter', which the file lacks" in problems[0].message


def test_offline_check_refuses_a_consent_field_that_is_not_a_checkbox(tmp_path):
    mapping = load(tmp_path, "FNAME: {source: first_name, type: text}")
    audiences = {"newsletter": ConfiguredAudience("newsletter", "mailchimp", consent_field="first_name")}
    problems = check_audiences(mapping, audiences, {}, DEMO_CRM_FIELDS)
    assert [p.key for p in problems] == ["audiences.newsletter.consent_field"]
    assert "'first_name' is not a checkbox field of the CRM" in problems[0].message
    checkbox = next(f.name for f in DEMO_CRM_FIELDS if f.type is CrmFieldType.CHECKBOX)
    fine = {"newsletter": ConfiguredAudience("newsletter", "mailchimp", consent_field=checkbox)}
    assert check_audiences(mapping, fine, {}, DEMO_CRM_FIELDS) == []
