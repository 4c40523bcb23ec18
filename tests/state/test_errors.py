"""Unreachable or malformed state-store URLs give one clear ConnectionFailed, never the password."""

from __future__ import annotations

import pytest
from sqlalchemy import exc

from sync.errors import ConfigError, ConnectionFailed
from sync.state.engine import display_url, translate_errors
from sync.state.store import StateStore, open_state

SECRET = "s3cr%t-pw"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql+psycopg://crm:{SECRET}@127.0.0.1:1/state", "postgresql+psycopg://crm:***@127.0.0.1:1/state"),
        (f"mysql+pymysql://crm:{SECRET}@127.0.0.1:1/state", "mysql+pymysql://crm:***@127.0.0.1:1/state"),
    ],
)
def test_an_unreachable_server_is_reported_with_the_password_hidden(url, shown):
    with pytest.raises(ConnectionFailed) as failure:
        open_state(url)

    message = str(failure.value)
    assert message.startswith(f"state store {shown}: upgrading the schema failed: ")
    assert SECRET not in message and "s3cr" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"postgresql://crm:{SECRET}@db:notaport/state",
         r"postgresql://crm:\*\*\*@db:notaport/state.*not a database URL"),
        ("state.db", r"'state.db' is not a database URL; expected e.g. sqlite:///"),
        (f"oracle://crm:{SECRET}@db/state", r"oracle://crm:\*\*\*@db/state: backend 'oracle' is not supported"),
        (f"postgresql+nodriver://crm:{SECRET}@db/state", r"no SQLAlchemy dialect for 'postgresql\+nodriver'"),
    ],
)
def test_a_bad_url_is_a_configuration_error_reported_clearly(url, expected):
    with pytest.raises(ConfigError, match=expected) as failure:
        StateStore(url)

    assert "s3cr" not in str(failure.value)


def test_a_sqlite_folder_that_cannot_be_made_is_reported():
    with pytest.raises(ConnectionFailed, match=r"cannot create folder /proc/no-such-folder"):
        StateStore("sqlite:////proc/no-such-folder/state.db")


def test_an_unopenable_sqlite_file_is_reported(tmp_path):
    folder_not_file = tmp_path / "state.db"
    folder_not_file.mkdir()

    with pytest.raises(ConnectionFailed,
                       match=r"state store sqlite:///.*state.db: upgrading the schema failed: unable to open"):
        open_state(f"sqlite:///{folder_not_file}")


def test_a_driver_message_quoting_the_password_is_blanked():
    url = f"postgresql+psycopg://crm:{SECRET.replace('%', '%25')}@db/state"
    driver_failure = exc.OperationalError("SELECT 1", {}, Exception(f"password {SECRET} rejected\ndetails"))

    with pytest.raises(ConnectionFailed) as failure, translate_errors(url, "reading runs"):
        raise driver_failure

    assert str(failure.value) == ("state store postgresql+psycopg://crm:***@db/state: reading runs failed: "
                                  "password *** rejected")


def test_display_url_hides_the_password_even_when_unparseable():
    assert display_url("postgresql://crm:pa@ss@db:x/state") == "postgresql://crm:***@db:x/state"
    assert display_url("sqlite:///data/state.db") == "sqlite:///data/state.db"
