"""Pure: from a stream of CRM contacts to a segment's candidates, each with its channel and verdict.

One pass over the stream works through the steps for each contact and applies the rules to those selected
(``sync/segments/rules.py``); contacts sharing an address are kept aside (only those: the addresses come from
the port's ``shared_emails``) and decided once the stream is read, as the push's household rule does. A stream
the CRM filtered (``sync/segments/prefilter.py``) lacks contacts no step selects: then ``households`` gives
every contact at the shared addresses of the selected contacts the rule decides.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sync.addresses import normalise_email
from sync.records import CrmContact
from sync.segments.conditions import step_membership
from sync.segments.model import Channel, Segment
from sync.segments.rules import Verdict, household_verdicts, judge
from sync.settings import AudienceSettings


@dataclass(frozen=True, slots=True)
class Candidate:
    """A contact the steps selected, with what the rules (and the recipients file) decided."""

    contact_id: str
    email: str | None  # normalised
    channel: Channel
    reason: str | None = None  # None: sent (by e-mail, or by post for channel post)
    detail: str | None = None
    organisation_id: str | None = None
    organisation: str | None = None  # the segment's organisation_field value
    name: str = ""

    @property
    def send(self) -> bool:
        return self.reason is None

    @property
    def by_post(self) -> bool:
        return self.channel == Channel.POST


@dataclass
class SegmentSelection:
    """A segment worked out: counts after each step, every candidate, and the problems of a recipients file."""

    segment: Segment
    step_counts: list[int]
    candidates: list[Candidate]
    file_problems: list[str] = field(default_factory=list)
    contacts_read: int = 0
    post_values: dict[str, dict[str, object]] = field(default_factory=dict)  # the post_fields per post recipient

    @property
    def email_recipients(self) -> list[Candidate]:
        return [candidate for candidate in self.candidates if candidate.send and not candidate.by_post]

    @property
    def post_recipients(self) -> list[Candidate]:
        return [candidate for candidate in self.candidates if candidate.send and candidate.by_post]

    def reasons(self) -> Counter[str]:
        """How many candidates each reason left out."""
        return Counter(candidate.reason for candidate in self.candidates if candidate.reason is not None)


def select_from(contacts: Iterable[CrmContact], segment: Segment, audience: AudienceSettings,
                excluded_addresses: Collection[str], shared_addresses: Collection[str], today: date,
                target_list_id: str | None = None,
                households: Callable[[Mapping[str, list[CrmContact]]], Mapping[str, list[CrmContact]]] | None = None
                ) -> SegmentSelection:
    """Work the segment out over ``contacts`` (every contact of the CRM, in the port's stable order);
    ``target_list_id``: the audience's target list, when it has one. With ``households`` (given the contacts
    the stream had at some addresses: every contact at each, deleted ones too), ``contacts`` may leave out
    contacts no include step selects."""
    step_counts = [0] * len(segment.steps)
    candidates: dict[str, Candidate] = {}
    at_address: dict[str, list[CrmContact]] = defaultdict(list)
    eligible: dict[str, list[CrmContact]] = defaultdict(list)
    post_values: dict[str, dict[str, object]] = {}
    read = 0
    for contact in contacts:
        read += 1
        email = normalise_email(contact.email)
        if email is not None and email in shared_addresses:
            at_address[email].append(contact)
        after = step_membership(segment.steps, contact, today)
        for index, selected in enumerate(after):
            step_counts[index] += selected
        if not after or not after[-1]:
            continue
        verdict = judge(contact, segment, audience, excluded_addresses, target_list_id)
        if verdict.reason is None and verdict.channel != Channel.POST and email in at_address:
            eligible[email].append(contact)
        candidates[contact.id] = _candidate(contact, email, verdict, segment)
        if verdict.channel == Channel.POST and segment.post_fields:
            post_values[contact.id] = {name: contact.fields.get(name) for name in segment.post_fields}
    if households is not None and eligible:
        everyone_at = households({address: at_address[address] for address in eligible})
        read += sum(len(everyone) - len(at_address[address]) for address, everyone in everyone_at.items())
        at_address.update(everyone_at)
    for address, contacts_here in eligible.items():
        for contact_id, verdict in household_verdicts(contacts_here, at_address[address], audience.consent_field,
                                                      address).items():
            candidates[contact_id] = replace(candidates[contact_id], reason=verdict.reason, detail=verdict.detail)
    return SegmentSelection(segment, step_counts, list(candidates.values()), contacts_read=read,
                            post_values=post_values)


def _candidate(contact: CrmContact, email: str | None, verdict: Verdict, segment: Segment) -> Candidate:
    organisation = contact.fields.get(segment.organisation_field) if segment.organisation_field else None
    return Candidate(contact.id, email, verdict.channel, verdict.reason, verdict.detail, contact.organisation_id,
                     None if organisation is None else str(organisation))
