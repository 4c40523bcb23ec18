"""What the push needs from a provider connector (Mailchimp, Spotler Mail+), and the records they share.

``ProviderAudience`` declares every call generic code makes on a connector; ``TaggingAudience`` the tag calls
of a provider that marks the members crm-sync created (its kit hands it over as an ``OwnerTag``).

Members are identified towards the push by CRM contact id: Mailchimp keys members by e-mail address,
Spotler by ``externalId`` (our contact id), and each connector fills ``MemberResult.contact_id`` so
the push never has to know which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class ProviderField:
    """A provider field (a Mailchimp merge field) as the provider has it, or as we want it created."""

    tag: str
    name: str
    type: str
    date_format: str | None = None
    choices: tuple[str, ...] = ()
    merge_id: int | None = None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """Provider fields to create before the push (for a provider that can create them), and conflicts that
    stop it."""

    to_create: list[ProviderField] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    followed_formats: dict[str, str] = field(default_factory=dict)  # tag -> the existing field's date format

    def notes(self) -> list[str]:
        """What the push does differently from the mapping, for people to read."""
        return [f"{tag} is written as {date_format}, the date format the field already has"
                for tag, date_format in sorted(self.followed_formats.items())]


class ProviderAudience(Protocol):
    """The writes a push makes. Batches hold at most ``batch_size`` members; calls may run in parallel."""

    name: str
    batch_size: int
    concurrency: int

    @property
    def requests_made(self) -> int:
        """Requests sent so far (reads and writes)."""
        ...

    @property
    def write_requests_made(self) -> int:
        """Write requests sent so far."""
        ...

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


class TaggingAudience(Protocol):
    """Member tags, for a provider whose kit marks the members crm-sync created with a tag."""

    def tag_segment(self, name: str) -> int:
        """The id of the tag called ``name``, made if the audience has none."""
        ...

    def tag(self, segment_id: int, emails: Sequence[str]) -> None:
        """Give the members at ``emails`` the tag ``segment_id``."""
        ...


@dataclass(frozen=True)
class OwnerTag:
    """The tag members crm-sync creates get, and the audience that sets it."""

    name: str
    audience: TaggingAudience
