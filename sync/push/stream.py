"""Streaming the plan for one audience: CRM contacts in chunks, their stored state, shared addresses.

Memory stays flat in the number of contacts: one chunk at a time. Contacts whose address is shared are held
back and resolved at the end by the household rule; there can be many of them (8% of the demo CRM), so they wait
in a temporary file, with only their address and place in it kept in memory, and are planned a chunk at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Protocol

from sync.addresses import normalise_email
from sync.connectors.crm import ContactReads
from sync.mapping.model import AudienceMapping
from sync.mapping.payload import Payload
from sync.push.households import plan_household
from sync.push.rules import LEAVES, Action, MemberPlan, leave_reason, plan_member
from sync.records import CrmContact
from sync.settings import AudienceSettings
from sync.state.members import MemberStateRow


class MemberStates(Protocol):
    """What the planner needs from the state store."""

    def member_states(self, audience: str, contact_ids: list[str]) -> dict[str, MemberStateRow]: ...


@dataclass(frozen=True)
class AudienceJob:
    """Everything fixed for one audience during one run."""

    name: str
    settings: AudienceSettings
    mapping: AudienceMapping
    target_list_id: str | None = None
    chunk_size: int = 1000
    build: Callable[[CrmContact], Payload] | None = None  # the provider payload; default Mailchimp's

    def plan(self, contact: CrmContact, state: MemberStateRow | None) -> MemberPlan:
        """The plan for one contact in this audience."""
        return plan_member(contact, state, self.settings, self.mapping, self.target_list_id, self.build)

    def leave_reason(self, contact: CrmContact) -> str | None:
        """Why this contact leaves the audience, or None when it may be a member."""
        return leave_reason(contact, self.settings, self.target_list_id)


def stream_plans(job: AudienceJob, crm: ContactReads, store: MemberStates
                 ) -> Iterator[tuple[MemberPlan, MemberStateRow | None]]:
    """Every contact's plan with its stored state, in CRM order; shared addresses last, one decision each."""
    shared = crm.shared_emails()
    with HeldBack() as held_back:
        contacts = crm.iter_contacts(chunk_size=job.chunk_size)
        while chunk := list(islice(contacts, job.chunk_size)):
            states = store.member_states(job.name, [contact.id for contact in chunk])
            for contact in chunk:
                email = normalise_email(contact.email)
                if email in shared:
                    held_back.add(email, contact)
                    continue
                state = states.get(contact.id)
                yield job.plan(contact, state), state
        for groups in held_back.groups(job.chunk_size):  # households in order of first appearance
            held_states = store.member_states(job.name, [c.id for group in groups for c in group])
            for group in groups:
                states = {contact.id: held_states[contact.id] for contact in group if contact.id in held_states}
                yield from plan_household(group, states, job.settings, job.plan, job.leave_reason)


class HeldBack:
    """Contacts held back by address until every contact is read, kept in a temporary file (pickled): in memory
    only each address, in order of first appearance, with the places of its contacts in the file."""

    def __init__(self) -> None:
        self._places: dict[str, list[int | CrmContact]] = defaultdict(list)
        self._file: IO[bytes] | None = None

    def __enter__(self) -> HeldBack:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._places.clear()

    def add(self, email: str, contact: CrmContact) -> None:
        try:
            data = pickle.dumps(contact, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # a CRM's value pickle cannot hold: kept as is
            self._places[email].append(contact)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="crm-sync-held-")  # noqa: SIM115 (closed on exit)
        self._file.seek(0, 2)
        self._places[email].append(self._file.tell())
        self._file.write(data)

    def groups(self, chunk_size: int) -> Iterator[list[list[CrmContact]]]:
        """The held contacts per address, in order of first appearance, each address's in CRM order, a few
        addresses at a time (about ``chunk_size`` contacts)."""
        window: list[list[CrmContact]] = []
        size = 0
        for places in self._places.values():
            window.append([self._load(place) for place in places])
            size += len(places)
            if size >= chunk_size:
                yield window
                window, size = [], 0
        if window:
            yield window

    def _load(self, place: int | CrmContact) -> CrmContact:
        if not isinstance(place, int):
            return place
        assert self._file is not None
        self._file.seek(place)
        return pickle.load(self._file)


@dataclass
class PlanSummary:
    """Counts per action and reason, and a sample of per-contact changes, for `crm-sync plan`."""

    audience: str
    actions: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    reasons_by_action: Counter = field(default_factory=Counter)  # (action, reason): the reasons of each action
    fields_to_create: list[str] = field(default_factory=list)
    changes: list[MemberPlan] = field(default_factory=list)
    sample_limit: int = 20
    records_to_update: int = 0  # skips and merges whose reason the state store does not hold yet
    warnings: Counter = field(default_factory=Counter)  # (field, problem) -> contacts with that field warning
    scope: str = ""  # which kind of push (full or incremental) and why
    warning_sample: list[tuple[str, str]] = field(default_factory=list)  # (contact id, warning text)

    def add(self, plan: MemberPlan, state: MemberStateRow | None = None) -> None:
        self.actions[plan.action.value] += 1
        for warning in plan.warnings:
            self.warnings[(warning.field, warning.problem)] += 1
            if self.sample_limit == 0 or len(self.warning_sample) < self.sample_limit:
                self.warning_sample.append((plan.contact_id, warning.text()))
        if plan.action in (Action.SKIP, Action.MERGED) and not records_reason(plan, state):
            self.records_to_update += 1
        if plan.reason and plan.action in (Action.SKIP, Action.MERGED, *LEAVES):
            self.reasons[plan.reason] += 1
            self.reasons_by_action[(plan.action.value, plan.reason)] += 1
        if plan.action is not Action.UNCHANGED and plan.action is not Action.SKIP and (
                self.sample_limit == 0 or len(self.changes) < self.sample_limit):
            self.changes.append(plan)

    @property
    def has_work(self) -> bool:
        """Whether carrying this plan out would write anything to the provider or the state store."""
        quiet = (Action.UNCHANGED.value, Action.SKIP.value, Action.MERGED.value)
        return self.records_to_update > 0 or any(n for action, n in self.actions.items() if action not in quiet)

    @property
    def sampled_actions(self) -> int:
        """How many plans are of the kind ``changes`` samples (all but unchanged and skipped)."""
        return sum(n for action, n in self.actions.items() if action not in (Action.UNCHANGED.value, Action.SKIP.value))

    def action_reasons(self) -> dict[str, dict[str, int]]:
        """Per action, how many contacts had each reason (skip, merged, unsubscribe, archive); each action's
        reasons add up to its count."""
        grouped: dict[str, dict[str, int]] = defaultdict(dict)
        for (action, reason), count in sorted(self.reasons_by_action.items()):
            grouped[action][reason] = count
        return dict(grouped)

    @property
    def leaving(self) -> int:
        return sum(self.actions[action.value] for action in LEAVES)

    def as_dict(self) -> dict:
        return {
            "audience": self.audience,
            "scope": self.scope,
            "actions": dict(self.actions),
            "skipped_by_reason": dict(self.reasons),
            "reasons_by_action": self.action_reasons(),
            "merge_fields_to_create": self.fields_to_create,
            "changes": [_change(plan) for plan in self.changes],
            "field_warnings": [{"field": tag, "problem": problem, "contacts": count}
                               for (tag, problem), count in sorted(self.warnings.items())],
        }

    @property
    def warning_count(self) -> int:
        """Field warnings in this plan (a contact with two bad fields counts twice)."""
        return sum(self.warnings.values())


def records_reason(plan: MemberPlan, state: MemberStateRow | None) -> bool:
    """Whether the state store already holds this skip's or merge's reason (then nothing is written)."""
    return state is not None and state.reason_code == plan.reason and state.merged_into == plan.merged_into


def _change(plan: MemberPlan) -> dict:
    return {
        "contact_id": plan.contact_id, "action": plan.action.value, "email": plan.email,
        "reason": plan.reason, "merged_into": plan.merged_into,
        "fields": {tag: {"from": old, "to": new} for tag, (old, new) in plan.changes.items()},
    }
