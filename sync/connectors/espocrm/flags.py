"""E-mail opt-out and invalid flags in EspoCRM, set on the address a change is about (never opt-in).

Flags live on EspoCRM's shared EmailAddress: one write flags every record with the address. The primary address
is flagged with ``emailAddressIsOptedOut`` / ``emailAddressIsInvalid``; a secondary one through the FULL
``emailAddressData`` list (an address left out of that list would be unlinked). A flag already set is not
written again; a contact whose flag our own write in the same call set (a shared address) counts as changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sync.addresses import normalise_email
from sync.connectors.espocrm.client import EspoClient, Gone
from sync.records import ContactFlags

log = logging.getLogger(__name__)


def set_flags(client: EspoClient, entity: str, flags: Iterable[ContactFlags]) -> int:
    """Set opt-out / invalid flags; how many contacts changed."""
    wanted: dict[tuple[str, str | None], dict[str, bool]] = {}
    for flag in flags:
        change = wanted.setdefault((flag.contact_id, normalise_email(flag.email)), {})
        change["optOut"] = change.get("optOut", False) or bool(flag.email_opt_out)
        change["invalid"] = change.get("invalid", False) or bool(flag.email_invalid)
    set_by_us: set[tuple[str, str]] = set()  # (address, flag) this call set
    changed: set[str] = set()
    for (contact_id, address), change in wanted.items():
        if not (change["optOut"] or change["invalid"]):
            continue
        record = f"{entity} {contact_id}"
        try:
            current = client.get(f"{entity}/{contact_id}", record=record)
        except Gone:
            log.info("%s no longer exists: its e-mail flags are not set", record)
            continue
        items: list[dict[str, Any]] = [dict(item) for item in current.get("emailAddressData") or []]
        primary = normalise_email(current.get("emailAddress"))
        target = address or primary
        item = next((item for item in items if normalise_email(item.get("emailAddress")) == target), None)
        if item is None and change["optOut"] and primary is not None:
            # The person unsubscribed from an address this record no longer has: their opt-out still holds, on
            # the address the record has now (an invalid mark, a fact about the other address, does not move).
            log.info("%s no longer has %s: its opt-out goes on its primary address", record, target)
            change = {"optOut": True, "invalid": False}
            target = primary
            item = next((item for item in items if normalise_email(item.get("emailAddress")) == target), None)
        if item is None or target is None:
            log.info("%s does not have the address the flag change is about: nothing set", record)
            continue
        todo = [name for name in ("optOut", "invalid") if change[name] and not item.get(name)]
        if not todo:
            if any(change[name] and (target, name) in set_by_us for name in ("optOut", "invalid")):
                changed.add(contact_id)
            continue
        if item.get("primary"):
            body: dict[str, Any] = {{"optOut": "emailAddressIsOptedOut", "invalid": "emailAddressIsInvalid"}[name]: True
                                    for name in todo}
        else:
            for name in todo:
                item[name] = True
            body = {"emailAddressData": [
                {key: entry.get(key) for key in ("emailAddress", "primary", "optOut", "invalid")}
                if normalise_email(entry.get("emailAddress")) != target else
                {key: item.get(key) for key in ("emailAddress", "primary", "optOut", "invalid")}
                for entry in items]}
        try:
            client.call("PUT", f"{entity}/{contact_id}", body=body, record=record)
        except Gone:
            log.info("%s was deleted meanwhile: its e-mail flags are not set", record)
            continue
        set_by_us.update((target, name) for name in todo)
        changed.add(contact_id)
    return len(changed)
