"""The CRM side of `crm-sync demo run`: the embedded demo CRM, or a fake EspoCRM or vtiger on loopback filled
with the same generated people, each with the mapping and consent field a user of that CRM would configure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sync.connectors.sql.crm import open_crm as open_sql_crm
from sync.demo.crm.generate import create_demo_crm
from sync.records import CrmContact
from sync.settings import CrmSettings

DEMO_CRMS = ("sql", "espocrm", "vtiger")
CONSENT_LABEL = "Newsletter Consent"  # the checkbox a demo CRM's admin added for newsletter consent


@dataclass
class DemoCrm:
    """A running demo CRM: the settings that reach it, its mapping file and consent field (None: the
    configured ones), and its address when it is a fake on loopback."""

    settings: CrmSettings
    mapping_file: Path | None
    consent_field: str | None
    base_url: str | None


@contextmanager
def demo_crm(kind: str, folder: Path, contacts: int, seed: int) -> Iterator[DemoCrm]:
    """A fresh demo CRM of ``kind`` in ``folder``: the generated people, the embedded SQL CRM's or copied into a
    fake of that CRM (stopped afterwards)."""
    crm_path = folder / "demo-crm.db"
    crm_path.unlink(missing_ok=True)
    url = f"sqlite:///{crm_path}"
    create_demo_crm(url, contacts=contacts, seed=seed)
    if kind == "sql":
        yield DemoCrm(CrmSettings(url=url), None, None, None)
        return
    with open_sql_crm(url) as generated:
        people = [contact for contact in generated.iter_contacts() if not contact.deleted and contact.email]
    with FAKES[kind](people, folder) as running:
        yield running


@contextmanager
def _fake_vtiger(people: list[CrmContact], folder: Path) -> Iterator[DemoCrm]:
    from sync.sandbox.vtiger import VtigerSandbox

    with VtigerSandbox() as vtiger:
        vtiger.add_field("cf_875", CONSENT_LABEL, {"name": "boolean"})
        for person in people:
            vtiger.add_contact(firstname=person.fields.get("first_name") or "", lastname=_text(person, "last_name"),
                               email=person.email, phone=_text(person, "phone"), cf_857=_tier(person),
                               cf_875="1" if person.consent.email_opt_in else "0",
                               emailoptout="1" if person.consent.email_opt_out else "0")
        mapping = _mapping(folder, "vtiger", first="firstname", last="lastname", phone="phone", tier="loyalty_tier")
        yield DemoCrm(CrmSettings(kind="vtiger", base_url=vtiger.base_url, api_user=vtiger.username,
                                  api_key=vtiger.access_key), mapping, "newsletter_consent", vtiger.base_url)


@contextmanager
def _fake_espocrm(people: list[CrmContact], folder: Path) -> Iterator[DemoCrm]:
    from sync.sandbox.espocrm import EspoSandbox

    with EspoSandbox() as espocrm:
        espocrm.add_field("cNewsletterConsent", {"type": "bool"})
        tiers = {"Bronze", "Silver", "Gold"}
        for person in people:
            espocrm.add_contact(person.email, opt_out=person.consent.email_opt_out,
                                invalid=person.consent.email_invalid, firstName=_text(person, "first_name") or None,
                                lastName=_text(person, "last_name"), phoneNumber=_text(person, "phone") or None,
                                cLoyaltyTier=_tier(person) if _tier(person) in tiers else None,
                                cNewsletterConsent=bool(person.consent.email_opt_in))
        mapping = _mapping(folder, "espocrm", first="firstName", last="lastName", phone="phoneNumber",
                           tier="cLoyaltyTier")
        yield DemoCrm(CrmSettings(kind="espocrm", base_url=espocrm.base_url, api_key=espocrm.api_key), mapping,
                      "cNewsletterConsent", espocrm.base_url)


FAKES: dict[str, Callable[[list[CrmContact], Path], AbstractContextManager[DemoCrm]]] = {
    "espocrm": _fake_espocrm,
    "vtiger": _fake_vtiger,
}


def _text(person: CrmContact, name: str) -> str:
    value = person.fields.get(name)
    return "" if value is None else str(value)


def _tier(person: CrmContact) -> str:
    return _text(person, "loyalty_tier").capitalize()


def _mapping(folder: Path, kind: str, first: str, last: str, phone: str, tier: str) -> Path:
    """The mapping a user of this CRM writes for the demo audience, in its own field names."""
    path = folder / f"demo-mapping-{kind}.yaml"
    path.write_text(
        "# The demo audience's mapping, in the field names of the demo CRM.\n"
        "audiences:\n  newsletter:\n    fields:\n"
        f"      FNAME: {{ source: {first}, type: text, trim: true, spotler: firstName }}\n"
        f"      LNAME: {{ source: {last}, type: text, trim: true, spotler: lastName }}\n"
        f"      PHONE: {{ source: {phone}, type: phone, trim: true, spotler: phoneNumber }}\n"
        f"      TIER: {{ source: {tier}, type: dropdown, spotler: loyaltyTier }}\n",
        encoding="utf-8")
    return path
