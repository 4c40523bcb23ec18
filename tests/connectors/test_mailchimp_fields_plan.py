"""Pure: merge fields to create, conflicts, the 30-field limit."""

from __future__ import annotations

from pathlib import Path

from sync.connectors.mailchimp.fields import (
    ProviderField,
    follow_formats,
    plan_merge_fields,
)
from sync.mapping.load import load_mapping
from tests.mapping.demo import DEMO_CRM_FIELDS

MAPPING = load_mapping(Path(__file__).resolve().parents[2] / "config" / "mapping.yaml").audiences["newsletter"]
CRM = {field.name: field for field in DEMO_CRM_FIELDS}
DEFAULTS = [ProviderField("FNAME", "First Name", "text"), ProviderField("LNAME", "Last Name", "text"),
            ProviderField("ADDRESS", "Address", "address"), ProviderField("PHONE", "Phone Number", "phone")]


def test_missing_fields_are_created_with_type_format_and_choices():
    plan = plan_merge_fields(MAPPING, DEFAULTS, CRM, "newsletter")
    assert plan.conflicts == []
    created = {field.tag: field for field in plan.to_create}
    assert set(created) == set(MAPPING.fields) - {"FNAME", "LNAME", "ADDRESS", "PHONE"}
    assert (created["BIRTHDAY"].type, created["BIRTHDAY"].date_format) == ("birthday", "DD/MM")
    assert (created["SINCE"].type, created["SINCE"].date_format) == ("date", "DD/MM/YYYY")
    assert created["TIER"].choices == ("Gold", "Silver", "Bronze")
    assert created["LTV"].type == "number" and created["CUSTNO"].name == "Customer number"


def test_a_type_conflict_says_how_to_fix_it():
    existing = [*DEFAULTS, ProviderField("LTV", "Lifetime value", "text")]
    plan = plan_merge_fields(MAPPING, existing, CRM, "newsletter")
    assert plan.conflicts == ["audience newsletter: merge field LTV is of type text in Mailchimp but the mapping "
                              "says number: change the mapping's type to text, or map to a new tag (a field's "
                              "type cannot change)"]


def test_an_existing_date_format_is_followed_and_missing_choices_conflict():
    existing = [*DEFAULTS, ProviderField("SINCE", "Since", "date", date_format="MM/DD/YYYY"),
                ProviderField("TIER", "Tier", "dropdown", choices=("Gold", "Silver"))]
    plan = plan_merge_fields(MAPPING, existing, CRM, "newsletter")
    assert plan.conflicts == ["audience newsletter: merge field TIER lacks the choice(s) Bronze: add them in "
                              "Mailchimp or translate them in the mapping's choices"]
    assert plan.followed_formats == {"SINCE": "MM/DD/YYYY"}
    assert plan.notes() == ["SINCE is written as MM/DD/YYYY, the date format the field already has"]
    followed = follow_formats(MAPPING, plan.followed_formats)
    assert followed.fields["SINCE"].date_format == "MM/DD/YYYY"
    assert MAPPING.fields["SINCE"].date_format != "MM/DD/YYYY"  # the loaded mapping itself is unchanged


def test_the_thirty_field_limit_is_checked_before_anything_is_created():
    crowded = DEFAULTS + [ProviderField(f"OTHER{i}", f"Other {i}", "text") for i in range(20)]
    plan = plan_merge_fields(MAPPING, crowded, CRM, "newsletter")
    assert any("would make 34; Mailchimp allows 30" in c for c in plan.conflicts)
