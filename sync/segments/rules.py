"""Pure: the rules every segment obeys, whatever its steps select.

For each selected contact, the first rule that applies leaves it out, with the push's reason codes where the
push has the rule (``sync/push/rules.py``: its leave reasons and unusable-address checks are called, not
copied):

1. ``deleted``; ``organisation_locked`` (the organisation's mailing lock); ``contact_locked`` (the contact's own
   lock field); ``exclusion_list`` (its normalised address is on an exclusion list: every record with it is out).
   These apply to post as well as e-mail.
2. Channel: a contact who wants post only goes to the post part of the mailing; e-mail only, both, or no
   preference continue as e-mail recipients.
3. E-mail: ``opted_out``, ``not_in_target_list`` (an audience limited to a target list takes no one else),
   ``no_consent`` / ``consent_withdrawn`` (the audience's consent field), then the address: ``no_email``,
   ``malformed_email``, ``email_too_long``, ``email_invalid``, ``contact_id_too_long``.
4. One member per address (``sync/push/households.py``): when any live contact with the address opted out,
   whether selected or not, the address is out (``opted_out``); otherwise one of the selected contacts
   represents it and the others are ``shared_email``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sync.addresses import normalise_email
from sync.push.households import choose_member
from sync.push.rules import leave_reason, unusable_address
from sync.records import CrmContact
from sync.segments.model import Channel, Segment
from sync.settings import AudienceSettings

# Reasons of the segment's own rules (the others are the push's).
CONTACT_LOCKED = "contact_locked"
EXCLUSION_LIST = "exclusion_list"
POST_ONLY = "post_only"  # not a reason to leave out: the contact is in the post part
TAKEN_OUT = "taken_out"  # the marketer set send to "no" in the recipients file
NOT_IN_FILE = "not_in_recipients_file"

@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rules say about one selected contact: its channel, and why it is left out (None: it is sent)."""

    channel: Channel
    reason: str | None = None
    detail: str | None = None

def judge(contact: CrmContact, segment: Segment, audience: AudienceSettings,
          excluded_addresses: Collection[str], target_list_id: str | None = None) -> Verdict:
    """Rules 1 to 3 for one selected contact (rule 4 needs the whole address: ``household_verdicts``);
    ``target_list_id`` is the audience's target list, when it has one."""
    email = normalise_email(contact.email)
    if contact.deleted:
        return Verdict(Channel.EMAIL, "deleted")
    if contact.organisation_locked:
        return Verdict(Channel.EMAIL, "organisation_locked", "the organisation has a mailing lock")
    if segment.contact_lock_field and contact.fields.get(segment.contact_lock_field) is True:
        return Verdict(Channel.EMAIL, CONTACT_LOCKED, f"{segment.contact_lock_field} is set")
    if email is not None and email in excluded_addresses:
        return Verdict(Channel.EMAIL, EXCLUSION_LIST, "the address is on an exclusion list")
    channel = (segment.channel_values.channel(contact.fields.get(segment.channel_field))
               if segment.channel_field else Channel.EMAIL)
    if channel == Channel.POST:
        return Verdict(Channel.POST)
    leaving = leave_reason(contact, audience, target_list_id)
    if leaving is not None:
        return Verdict(channel, leaving)
    unusable = unusable_address(contact, email)
    if unusable is not None:
        return Verdict(channel, unusable.reason, unusable.detail)
    return Verdict(channel)

def household_verdicts(eligible: Sequence[CrmContact], everyone: Sequence[CrmContact], consent_field: str,
                       address: str) -> dict[str, Verdict]:
    """Rule 4 for one shared address: the verdict of each contact in ``eligible`` (selected, passing rules 1-3)
    given ``everyone`` with the address in the CRM. The representative gets no reason."""
    live = [contact for contact in everyone if not contact.deleted]
    opted_out = [contact for contact in live if contact.consent.email_opt_out]
    if opted_out:
        who = min(contact.id for contact in opted_out)
        return {contact.id: Verdict(Channel.EMAIL, "opted_out", f"contact {who} with this address opted out")
                for contact in eligible}
    winner, _ = choose_member(eligible, {}, consent_field, address)
    return {contact.id: Verdict(Channel.EMAIL) if contact is winner else
            Verdict(Channel.EMAIL, "shared_email", f"contact {winner.id} represents this address")
            for contact in eligible}
