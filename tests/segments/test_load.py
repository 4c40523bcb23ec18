"""Bad segment definitions: each a clear problem naming the file, the line and the key."""

from __future__ import annotations

from datetime import date

import pytest

from sync.errors import ConfigError, ProblemsFound
from sync.records import CrmField, CrmFieldType
from sync.segments.load import load_segments
from sync.segments.model import Channel, Combined, FieldTest, ListTest

FIELDS = [
    CrmField("country", "Country", CrmFieldType.TEXT),
    CrmField("loyalty_tier", "Loyalty tier", CrmFieldType.DROPDOWN, ("bronze", "silver", "gold"), True),
    CrmField("member_since", "Member since", CrmFieldType.DATE, custom=True),
    CrmField("created_at", "Created", CrmFieldType.DATETIME),
    CrmField("lifetime_value", "Lifetime value", CrmFieldType.NUMBER, custom=True),
    CrmField("vip", "VIP", CrmFieldType.CHECKBOX, custom=True),
    CrmField("channel", "Channel", CrmFieldType.DROPDOWN, ("E-mail", "Post", "Both"), True),
]
LISTS = [("1", "VIP"), ("2", "Do not mail")]


def load(tmp_path, text: str, audiences=("newsletter",)):
    path = tmp_path / "segments.yaml"
    path.write_text(text)
    return load_segments(path, FIELDS, LISTS, audiences)


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(ProblemsFound) as caught:
        load(tmp_path, text)
    return [str(problem) for problem in caught.value.problems]


def segment(steps: str, extra: str = "") -> str:
    return f"segments:\n  promo:\n    audience: newsletter\n{extra}    steps:\n{steps}"


def test_a_good_file_becomes_typed_conditions(tmp_path):
    loaded = load(tmp_path, segment(
        "      - include:\n"
        "          all: [{field: country, in: [NL, BE]}, {field: loyalty_tier, equals: GOLD}]\n"
        "      - include: {target_list: VIP}\n"
        "      - exclude: {any: [{field: member_since, after: 2026-01-01}, {field: lifetime_value, gte: 10},\n"
        "                        {field: created_at, within_days: 30}, {field: vip, equals: true}]}\n",
        "    exclusion_lists: [Do not mail]\n    channel_field: channel\n"
        "    channel_values: {email: [E-mail], post: [Post], both: [Both]}\n"))
    promo = loaded["promo"]
    assert promo.steps[0].condition == Combined("all", (FieldTest("country", "in", ("NL", "BE")),
                                                        FieldTest("loyalty_tier", "equals", "GOLD")))
    assert promo.steps[1].condition == ListTest("1", "VIP") and promo.steps[1].line == 10
    parts = promo.steps[2].condition.parts
    assert [part.value for part in parts] == [date(2026, 1, 1), 10.0, 30, True]
    assert promo.exclusion_lists == (("2", "Do not mail"),)
    assert promo.channel_values.channel("post") == Channel.POST
    assert promo.channel_values.channel("Phone") == Channel.EMAIL


def test_unknown_field_names_file_line_key_and_suggestion(tmp_path):
    found = problems(tmp_path, segment("      - include: {field: loyalty, equals: gold}\n"))
    path = tmp_path / "segments.yaml"
    assert found == [f"{path}:5: segments.promo.steps.0.include.field: unknown field 'loyalty': the CRM has no "
                     "such contact or organisation field (did you mean 'loyalty_tier'?)"]


@pytest.mark.parametrize(("condition", "message"), [
    ("{field: lifetime_value, gt: lots}", "must be a number (lifetime_value is a number field), not the text 'lots'"),
    ("{field: member_since, before: soon}", "must be a date like 2026-01-31 (member_since is a date field)"),
    ("{field: vip, equals: 'yes'}", "must be true or false (vip is a checkbox)"),
    ("{field: country, equals: 31}", "must be text (country is a text field; put it in quotes), not 31"),
    ("{field: loyalty_tier, equals: platinum}", "'platinum' is not a choice of loyalty_tier"),
    ("{field: lifetime_value, contains: '1'}", "'contains' does not apply to lifetime_value, a number field"),
    ("{field: country, matches: NL}", "unknown operator 'matches'"),
    ("{field: country, equals: NL, in: [BE]}", "give exactly one operator per field test"),
    ("{target_list: Newsletter}", "no target list 'Newsletter' in the CRM; its lists: VIP, Do not mail"),
    ("{all: []}", "'all' needs at least one condition"),
    ("{field: member_since, within_days: -3}", "within_days must be between 0 and 36600"),
    ("{field: country, in: []}", "'in' needs a non-empty list of values"),
    ("{equals: NL}", "'field' is missing"),
])
def test_wrong_conditions(tmp_path, condition, message):
    found = problems(tmp_path, segment(f"      - include: {condition}\n"))
    assert len(found) == 1 and message in found[0] and ":5: segments.promo.steps.0.include" in found[0], found


def test_empty_steps_unknown_audience_and_options_each_reported(tmp_path):
    found = problems(tmp_path, "segments:\n  promo:\n    audience: letters\n    steps: []\n    mailng: x\n"
                               "  other:\n    audience: newsletter\n    steps:\n      - exclude: {field: vip, "
                               "equals: true}\n")
    path = tmp_path / "segments.yaml"
    assert found == [
        f"{path}:3: segments.promo.audience: 'letters' is not a configured audience; known: newsletter "
        "(did you mean 'newsletter'?)",
        f"{path}:4: segments.promo.steps: 'steps' is missing or empty: give at least one include step",
        f"{path}:5: segments.promo.mailng: unknown option 'mailng'; valid here: audience, mailing, steps, "
        "exclusion_lists, contact_lock_field, channel_field, channel_values, organisation_field, post_fields, "
        "scheduled "
        "(did you mean 'mailing'?)",
        f"{path}:9: segments.other.steps.0: the first step excludes from nothing: start with an include step",
    ]


def test_lock_and_channel_fields_must_fit(tmp_path):
    found = problems(tmp_path, segment("      - include: {field: vip, equals: true}\n",
                                       "    contact_lock_field: country\n    channel_field: vip\n"))
    assert [text.split(": ", 2)[1:] for text in found] == [
        ["segments.promo.contact_lock_field", "country is a text field; this needs a checkbox field"],
        ["segments.promo.channel_field", "vip is a checkbox field; this needs a dropdown, email, phone, text field"],
    ]


@pytest.mark.parametrize("text", ["", "segments: {}\n", "segment:\n  a: 1\n", "- a\n"])
def test_a_file_without_segments(tmp_path, text):
    found = problems(tmp_path, text)
    assert any("segments" in line for line in found)


def test_hostile_yaml_is_refused_like_the_mapping(tmp_path):
    found = problems(tmp_path, "segments: !!python/object:os.system {}\n")
    assert "the tag" in found[0] and "is not allowed" in found[0]
    with pytest.raises(ConfigError, match="file not found"):
        load_segments(tmp_path / "missing.yaml", FIELDS, LISTS, ["newsletter"])


def test_a_segment_named_twice(tmp_path):
    found = problems(tmp_path, segment("      - include: {field: vip, equals: true}\n")
                     + "  promo:\n    audience: newsletter\n    steps:\n      - include: {target_list: VIP}\n")
    assert len(found) == 1 and ":6: (yaml): not valid YAML: found duplicate key" in found[0], found
