"""Conditions pushed down into the SQL CRM's query select exactly what the stream alone selects."""

from __future__ import annotations

import os
import sys
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, make_url, select

from sync.connectors.sql.crm import SqlCrm, open_crm
from sync.demo.crm.schema import crm_tables
from sync.records import Consent, CrmContact
from sync.segments.conditions import meets
from sync.segments.folding import LAST_FOLDING
from sync.segments.model import ChannelValues, Combined, FieldTest, ListTest, Segment, Step
from sync.segments.prefilter import include_condition
from sync.segments.select import select_recipients, select_segment
from sync.settings import AudienceSettings
from tests.segments.world import FIELDS, SEGMENTS, STAMP, build_crm, create_schema, settings_for

PUSHDOWN_TRIED: Counter[str] = Counter()
TODAY = date(2027, 1, 1)
EXAMPLES = {"sqlite": 300, "postgresql": 100, "mysql": 100}  # by SQLAlchemy backend name
SQL_OR = "' OR 1=1 --"
TEXTS = ["O'Brien", "o'brien", "%", "100% organic", "a_b", SQL_OR, "Straße", "STRASSE", "ſtrasse", "\u212aelvin",
         "kelvin", "", "  ", "gold", "GOLD ", "İstanbul", "istanbul", "a\\b", "x'y\"z", "NULL", "müller", "MÜLLER",
         "12.5", "2026-01-01", "ﬁle", "FILE", "%_", "do-not-mail"]
ALPHABET = "sSkKiI%_'\\ ßſ\u212aİü"  # small, so that values and wanted texts often meet
DAYS = [date(2026, 1, 1), date(2026, 12, 31), date(2025, 6, 1), date(2027, 1, 1), date(2026, 12, 1)]
NUMBERS = [0.0, 1.5, 5.5, 1000.0, -3.25, 0.1, 12.5, 10.0]
TEXT_FIELDS = ["first_name", "country", "city", "email", "keywords", "loyalty_tier", "channel", "organisation_name"]

# Texts that casefold alike though the databases' lower() keeps them apart (and some it lowers alike).
FOLDS = ["s", "S", "ſ", "ss", "ß", "SS", "ẞ", "k", "K", "\u212a", "i", "I", "İ", "i\u0307", "fi", "ﬁ", "FI", "st",
         "ﬅ", "ſt", "É", "é", "e\u0301"]
texts = st.one_of(st.sampled_from(TEXTS), st.sampled_from(FOLDS), st.text(alphabet=ALPHABET, max_size=3))
stored_texts = st.one_of(st.none(), texts)
contacts_strategy = st.lists(st.fixed_dictionaries({
    "email": st.sampled_from(["a@x.test", " A@X.test", "b@x.test", None, "not an address", "c@x.test"]),
    "first_name": stored_texts, "city": stored_texts, "keywords": stored_texts, "loyalty_tier": stored_texts,
    "country": st.sampled_from(["NL", "nl", "BE", "ß", "%", "_", "'", None, "", " "]),
    "channel": st.sampled_from(["email", "post", "both", None, "POST"]),
    "birthday": st.one_of(st.none(), st.sampled_from(DAYS)),
    "member_since": st.one_of(st.none(), st.sampled_from(DAYS)),
    "lifetime_value": st.sampled_from([None, 0.0, 1.5, 5.5, 10.0, 999.99, -3.25, 12.5, 0.1]),
    "mailing_lock": st.sampled_from([None, False, False, True]),
    "email_opt_in": st.sampled_from([True, True, False, None]),
    "email_opt_out": st.sampled_from([False] * 5 + [True]),
    "deleted": st.sampled_from([False] * 5 + [True]),
    "organisation_id": st.sampled_from([1, 1, 2, 3]),
    "lists": st.sets(st.sampled_from([1, 2]), max_size=2),
}), max_size=12)

leaf = st.one_of(
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS), st.sampled_from(["equals", "contains"]), texts),
    st.builds(FieldTest, st.sampled_from(["keywords", "first_name"]), st.sampled_from(["equals", "contains"]),
              st.sampled_from(FOLDS)),
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS), st.just("in"), st.lists(texts, max_size=3).map(tuple)),
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS + ["lifetime_value", "member_since", "birthday",
                                                        "mailing_lock"]), st.just("empty"), st.booleans()),
    st.builds(FieldTest, st.just("lifetime_value"), st.sampled_from(["gt", "gte", "lt", "lte", "equals"]),
              st.sampled_from(NUMBERS)),
    st.builds(FieldTest, st.just("lifetime_value"), st.just("in"),
              st.lists(st.sampled_from(NUMBERS), max_size=3).map(tuple)),
    st.builds(FieldTest, st.sampled_from(["member_since", "birthday", "created_at"]),
              st.sampled_from(["before", "after", "equals"]), st.sampled_from(DAYS)),
    st.builds(FieldTest, st.sampled_from(["member_since", "birthday"]), st.just("in"),
              st.lists(st.sampled_from(DAYS), max_size=2).map(tuple)),
    st.builds(FieldTest, st.sampled_from(["member_since", "birthday"]), st.just("within_days"),
              st.sampled_from([0, 30, 400, -5])),
    st.builds(FieldTest, st.just("mailing_lock"), st.just("equals"), st.booleans()),
    st.builds(ListTest, st.sampled_from(["1", "2", "3", "01"]), st.just("list")),
)
conditions = st.recursive(leaf, lambda inner: st.builds(Combined, st.sampled_from(["all", "any"]),
                                                        st.lists(inner, max_size=3).map(tuple)), max_leaves=5)
steps_strategy = st.tuples(st.builds(Step, st.just("include"), conditions),
                           *[st.builds(Step, st.sampled_from(["include", "exclude"]), conditions)] * 2
                           ).flatmap(lambda steps: st.integers(1, 3).map(lambda size: steps[:size]))


@pytest.fixture
def empty_crm(database_url):
    """The world's tables with its organisations and lists, no contacts; the open SqlCrm and the tables."""
    engine = create_engine(database_url)
    tables = create_schema(engine, ((1, "Open BV", False), (2, "Locked BV", True), (3, "O'Brien % BV", False)))
    crm = open_crm(database_url)
    try:
        yield crm, tables, engine
    finally:
        crm.close()
        engine.dispose()


def fill(engine, tables, specs: list[dict]) -> None:
    """Replace every contact with ``specs`` (ids 1..n)."""
    columns = {field.name: field.column_name for field in FIELDS}
    custom = ("keywords", "loyalty_tier", "channel", "member_since", "lifetime_value", "mailing_lock")
    with engine.begin() as connection:
        for table in (tables.target_list_members, tables.contacts_cf, tables.contacts):
            connection.execute(table.delete())
        for index, spec in enumerate(specs, start=1):
            connection.execute(tables.contacts.insert(), [{
                "id": index, "last_name": f"N{index}", "created_at": STAMP, "modified_at": STAMP,
                "email_invalid": False, **{key: spec[key] for key in (
                    "email", "first_name", "city", "country", "birthday", "email_opt_in", "email_opt_out",
                    "deleted", "organisation_id")}}])
            connection.execute(tables.contacts_cf.insert(), [
                {"contact_id": index} | {columns[name]: spec[name] for name in custom}])
            for list_id in spec["lists"]:
                connection.execute(tables.target_list_members.insert(), [{"list_id": list_id,
                                                                           "contact_id": index}])


def check_pushdown(crm: SqlCrm, backend: str, steps: tuple[Step, ...], exclusion: bool,
                   target_list: str | None) -> None:
    segment = Segment("s", "newsletter", steps, exclusion_lists=(("2", "Do not mail"),) if exclusion else (),
                      contact_lock_field="mailing_lock", channel_field="channel",
                      channel_values=ChannelValues(("email",), ("post",), ("both",)),
                      organisation_field="organisation_name", post_fields=("city",))
    same_as_the_stream(crm, backend, segment, AudienceSettings(audience_id="x", target_list=target_list))


def same_as_the_stream(crm, backend: str, segment: Segment, audience: AudienceSettings) -> None:
    """Each include condition's pushdown is a superset in stream order, and the segment selects the same with
    pushdown as without (counted in PUSHDOWN_TRIED per ``backend``)."""
    everyone = list(crm.iter_contacts(3))
    steps = segment.steps
    for condition in [include_condition(steps, TODAY)] + [include_condition([Step("include", step.condition)],
                                                                            TODAY) for step in steps]:
        matching = [contact.id for contact in crm.iter_contacts_matching(condition, chunk_size=3)]
        assert matching == [contact.id for contact in everyone if contact.id in set(matching)]  # stream order
        meeting = [contact.id for contact in everyone if meets(condition, contact, TODAY)]
        assert set(meeting) <= set(matching), condition
        PUSHDOWN_TRIED[f"{backend} left out"] += len(everyone) - len(matching)
        PUSHDOWN_TRIED[f"{backend} let through"] += len(matching) - len(meeting)
    in_stream = select_segment(crm, segment, audience, 3, TODAY, pushdown=False)
    pushed = select_segment(crm, segment, audience, 3, TODAY, pushdown=True)
    assert pushed.step_counts == in_stream.step_counts
    assert pushed.candidates == in_stream.candidates
    assert pushed.post_values == in_stream.post_values
    assert pushed.contacts_read <= in_stream.contacts_read == len(everyone)
    PUSHDOWN_TRIED[f"{backend} candidates"] += len(in_stream.candidates)


def test_pushdown_selects_what_the_stream_selects(empty_crm, database_url):
    crm, tables, engine = empty_crm
    backend = make_url(database_url).get_backend_name()

    @settings(max_examples=EXAMPLES.get(backend, 60), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(specs=contacts_strategy, steps=steps_strategy, exclusion=st.booleans(),
           target_list=st.sampled_from([None, None, "VIP"]))
    def pushdown_equals_stream(specs, steps, exclusion, target_list):
        fill(engine, tables, specs)
        check_pushdown(crm, backend, steps, exclusion, target_list)
        PUSHDOWN_TRIED[f"{backend} examples"] += 1

    pushdown_equals_stream()


@pytest.fixture
def world_settings(database_url, tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_")
                 and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    build_crm(database_url)
    (tmp_path / "segments.yaml").write_text(SEGMENTS + f"""\
  sql-or:
    audience: newsletter
    steps:
      - include: {{field: keywords, equals: "{SQL_OR}"}}
      - include: {{field: keywords, contains: "{SQL_OR}"}}
  underscore:
    audience: newsletter
    steps:
      - include: {{field: keywords, contains: "_"}}
""")
    return settings_for(database_url, tmp_path / "segments.yaml")


def test_the_database_filters_a_selective_segment(world_settings):
    for name in ("literal-quotes", "literal-percent"):
        pushed = select_recipients(world_settings, name, today=TODAY)
        in_stream = select_recipients(world_settings, name, today=TODAY, pushdown=False)
        assert in_stream.contacts_read == 24
        assert pushed.contacts_read == 1  # only the contact holding the text: `%` matched literally
        assert pushed.candidates == in_stream.candidates and pushed.step_counts == in_stream.step_counts


def test_sql_looking_text_selects_literally(world_settings, database_url):
    for name in ("sql-or", "underscore"):
        selection = select_recipients(world_settings, name, today=TODAY)
        assert selection.contacts_read == 0 and selection.candidates == [] and selection.step_counts[-1] == 0
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(crm_tables(FIELDS).contacts)).scalar() == 24
    finally:
        engine.dispose()


def test_letters_that_casefold_to_ascii_are_let_through(empty_crm, database_url):
    crm, tables, engine = empty_crm
    blank = dict.fromkeys(("email", "first_name", "city", "loyalty_tier", "country", "channel", "birthday",
                           "member_since", "lifetime_value", "mailing_lock"))
    stored = ["Straße", "ſtrasse", "\u212aelvin", "ﬁle", "İstanbul", "strasse", "other"]
    fill(engine, tables, [blank | {"keywords": text, "email_opt_in": True, "email_opt_out": False, "deleted": False,
                                   "organisation_id": 1, "lists": set()} for text in stored])
    everyone = list(crm.iter_contacts())
    for operator, wanted, meeting in [("equals", "STRASSE", {"1", "2", "6"}), ("contains", "kelvin", {"3"}),
                                      ("equals", "file", {"4"}), ("contains", "sTR", {"1", "2", "6"}),
                                      ("contains", "i", {"3", "4", "5"})]:
        condition = FieldTest("keywords", operator, wanted)
        assert {contact.id for contact in everyone if meets(condition, contact, TODAY)} == meeting
        matching = {contact.id for contact in crm.iter_contacts_matching(condition)}
        assert meeting <= matching and "7" not in matching, (condition, matching)
        check_pushdown(crm, make_url(database_url).get_backend_name(), (Step("include", condition),), False, None)


def test_no_letter_beyond_the_bmp_casefolds_to_ascii():
    assert not [char for char in map(chr, range(LAST_FOLDING, sys.maxunicode + 1))
                if any(part.isascii() for part in char.casefold())]


def test_within_days_is_pushed_down_as_the_same_days():
    within = FieldTest("member_since", "within_days", 3)
    dated = include_condition([Step("include", within)], TODAY)
    days = [date(2026, 12, 28), date(2026, 12, 29), date(2027, 1, 1), date(2027, 1, 2)]
    contacts = [CrmContact(str(index), None, {"member_since": day}, Consent(True, False, False),
                           datetime(2026, 1, 1, tzinfo=UTC), False, None, False, frozenset())
                for index, day in enumerate(days)]
    assert [meets(dated, contact, TODAY) for contact in contacts] == \
        [meets(within, contact, TODAY) for contact in contacts] == [False, True, True, False]
