"""Pure: contacts at shared addresses wait in a temporary file, not in memory, and come back as they were."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from sync.push.stream import AudienceJob, HeldBack, stream_plans
from tests.push.test_household_plans import Crm, States
from tests.push.test_plan_rules import AUDIENCE, MAPPING, contact


def test_held_contacts_come_back_equal_per_address_in_order_of_first_appearance_a_few_addresses_at_a_time():
    held = [contact("1", email="a@x.test"), contact("2", email="b@x.test"), contact("3", email="a@x.test"),
            contact("4", email="c@x.test"), contact("5", email="b@x.test")]
    with HeldBack() as held_back:
        for one in held:
            held_back.add(one.email, one)
        windows = list(held_back.groups(chunk_size=3))
    assert windows == [[[held[0], held[2]], [held[1], held[4]]], [[held[3]]]]


def test_a_contact_pickle_cannot_hold_is_kept_in_memory():
    unpicklable = replace(contact("1", email="a@x.test"), fields=MappingProxyType({"first_name": "Anna"}))
    with HeldBack() as held_back:
        held_back.add("a@x.test", unpicklable)
        held_back.add("a@x.test", contact("2", email="a@x.test"))
        [[group]] = list(held_back.groups(chunk_size=1000))
    assert group[0] is unpicklable and group[1] == contact("2", email="a@x.test")


def test_households_are_planned_last_in_order_of_first_appearance_across_windows():
    contacts = [contact(str(n), email=f"p{n % 7}@x.test" if n % 3 == 0 else f"own{n}@x.test") for n in range(60)]
    job = AudienceJob("newsletter", AUDIENCE, MAPPING, chunk_size=4)
    order = [plan.contact_id for plan, _ in stream_plans(job, Crm(contacts), States([]))]
    shared = [c for c in contacts if c.email.startswith("p")]
    firsts = list(dict.fromkeys(c.email for c in shared))
    assert sorted(order) == sorted(c.id for c in contacts)
    assert order[:len(contacts) - len(shared)] == [c.id for c in contacts if not c.email.startswith("p")]
    held_order = order[len(contacts) - len(shared):]
    assert [next(c.email for c in shared if c.id == cid) for cid in held_order] == \
        [email for email in firsts for c in shared if c.email == email]
