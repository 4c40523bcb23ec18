"""Per-member state: what was last pushed for each contact in an audience, and what came back."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from sync.addresses import normalise_email
from sync.errors import RecordError
from sync.state.models import AUDIENCE_LENGTH, MemberState, column_length, table_of
from sync.state.sql import CHUNK_SIZE, chunked, upsert
from sync.state.types import require_aware

MEMBERS = table_of(MemberState)

# Written only when a push landed: together they describe what the provider now holds.
PUSHED_COLUMNS = ("email", "provider_id", "payload_hash", "payload", "owned", "pushed_at")
# Written by every outcome.
OUTCOME_COLUMNS = ("last_error", "reason_code", "merged_into", "updated_at", "warnings", "rejected_key")


@dataclass(frozen=True, slots=True)
class MemberStateRow:
    """One contact's stored state in one audience."""

    audience: str
    contact_id: str
    email: str | None
    provider_id: str | None
    payload_hash: str | None
    payload: Mapping[str, Any] | None
    provider_status: str | None
    owned: bool
    last_error: str | None
    reason_code: str | None
    merged_into: str | None
    pushed_at: datetime | None
    updated_at: datetime
    email_changed_at: datetime | None = None  # when crm-sync last moved the member to another address
    warnings: list[dict[str, str]] | None = None  # fields left out of (or cleaned in) the last payload
    rejected_key: str | None = None  # hash of what the provider refused (see sync/push/rules.py rejection_key)

    def as_dict(self) -> dict[str, object]:
        """The row as JSON-ready values (ISO 8601 times)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["payload"] = None if self.payload is None else dict(self.payload)
        for name in ("pushed_at", "updated_at", "email_changed_at"):
            values[name] = None if values[name] is None else values[name].isoformat()
        return values


@dataclass(frozen=True, slots=True)
class MemberOutcome:
    """What happened to one contact in a push.

    With ``pushed_at`` set the provider accepted the payload: every field is stored as given. Without
    it (a failure or a skip) the fields describing the last successful push (email, provider_id,
    payload_hash, payload, owned, pushed_at) keep their stored values; ``provider_status`` is updated
    when given; ``last_error``, ``reason_code`` and ``merged_into`` always are. A contact seen for the
    first time is stored with everything given.
    """

    contact_id: str
    email: str | None = None
    provider_id: str | None = None
    payload_hash: str | None = None
    payload: Mapping[str, Any] | None = None
    provider_status: str | None = None
    owned: bool = False
    last_error: str | None = None
    reason_code: str | None = None
    merged_into: str | None = None
    pushed_at: datetime | None = None
    warnings: list[dict[str, str]] | None = None
    rejected_key: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.pushed_at, f"contact {self.contact_id}: pushed_at")
        for name in ("contact_id", "email", "provider_id", "payload_hash", "provider_status", "reason_code",
                     "merged_into"):
            value = getattr(self, name)
            limit = column_length(MEMBERS.c[name])
            if value is not None and len(value) > limit:
                raise RecordError(
                    str(self.contact_id)[:80],
                    "value_too_long",
                    f"{name} has {len(value)} characters; the state store keeps at most {limit}",
                )


def check_audience(audience: str) -> None:
    """Refuse an audience name the state store cannot hold."""
    if not audience or len(audience) > AUDIENCE_LENGTH:
        raise ValueError(f"audience name {audience[:40]!r} must have 1 to {AUDIENCE_LENGTH} characters")


def member_states(conn: Connection, audience: str, contact_ids: Iterable[str]) -> dict[str, MemberStateRow]:
    """Stored state of the given contacts, by contact id; contacts never pushed are absent."""
    found: dict[str, MemberStateRow] = {}
    for chunk in chunked(contact_ids):
        rows = conn.execute(
            select(MEMBERS).where(MEMBERS.c.audience == audience, MEMBERS.c.contact_id.in_(chunk))
        )
        found.update((row.contact_id, _to_row(row)) for row in rows)
    return found


def contacts_by_provider_id(conn: Connection, audience: str, provider_ids: Iterable[str]) -> dict[str, str]:
    """The contact each provider member id stands for in ``audience`` (members pushed by crm-sync)."""
    found: dict[str, str] = {}
    for chunk in chunked(provider_ids):
        rows = conn.execute(select(MEMBERS.c.provider_id, MEMBERS.c.contact_id)
                            .where(MEMBERS.c.audience == audience, MEMBERS.c.provider_id.in_(chunk)))
        found.update((provider_id, contact_id) for provider_id, contact_id in rows)
    return found


def active_member_count(conn: Connection, audience: str) -> int:
    """Members of ``audience`` crm-sync pushed that still receive mail, as far as the state store knows."""
    inactive = ("unsubscribed", "cleaned", "archived", "not_found")
    query = select(func.count()).select_from(MEMBERS).where(
        MEMBERS.c.audience == audience, MEMBERS.c.provider_id.is_not(None),
        MEMBERS.c.provider_status.is_(None) | MEMBERS.c.provider_status.not_in(inactive))
    return int(conn.execute(query).scalar_one())


def member_state_page(conn: Connection, audience: str, after: str | None, limit: int) -> list[MemberStateRow]:
    """Up to ``limit`` members of ``audience`` in contact-id order, starting after ``after``."""
    query = select(MEMBERS).where(MEMBERS.c.audience == audience)
    if after is not None:
        query = query.where(MEMBERS.c.contact_id > after)
    return [_to_row(row) for row in conn.execute(query.order_by(MEMBERS.c.contact_id).limit(limit))]


def member_states_by_email(conn: Connection, email: str) -> list[MemberStateRow]:
    """Rows in every audience whose stored address is ``email``, both normalised (``sync/addresses.py``).

    Addresses are stored normalised, so this is an exact match. Only rows of contacts that were pushed
    carry an address; ordered by audience, then contact id.
    """
    wanted = normalise_email(email)
    if wanted is None:
        return []
    query = (select(MEMBERS).where(MEMBERS.c.email == wanted)
             .order_by(MEMBERS.c.audience, MEMBERS.c.contact_id))
    return [_to_row(row) for row in conn.execute(query)]


def recent_failures(conn: Connection, reasons: Iterable[str], limit: int) -> list[MemberStateRow]:
    """Up to ``limit`` rows whose reason code is one of ``reasons``, in every audience, newest first; rows of
    the same moment by contact id, numbers in number order (by length first)."""
    query = (select(MEMBERS).where(MEMBERS.c.reason_code.in_(sorted(set(reasons))))
             .order_by(MEMBERS.c.updated_at.desc(), func.length(MEMBERS.c.contact_id), MEMBERS.c.contact_id,
                       MEMBERS.c.audience).limit(limit))
    return [_to_row(row) for row in conn.execute(query)]


def contacts_with_reasons(conn: Connection, audience: str, reasons: Iterable[str]) -> list[str]:
    """Ids of the contacts of ``audience`` whose reason code is one of ``reasons``, in id order."""
    query = (select(MEMBERS.c.contact_id).where(MEMBERS.c.audience == audience,
                                                MEMBERS.c.reason_code.in_(sorted(set(reasons))))
             .order_by(MEMBERS.c.contact_id))
    return list(conn.execute(query).scalars())


def failure_counts(conn: Connection, reasons: Iterable[str]) -> dict[str, int]:
    """How many rows per audience have one of ``reasons`` as their reason code (audiences without any are absent)."""
    query = (select(MEMBERS.c.audience, func.count()).where(MEMBERS.c.reason_code.in_(sorted(set(reasons))))
             .group_by(MEMBERS.c.audience))
    return {audience: int(count) for audience, count in conn.execute(query)}


def warning_counts(conn: Connection) -> dict[str, Counter]:
    """Per audience, how many members' last payload left out or cleaned each (field, problem)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    query = select(MEMBERS.c.audience, MEMBERS.c.warnings).where(MEMBERS.c.warnings.is_not(None))
    for audience, warnings in conn.execution_options(yield_per=CHUNK_SIZE).execute(query):
        counts[audience].update((warning["field"], warning["problem"]) for warning in warnings or ())
    return dict(counts)


def save_member_outcomes(conn: Connection, audience: str, outcomes: Iterable[MemberOutcome], now: datetime) -> int:
    """Upsert one row per outcome, in statements of up to ``CHUNK_SIZE`` rows; returns how many were written.

    A contact repeated in ``outcomes`` is written in order, the later outcome last.
    """
    check_audience(audience)
    written = 0
    for batch in _batches_without_repeats(outcomes):
        pushed = [_to_values(audience, outcome, now) for outcome in batch if outcome.pushed_at is not None]
        others = [_to_values(audience, outcome, now) for outcome in batch if outcome.pushed_at is None]
        _note_address_changes(conn, audience, pushed, now)
        keys = ("audience", "contact_id")
        upsert(conn, MEMBERS, pushed, keys, overwrite=(*PUSHED_COLUMNS, "provider_status", *OUTCOME_COLUMNS),
               fill=("email_changed_at",))
        upsert(conn, MEMBERS, others, keys, overwrite=OUTCOME_COLUMNS, fill=("provider_status",))
        written += len(batch)
    return written


def _note_address_changes(conn: Connection, audience: str, pushed: list[dict[str, Any]], now: datetime) -> None:
    """Stamp ``email_changed_at`` on pushed rows whose address differs from the one stored before."""
    if not pushed:
        return
    stored = dict(conn.execute(select(MEMBERS.c.contact_id, MEMBERS.c.email).where(
        MEMBERS.c.audience == audience, MEMBERS.c.contact_id.in_([row["contact_id"] for row in pushed]))).all())
    for row in pushed:
        before = stored.get(row["contact_id"])
        moved = before is not None and row["email"] is not None \
            and normalise_email(before) != normalise_email(row["email"])
        row["email_changed_at"] = now if moved else None


def _batches_without_repeats(outcomes: Iterable[MemberOutcome]) -> Iterator[list[MemberOutcome]]:
    """Chunks of outcomes in which no contact appears twice (one upsert statement cannot touch a row twice)."""
    batch: list[MemberOutcome] = []
    seen: set[str] = set()
    for outcome in outcomes:
        if len(batch) == CHUNK_SIZE or outcome.contact_id in seen:
            yield batch
            batch, seen = [], set()
        batch.append(outcome)
        seen.add(outcome.contact_id)
    if batch:
        yield batch


def _to_values(audience: str, outcome: MemberOutcome, now: datetime) -> dict[str, Any]:
    values = {field.name: getattr(outcome, field.name) for field in fields(outcome)}
    values["payload"] = None if outcome.payload is None else dict(outcome.payload)
    values["warnings"] = [dict(warning) for warning in outcome.warnings] if outcome.warnings else None
    values.update(audience=audience, updated_at=now, email=normalise_email(outcome.email))
    return values


def _to_row(row: Any) -> MemberStateRow:
    return MemberStateRow(**{field.name: getattr(row, field.name) for field in fields(MemberStateRow)})
