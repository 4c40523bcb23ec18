"""What the push needs from a provider connector (Mailchimp, Spotler Mail+), and the records they share.

Members are identified towards the push by CRM contact id: Mailchimp keys members by e-mail address,
Spotler by ``externalId`` (our contact id), and each connector fills ``MemberResult.contact_id`` so
the push never has to know which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class MemberRef:
    """One existing member: the contact it stands for and its address at the provider."""

    contact_id: str
    email: str


@dataclass(frozen=True, slots=True)
class MemberWrite:
    """One member to create or update."""

    email: str
    merge_fields: dict[str, Any]
    status_if_new: str = "subscribed"
    status: str | None = None  # only for an explicit re-opt-in (pending)
    contact_id: str = ""
    new: bool = False  # the state store has never seen this member at the provider


@dataclass(frozen=True, slots=True)
class MemberResult:
    """What the provider said about one member."""

    email: str
    ok: bool
    provider_id: str | None = None
    status: str | None = None
    created: bool = False
    reason_code: str | None = None
    error: str | None = None
    contact_id: str | None = None


class ProviderAudience(Protocol):
    """The writes a push makes. Batches hold at most ``batch_size`` members; calls may run in parallel."""

    name: str
    batch_size: int
    concurrency: int
    requests_made: int
    write_requests_made: int

    def upsert(self, members: Sequence[MemberWrite]) -> list[MemberResult]: ...

    def unsubscribe(self, members: Sequence[MemberRef]) -> list[MemberResult]: ...

    def change_email(self, previous_email: str, member: MemberWrite) -> MemberResult: ...

    def archive(self, member: MemberRef) -> MemberResult: ...

    def lookup(self, members: Sequence[MemberRef]) -> list[MemberResult]:
        """Each member's live state at the provider, one result per ref, in order, ``contact_id`` filled.

        A member found is ``ok`` with its ``provider_id``, live address (``email``) and ``status`` (an
        archived Mailchimp member is ``archived``); one the provider does not have is ``ok=False`` with
        ``reason_code="not_found"``. Reads only: nothing at the provider changes.
        """
        ...
