"""E-mail identity and Mailchimp's "looks fake or invalid" screening.

Mailchimp refuses addresses at the documentation domains, role and test local parts, and malformed addresses.
Reserved test TLDs such as ``.test`` are accepted: the demo CRM uses ``@ziggo.test`` style addresses.
"""

from __future__ import annotations

import hashlib
import re

FAKE_DOMAINS = frozenset({"example.com", "example.org", "example.net"})
FAKE_LOCAL_PARTS = frozenset({
    "test", "info", "admin", "noreply", "no-reply", "postmaster", "abuse", "webmaster",
})

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: md5 of the trimmed, lower-cased address."""
    return hashlib.md5(email.strip().lower().encode("utf-8")).hexdigest()


def is_well_formed(email: str) -> bool:
    """True for ``local@label.label`` with a letters-only TLD of two or more characters."""
    if email != email.strip() or email.count("@") != 1 or len(email) > 254:
        return False
    local, domain = email.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        return False
    return labels[-1].isalpha() and len(labels[-1]) >= 2


def looks_fake(email: str) -> bool:
    """True when Mailchimp would answer "looks fake or invalid" for this address."""
    if not is_well_formed(email):
        return True
    local, domain = email.lower().split("@")
    if local in FAKE_LOCAL_PARTS:
        return True
    return any(domain == fake or domain.endswith("." + fake) for fake in FAKE_DOMAINS)
