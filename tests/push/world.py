"""A small world for push tests: the demo CRM, a running Mailchimp sandbox and settings joining them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select, update

from sync.democrm.schema import crm_tables
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import AudienceSettings, Settings
from sync.state.store import open_state

REPO = Path(__file__).resolve().parents[2]
FAKE_DOMAINS = ("@example.com", "@example.org", "@example.net")


@dataclass
class World:
    settings: Settings
    sandbox: MailchimpSandbox
    list_id: str
    crm_url: str
    state_url: str

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
        return {member["email_address"].lower(): member for member in self.sandbox.members(self.list_id, status)}

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
        return sum(self.sandbox.request_count(method=method) for method in ("POST", "PUT", "PATCH", "DELETE"))


def edit_contact(crm_url: str, contact_id: int, **values) -> None:
    """Change one row of the demo CRM's contacts table with plain SQL."""
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
    return Settings(
        crm={"url": crm_url}, state={"url": state_url},
        mapping_file=mapping_file or REPO / "config" / "mapping.yaml",
        mailchimp={"api_key": sandbox.api_key, "base_url": sandbox.base_url},
        audiences={"newsletter": {"audience_id": list_id}},
    )
