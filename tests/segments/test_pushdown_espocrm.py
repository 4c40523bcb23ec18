"""Conditions pushed down into EspoCRM's ``where`` select exactly what the stream alone selects: a property over
the fake EspoCRM (random worlds and conditions), and one selective segment on the live EspoCRM 9.1.7."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.connectors.espocrm.client import EspoClient
from sync.connectors.espocrm.crm import EspoCrm
from sync.connectors.espocrm.where import NOTHING, contact_where
from sync.sandbox.espocrm import EspoSandbox
from sync.sandbox.espocrm import seed as fake_seed
from sync.segments.conditions import meets
from sync.segments.model import Combined, FieldTest, ListTest, Segment, Step
from sync.segments.select import select_segment
from sync.settings import AudienceSettings
from tests.live.crms import require
from tests.segments.test_pushdown import DAYS, FOLDS, PUSHDOWN_TRIED, SQL_OR, TODAY, same_as_the_stream, texts

BACKEND = "espocrm-fake"
TEXT_FIELDS = ["firstName", "lastName", "addressCity", "description", "cLoyaltyTier", "emailAddress", "accountName"]
NUMBERS = [0.0, 0.5, 1.0, 1.5, 5.5, 1000.0, -3.25, 0.1, 12.5, 10.0, 1e300]
LISTS = [fake_seed.NEWSLETTER, fake_seed.VIP, "6b0346d1nolist"]

stored_texts = st.one_of(st.none(), texts)
contacts_strategy = st.lists(st.fixed_dictionaries({
    "email": st.sampled_from(["a@x.test", "A@x.test", "b@x.test", None, "c@x.test"]),
    "firstName": stored_texts, "lastName": stored_texts, "addressCity": stored_texts, "description": stored_texts,
    "cLoyaltyTier": st.sampled_from([None, "Gold", "gold", "GOLD ", "Silver", "ß", "%", ""]),
    "cMemberSince": st.one_of(st.none(), st.sampled_from(DAYS).map(date.isoformat)),
    "cPoints": st.sampled_from([None, 0, 1, 5, 1000, -3, 12]),
    "cRating": st.sampled_from([None, 0.1, 0.5, 1.5, 5.5, -3.25, 12.5, 10.0, 1.0000000000000002]),
    "doNotCall": st.booleans(),
    "lists": st.lists(st.tuples(st.sampled_from(LISTS[:2]), st.sampled_from([False, False, True])), max_size=2),
}), max_size=10)

leaf = st.one_of(
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS), st.sampled_from(["equals", "contains"]), texts),
    st.builds(FieldTest, st.sampled_from(["lastName", "description"]), st.sampled_from(["equals", "contains"]),
              st.sampled_from(FOLDS)),
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS), st.just("in"), st.lists(texts, max_size=3).map(tuple)),
    st.builds(FieldTest, st.sampled_from(TEXT_FIELDS + ["cPoints", "cRating", "cMemberSince", "doNotCall"]),
              st.just("empty"), st.booleans()),
    st.builds(FieldTest, st.sampled_from(["cPoints", "cRating"]), st.sampled_from(["gt", "gte", "lt", "lte", "equals"]),
              st.sampled_from(NUMBERS)),
    st.builds(FieldTest, st.sampled_from(["cPoints", "cRating"]), st.just("in"),
              st.lists(st.sampled_from(NUMBERS), max_size=3).map(tuple)),
    st.builds(FieldTest, st.sampled_from(["cMemberSince", "createdAt"]), st.sampled_from(["before", "after", "equals"]),
              st.sampled_from(DAYS)),
    st.builds(FieldTest, st.just("cMemberSince"), st.just("in"),
              st.lists(st.sampled_from(DAYS), max_size=2).map(tuple)),
    st.builds(FieldTest, st.just("cMemberSince"), st.just("within_days"), st.sampled_from([0, 30, 400, -5])),
    st.builds(FieldTest, st.just("doNotCall"), st.just("equals"), st.booleans()),
    st.builds(ListTest, st.sampled_from(LISTS), st.just("list")),
)
conditions = st.recursive(leaf, lambda inner: st.builds(Combined, st.sampled_from(["all", "any"]),
                                                        st.lists(inner, max_size=3).map(tuple)), max_leaves=5)
steps_strategy = st.tuples(st.builds(Step, st.just("include"), conditions),
                           *[st.builds(Step, st.sampled_from(["include", "exclude"]), conditions)] * 2
                           ).flatmap(lambda steps: st.integers(1, 3).map(lambda size: steps[:size]))


@pytest.fixture
def fake() -> Iterator[tuple[EspoSandbox, EspoCrm]]:
    """The fake EspoCRM with a whole-number and a decimal custom field, and its EspoCrm."""
    with EspoSandbox() as sandbox:
        sandbox.add_field("cPoints", {"type": "int"})
        sandbox.add_field("cRating", {"type": "float"})
        crm = EspoCrm(EspoClient(sandbox.base_url, sandbox.api_key, None, timeout=30, retry_seconds=1))
        try:
            yield sandbox, crm
        finally:
            crm.close()


def fill(sandbox: EspoSandbox, specs: list[dict[str, Any]]) -> None:
    """Replace every contact (and its list links) with ``specs``."""
    with sandbox.store.lock:
        sandbox.store.records["Contact"].clear()
        for key in [key for key in sandbox.store.links if key[1] == "Contact"]:
            sandbox.store.links[key] = {}
    for spec in specs:
        values = {key: value for key, value in spec.items() if key not in ("email", "lists") and value is not None}
        ident = sandbox.add_contact(spec["email"], **values)
        for list_id, opted_out in spec["lists"]:
            sandbox.store.links[(list_id, "Contact")][ident] = opted_out


def check_pushdown(crm: EspoCrm, steps: tuple[Step, ...], target_list: str | None) -> None:
    same_as_the_stream(crm, BACKEND, Segment("s", "newsletter", steps),
                       AudienceSettings(audience_id="x", target_list=target_list))


def test_pushdown_selects_what_the_stream_selects_on_the_fake(fake):
    sandbox, crm = fake

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])
    @given(specs=contacts_strategy, steps=steps_strategy, target_list=st.sampled_from([None, None, fake_seed.VIP]))
    def pushdown_equals_stream(specs, steps, target_list):
        fill(sandbox, specs)
        check_pushdown(crm, steps, target_list)
        PUSHDOWN_TRIED[f"{BACKEND} examples"] += 1

    pushdown_equals_stream()
    print(f"\n{BACKEND}: " + ", ".join(f"{key.removeprefix(BACKEND + ' ')} {count}"
                                       for key, count in sorted(PUSHDOWN_TRIED.items()) if key.startswith(BACKEND)))
    assert sandbox.traffic.errors == []


def test_letters_that_casefold_to_ascii_are_let_through(fake):
    sandbox, crm = fake
    stored = ["Straße", "ſtrasse", "\u212aelvin", "ﬁle", "İstanbul", "strasse", "other"]
    fill(sandbox, [{"email": None, "lastName": text, "lists": []} for text in stored])
    everyone = list(crm.iter_contacts())
    names = {contact.id: contact.fields["lastName"] for contact in everyone}
    for operator, wanted in [("equals", "STRASSE"), ("contains", "kelvin"), ("equals", "file"), ("contains", "sTR"),
                             ("contains", "i")]:
        condition = FieldTest("lastName", operator, wanted)
        meeting = {contact.id for contact in everyone if meets(condition, contact, TODAY)}
        matching = {contact.id for contact in crm.iter_contacts_matching(condition)}
        assert meeting and meeting <= matching and "other" not in {names[ident] for ident in matching}


def test_where_holds_values_as_json_values_and_leaves_wildcards_to_the_stream():
    types = {"lastName": "varchar", "cPoints": "int", "cMemberSince": "date", "emailAddress": "email"}
    assert contact_where(FieldTest("lastName", "equals", SQL_OR), types) == {
        "type": "equals", "attribute": "lastName", "value": SQL_OR}
    for wanted in ("100%", "a_b", "a\\b", "", "müller", "tab\there"):
        assert contact_where(FieldTest("lastName", "contains", wanted), types) is None
    assert contact_where(FieldTest("lastName", "in", ()), types) is NOTHING
    assert contact_where(FieldTest("cPoints", "gt", 1.5), types) == {
        "type": "greaterThanOrEquals", "attribute": "cPoints", "value": 1}
    assert contact_where(FieldTest("emailAddress", "equals", "a@x.test"), types) is None
    assert contact_where(Combined("any", (FieldTest("cMemberSince", "before", date(2020, 1, 1)),
                                          FieldTest("emailAddress", "empty", False))), types) is None


@pytest.mark.xdist_group("live-espocrm")
def test_live_espocrm_filters_a_selective_segment():
    """Read only: the seeded live EspoCRM (20 contacts, one O'Connor) is not changed."""
    env = require("espocrm")
    crm = EspoCrm(EspoClient(env["LIVE_ESPOCRM_URL"], env["LIVE_ESPOCRM_API_KEY"], None, timeout=30, retry_seconds=3))
    with crm:
        steps = (Step("include", Combined("all", (FieldTest("lastName", "in", ("o'connor", "x' OR '1'='1")),
                                                  FieldTest("firstName", "contains", "%")))),
                 Step("include", FieldTest("lastName", "contains", "'c")),
                 Step("include", Combined("all", (FieldTest("cLoyaltyPoints", "gte", 9000.5),
                                                  FieldTest("addressCity", "contains", "100%")))),
                 Step("exclude", FieldTest("firstName", "contains", "_")))
        segment = Segment("s", "newsletter", steps)
        audience = AudienceSettings(audience_id="x")
        in_stream = select_segment(crm, segment, audience, 50, TODAY, pushdown=False)
        pushed = select_segment(crm, segment, audience, 50, TODAY, pushdown=True)
        assert in_stream.contacts_read == crm.count_contacts() >= 20
        print(f"\nlive EspoCRM: {pushed.contacts_read} of {in_stream.contacts_read} contacts read with pushdown")
        assert pushed.contacts_read == 2  # O'Connor and Haddad (9100 points): the quotes compared literally
        assert pushed.candidates == in_stream.candidates and pushed.step_counts == in_stream.step_counts
        assert in_stream.step_counts == [0, 1, 1, 1]  # no first name holds a literal `%` (EspoCRM's LIKE would match)
