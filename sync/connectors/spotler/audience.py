"""Spotler Mail+ contacts for the push: properties, bulk upserts, unsubscribes by permission bit, anonymising.

Identity is ``externalId`` = our CRM contact id, so an e-mail change is an update of the same contact.
New contacts are *inserted* (``update: false``) with the audience's permission bits switched on, which
tells us crm-sync created them (the only contacts it will ever anonymise). A contact Mail+ already had
(same externalId, or its de-duplication on e-mail) answers ``CONTACT_ALREADY_EXISTS`` and is updated
instead, without permission bits, and its real status is read back: consent is never switched on for
someone Mail+ already knew. Updates never send permission bits, so a bit the person cleared stays cleared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync.connectors.provider import MemberRef, MemberResult, MemberWrite
from sync.connectors.spotler.http import SpotlerClient
from sync.connectors.spotler.mapping import SpotlerAccount
from sync.errors import ProviderRejected
from sync.settings import SpotlerSettings

# Per-contact result codes of POST contact/list -> our reason codes.
REASONS = {"PROPERTY_INVALID": "invalid_field_value", "CONTACT_UNKNOWN": "provider_rejected",
           "CONTACT_ALREADY_EXISTS": "email_taken_in_provider", "ERROR": "provider_rejected"}
OPTED_OUT = frozenset({"CONTACT_OPTOUT", "NO_ACTIVE_CHANNEL"})


def permission_status(contact: dict[str, Any], bits: Sequence[int]) -> str:
    """``subscribed`` when the contact gets mail on one of ``bits``; else ``unsubscribed``."""
    properties = contact.get("properties") or {}
    channels = {c.get("name"): c.get("value") for c in contact.get("channels") or []}
    enabled = {p.get("bit") for p in properties.get("permissions") or [] if p.get("enabled")}
    if channels.get("EMAIL") is False or not enabled.intersection(bits):
        return "unsubscribed"
    return "subscribed"


class SpotlerAudience:
    """The contacts of one Spotler account, consent meaning the audience's ``permission_bits``."""

    name = "spotler"

    def __init__(self, settings: SpotlerSettings, permission_bits: Sequence[int]):
        self.client = SpotlerClient(settings)
        self.bits = list(permission_bits)
        self.batch_size = settings.batch_size
        self.concurrency = settings.concurrency

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    @property
    def write_requests_made(self) -> int:
        return self.client.write_requests_made

    def properties(self) -> SpotlerAccount:
        """The account's properties: their types, its permission bits and the entries of its set properties."""
        catalogue = self.client.call("GET", "contact/properties/list") or []
        entries = {item["name"]: {int(entry["bit"]): str(entry.get("description", entry["bit"]))
                                  for entry in item.get("entries") or []}
                   for item in catalogue if item.get("type") == "set"}
        return SpotlerAccount({item["name"]: item.get("type", "string") for item in catalogue},
                              entries.pop("permissions", {}), entries)

    def upsert(self, members: Sequence[MemberWrite]) -> list[MemberResult]:
        """Insert new contacts (consent bits on), update the others (properties only); one result each."""
        results: dict[str, MemberResult] = {}
        known = [m for m in members if not m.new]
        inserted = self._bulk([m for m in members if m.new], update=False)
        for member in (m for m in members if m.new):
            answer = inserted[member.contact_id]
            if answer.get("code") == "CONTACT_ALREADY_EXISTS":
                known.append(member)
            else:
                results[member.contact_id] = _result(member, answer, created=True)
        sent_as_new = {m.contact_id for m in members if m.new}
        updated = self._bulk(known, update=True)
        for member in known:
            result = _result(member, updated[member.contact_id], created=False)
            if result.ok and member.contact_id in sent_as_new and result.status is None:
                result = self._with_status(result)  # someone Mail+ already knew: what did they consent to?
            results[member.contact_id] = result
        return [results[m.contact_id] for m in members]

    def unsubscribe(self, members: Sequence[MemberRef]) -> list[MemberResult]:
        """Switch the audience's permission bits off for existing contacts: ``PUT contact/{externalId}``, one
        request each, which only ever updates (404 for an unknown externalId: ``not_found``). The bulk
        ``contact/list`` with ``update: true`` is an upsert and may create a contact, so it is not used."""
        return [self._unsubscribe_one(member) for member in members]

    def _unsubscribe_one(self, member: MemberRef) -> MemberResult:
        off = [{"bit": bit, "enabled": False} for bit in self.bits]
        body = {"purge": False, "contact": {"externalId": member.contact_id, "properties": {"permissions": off}}}
        try:
            self.client.call("PUT", f"contact/{member.contact_id}", body=body)
        except ProviderRejected as error:
            if error.status == 404:
                return MemberResult(member.email, False, reason_code="not_found", error=error.detail,
                                    contact_id=member.contact_id)
            if error.title not in OPTED_OUT:  # opted out of everything in Mail+ already: done
                return MemberResult(member.email, False, reason_code="provider_rejected",
                                    error=f"{error.title}: {error.detail}", contact_id=member.contact_id)
        return MemberResult(member.email, True, member.contact_id, "unsubscribed", contact_id=member.contact_id)

    def change_email(self, previous_email: str, member: MemberWrite) -> MemberResult:
        """Spotler keys contacts by externalId: a new address is a plain update of the same contact."""
        return self.upsert([member])[0]

    def archive(self, member: MemberRef) -> MemberResult:
        """Anonymise the contact (Spotler cannot delete; this is irreversible); an unknown one is ``not_found``."""
        try:
            self.client.call("PUT", f"contact/anonymize/{member.contact_id}")
        except ProviderRejected as error:
            code = "not_found" if error.status == 404 else "provider_rejected"
            return MemberResult(member.email, False, reason_code=code, error=error.detail,
                                contact_id=member.contact_id)
        return MemberResult(member.email, True, member.contact_id, "archived", contact_id=member.contact_id)

    def lookup(self, members: Sequence[MemberRef]) -> list[MemberResult]:
        """Each contact's live address and consent status, read by externalId (one GET each); see ProviderAudience.

        The status is derived from the audience's permission bits and the e-mail channel, as for a contact
        Mail+ already knew on insert.
        """
        return [self._lookup_one(member) for member in members]

    def _lookup_one(self, member: MemberRef) -> MemberResult:
        try:
            contact = self.contact(member.contact_id)
        except ProviderRejected as error:  # some Mail+ versions answer 400 CONTACT_NOT_FOUND, not 404
            if error.title != "CONTACT_NOT_FOUND":
                return MemberResult(member.email, False, reason_code="provider_rejected", error=error.detail,
                                    contact_id=member.contact_id)
            contact = None
        if contact is None:
            return MemberResult(member.email, False, reason_code="not_found",
                                error="Mail+ has no contact with this externalId", contact_id=member.contact_id)
        email = (contact.get("properties") or {}).get("email") or member.email
        return MemberResult(email, True, member.contact_id, permission_status(contact, self.bits),
                            contact_id=member.contact_id)

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        """One contact as Mail+ holds it, or None."""
        try:
            return self.client.call("GET", f"contact/{contact_id}")
        except ProviderRejected as error:
            if error.status == 404:
                return None
            raise

    def _bulk(self, members: Sequence[MemberWrite], update: bool) -> dict[str, dict]:
        if not members:
            return {}
        contacts = [_contact(member, None if update else self.bits) for member in members]
        answers = self.client.call("POST", "contact/list",
                                   body={"update": update, "purge": False, "contacts": contacts}) or []
        found = _by_id(answers)
        missing = {"code": "ERROR", "message": "Spotler's answer did not mention this contact"}
        return {member.contact_id: found.get(member.contact_id, missing) for member in members}

    def _with_status(self, result: MemberResult) -> MemberResult:
        contact = self.contact(result.provider_id or "")
        status = permission_status(contact, self.bits) if contact else None
        return MemberResult(result.email, True, result.provider_id, status, False, contact_id=result.contact_id)


def _contact(member: MemberWrite, consent_bits: list[int] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"email": member.email, **member.merge_fields}
    if consent_bits is not None:
        properties["permissions"] = [{"bit": bit, "enabled": True} for bit in consent_bits]
    return {"externalId": member.contact_id, "properties": properties}


def _by_id(answers: list[dict]) -> dict[str, dict]:
    return {str(answer.get("externalId")): answer for answer in answers}


def _result(member: MemberWrite, answer: dict, created: bool) -> MemberResult:
    code = answer.get("code")
    if code == "OK":
        return MemberResult(member.email, True, member.contact_id, "subscribed" if created else None, created,
                            contact_id=member.contact_id)
    if code in OPTED_OUT:  # opted out of everything in Mail+: recorded, never switched back on
        return MemberResult(member.email, True, member.contact_id, "unsubscribed", contact_id=member.contact_id)
    return _failure(member.email, member.contact_id, answer)


def _failure(email: str, contact_id: str, answer: dict) -> MemberResult:
    code = answer.get("code") or "ERROR"
    detail = f"{code}: {answer.get('message') or 'no message'}"
    return MemberResult(email, False, reason_code=REASONS.get(code, "provider_rejected"), error=detail,
                        contact_id=contact_id)
