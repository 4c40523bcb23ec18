"""Synthetic organisations and contacts for the demo CRM, as plain row dicts.

Pure: every value comes from the ``random.Random`` passed in, and times are relative to a fixed
anchor, so one seed always gives the same rows. The mix is chosen to exercise a sync: people who
opted out, invalid and malformed addresses, consent never asked, households sharing an address,
contacts without e-mail, deleted contacts and mailing-locked organisations.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypedDict, TypeVar

from sync.demo.crm.people import (
    FAKE_DOMAINS,
    FAKE_LOCAL_PARTS,
    INTERNATIONAL_MAIL_DOMAINS,
    LOCALES,
    REGIONS,
    Locale,
    ascii_slug,
    female_form,
)

# Demo data is dated relative to this moment, never to the clock, so it is the same on every run.
ANCHOR = datetime(2026, 1, 1)
_FIRST_CREATED = datetime(2015, 1, 1)

TARGET_LISTS = (
    (1, "Newsletter", "Monthly newsletter, every language"),
    (2, "VIP customers", "Customers with the VIP flag and a few hand-picked others"),
    (3, "Spring event 2026", "Invitations for the spring customer event"),
    (4, "Webshop buyers", "Contacts with a customer number who bought online"),
)

INVALID_REASONS = (
    "hard bounce: mailbox does not exist",
    "hard bounce: domain has no mail server",
    "marked as spam by recipient",
    "mailbox full for more than 30 days",
)
NEWSLETTER_TOPICS = ("Running", "Cycling", "Outdoor", "Kids", "Sale", "Events", "Sustainability")
_TIERS = ("bronze", "silver", "gold")  # stored as the dropdown's machine values, as CRMs do
_TIER_WEIGHTS = (55, 30, 15)
_CHANNELS = ("E-mail", "Phone", "Post")
_PERSONAL_PATTERNS = ("{first}.{last}{id}", "{initial}{last}{id}", "{last}.{first}{id}", "{first}_{id}")
_MALFORMED = ("{local} @{domain}", "{local}@@{domain}", "{local}.{domain}", "{local}@ {domain}")


def fill_template(rng: random.Random, template: str) -> str:
    """Replace each ``#`` with a random digit and each ``@`` with a random capital letter."""
    draw = rng.random
    out = []
    for char in template:
        if char == "#":
            out.append(string.digits[int(draw() * 10)])
        elif char == "@":
            out.append(string.ascii_uppercase[int(draw() * 26)])
        else:
            out.append(char)
    return "".join(out)


_T = TypeVar("_T")


class Picker(Protocol):
    """Picks one item of a sequence, typed as that sequence's items."""

    def __call__(self, items: Sequence[_T], /) -> _T: ...


def picker(rng: random.Random) -> Picker:
    """A faster ``rng.choice``: one ``random()`` call per pick (the demo needs millions)."""
    draw = rng.random

    def pick(items: Sequence[_T], /) -> _T:
        return items[int(draw() * len(items))]

    return pick


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(rng.random() * (end - start).total_seconds()))


def _day(rng: random.Random, first_year: int, last_year: int) -> date:
    start, end = date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()
    return date.fromordinal(start + int(rng.random() * (end - start + 1)))


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    """What a contact row needs to know about its organisation."""

    id: int
    mail_domain: str
    locale: Locale


class ContactRow(TypedDict):
    """A ``contacts`` row as the factory draws it."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    region: str | None
    country: str
    language: str
    birthday: date | None
    email_opt_in: bool | None
    postal_opt_in: bool | None
    email_opt_out: bool
    email_invalid: bool
    email_invalid_reason: str | None
    organisation_id: int | None
    created_at: datetime
    modified_at: datetime
    deleted: bool


@dataclass(frozen=True, slots=True)
class ContactRows:
    """One contact: its ``contacts`` row, its ``contacts_cf`` row and its list memberships."""

    contact: ContactRow
    custom: dict[str, Any]
    list_ids: tuple[int, ...]


class DemoFactory:
    """Draws organisations, then contacts, from one random generator; call in that order."""

    def __init__(self, rng: random.Random, columns: dict[str, str]):
        """``columns`` maps each custom field's machine name to its ``cf_<id>`` column."""
        self._rng = rng
        self._pick = picker(rng)
        self._columns = columns
        self._cumulative_weights = list(itertools.accumulate(locale.weight for locale in LOCALES))
        self._organisations: list[OrganisationInfo] = []
        self._previous: ContactRow | None = None
        self._slugs: dict[str, str] = {}  # names repeat a lot: slug each one once

    def _locale(self) -> Locale:
        return self._rng.choices(LOCALES, cum_weights=self._cumulative_weights)[0]

    def organisations(self, count: int) -> Iterator[dict[str, Any]]:
        """Rows for ``organisations``, ids 1..count; about 8% are locked for mailing."""
        rng = self._rng
        pick = self._pick
        for org_id in range(1, count + 1):
            locale = self._locale()
            last = pick(locale.last_names)
            word = pick(locale.company_words)
            name = f"{last} {word} {locale.legal_form}" if rng.random() < 0.5 else f"{word} {last} {locale.legal_form}"
            domain = f"{ascii_slug(f'{last} {word}', '-')}.test"
            self._organisations.append(OrganisationInfo(org_id, domain, locale))
            yield {
                "id": org_id,
                "name": name,
                "mailing_locked": rng.random() < 0.08,
                "city": pick(locale.cities)[0],
                "country": locale.country,
                "modified_at": _moment(rng, _FIRST_CREATED, ANCHOR),
                "deleted": rng.random() < 0.02,
            }

    def contact(self, contact_id: int) -> ContactRows:
        """One contact with its custom-field values and list memberships."""
        rng = self._rng
        pick = self._pick
        previous = self._previous
        household = previous is not None and previous["email"] is not None and rng.random() < 0.03
        # The contact this one shares a household with, if any.
        housemate = previous if household else None
        organisation: OrganisationInfo | None = None
        if housemate is not None:
            locale = next(loc for loc in LOCALES if loc.country == housemate["country"])
        elif self._organisations and rng.random() < 0.35:
            organisation = pick(self._organisations)
            locale = organisation.locale
        else:
            locale = self._locale()
        female = rng.random() < 0.5
        first = pick(locale.female_first_names if female else locale.male_first_names)
        last = housemate["last_name"] if housemate is not None else pick(locale.last_names)
        if female and not household:
            last = female_form(last, locale.country)
        city, postal_template = pick(locale.cities)
        created_at = _moment(rng, _FIRST_CREATED, ANCHOR)
        row: ContactRow = {
            "id": contact_id,
            "first_name": first,
            "last_name": last,
            "email": (housemate["email"] if housemate is not None
                      else self._email(contact_id, first, last, locale, organisation)),
            "phone": fill_template(rng, locale.phone_template) if rng.random() < 0.7 else None,
            "street": None, "postal_code": None, "city": None, "region": None,
            "country": locale.country,
            "language": pick(locale.languages),
            "birthday": _day(rng, 1940, 2006) if rng.random() < 0.6 else None,
            "email_opt_in": self._opt_in(),
            "postal_opt_in": pick((True, True, False, None)),
            "email_opt_out": rng.random() < 0.05,
            "email_invalid": False,
            "email_invalid_reason": None,
            "organisation_id": organisation.id if organisation else None,
            "created_at": created_at,
            "modified_at": _moment(rng, created_at, ANCHOR) if rng.random() < 0.7 else created_at,
            "deleted": rng.random() < 0.01,
        }
        if housemate is not None:
            row.update({"street": housemate["street"], "postal_code": housemate["postal_code"],
                        "city": housemate["city"], "region": housemate["region"]})
        elif rng.random() < 0.85:
            number = str(1 + int(rng.random() * 239)) + pick(("", "", "", "a", "b"))
            row.update({"street": locale.street_format.format(street=pick(locale.streets), number=number),
                        "postal_code": fill_template(rng, postal_template), "city": city, "region": REGIONS[city]})
        if row["email"] and rng.random() < 0.02:
            row.update({"email_invalid": True, "email_invalid_reason": pick(INVALID_REASONS)})
        self._previous = row
        custom = self._custom_values(contact_id)
        return ContactRows(row, custom, self._memberships(custom))

    def _opt_in(self) -> bool | None:
        draw = self._rng.random()
        return True if draw < 0.7 else False if draw < 0.8 else None

    def _email(self, contact_id: int, first: str, last: str, locale: Locale,
               organisation: OrganisationInfo | None) -> str | None:
        rng = self._rng
        pick = self._pick
        draw = rng.random()
        if draw < 0.04:
            return None
        if draw < 0.045:
            suffix = "" if rng.random() < 0.2 else str(contact_id)
            return f"{pick(FAKE_LOCAL_PARTS)}{suffix}@{pick(FAKE_DOMAINS)}"
        first_slug, last_slug = self._slug(first), self._slug(last)
        if organisation is not None and rng.random() < 0.7:
            local = f"{first_slug}.{last_slug}" if rng.random() < 0.8 else f"{first_slug[0]}.{last_slug}"
            domain = organisation.mail_domain
        else:
            # The contact id keeps personal addresses unique, as a provider would.
            local = pick(_PERSONAL_PATTERNS).format(first=first_slug, last=last_slug, initial=first_slug[0],
                                                    id=contact_id)
            pool = locale.mail_domains if rng.random() < 0.6 else INTERNATIONAL_MAIL_DOMAINS
            domain = pick(pool)
        if draw < 0.047:
            return pick(_MALFORMED).format(local=local, domain=domain)
        address = f"{local}@{domain}"
        return address.capitalize() if rng.random() < 0.03 else address

    def _slug(self, name: str) -> str:
        slug = self._slugs.get(name)
        if slug is None:
            slug = self._slugs[name] = ascii_slug(name)
        return slug

    def _custom_values(self, contact_id: int) -> dict[str, Any]:
        rng, column = self._rng, self._columns
        pick = self._pick
        return {
            "contact_id": contact_id,
            column["loyalty_tier"]: rng.choices(_TIERS, _TIER_WEIGHTS)[0] if rng.random() < 0.75 else None,
            column["member_since"]: _day(rng, 2005, 2025) if rng.random() < 0.55 else None,
            column["lifetime_value"]: round(min(rng.expovariate(1 / 600), 99_999), 2) if rng.random() < 0.6 else None,
            column["newsletter_topics"]: ", ".join(rng.sample(NEWSLETTER_TOPICS, 1 + int(rng.random() * 3)))
            if rng.random() < 0.4 else None,
            column["vip"]: rng.random() < 0.04,
            column["customer_number"]: f"CUS-{contact_id:07d}" if rng.random() < 0.7 else None,
            column["preferred_contact"]: pick(_CHANNELS) if rng.random() < 0.65 else None,
        }

    def _memberships(self, custom: dict[str, Any]) -> tuple[int, ...]:
        rng, column = self._rng, self._columns
        lists = []
        if rng.random() < 0.45:
            lists.append(1)
        if custom[column["vip"]] or rng.random() < 0.01:
            lists.append(2)
        if rng.random() < 0.08:
            lists.append(3)
        if custom[column["customer_number"]] and rng.random() < 0.5:
            lists.append(4)
        return tuple(lists)
