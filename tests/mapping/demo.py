"""The embedded demo CRM's fields and a typical contact, shared by the mapping tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sync.records import Consent, CrmContact, CrmField, CrmFieldType

SHIPPED_MAPPING = Path(__file__).resolve().parents[2] / "config" / "mapping.yaml"

T = CrmFieldType
DEMO_CRM_FIELDS = [
    CrmField("first_name", "First name", T.TEXT),
    CrmField("last_name", "Last name", T.TEXT),
    CrmField("email", "E-mail", T.EMAIL),
    CrmField("phone", "Phone", T.PHONE),
    CrmField("street", "Street", T.TEXT),
    CrmField("postal_code", "Postal code", T.TEXT),
    CrmField("city", "City", T.TEXT),
    CrmField("region", "Region", T.TEXT),
    CrmField("country", "Country", T.TEXT),
    CrmField("language", "Language", T.TEXT),
    CrmField("birthday", "Birthday", T.DATE),
    CrmField("organisation_name", "Organisation", T.TEXT),
    CrmField("loyalty_tier", "Loyalty tier", T.DROPDOWN, ("gold", "silver", "bronze"), custom=True),
    CrmField("member_since", "Member since", T.DATE, custom=True),
    CrmField("lifetime_value", "Lifetime value", T.NUMBER, custom=True),
    CrmField("newsletter_topics", "Newsletter topics", T.TEXT, custom=True),
    CrmField("vip", "VIP", T.CHECKBOX, custom=True),
    CrmField("customer_number", "Customer number", T.TEXT, custom=True),
]

DEMO_VALUES = {
    "first_name": " jan ",
    "last_name": "de vries",
    "email": "jan@example.nl",
    "phone": "+31 30 123 4567",
    "street": "Dorpstraat 1 ",
    "postal_code": "1234 AB",
    "city": "Utrecht",
    "region": "Utrecht",
    "country": "NL",
    "language": "NL",
    "birthday": date(1980, 2, 1),
    "organisation_name": "Vries & Zn",
    "loyalty_tier": "gold",
    "member_since": date(2020, 5, 6),
    "lifetime_value": 1234.567,
    "newsletter_topics": "events, offers",
    "vip": True,
    "customer_number": "c-0042",
}


def demo_contact(contact_id: str = "C-1", **changes: object) -> CrmContact:
    """A demo CRM contact; keyword arguments replace field values (None empties a field)."""
    return CrmContact(
        id=contact_id,
        email="jan@example.nl",
        fields={**DEMO_VALUES, **changes},
        consent=Consent(email_opt_in=True),
        modified_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
