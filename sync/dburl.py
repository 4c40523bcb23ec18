"""Database URLs: showing them without their password, and opening engines that fail clearly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, exc, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from sync.errors import ConfigError, ConnectionFailed

_CREDENTIALS_IN_URL = re.compile(r"(//[^:/@]*:).*@")  # greedy: masks too much rather than too little


def display_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***``; safe for messages and logs, even when malformed."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        if "://" not in str(url):
            # A bare path is safe to echo; a DSN like "host=db password=x" is not.
            return str(url) if re.fullmatch(r"[\w./~-]+", str(url)) else "<not a database URL>"
        return _CREDENTIALS_IN_URL.sub(r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True)


def driver_message(failure: exc.DBAPIError, url: str | URL) -> str:
    """The first line of the driver's error message, with the URL's password (if any) blanked out.

    Only the driver's own text is kept: SQLAlchemy's full message carries SQL parameters, which may hold
    e-mail addresses.
    """
    lines = str(failure.orig).strip().splitlines()
    message = lines[0] if lines else type(failure.orig).__name__
    for secret in _password_spellings(url):
        message = message.replace(secret, "***")
    return message


def _password_spellings(url: str | URL) -> set[str]:
    """The password as given in the URL and as decoded, so neither can leak through a driver message."""
    spellings: set[str] = set()
    if isinstance(url, str):
        match = re.search(r"//[^:/@]*:(.*)@", url)
        if match and match.group(1):
            spellings.add(match.group(1))
    try:
        password = (url if isinstance(url, URL) else make_url(url)).password
    except (ArgumentError, ValueError):
        password = None
    if password:
        spellings.add(str(password))
    return spellings


# What a driver raises, instead of a DBAPI error, for options it cannot use (pymysql on ?charset=bogus).
OPTION_ERRORS = (AttributeError, LookupError, TypeError, ValueError)


@contextmanager
def refused_options(url: str | URL, purpose: str) -> Iterator[None]:
    """Around a first connect only: the driver choking on the URL's options is a configuration error."""
    try:
        yield
    except OPTION_ERRORS as error:
        raise ConfigError(f"{purpose}: cannot use {display_url(url)}: the database driver refused the URL's "
                          f"options ({type(error).__name__}: {error}); check its ?query part, "
                          "e.g. charset=utf8mb4") from None


def open_engine(url: str, purpose: str) -> Engine:
    """An engine on ``url`` that has answered one query; errors name ``purpose`` and the safe URL.

    A SQLite file's folder is created if missing.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"{purpose}: {display_url(url)} is not a database URL "
                          "(expected e.g. sqlite:///data/crm.db or postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as failure:
            raise ConnectionFailed(f"{purpose}: {display_url(url)}: cannot create folder {folder}: "
                                   f"{failure.strerror}") from None
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as error:
        raise ConfigError(f"{purpose}: cannot use {display_url(url)}: {error}") from None
    try:
        with refused_options(url, purpose), engine.connect() as connection:
            # SQLite opens any file lazily: reading its catalogue finds one that is not a database.
            connection.execute(text("SELECT count(*) FROM sqlite_master" if parsed.get_backend_name() == "sqlite"
                                    else "SELECT 1"))
    except ConfigError:
        engine.dispose()
        raise
    except exc.DBAPIError as error:
        engine.dispose()
        raise ConnectionFailed(f"{purpose}: cannot connect to {display_url(url)}: {driver_message(error, url)}. "
                               "Check that the server runs and the URL, user and password are right.") from None
    except SQLAlchemyError as error:
        engine.dispose()
        reason = str(error).strip().splitlines()[0]
        raise ConnectionFailed(f"{purpose}: cannot connect to {display_url(url)}: {reason}. "
                               "Check that the server runs and the URL, user and password are right.") from None
    return engine
