"""The same small world in each CRM crm-sync reaches: the embedded SQL CRM, vtiger and EspoCRM (their fakes and
the live applications), each with a newsletter consent checkbox, seven consenting contacts (two of them sharing
one address) and the means to change them as a CRM user would.

A world is driven through the CRM port (``open_crm``) for reading back, and through the CRM's own API (or SQL)
for the user's edits, so the scenarios in this folder run unchanged against every CRM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from sync.connectors.crm import CrmPort
from sync.connectors.crm_registry import open_crm
from sync.settings import CrmSettings

CONSENTING = 7  # the first seven contacts consent; the last two share one address
SHARED = "familie.jansen@crm-sync.dev"


def address(index: int) -> str:
    """The address of consenting contact ``index`` (the Mailchimp sandbox refuses example.* domains)."""
    return SHARED if index >= CONSENTING - 2 else f"person{index}@crm-sync.dev"


@dataclass
class World:
    """One CRM prepared for the scenarios: its crm settings, the mapping of its field names, and edits."""

    name: str
    crm: dict[str, Any]
    first_name: str  # the CRM's field names
    last_name: str
    email: str
    consent_field: str
    contact_ids: list[str] = field(default_factory=list)  # the consenting contacts, in address() order
    editor: Any = None  # (contact_id, {field: value}) -> None: an edit as the CRM's user makes it

    def mapping(self) -> str:
        return ("audiences:\n  newsletter:\n    fields:\n"
                f"      FNAME: {{ source: {self.first_name}, type: text, trim: true }}\n"
                f"      LNAME: {{ source: {self.last_name}, type: text, trim: true }}\n")

    def settings(self) -> CrmSettings:
        return CrmSettings(**self.crm)

    @contextmanager
    def port(self) -> Iterator[CrmPort]:
        with open_crm(self.settings()) as crm:
            yield crm

    def edit(self, contact_id: str, **values: Any) -> None:
        self.editor(contact_id, values)

    def emails(self) -> dict[str, str]:
        """The consenting contacts' addresses, by contact id."""
        return {cid: address(index) for index, cid in enumerate(self.contact_ids)}


# -- the embedded SQL CRM ------------------------------------------------------------------------------------

@contextmanager
def sql_world(folder: Path) -> Iterator[World]:
    from sync.demo.crm.generate import create_demo_crm

    url = f"sqlite:///{folder / 'crm.db'}"
    create_demo_crm(url, contacts=20, seed=3)
    engine = create_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE contacts SET email_opt_in = NULL, deleted = 0, organisation_id = NULL"))
        ids = [str(row[0]) for row in conn.execute(text("SELECT id FROM contacts ORDER BY id LIMIT :n"),
                                                   {"n": CONSENTING})]
        for index, contact_id in enumerate(ids):
            conn.execute(text("UPDATE contacts SET email = :email, email_opt_in = 1, email_opt_out = 0, "
                              "email_invalid = 0, modified_at = :now WHERE id = :id"),
                         {"email": address(index), "now": now, "id": int(contact_id)})
        conn.execute(text("DELETE FROM target_list_members"))

    def edit(contact_id: str, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE contacts SET {sets}, modified_at = :now WHERE id = :id"),
                         {**values, "now": now, "id": int(contact_id)})

    try:
        yield World("sql", {"url": url}, "first_name", "last_name", "email", "email_opt_in", ids, edit)
    finally:
        engine.dispose()


# -- vtiger ---------------------------------------------------------------------------------------------------

def _vtiger_world(name: str, crm: dict[str, Any], consent_column: str, revise) -> World:
    world = World(name, crm, "firstname", "lastname", "email", "newsletter_consent")
    with world.port() as port:
        ids = sorted((c.id for c in port.iter_contacts()), key=lambda cid: int(cid.split("x")[1]))[:CONSENTING]
    for index, contact_id in enumerate(ids):
        revise(contact_id, {consent_column: "1", "email": address(index), "secondaryemail": "", "emailoptout": "0"})
    world.contact_ids = ids
    world.editor = revise
    return world


@contextmanager
def vtiger_fake_world() -> Iterator[World]:
    from sync.sandbox.vtiger import VtigerSandbox

    with VtigerSandbox() as sandbox:
        sandbox.add_field("cf_875", "Newsletter Consent", {"name": "boolean"})
        crm = {"kind": "vtiger", "base_url": sandbox.base_url, "api_user": sandbox.username,
               "api_key": sandbox.access_key, "retry_seconds": 5}
        yield _vtiger_world("vtiger-fake", crm, "cf_875", lambda cid, values: sandbox.update(cid, **values))


@contextmanager
def vtiger_live_world(from_database: bool = False) -> Iterator[World]:
    from sync.connectors.vtiger.client import VtigerClient
    from tests.live.crms import add_vtiger_checkbox, require, restore

    env = require("vtiger")
    restore("vtiger")
    column = add_vtiger_checkbox("Newsletter Consent")
    crm = {"kind": "vtiger", "base_url": env["LIVE_VTIGER_WEBSERVICE_URL"], "api_user": env["LIVE_VTIGER_USERNAME"],
           "api_key": env["LIVE_VTIGER_ACCESS_KEY"], "retry_seconds": 10}
    if from_database:  # contacts read from vtiger's database by a SELECT-only user, writes through the webservice
        crm["read_url"] = env["LIVE_VTIGER_DB_URL"].replace("mysql://", "mysql+pymysql://", 1)
    client = VtigerClient(crm["base_url"], crm["api_user"], crm["api_key"], 30, 10)
    try:
        name = "vtiger-db-live" if from_database else "vtiger-live"
        yield _vtiger_world(name, crm, column, lambda cid, values: client.revise({"id": cid, **values}))
    finally:
        client.close()


# -- EspoCRM --------------------------------------------------------------------------------------------------

@contextmanager
def _espocrm_world(name: str, base_url: str, api_key: str, consent: str, retry_seconds: float) -> Iterator[World]:
    """An EspoCRM whose Contact has the checkbox ``consent``; edits are PUTs as EspoCRM's own UI makes them."""
    import json

    import requests

    with requests.Session() as web:
        def edit(contact_id: str, values: dict[str, Any]) -> None:
            answer = web.put(f"{base_url}/api/v1/Contact/{contact_id}", data=json.dumps(values), timeout=30,
                             headers={"X-Api-Key": api_key, "Content-Type": "application/json"})
            answer.raise_for_status()

        crm = {"kind": "espocrm", "base_url": base_url, "api_key": api_key, "retry_seconds": retry_seconds}
        world = World(name, crm, "firstName", "lastName", "emailAddress", consent, editor=edit)
        with world.port() as port:
            ids = sorted(contact.id for contact in port.iter_contacts())
        for index, contact_id in enumerate(ids):
            edit(contact_id, {consent: index < CONSENTING} | (
                {"emailAddressData": [{"emailAddress": address(index), "primary": True, "optOut": False,
                                       "invalid": False}]} if index < CONSENTING else {}))
        world.contact_ids = ids[:CONSENTING]
        yield world


@contextmanager
def espocrm_fake_world() -> Iterator[World]:
    """The fake EspoCRM with a custom checkbox ``cNewsletterConsent`` (as its admin adds one)."""
    from sync.sandbox.espocrm import EspoSandbox

    with EspoSandbox() as sandbox:
        sandbox.store.fields["Contact"]["cNewsletterConsent"] = {"type": "bool", "isCustom": True}
        with _espocrm_world("espocrm-fake", sandbox.base_url, sandbox.api_key, "cNewsletterConsent", 5) as world:
            yield world


@contextmanager
def espocrm_live_world() -> Iterator[World]:
    """The live EspoCRM, restored, with a checkbox its admin adds (and removes again before the next restore)."""
    from tests.live.crms import add_espocrm_checkbox, remove_espocrm_field, require, restore

    env = require("espocrm")
    restore("espocrm")
    consent = add_espocrm_checkbox("newsletterConsent", "Newsletter Consent")
    try:
        with _espocrm_world("espocrm-live", env["LIVE_ESPOCRM_URL"], env["LIVE_ESPOCRM_API_KEY"], consent,
                            10) as world:
            yield world
    finally:
        remove_espocrm_field(consent)
        restore("espocrm")
