"""Pure: the CRM history entries that record a mailing: "Added to <segment> for <mailing>" on every recipient,
and once per organisation, listing its recipients.

Keys are stable (audience, segment, mailing, contact or organisation), so pushing the same mailing again updates
the entries in place instead of adding new ones.
A segment without a mailing records "Added to <segment>".
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sync.records import ActivityRecord
from sync.segments.selection import Candidate

KIND = "segment_added"
KEY_PREFIX = "crm-sync:segment:"  # every entry's external key starts so (a CRM that keeps no kind tells by it)
MAX_LISTED = 200  # contacts named in one organisation entry; the rest are counted


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mailing_title(segment: str, mailing: str | None) -> str:
    """``Added to spring for Spring promotion 2027``."""
    return f"Added to {segment}" + (f" for {mailing}" if mailing else "")


def entry_key(audience: str, segment: str, mailing: str | None, owner: str) -> str:
    """The entry's external key: ``crm-sync:segment:<audience>:<digest of segment and mailing>:<owner>``."""
    digest = hashlib.sha256(f"{segment}\x00{mailing or ''}".encode()).hexdigest()[:16]
    return f"{KEY_PREFIX}{audience}:{digest}:{owner}"


def mailing_records(audience: str, segment: str, mailing: str | None, recipients: Iterable[Candidate],
                    now: datetime) -> list[ActivityRecord]:
    """One entry per recipient and one per organisation of recipients, dated ``now``."""
    title = mailing_title(segment, mailing)
    details = {"segment": segment, "mailing": mailing, "audience": audience}
    records: list[ActivityRecord] = []
    by_organisation: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in recipients:
        key = entry_key(audience, segment, mailing, f"contact:{candidate.contact_id}")
        how = "by post" if candidate.by_post else f"by e-mail to {candidate.email}"
        records.append(ActivityRecord(key, KIND, title, f"{title}, {how} (audience {audience}).",
                                      now, now,
                                      contact_id=candidate.contact_id, details=details | {"channel": how}))
        if candidate.organisation_id:
            by_organisation[candidate.organisation_id].append(candidate)
    for organisation_id, members in sorted(by_organisation.items()):
        key = entry_key(audience, segment, mailing, f"organisation:{organisation_id}")
        members.sort(key=lambda candidate: (candidate.name.casefold(), candidate.contact_id))
        lines = [f"- {candidate.name or 'contact ' + candidate.contact_id}"
                 f" ({'post' if candidate.by_post else candidate.email})" for candidate in members[:MAX_LISTED]]
        if len(members) > MAX_LISTED:
            lines.append(f"- and {len(members) - MAX_LISTED:,} more")
        body = f"{title}: {len(members):,} contact(s) of this organisation (audience {audience}):\n" + "\n".join(lines)
        records.append(ActivityRecord(key, KIND, title, body, now, now,
                                      organisation_id=organisation_id,
                                      details=details | {"contacts": len(members), "listed": _digest(body)}))
    return records
