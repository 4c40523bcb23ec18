"""Pure: what a push should do with each contact, given the CRM, the mapping and the state store.

One code path for `crm-sync plan` and `crm-sync push`, so the preview can never disagree with the run.

Consent rules, in order (the first that applies decides):

1. Deleted in the CRM, opted out, without e-mail consent, in a mailing-locked organisation, or no longer
   in the audience's target list: the contact is *leaving*. An e-mail opt-out always unsubscribes an
   active member (an unsubscribe is always honoured); the other reasons follow the audience's leave
   policy (keep, unsubscribe, or archive, the last only for members this connector added). A contact
   that was never pushed is skipped with the reason.
2. No usable e-mail address, or an address the CRM marks invalid: skipped with the reason.
3. The provider refused the address for good before (compliance state, permanently deleted, fake) or
   refused the payload's values: skipped with that reason while the address (or the payload) it was
   about is unchanged; a corrected CRM value is tried again. A member who unsubscribed or was cleaned in the provider is
   skipped too; with ``reoptin`` on, an unsubscribed member whose CRM consent is given is asked once to
   re-opt-in (status ``pending``: Mailchimp mails them a confirmation).
4. An archived member is not new: it is re-added only when crm-sync archived it itself after reading
   its live status as receiving mail (``ARCHIVED_BY_SYNC``); one archived any other way may have
   unsubscribed first (Mailchimp's archive hides that), so it is skipped and never re-subscribed.
5. Otherwise the member is created (``status_if_new`` from the CRM consent; ``status`` is never sent
   for an existing member), moved to a new address, updated, or left unchanged by payload hash.

Contacts sharing an address are planned together (``sync/push/households.py``): one decision per address.
A field whose CRM value cannot be converted is left out of the payload with a warning (``sync/mapping/payload.py``);
the contact is still planned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeGuard

from sync.addresses import normalise_email
from sync.mapping.model import AudienceMapping
from sync.mapping.payload import FieldWarning, Payload, build_payload, payload_hash
from sync.mapping.transforms import excerpt
from sync.records import CrmContact
from sync.settings import AudienceSettings, LeavePolicy
from sync.state.members import MemberStateRow
from sync.state.models import KEY_LENGTH


class Action(StrEnum):
    """What the push does with one contact."""

    CREATE = "create"
    UPDATE = "update"
    CHANGE_EMAIL = "change_email"
    REOPTIN = "reoptin"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    UNSUBSCRIBE = "unsubscribe"
    ARCHIVE = "archive"
    MERGED = "merged"


WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.CHANGE_EMAIL, Action.REOPTIN})
LEAVES = frozenset({Action.UNSUBSCRIBE, Action.ARCHIVE})
# Reason codes the provider gave that mean "never again for this address".
TERMINAL_REASONS = frozenset({"compliance_state", "forgotten_email", "invalid_address"})
# The provider refused the payload's values: not sent again until they change.
PAYLOAD_REASONS = frozenset({"invalid_field_value"})
# Reasons that mean a contact was refused (by the provider or for its data), as `crm-sync status` lists them;
# consent skips (no_consent, opted_out, ...) are not failures.
REJECTION_REASONS = TERMINAL_REASONS | PAYLOAD_REASONS | {
    "provider_rejected", "signup_throttled", "email_too_long", "contact_id_too_long"}
# Rejections the next push tries again whatever changed (an incremental push reads these contacts too).
RETRY_REASONS = frozenset({"provider_rejected", "signup_throttled", "write_unconfirmed"})
# RFC 5321: an address has at most 254 characters.
EMAIL_MAX = 254
# Recorded once a re-opt-in mail was asked for, so it is never asked again (it mails the person each time).
REOPTIN_ASKED = "reoptin_requested"
# One @, no spaces or control characters, a dot in the domain: anything else cannot be delivered and is not
# sent at all.
EMAIL_SHAPE = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s.\x00-\x1f\x7f]+")
# Recorded as the provider status when an unsubscribe or archive found no member at the provider (nothing
# was created); the contact is then like one never pushed.
NOT_FOUND = "not_found"
# Provider statuses of a member that is no longer receiving mail.
INACTIVE_STATUSES = frozenset({"unsubscribed", "cleaned", "archived", NOT_FOUND})
# Recorded (as the reason) when crm-sync archived a member whose live status it had just read as receiving
# mail: the only archived member it may add again (an archived member gets no mail, so cannot unsubscribe).
ARCHIVED_BY_SYNC = "archived_by_crm_sync"
# Recorded on a contact whose address another contact represents.
SHARED_EMAIL = "shared_email"


@dataclass(frozen=True, slots=True)
class MemberPlan:
    """The decision for one contact, with what is needed to carry it out and to explain it."""

    contact_id: str
    action: Action
    email: str | None
    merge_fields: Mapping[str, object] | None = None
    payload_hash: str | None = None
    status_if_new: str | None = None
    previous_email: str | None = None
    reason: str | None = None
    detail: str | None = None
    merged_into: str | None = None
    changes: Mapping[str, tuple[object, object]] = field(default_factory=dict)
    warnings: tuple[FieldWarning, ...] = ()  # fields left out of (or cleaned in) the payload


def rejection_key(reason: str | None, email: str | None, digest: str | None) -> str | None:
    """What a rejection for ``reason`` was about, as a hash: the address for an address the provider refused,
    the whole payload for refused values; None for rejections that are tried again every run."""
    if reason in TERMINAL_REASONS and email is not None:
        return payload_hash({"email": email})
    if reason in PAYLOAD_REASONS:
        return digest
    return None


def still_rejected(state: MemberStateRow | None, email: str, digest: str) -> TypeGuard[MemberStateRow]:
    """Whether the stored rejection still holds: the address or values it was about are unchanged."""
    return (state is not None and state.rejected_key is not None
            and state.rejected_key == rejection_key(state.reason_code, email, digest))


def consent_given(contact: CrmContact, consent_field: str) -> bool | None:
    """The contact's e-mail consent per the audience's consent field; None when never asked."""
    if consent_field == "email_opt_in":
        return contact.consent.email_opt_in
    value = contact.fields.get(consent_field)
    return value if isinstance(value, bool) else None


def is_active(state: MemberStateRow | None) -> TypeGuard[MemberStateRow]:
    """Whether the state store knows this contact as a member that still receives mail."""
    return (
        state is not None
        and state.provider_id is not None
        and (state.provider_status or "subscribed") not in INACTIVE_STATUSES
        and state.reason_code not in TERMINAL_REASONS
    )


def archived_by_sync(state: MemberStateRow | None) -> bool:
    """Whether crm-sync archived this member itself, having read it as receiving mail just before."""
    return state is not None and state.provider_status == "archived" and state.reason_code == ARCHIVED_BY_SYNC


def plan_member(
    contact: CrmContact,
    state: MemberStateRow | None,
    audience: AudienceSettings,
    mapping: AudienceMapping,
    target_list_id: str | None = None,
    build: Callable[[CrmContact], Payload] | None = None,
) -> MemberPlan:
    """Decide what to do with one contact (see the module docstring for the rules).

    ``build`` makes the provider payload (default: Mailchimp merge fields from ``mapping``).
    """
    email = normalise_email(contact.email)
    leaving = leave_reason(contact, audience, target_list_id)
    if leaving:
        if not is_active(state):  # the archive marker is kept: it is what allows adding the member again
            return MemberPlan(contact.id, Action.SKIP, email,
                              reason=ARCHIVED_BY_SYNC if archived_by_sync(state) else leaving)
        return leave_member(contact.id, state, audience, leaving)
    unusable = unusable_address(contact, email)
    if unusable is not None:
        return unusable
    if email is None:  # unusable_address skips every contact without a usable address
        raise ValueError(f"contact {contact.id}: no address to plan with")
    payload = build(contact) if build is not None else build_payload(contact, mapping)
    merge_fields, warnings = payload.values, payload.warnings
    digest = payload_hash({"email": email, "merge_fields": merge_fields})
    if still_rejected(state, email, digest):
        return MemberPlan(contact.id, Action.SKIP, email, reason=state.reason_code, warnings=warnings,
                          detail=f"{state.last_error} (tried again once the CRM value changes)")
    if state is not None and state.provider_status in ("unsubscribed", "cleaned"):
        if audience.reoptin and state.provider_status == "unsubscribed" and state.reason_code != REOPTIN_ASKED:
            return MemberPlan(contact.id, Action.REOPTIN, email, merge_fields, digest, reason=REOPTIN_ASKED,
                              warnings=warnings)
        return MemberPlan(contact.id, Action.SKIP, email, reason=f"{state.provider_status}_in_provider",
                          detail="only the person can subscribe again; crm-sync never re-subscribes")
    if state is not None and state.provider_status == "archived" and not archived_by_sync(state):
        return MemberPlan(contact.id, Action.SKIP, email, reason="archived_in_provider",
                          detail="archived outside crm-sync: it may have unsubscribed first, so it is not re-added")
    if state is None or state.provider_id is None or state.provider_status in ("archived", NOT_FOUND):
        return MemberPlan(contact.id, Action.CREATE, email, merge_fields, digest, status_if_new="subscribed",
                          changes={tag: (None, value) for tag, value in merge_fields.items()}, warnings=warnings)
    changes = _changes(state, email, merge_fields)
    if state.email is not None and normalise_email(state.email) != email:
        return MemberPlan(contact.id, Action.CHANGE_EMAIL, email, merge_fields, digest, status_if_new="subscribed",
                          previous_email=state.email, changes=changes, warnings=warnings)
    if digest != state.payload_hash:
        return MemberPlan(contact.id, Action.UPDATE, email, merge_fields, digest,
                          status_if_new="subscribed", changes=changes, warnings=warnings)
    return MemberPlan(contact.id, Action.UNCHANGED, email, payload_hash=digest, warnings=warnings)


def unusable_address(contact: CrmContact, email: str | None) -> MemberPlan | None:
    """The skip for a contact whose address (or id) cannot be sent or recorded; None when it can."""
    if len(contact.id) > KEY_LENGTH:
        return MemberPlan(contact.id, Action.SKIP, None, reason="contact_id_too_long",
                          detail=f"the contact id has {len(contact.id)} characters; the state store keeps ids "
                                 f"of at most {KEY_LENGTH}")
    if email is None:
        return MemberPlan(contact.id, Action.SKIP, email, reason="no_email")
    if len(email) > EMAIL_MAX or not EMAIL_SHAPE.fullmatch(email):
        length = f" (it has {len(email)} characters; an address has at most {EMAIL_MAX})" \
            if len(email) > EMAIL_MAX else ""
        return MemberPlan(contact.id, Action.SKIP, email if len(email) <= KEY_LENGTH else None,
                          reason="malformed_email",
                          detail=f"{excerpt(contact.email, 80)} is not an e-mail address{length}")
    if len(email) > KEY_LENGTH:
        return MemberPlan(contact.id, Action.SKIP, None, reason="email_too_long",
                          detail=f"the address has {len(email)} characters; crm-sync keeps addresses of at most "
                                 f"{KEY_LENGTH} (very rare: ask the person for a shorter one)")
    if contact.consent.email_invalid:
        return MemberPlan(contact.id, Action.SKIP, email, reason="email_invalid",
                          detail=contact.consent.invalid_reason)
    return None


def merged(contact: CrmContact, winner_id: str, state: MemberStateRow | None = None) -> MemberPlan:
    """The plan for a contact whose address is shared and represented by ``winner_id``."""
    return MemberPlan(contact.id, Action.MERGED, normalise_email(contact.email),
                      reason=ARCHIVED_BY_SYNC if archived_by_sync(state) else SHARED_EMAIL, merged_into=winner_id)


def leave_reason(contact: CrmContact, audience: AudienceSettings, target_list_id: str | None) -> str | None:
    if contact.consent.email_opt_out:  # first: an opt-out always unsubscribes, even of a deleted contact
        return "opted_out"
    if contact.deleted:
        return "deleted"
    if contact.organisation_locked:
        return "organisation_locked"
    if target_list_id is not None and target_list_id not in contact.list_ids:
        return "not_in_target_list"
    consent = consent_given(contact, audience.consent_field)
    if consent is not True:
        return "no_consent" if consent is None else "consent_withdrawn"
    return None


def leave_member(contact_id: str, state: MemberStateRow, audience: AudienceSettings, reason: str,
                 merged_into: str | None = None) -> MemberPlan:
    """How the active member ``contact_id`` holds leaves the audience for ``reason`` (its own, or the
    reason of the contact that represents its address, ``merged_into``): an opt-out always unsubscribes,
    anything else follows the leave policy. Addressed to the member's stored address."""
    member_email = state.email
    if reason == "opted_out" or audience.leave_policy == LeavePolicy.UNSUBSCRIBE:
        return MemberPlan(contact_id, Action.UNSUBSCRIBE, member_email, reason=reason, merged_into=merged_into)
    if audience.leave_policy == LeavePolicy.ARCHIVE:
        if state.owned:
            return MemberPlan(contact_id, Action.ARCHIVE, member_email, reason=reason, merged_into=merged_into)
        return MemberPlan(contact_id, Action.SKIP, member_email, reason="not_owned", merged_into=merged_into,
                          detail=f"left the audience ({reason}) but was not added by crm-sync; kept")
    return MemberPlan(contact_id, Action.SKIP, member_email, reason=f"kept_{reason}", merged_into=merged_into,
                      detail="leave_policy is keep")


def _changes(state: MemberStateRow, email: str, merge_fields: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    before = dict(state.payload or {})
    changes = {tag: (before.get(tag), value) for tag, value in merge_fields.items() if before.get(tag) != value}
    if state.email is not None and normalise_email(state.email) != email:
        changes["email_address"] = (state.email, email)
    return changes
