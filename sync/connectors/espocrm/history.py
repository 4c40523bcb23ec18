"""Engagement history in EspoCRM: one CampaignLogRecord per provider event, one stream Note per organisation
entry (and per contact entry the campaign log has no action for: a segment's mailing), each written once per
external key.

EspoCRM has no unique key, so the key travels in the record (``data.crmSyncKey`` of a log record, the last line
of a Note) and each batch first reads back what its contacts already have: re-running a batch after a crash
writes nothing twice. Log records are attached to an EspoCRM Campaign per provider campaign, found or created by
name (``"<Provider>: <title>"``) and cached for the connector's life.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sync.connectors.espocrm.client import EspoClient
from sync.connectors.espocrm.fields import espo_time, parse_time
from sync.connectors.provider_registry import provider_title
from sync.errors import RecordError
from sync.records import ActivityRecord
from sync.segments.history import KEY_PREFIX as SEGMENT_KEY_PREFIX
from sync.segments.history import KIND as SEGMENT_KIND

log = logging.getLogger(__name__)

BATCH = 100  # records whose contacts' existing log is read in one go
WRITES_IN_FLIGHT = 4  # log records POSTed at once: EspoCRM creates one record per request
ACTIONS = {"email_sent": "Sent", "email_open": "Opened", "email_click": "Clicked", "email_bounce": "Bounced",
           "email_cleaned": "Bounced", "email_unsubscribe": "Opted Out"}
_KINDS = {"Sent": "email_sent", "Opened": "email_open", "Clicked": "email_click", "Bounced": "email_bounce",
          "Opted Out": "email_unsubscribe", "Opted In": "email_resubscribe", "Lead Created": "lead_created"}
_NOTE_MARK = "crm-sync key: "


def _batches(records: Iterable[ActivityRecord], size: int) -> Iterator[list[ActivityRecord]]:
    batch: list[ActivityRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def provider_of(record: ActivityRecord) -> str:
    """The provider's title for people ("Mailchimp") from the record's key ``<provider>:...``."""
    name = record.external_key.split(":", 1)[0]
    return provider_title(name, short=True) if name else "crm-sync"


class HistoryWriter:
    """Writes ActivityRecords of one entity's contacts and of accounts."""

    def __init__(self, client: EspoClient, entity: str):
        self._client = client
        self._entity = entity
        self._campaigns: dict[str, str] = {}  # "<Provider>: <title>" -> EspoCRM Campaign id

    def write(self, records: Iterable[ActivityRecord], existing_contacts) -> int:
        written = 0
        for batch in _batches(records, BATCH):
            by_contact = [record for record in batch if record.contact_id is not None]
            for record in batch:
                if (record.contact_id is None) == (record.organisation_id is None):
                    raise RecordError(record.external_key, "activity_owner",
                                      "an activity needs exactly one of contact_id and organisation_id")
            if by_contact:
                known = existing_contacts({record.contact_id for record in by_contact})
                for record in by_contact:
                    if record.contact_id not in known:
                        raise RecordError(record.external_key, "unknown_contact",
                                          f"EspoCRM has no {self._entity} {record.contact_id}")
                written += self._log_records([record for record in by_contact if record.kind in ACTIONS])
                written += self._notes([record for record in by_contact if record.kind not in ACTIONS],
                                       self._entity)
            written += self._notes([record for record in batch if record.organisation_id is not None], "Account")
        return written

    # campaign log

    def _log_records(self, records: list[ActivityRecord]) -> int:
        """POST the records not in the log yet, WRITES_IN_FLIGHT at a time (EspoCRM has no batch create); every
        POST is tried even when another fails, and the first failure is raised afterwards."""
        if not records:
            return 0
        present = self._present_keys(records)
        missing = {record.external_key: record for record in records if record.external_key not in present}
        bodies = [(record, self._log_body(record)) for record in missing.values()]  # campaigns found in order
        with ThreadPoolExecutor(WRITES_IN_FLIGHT) as pool:
            outcomes = list(pool.map(lambda pair: self._post_or_error(*pair), bodies))
        failures = [outcome for outcome in outcomes if outcome is not None]
        if failures:
            raise failures[0]
        return len(bodies)

    def _post_or_error(self, record: ActivityRecord, body: dict[str, Any]) -> Exception | None:
        try:
            self._post_once(record, body)
        except Exception as error:  # handed back: the other POSTs of the batch still go out
            return error
        return None

    def _post_once(self, record: ActivityRecord, body: dict[str, Any]) -> None:
        """POST one log record; before a retry, look whether the failed attempt was stored after all (an
        answer lost on its way back), so a retry never makes a duplicate."""
        tried = False
        for attempt in self._client.retrying():
            with attempt:
                if tried and record.external_key in self._present_keys([record]):
                    return
                tried = True
                self._client.call("POST", "CampaignLogRecord", body=body, retry=False,
                                  record=f"history entry {record.external_key}")

    def _present_keys(self, records: list[ActivityRecord]) -> set[str]:
        """Keys already in the log of these records' contacts, within the records' time span."""
        times = [espo_time(record.first_at) for record in records]
        contacts = sorted({str(record.contact_id) for record in records})
        where = [{"type": "equals", "attribute": "parentType", "value": self._entity},
                 {"type": "in", "attribute": "parentId", "value": contacts},
                 {"type": "greaterThanOrEquals", "attribute": "actionDate", "value": min(times)},
                 {"type": "lessThanOrEquals", "attribute": "actionDate", "value": max(times)}]
        keys = set()
        for page in self._client.pages("CampaignLogRecord", {"select": ["id", "data", "parentId"], "where": where,
                                                             "orderBy": "id", "order": "asc"}):
            for row in page:
                data = row.get("data")
                if isinstance(data, dict) and isinstance(data.get("crmSyncKey"), str):
                    keys.add(data["crmSyncKey"])
        return keys

    def _log_body(self, record: ActivityRecord) -> dict[str, Any]:
        details = dict(record.details)
        kind = record.kind
        action = ACTIONS.get(kind)
        if action is None:
            raise RecordError(record.external_key, "activity_kind",
                              f"EspoCRM's campaign log has no action for '{kind}'")
        data: dict[str, Any] = {"crmSyncKey": record.external_key, "kind": kind, "subject": record.subject,
                                "body": record.body}
        body: dict[str, Any] = {"action": action, "actionDate": espo_time(record.first_at),
                                "parentType": self._entity, "parentId": record.contact_id,
                                "application": provider_of(record)[:36], "data": data}
        if details.get("url"):
            data["url"] = details["url"]
        if details.get("reason"):
            data["reason"] = details["reason"]
        if action == "Bounced":
            hard = kind == "email_cleaned" or (details.get("bounce_type") or "hard") == "hard"
            body["stringAdditionalData"] = "Hard" if hard else "Soft"
        if details.get("email"):
            body["stringData"] = str(details["email"])[:100]
        campaign = self._campaign(record)
        if campaign is not None:
            body["campaignId"] = campaign
            data["providerCampaignId"] = details.get("campaign_id")
        return body

    def _campaign(self, record: ActivityRecord) -> str | None:
        details = record.details
        title = details.get("title") or details.get("campaign_id")
        if not title:
            return None
        name = f"{provider_of(record)}: {title}"[:250]
        if name not in self._campaigns:
            found = self._client.get("Campaign", {"select": ["id", "name"], "maxSize": 1, "orderBy": "createdAt",
                                                  "order": "asc",
                                                  "where": [{"type": "equals", "attribute": "name", "value": name}]})
            rows = found.get("list", []) if isinstance(found, dict) else []
            if rows:
                self._campaigns[name] = rows[0]["id"]
            else:
                created = self._client.call("POST", "Campaign", body={"name": name, "type": "Newsletter",
                                                                       "status": "Active"},
                                            record=f"Campaign {name!r}")
                self._campaigns[name] = created["id"]
        return self._campaigns[name]

    # organisation notes

    def _notes(self, records: list[ActivityRecord], parent_type: str) -> int:
        """Stream Notes on the records' accounts (``parent_type`` Account) or contacts: what the campaign log
        has no action for (a segment's mailing), upserted by the key on the Note's last line."""
        if not records:
            return 0
        parents = sorted({str(self._parent(record)) for record in records})
        current: dict[str, tuple[str, str]] = {}  # key -> (note id, post)
        where = [{"type": "equals", "attribute": "type", "value": "Post"},
                 {"type": "equals", "attribute": "parentType", "value": parent_type},
                 {"type": "in", "attribute": "parentId", "value": parents}]
        for page in self._client.pages("Note", {"select": ["id", "post", "parentId"], "where": where,
                                                "orderBy": "id", "order": "asc"}):
            for row in page:
                post = row.get("post") or ""
                _, _, key = post.rpartition("\n" + _NOTE_MARK)
                if key:
                    current[key.strip().strip("`")] = (row["id"], post)
        written = 0
        for record in records:
            post = f"**{record.subject}**\n\n{record.body}\n{_NOTE_MARK}`{record.external_key}`"
            found = current.get(record.external_key)
            if found is None:
                created = self._client.call("POST", "Note", record=f"history entry {record.external_key}", body={
                    "type": "Post", "parentType": parent_type, "parentId": self._parent(record), "post": post})
                current[record.external_key] = (created["id"], post)
            elif found[1] != post:
                self._client.call("PUT", f"Note/{found[0]}", body={"post": post},
                                  record=f"history entry {record.external_key}")
                current[record.external_key] = (found[0], post)
            else:
                continue
            written += 1
        return written

    @staticmethod
    def _parent(record: ActivityRecord) -> str | None:
        return record.organisation_id if record.organisation_id is not None else record.contact_id

    # reading back

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        """(kind, subject, body, time) of the contact's campaign log, newest first."""
        where = [{"type": "equals", "attribute": "parentType", "value": self._entity},
                 {"type": "equals", "attribute": "parentId", "value": contact_id}]
        entries = []
        for page in self._client.pages("CampaignLogRecord", {
                "select": ["id", "action", "actionDate", "data", "campaignName", "application", "stringData"],
                "where": where, "orderBy": "actionDate", "order": "desc"}):
            for row in page:
                data: dict[str, Any] = row["data"] if isinstance(row.get("data"), dict) else {}
                action = str(row.get("action") or "")
                subject = data.get("subject") or f"{action}: {row.get('campaignName') or row.get('application')}"
                when = parse_time(row.get("actionDate"))
                if when is not None:
                    entries.append((str(data.get("kind") or _KINDS.get(action, action)), str(subject),
                                    str(data.get("body") or subject), when))
        entries.extend(self._contact_notes(contact_id))
        entries.sort(key=lambda entry: entry[3], reverse=True)
        return entries

    def _contact_notes(self, contact_id: str) -> Iterator[tuple[str, str, str, datetime]]:
        """crm-sync's stream Notes on the contact, as (kind, subject, body, time)."""
        where = [{"type": "equals", "attribute": "type", "value": "Post"},
                 {"type": "equals", "attribute": "parentType", "value": self._entity},
                 {"type": "equals", "attribute": "parentId", "value": contact_id}]
        for page in self._client.pages("Note", {"select": ["id", "post", "createdAt"], "where": where,
                                                "orderBy": "id", "order": "asc"}):
            for row in page:
                text, _, key = (row.get("post") or "").rpartition("\n" + _NOTE_MARK)
                when = parse_time(row.get("createdAt"))
                if key and when is not None:
                    subject, _, body = text.partition("\n\n")
                    kind = SEGMENT_KIND if key.strip("` ").startswith(SEGMENT_KEY_PREFIX) else "note"
                    yield kind, subject.strip("*"), body.strip(), when
