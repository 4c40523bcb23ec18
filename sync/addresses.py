"""The one definition of "the same e-mail address": every comparison of addresses goes through here.

The CRM lookups, the planner, the households, the pull and the state store all compare addresses as
``normalise_email`` makes them; none lets its database decide (SQL ``lower``/``trim`` differ per database:
SQLite lower-cases ASCII only, ``trim`` removes spaces but not tabs or line breaks).
"""

from __future__ import annotations


def normalise_email(email: str | None) -> str | None:
    """The address as providers key it (surrounding white space removed, lower case), or None when empty."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None
