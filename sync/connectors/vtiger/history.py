"""HistoryWrites through the webservice: ModComments upserted by reference, and e-mail flags by ``revise``.

One comment per contact (or organisation) and external key: before creating, the target's comments are read
back and matched on the reference line (``comments.py``), so a key written again revises its comment in place
(or leaves it when the text is the same), also after a crash between create and crm-sync's own bookkeeping.
Creating a comment bumps the contact's ``modifiedtime``; the push diffs mapped payloads, so it writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cached_property

from sync.addresses import normalise_email
from sync.connectors.vtiger.client import PAGE, VtigerClient, quote
from sync.connectors.vtiger.comments import MARK, Comment, comment_text, parse, storable
from sync.connectors.vtiger.contacts import crmid
from sync.connectors.vtiger.reads import WebserviceReads
from sync.errors import RecordError
from sync.records import ActivityRecord, ContactFlags

TARGETS_PER_QUERY = 40
ORGANISATIONS = "Accounts"


class WebserviceHistory:
    """History and flags of one vtiger's contacts (or leads) and their organisations."""

    history_per_event = False

    def __init__(self, client: VtigerClient, reads: WebserviceReads):
        self.client = client
        self.reads = reads
        self.module = reads.module
        self.comment_writes = 0

    @cached_property
    def _organisation_prefix(self) -> str:
        return str(self.client.describe(ORGANISATIONS)["idPrefix"])

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        return self.reads.existing_contacts(contact_ids)

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        return self.reads.contacts_by_email(emails, include_deleted)

    def contact_owners(self, contact_ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """Per contact: its organisation (``account_id``; None for leads) and its name."""
        owners: dict[str, tuple[str | None, str]] = {}
        for row in self._rows(contact_ids, "*"):
            name = " ".join(part for part in (row.get("firstname"), row.get("lastname")) if part)
            owners[str(row["id"])] = (str(row.get("account_id") or "") or None, name or str(row["id"]))
        return owners

    def write_activities(self, records: Iterable[ActivityRecord]) -> int:
        """Upsert one comment per record's contact or organisation; how many were created or revised.
        Raises RecordError (before writing anything) when a record names a contact or organisation that is gone."""
        latest: dict[tuple[str, str], ActivityRecord] = {}
        for record in records:
            target = record.contact_id or record.organisation_id
            if not target:
                raise RecordError(record.external_key, "no_target", "names neither a contact nor an organisation")
            latest[(str(target), record.external_key)] = record
        if not latest:
            return 0
        self._require_targets(latest.values())
        existing = self._comments({target for target, _ in latest})
        changed = 0
        for (target, _key), record in latest.items():
            changed += self._upsert(target, record, existing[target])
        return changed

    def set_flags(self, flags: Iterable[ContactFlags]) -> int:
        """Opt-out: ``emailoptout`` = 1 on the contact (never back to 0). Invalid: vtiger has no such flag, so a
        hard bounce is a visible crm-sync comment on the contact, plus a custom checkbox labelled "Email
        Invalid" when the CRM has one. How many contacts changed."""
        flags = [flag for flag in flags if flag.email_opt_out or flag.email_invalid]
        if not flags:
            return 0
        invalid_column = self.reads.invalid_column
        rows = {str(row["id"]): row for row in self._rows((flag.contact_id for flag in flags), "*")}
        for flag in flags:
            if flag.contact_id not in rows:
                raise RecordError(flag.contact_id, "unknown_contact", f"vtiger has no {self.module} record with "
                                                                      "this id")
        comments = self._comments({flag.contact_id for flag in flags if flag.email_invalid})
        changed: set[str] = set()
        for flag in flags:
            row = rows[flag.contact_id]
            revision: dict[str, str] = {}
            if flag.email_opt_out and str(row.get("emailoptout")) != "1":
                revision["emailoptout"] = "1"
            if flag.email_invalid:
                if invalid_column and str(row.get(invalid_column)) != "1":
                    revision[invalid_column] = "1"
                if self._upsert(flag.contact_id, _bounce_record(flag, row), comments[flag.contact_id], keep=True):
                    changed.add(flag.contact_id)
            if revision:
                row.update(self.client.revise({"id": flag.contact_id, **revision}))
                changed.add(flag.contact_id)
        return len(changed)

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        """The contact's crm-sync comments as (kind, subject, body, last time), newest first."""
        found = self._comments({contact_id})[contact_id]
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        entries = [(c.kind, c.subject, c.body, c.at or epoch) for c in found.values()]
        return sorted(entries, key=lambda entry: entry[3], reverse=True)

    # -- comments --------------------------------------------------------------------------------------------

    def _upsert(self, target: str, record: ActivityRecord, existing: dict[str, Comment], keep: bool = False) -> int:
        """Create or revise the record's comment; 0 when it is unchanged (or exists, with ``keep``)."""
        text = comment_text(record)
        ref = parse("", text)
        assert ref is not None
        current = existing.get(ref.ref)
        if current is not None:
            if keep or current.text.rstrip() == text.rstrip():
                return 0
            result = self.client.revise({"id": current.id, "commentcontent": text})
        else:
            if self.client.user_id is None:
                self.client.login()
            result = self.client.create("ModComments", {"commentcontent": text, "related_to": target,
                                                        "assigned_user_id": self.client.user_id}, record=target)
        self.comment_writes += 1
        written = parse(str(result.get("id")), str(result.get("commentcontent") or text))
        if written is not None:
            existing[written.ref] = written
        return 1

    def _comments(self, targets: set[str]) -> dict[str, dict[str, Comment]]:
        """Every crm-sync comment of these records, by reference (the oldest wins, should two exist)."""
        found: dict[str, dict[str, Comment]] = defaultdict(dict)
        ordered = sorted(targets, key=crmid)
        for start in range(0, len(ordered), TARGETS_PER_QUERY):
            listed = ", ".join(quote(target) for target in ordered[start:start + TARGETS_PER_QUERY])
            select = (f"SELECT id, commentcontent, related_to FROM ModComments WHERE related_to IN ({listed}) "
                      f"AND commentcontent LIKE {quote('%' + MARK + '%')}")
            for page in self.client.query_pages(select, "id"):
                for row in page:
                    comment = parse(str(row["id"]), str(row.get("commentcontent") or ""))
                    if comment is not None:
                        found[str(row.get("related_to"))].setdefault(comment.ref, comment)
        return found

    def _require_targets(self, records: Iterable[ActivityRecord]) -> None:
        contacts = {str(r.contact_id) for r in records if r.contact_id}
        organisations = {str(r.organisation_id) for r in records if r.organisation_id and not r.contact_id}
        missing = contacts - self.reads.existing_contacts(contacts)
        if missing:
            first = sorted(missing, key=crmid)[0]
            raise RecordError(first, "unknown_contact", f"vtiger has no {self.module} record with this id "
                                                        f"({len(missing)} unknown in this batch)")
        prefix = self._organisation_prefix
        known: set[str] = set()
        wanted = sorted((o for o in organisations if o.partition("x")[0] == prefix), key=crmid)
        for start in range(0, len(wanted), PAGE):
            listed = ", ".join(quote(o) for o in wanted[start:start + PAGE])
            known.update(str(row["id"]) for row in self.client.query(
                f"SELECT id FROM {ORGANISATIONS} WHERE id IN ({listed});"))
        missing = organisations - known
        if missing:
            raise RecordError(sorted(missing)[0], "unknown_organisation", "vtiger has no organisation with this id")

    def _rows(self, contact_ids: Iterable[str], columns: str) -> list[dict]:
        ids = sorted({str(i) for i in contact_ids if str(i).partition("x")[0] == self.reads.prefix}, key=crmid)
        rows: list[dict] = []
        for start in range(0, len(ids), PAGE):
            listed = ", ".join(quote(i) for i in ids[start:start + PAGE])
            rows += self.client.query(f"SELECT {columns} FROM {self.module} WHERE id IN ({listed});")
        return rows


def _bounce_record(flag: ContactFlags, row: dict) -> ActivityRecord:
    """The comment that records a hard bounce of the flag's address (one per contact and address)."""
    address = flag.email or normalise_email(row.get("email")) or "(no address)"
    now = datetime.now(UTC).replace(microsecond=0)
    reason = storable(flag.invalid_reason or "hard bounce")
    return ActivityRecord(f"crm-sync:invalid:{address}", "email_invalid", f"E-mail address invalid: {address}",
                          f"The mail provider reported {reason}; crm-sync no longer sends to this address.",
                          now, now, contact_id=flag.contact_id)
