"""Property: whatever the steps and the recipients file, no recipient breaks a rule every segment obeys."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.addresses import normalise_email
from sync.push.rules import EMAIL_SHAPE, consent_given
from sync.records import Consent, CrmContact
from sync.segments.conditions import step_membership
from sync.segments.model import ChannelValues, Combined, FieldTest, ListTest, Segment, Step
from sync.segments.recipients import RecipientRow, apply_recipients
from sync.segments.selection import select_from
from sync.settings import AudienceSettings

TRIED: Counter[str] = Counter()
TODAY = date(2027, 1, 1)
ADDRESSES = ["a@x.test", "A@X.test ", "b@x.test", "c@x.test", "not an address", None, "d@x.test"]
CONSENT_FIELD = "newsletter_ok"

RARELY = st.sampled_from([False] * 9 + [True])
contacts_strategy = st.lists(st.fixed_dictionaries({
    "email": st.one_of(st.sampled_from(ADDRESSES), st.integers(1, 10**6).map(lambda n: f"u{n}@x.test")),
    "opt_in": st.sampled_from([True, True, True, False, None]),
    "own_consent": st.sampled_from([True, True, True, False, None]),
    "opt_out": RARELY, "invalid": RARELY, "deleted": RARELY,
    "org_locked": RARELY, "lock": st.sampled_from([True, None] + [False] * 8),
    "channel": st.sampled_from(["email", "post", "both", None, "fax"]),
    "country": st.sampled_from(["NL", "BE", "O'Brien", "%", None]),
    "score": st.sampled_from([None, 1.0, 5.5, 10.0]),
    "lists": st.sets(st.sampled_from(["1", "2", "3"]), max_size=2),
}), max_size=16)

leaf = st.one_of(
    st.builds(FieldTest, st.just("country"), st.sampled_from(["equals", "contains"]),
              st.sampled_from(["NL", "BE", "O'Brien", "%", "'"])),
    st.builds(FieldTest, st.just("country"), st.just("empty"), st.booleans()),
    st.builds(FieldTest, st.just("country"), st.just("in"), st.just(("NL", "BE", "%"))),
    st.builds(FieldTest, st.just("score"), st.sampled_from(["gt", "lte"]), st.sampled_from([1.0, 5.5])),
    st.builds(ListTest, st.sampled_from(["1", "2", "3"]), st.just("list")),
)
conditions = st.recursive(leaf, lambda inner: st.builds(Combined, st.sampled_from(["all", "any"]),
                                                        st.lists(inner, min_size=1, max_size=3).map(tuple)),
                          max_leaves=5)
steps_strategy = st.tuples(st.builds(Step, st.just("include"), conditions),
                           *[st.builds(Step, st.sampled_from(["include", "exclude"]), conditions)] * 3
                           ).flatmap(lambda steps: st.integers(1, 4).map(lambda size: steps[:size]))
file_rows = st.lists(st.tuples(st.integers(0, 16), st.sampled_from(["yes", "yes", "no", "YES", "maybe", ""]),
                               RARELY), max_size=20)


def make_contacts(specs: list[dict]) -> list[CrmContact]:
    return [CrmContact(str(index + 1), spec["email"],
                       {"country": spec["country"], "score": spec["score"], "lock": spec["lock"],
                        "channel": spec["channel"], CONSENT_FIELD: spec["own_consent"]},
                       Consent(spec["opt_in"], spec["opt_out"], spec["invalid"]),
                       datetime(2026, 1, 1 + index, tzinfo=UTC), spec["deleted"], str(index % 3),
                       spec["org_locked"], frozenset(spec["lists"]))
            for index, spec in enumerate(specs)]


@settings(max_examples=400, deadline=None)
@given(specs=contacts_strategy, steps=steps_strategy, exclusion=st.sets(st.sampled_from(["1", "2", "3"]),
                                                                        max_size=1),
       own_consent=st.booleans(), use_file=st.booleans(), rows=file_rows, target=st.sampled_from([None, "3"]))
def test_no_recipient_breaks_a_rule(specs, steps, exclusion, own_consent, use_file, rows, target):
    contacts = make_contacts(specs)
    consent_field = CONSENT_FIELD if own_consent else "email_opt_in"
    audience = AudienceSettings(audience_id="x", consent_field=consent_field)
    segment = Segment("s", "newsletter", steps, exclusion_lists=tuple((list_id, "l") for list_id in exclusion),
                      contact_lock_field="lock", channel_field="channel",
                      channel_values=ChannelValues(("email",), ("post",), ("both",)))
    excluded = {normalise_email(c.email) for c in contacts if c.list_ids & exclusion and normalise_email(c.email)}
    per_address: dict[str, list[CrmContact]] = defaultdict(list)
    for contact in contacts:
        if normalise_email(contact.email):
            per_address[normalise_email(contact.email)].append(contact)
    shared = {address for address, here in per_address.items() if len(here) > 1}
    selection = select_from(iter(contacts), segment, audience, excluded, shared, TODAY, target)
    file_says: dict[str, str] = {}
    if use_file:
        recipient_rows = []
        for line, (index, send, change) in enumerate(rows, start=2):
            original = contacts[index] if index < len(contacts) else None
            contact_id = original.id if original else f"ghost{index}"
            email = normalise_email(original.email) if original else "ghost@x.test"
            recipient_rows.append(RecipientRow(line, contact_id, "changed@x.test" if change else email, send.lower()))
            if not change:
                file_says.setdefault(contact_id, send.lower())
            else:
                file_says[contact_id] = "changed"
        selection = apply_recipients(selection, recipient_rows, "file.csv")
        TRIED["with_file"] += 1
        TRIED["file_problems"] += len(selection.file_problems)
    by_id = {contact.id: contact for contact in contacts}
    emails = [by_id[candidate.contact_id] for candidate in selection.email_recipients]
    for contact in emails:
        address = normalise_email(contact.email)
        assert step_membership(steps, contact, TODAY)[-1]
        assert not contact.deleted and not contact.organisation_locked and contact.fields["lock"] is not True
        assert address is not None and EMAIL_SHAPE.fullmatch(address) and address not in excluded
        assert consent_given(contact, consent_field) is True
        assert not contact.consent.email_opt_out and not contact.consent.email_invalid
        assert contact.fields["channel"] != "post"
        assert target is None or target in contact.list_ids
        assert not any(other.consent.email_opt_out and not other.deleted for other in per_address[address])
        if use_file:
            assert file_says.get(contact.id) in ("yes", "y", "ja", "j", "true", "1", "x")
    assert len({normalise_email(contact.email) for contact in emails}) == len(emails)
    for candidate in selection.post_recipients:
        contact = by_id[candidate.contact_id]
        assert step_membership(steps, contact, TODAY)[-1] and contact.fields["channel"] == "post"
        assert not contact.deleted and not contact.organisation_locked and contact.fields["lock"] is not True
        assert normalise_email(contact.email) not in excluded
        if use_file:
            assert file_says.get(contact.id) in ("yes", "y", "ja", "j", "true", "1", "x")
    TRIED["examples"] += 1
    TRIED.update(f"reason {reason}" for reason in selection.reasons().elements())
    TRIED["candidates"] += len(selection.candidates)
    TRIED["recipients"] += len(emails)
    TRIED["post"] += len(selection.post_recipients)
