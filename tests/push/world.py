"""A small world for push and pull tests: the demo CRM, a running provider sandbox and settings joining them.

``world.view`` speaks to the sandbox in addresses and mapping tags (tests/providers.py), the same for
Mailchimp and Spotler; ``world.sandbox`` is the sandbox itself, for provider-specific tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select, update

from sync.demo.crm.schema import crm_tables
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from sync.settings import AudienceSettings, Settings
from sync.state.store import open_state
from tests.providers import MailchimpView, SpotlerView

REPO = Path(__file__).resolve().parents[2]
FAKE_DOMAINS = ("@example.com", "@example.org", "@example.net")


@dataclass
class World:
    settings: Settings
    sandbox: MailchimpSandbox | SpotlerSandbox
    list_id: str | None  # the Mailchimp audience; None for Spotler
    crm_url: str
    state_url: str
    view: MailchimpView | SpotlerView | None = None

    def __post_init__(self) -> None:
        if self.view is None:
            self.view = SpotlerView(self.sandbox) if isinstance(self.sandbox, SpotlerSandbox) \
                else MailchimpView(self.sandbox, self.list_id)

    @property
    def provider(self) -> str:
        return self.view.provider

    def edit_contact(self, contact_id: int, **values) -> None:
        """Change a contact in the CRM the way a CRM user would."""
        edit_contact(self.crm_url, contact_id, **values)

    def contacts(self, *where) -> list[dict]:
        """Rows of the CRM's contacts table, straight from SQL (independent of the connector)."""
        contacts = crm_tables().contacts
        engine = create_engine(self.crm_url)
        with engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(select(contacts).where(*where))]
        engine.dispose()
        return rows

    def members(self, status: str | None = None) -> dict[str, dict]:
        """The provider's members by address: {"status", "fields" by mapping tag}."""
        return self.view.members(status)

    def state(self, contact_id: int):
        with open_state(self.state_url) as store:
            return store.member_states("newsletter", [str(contact_id)]).get(str(contact_id))

    def with_audience(self, **options) -> Settings:
        """These settings with other audience options (leave_policy, safety_threshold, ...)."""
        current = self.settings.audiences["newsletter"].model_dump()
        audiences = {"newsletter": AudienceSettings.model_validate({**current, **options})}
        return self.settings.model_copy(update={"audiences": audiences})

    def writes(self) -> int:
        """Write requests the sandbox received (anything but GET)."""
        return self.view.writes()


def edit_contact(crm_url: str, contact_id: int, **values) -> None:
    """Change one row of the demo CRM's contacts table with plain SQL, moving its modification time as the
    CRM does (an incremental push reads the contacts changed since the last push)."""
    values.setdefault("modified_at", datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    contacts = crm_tables().contacts
    engine = create_engine(crm_url)
    with engine.begin() as connection:
        connection.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))
    engine.dispose()


def eligible(row: dict) -> bool:
    """A contact that must become a member: live, consenting, reachable, not fake-looking."""
    email = (row["email"] or "").strip().lower()
    return bool(email and not row["deleted"] and row["email_opt_in"] is True and not row["email_opt_out"]
                and not row["email_invalid"] and not email.endswith(FAKE_DOMAINS))


def make_settings(tmp_path: Path, sandbox: MailchimpSandbox, list_id: str, crm_url: str, state_url: str,
                  mapping_file: Path | None = None) -> Settings:
    if isinstance(sandbox, SpotlerSandbox):
        return Settings(
            crm={"url": crm_url}, state={"url": state_url},
            mapping_file=mapping_file or REPO / "config" / "mapping.yaml",
            spotler={"consumer_key": sandbox.consumer_key, "consumer_secret": sandbox.consumer_secret,
                     "base_url": sandbox.base_url, "requests_per_second": 0, "feed_lag_seconds": 1},
            audiences={"newsletter": {"provider": "spotler", "permission_bits": [1]}},
        )
    return Settings(
        crm={"url": crm_url}, state={"url": state_url},
        mapping_file=mapping_file or REPO / "config" / "mapping.yaml",
        mailchimp={"api_key": sandbox.api_key, "base_url": sandbox.base_url, "feed_lag_seconds": 0},
        audiences={"newsletter": {"audience_id": list_id}},
    )
