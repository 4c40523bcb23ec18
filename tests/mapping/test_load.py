from __future__ import annotations

import textwrap

import pytest

from sync.errors import ConfigError, Problem, ProblemsFound
from sync.mapping.load import load_mapping
from sync.mapping.model import ProviderFieldType

NEWSLETTER = "audiences.newsletter.fields"


def write(tmp_path, text: str):
    path = tmp_path / "mapping.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_in(tmp_path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ProblemsFound) as caught:
        load_mapping(path)
    assert all(p.file == str(path) for p in caught.value.problems)
    return caught.value.problems


def only_problem(tmp_path, text: str) -> Problem:
    problems = problems_in(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


def fields_yaml(*lines: str) -> str:
    """A one-audience file whose field lines start on line 4."""
    return "audiences:\n  newsletter:\n    fields:\n" + "".join(f"      {line}\n" for line in lines)


def test_loads_a_valid_file_and_remembers_lines(tmp_path):
    path = write(
        tmp_path,
        """
        audiences:
          newsletter:
            fields:
              FNAME: { source: first_name, type: text, trim: true }
              TIER:
                source: loyalty_tier
                type: dropdown
                choices: { gold: Gold, silver: Silver }
              VIP: { source: vip, type: radio, choices: { true: "Yes", false: "No" } }
        """,
    )
    mapping = load_mapping(path)
    fields = mapping.audiences["newsletter"].fields
    assert list(fields) == ["FNAME", "TIER", "VIP"]
    assert fields["FNAME"].trim is True
    assert fields["TIER"].type is ProviderFieldType.DROPDOWN
    assert fields["VIP"].choices == {"true": "Yes", "false": "No"}
    assert mapping.file == str(path)
    assert mapping.line_of(f"{NEWSLETTER}.FNAME.source") == 4
    assert mapping.line_of(f"{NEWSLETTER}.TIER.choices") == 8
    assert mapping.line_of(f"{NEWSLETTER}.TIER.choices.silver") == 8
    assert mapping.line_of(f"{NEWSLETTER}.VIP.choices.false") == 9
    # A key that is not in the file points at its nearest enclosing key.
    assert mapping.line_of(f"{NEWSLETTER}.TIER.default") == 5


def test_missing_file_is_a_config_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere" / "mapping.yaml"
    with pytest.raises(ConfigError, match=str(path)) as caught:
        load_mapping(path)
    assert not isinstance(caught.value, ProblemsFound)


def test_yaml_syntax_error_points_at_its_line(tmp_path):
    problem = only_problem(tmp_path, fields_yaml("FNAME: { source: first_name, type: text }", "LNAME: source: x"))
    assert (problem.line, problem.key) == (5, "(yaml)")
    assert "mapping values are not allowed here" in problem.message


def test_unclosed_flow_mapping_names_where_it_started(tmp_path):
    problem = only_problem(tmp_path, fields_yaml("FNAME: { source: first_name, type: text", "LNAME: { source: x }"))
    assert problem.key == "(yaml)"
    assert "on line 4" in problem.message


def test_duplicate_key_is_reported_on_its_second_line(tmp_path):
    twice = fields_yaml("FNAME: { source: first_name, type: text }", "FNAME: { source: x, type: text }")
    problem = only_problem(tmp_path, twice)
    assert problem.line == 5
    assert 'duplicate key "FNAME"' in problem.message


def test_not_utf8_is_a_problem_of_the_file(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_bytes(b"audiences:\n  caf\xe9: {}\n")
    with pytest.raises(ProblemsFound, match="not UTF-8"):
        load_mapping(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- newsletter\n", "the file must be a mapping"),
        ("audiences:\n", "'audiences' must be a mapping of keys to values, not nothing"),
        ("audiences: {}\n", "'audiences' must not be empty"),
        ("audiences:\n  newsletter:\n    fields: {}\n", "'fields' must not be empty"),
    ],
)
def test_empty_or_shapeless_files(tmp_path, text, message):
    problem = only_problem(tmp_path, text)
    assert message in problem.message


# (field lines starting on line 4, expected (line, key, message fragment, suggestion))
ERROR_CASES = {
    "misspelt option": (
        ["FNAME: { source: first_name, typ: text }"],
        (4, f"{NEWSLETTER}.FNAME.typ", "unknown option 'typ'", "type"),
    ),
    "misspelt option in block style": (
        ["FNAME:", "  source: first_name", "  type: text", "  trimm: true"],
        (7, f"{NEWSLETTER}.FNAME.trimm", "unknown option 'trimm'", "trim"),
    ),
    "misspelt type name": (
        ["TIER: { source: loyalty_tier, type: dropdwon }"],
        (4, f"{NEWSLETTER}.TIER.type", "'dropdwon' is not one of: text, number", "dropdown"),
    ),
    "misspelt case": (
        ["FNAME: { source: first_name, type: text, case: uper }"],
        (4, f"{NEWSLETTER}.FNAME.case", "'uper' is not one of: upper, lower, title", "upper"),
    ),
    "missing source": (
        ["FNAME:", "  type: text"],
        (4, f"{NEWSLETTER}.FNAME.source", "'source' is missing: name the CRM field to read", None),
    ),
    "empty source list": (
        ["FULL: { source: [], type: text }"],
        (4, f"{NEWSLETTER}.FULL.source", "source must be a CRM field name", None),
    ),
    "tag of 11 characters": (
        ["LIFETIMEVAL: { source: lifetime_value, type: number }"],
        (4, f"{NEWSLETTER}.LIFETIMEVAL", "at most 10 characters", None),
    ),
    "lower-case tag": (
        ["fname: { source: first_name, type: text }"],
        (4, f"{NEWSLETTER}.fname", "only A-Z, 0-9 and _", "FNAME"),
    ),
    "tag with a dash": (
        ["F-NAME: { source: first_name, type: text }"],
        (4, f"{NEWSLETTER}.F-NAME", "only A-Z, 0-9 and _", None),
    ),
    "date_format on a text field": (
        ["SINCE: { source: member_since, type: text, date_format: DD/MM/YYYY }"],
        (4, f"{NEWSLETTER}.SINCE.date_format", "only date and birthday fields take a date_format", None),
    ),
    "date field without date_format": (
        ["SINCE: { source: member_since, type: date }"],
        (4, f"{NEWSLETTER}.SINCE.date_format", "needs date_format: MM/DD/YYYY or DD/MM/YYYY", None),
    ),
    "birthday with a full date format": (
        ["BDAY:", "  source: birthday", "  type: birthday", "  date_format: DD/MM/YYYY"],
        (7, f"{NEWSLETTER}.BDAY.date_format", "a birthday field takes MM/DD or DD/MM", "DD/MM"),
    ),
    "date with a birthday format": (
        ["SINCE: { source: member_since, type: date, date_format: MM/DD }"],
        (4, f"{NEWSLETTER}.SINCE.date_format", "a date field takes", "MM/DD/YYYY"),
    ),
    "unknown date format": (
        ["SINCE: { source: member_since, type: date, date_format: YYYY-MM-DD }"],
        (4, f"{NEWSLETTER}.SINCE.date_format", "'YYYY-MM-DD' is not one of", None),
    ),
    "choices on a number field": (
        ["LTV:", "  source: lifetime_value", "  type: number", "  choices: { low: Low }"],
        (7, f"{NEWSLETTER}.LTV.choices", "only dropdown and radio fields take choices, not number", None),
    ),
    "decimals on a text field": (
        ["LTV: { source: lifetime_value, type: text, decimals: 2 }"],
        (4, f"{NEWSLETTER}.LTV.decimals", "only number fields take decimals", None),
    ),
    "negative decimals": (
        ["LTV: { source: lifetime_value, type: number, decimals: -1 }"],
        (4, f"{NEWSLETTER}.LTV.decimals", "greater than or equal to 0", None),
    ),
    "decimals as words": (
        ["LTV: { source: lifetime_value, type: number, decimals: two }"],
        (4, f"{NEWSLETTER}.LTV.decimals", "'decimals' must be a whole number", None),
    ),
    "trim that is not a yes/no": (
        ["FNAME: { source: first_name, type: text, trim: maybe }"],
        (4, f"{NEWSLETTER}.FNAME.trim", "'trim' must be true or false", None),
    ),
    "case on a dropdown": (
        ["TIER: { source: loyalty_tier, type: dropdown, case: upper }"],
        (4, f"{NEWSLETTER}.TIER.case", "only text and zip fields take case", None),
    ),
    "join with one source": (
        ["FNAME: { source: first_name, type: text, join: ' ' }"],
        (4, f"{NEWSLETTER}.FNAME.join", "join needs a list of sources", None),
    ),
    "join that is a number": (
        ["FULL: { source: [first_name, last_name], type: text, join: 3 }"],
        (4, f"{NEWSLETTER}.FULL.join", "'join' must be text, not 3 (put it in quotes)", None),
    ),
    "several sources into a number": (
        ["SUM: { source: [a, b], type: number }"],
        (4, f"{NEWSLETTER}.SUM.source", "can only be joined into a text field", None),
    ),
    "address from one field": (
        ["ADDRESS: { source: street, type: address }"],
        (4, f"{NEWSLETTER}.ADDRESS.source", "an address field needs a map of address parts", None),
    ),
    "address parts on a text field": (
        ["ADDR: { source: { addr1: street, city: city, zip: postal_code }, type: text }"],
        (4, f"{NEWSLETTER}.ADDR.source", "a map of address parts is only for address fields", None),
    ),
    "misspelt address part": (
        ["ADDRESS:", "  type: address", "  source:", "    addr1: street", "    city: city", "    zipcode: postal_code",
         "    zip: postal_code", "    state: region"],
        (9, f"{NEWSLETTER}.ADDRESS.source.zipcode", "unknown address part", "zip"),
    ),
    "default on a date field": (
        ["SINCE: { source: member_since, type: date, date_format: DD/MM/YYYY, default: '01/01/2000' }"],
        (4, f"{NEWSLETTER}.SINCE.default", "a date field takes no default", None),
    ),
    "text default on a number field": (
        ["LTV: { source: lifetime_value, type: number, default: none }"],
        (4, f"{NEWSLETTER}.LTV.default", "a number field needs a number as default", None),
    ),
    "number default on a text field": (
        ["CUSTNO: { source: customer_number, type: text, default: 0 }"],
        (4, f"{NEWSLETTER}.CUSTNO.default", "needs text as default (put it in quotes)", None),
    ),
    "yes/no default": (
        ["CUSTNO: { source: customer_number, type: text, default: false }"],
        (4, f"{NEWSLETTER}.CUSTNO.default", "default must be text or a number", None),
    ),
    "default that is not a choice": (
        ["TIER: { source: loyalty_tier, type: dropdown, choices: { gold: Gold }, default: gold }"],
        (4, f"{NEWSLETTER}.TIER.default", "one of the provider choices: Gold", "Gold"),
    ),
    "checkbox choice translated to a list": (
        ["VIP:", "  source: vip", "  type: radio", "  choices:", "    false: 'No'", "    true: [Yes]"],
        (9, f"{NEWSLETTER}.VIP.choices.true", "'true' must be text, not a list", None),
    ),
    "choice translated to a list": (
        ["TIER: { source: loyalty_tier, type: dropdown, choices: { gold: [Gold] } }"],
        (4, f"{NEWSLETTER}.TIER.choices.gold", "'gold' must be text, not a list", None),
    ),
    "spotler property crm-sync fills itself": (
        ["MAIL: { source: email, type: text, spotler: email }"],
        (4, f"{NEWSLETTER}.MAIL.spotler", "is filled by crm-sync itself", None),
    ),
    "spotler property name with a space": (
        ["FNAME: { source: first_name, type: text, spotler: first name }"],
        (4, f"{NEWSLETTER}.FNAME.spotler", "spotler must name a Spotler property", None),
    ),
    "spotler map on a field that is not an address": (
        ["FNAME: { source: first_name, type: text, spotler: { addr1: street } }"],
        (4, f"{NEWSLETTER}.FNAME.spotler", "only for address fields", None),
    ),
    "spotler address part without a source": (
        ["ADDRESS: { type: address, source: { addr1: street, city: city, state: region, zip: postal_code }, "
         "spotler: { country: land } }"],
        (4, f"{NEWSLETTER}.ADDRESS.spotler.country", "this address part has no source", None),
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_each_error_points_at_its_line_and_key(tmp_path, case):
    lines, (line, key, fragment, suggestion) = case
    problem = only_problem(tmp_path, fields_yaml(*lines))
    assert (problem.line, problem.key) == (line, key)
    assert fragment in problem.message
    assert problem.suggestion == suggestion


def test_misspelt_audience_option_suggests_the_right_one(tmp_path):
    problem = only_problem(tmp_path, "audiences:\n  newsletter:\n    feilds:\n      FNAME: { source: a, type: text }\n")
    assert (problem.line, problem.key, problem.suggestion) == (3, "audiences.newsletter.feilds", "fields")
    assert "valid here: fields" in problem.message


def test_misspelt_top_level_key_suggests_audiences(tmp_path):
    problem = only_problem(tmp_path, "audience:\n  newsletter: {}\n")
    assert (problem.line, problem.key, problem.suggestion) == (1, "audience", "audiences")


def test_every_problem_in_a_file_is_reported_at_once_in_line_order(tmp_path):
    problems = problems_in(
        tmp_path,
        """
        audiences:
          newsletter:
            fields:
              FNAME: { source: first_name, typ: text }
              TIER: { source: loyalty_tier, type: dropdwon }
              SINCE: { source: member_since, type: text, date_format: DD/MM/YYYY, decimals: 2 }
              LIFETIMEVAL: { source: lifetime_value, type: number }
              LTV: { type: number }
          shop:
            fields:
              ADDRESS: { type: address, source: { adr1: street, city: city } }
        """,
    )
    found = [(p.line, p.key, p.suggestion) for p in problems]
    assert found == [
        (4, f"{NEWSLETTER}.FNAME.typ", "type"),
        (5, f"{NEWSLETTER}.TIER.type", "dropdown"),
        (6, f"{NEWSLETTER}.SINCE.date_format", None),
        (6, f"{NEWSLETTER}.SINCE.decimals", None),
        (7, f"{NEWSLETTER}.LIFETIMEVAL", None),
        (8, f"{NEWSLETTER}.LTV.source", None),
        (11, "audiences.shop.fields.ADDRESS.source.adr1", "addr1"),
        (11, "audiences.shop.fields.ADDRESS.source", None),
    ]
    assert "an address needs addr1, state, zip" in problems[-1].message


def test_problems_render_as_file_line_key_message_and_suggestion(tmp_path):
    path = write(tmp_path, fields_yaml("TIER: { source: loyalty_tier, type: dropdwon }"))
    with pytest.raises(ProblemsFound) as caught:
        load_mapping(path)
    assert str(caught.value) == (
        f"{path}:4: {NEWSLETTER}.TIER.type: 'dropdwon' is not one of: text, number, address, phone, date, url, "
        "imageurl, radio, dropdown, birthday, zip (did you mean 'dropdown'?)"
    )
