"""Bad database URLs and broken databases, for the state store and the CRM: a malformed URL or an unusable
driver is a configuration error (exit 3), a database that cannot be reached exit 4; neither prints a password,
and nothing reaches a provider or changes the state store."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.badinput.harness import Case, param

PG = os.environ.get("CRM_SYNC_TEST_POSTGRES_URL", "")
MY = os.environ.get("CRM_SYNC_TEST_MARIADB_URL", "")
needs_pg = pytest.mark.skipif(not PG, reason="CRM_SYNC_TEST_POSTGRES_URL is not set")
needs_my = pytest.mark.skipif(not MY, reason="CRM_SYNC_TEST_MARIADB_URL is not set")
UNREACHABLE = "Check that the server runs and the URL, user and password are right."


def _other(url: str, path: str | None = None, query: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path if path is None else path,
                                     query=parts.query if query is None else query))


def url_cases(store: str) -> list[Case]:
    """The same bad URLs for the state store and the CRM (whose messages differ in their prefix)."""
    state = store == "state"
    variable = "CRM_SYNC_STATE__URL" if state else "CRM_SYNC_CRM__URL"

    def case(name: str, url: str, code: int, state_says: tuple[str, ...], crm_says: tuple[str, ...], **more) -> Case:
        return Case(f"{store} {name}", env={variable: url}, code=code, expect=state_says if state else crm_says,
                    **more)

    bogus = _other(MY, query="charset=bogus")
    return [
        case("not a URL", "state.db", 3, ("state store URL 'state.db' is not a database URL; expected e.g. sqlite:///",),
             ("CRM: *** is not a database URL (expected e.g. sqlite:///data/crm.db",)),
        case("a DSN with a password", "host=db password=hunter2", 3,
             ("state store URL '<not a database URL>' is not a database URL",),
             ("CRM: <not a database URL> is not a database URL",), forbid=("hunter2",)),
        case("unknown driver", "postgresql+nosuchdriver://u@127.0.0.1/db", 3,
             (("state store URL postgresql+nosuchdriver://u@127.0.0.1/db: no SQLAlchemy dialect for "
              "'postgresql+nosuchdriver'"),),
             ("CRM: cannot use postgresql+nosuchdriver://u@127.0.0.1/db: Can't load plugin",)),
        case("driver not installed", "mssql+pyodbc://u@127.0.0.1/db", 3,
             ("state store URL mssql+pyodbc://u@127.0.0.1/db: backend 'mssql' is not supported",),
             ("CRM: cannot use mssql+pyodbc://u@127.0.0.1/db: No module named 'pyodbc'",)),
        case("closed port with a password", "postgresql+psycopg://crm:hunter2@127.0.0.1:1/crm", 4,
             (("state store postgresql+psycopg://crm:***@127.0.0.1:1/crm: upgrading the schema failed: "
              'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'),),
             ("CRM: cannot connect to postgresql+psycopg://crm:***@127.0.0.1:1/crm: connection failed: ",
              UNREACHABLE), forbid=("hunter2",)),
        case("no such database", _other(PG, path="/no_such_database"), 4,
             ('upgrading the schema failed: connection failed: ', 'database "no_such_database" does not exist'),
             ("CRM: cannot connect to ", 'database "no_such_database" does not exist', UNREACHABLE),
             marks=(needs_pg,)),
        case("?charset=bogus", bogus, 3, ((f"state store: cannot use {bogus}: the database driver refused the URL's "
                                          "options (AttributeError"),),
             (f"CRM: cannot use {bogus}: the database driver refused the URL's options (AttributeError",),
             marks=(needs_my,)),
        case("a SQLite file under a file", "sqlite:///$dir/crm.db/state.db", 4,
             ("state store sqlite:///$dir/crm.db/state.db: cannot create folder $dir/crm.db: File exists",),
             ("cannot create folder $dir/crm.db: File exists",)),
        case("a folder for a SQLite file", "sqlite:///$dir/config", 4,
             ("state store sqlite:///$dir/config: upgrading the schema failed: unable to open database file",),
             ("CRM: cannot connect to sqlite:///$dir/config: unable to open database file", UNREACHABLE)),
    ]


def garbage(name: str) -> Case:
    return Case(f"{name} file that is not a database",
                env={f"CRM_SYNC_{name.upper()}__URL": "sqlite:///$dir/garbage.db"},
                files={"garbage.db": "this is a spreadsheet, not SQLite\n" * 100}, code=4,
                expect=(EXPECT_GARBAGE[name],))


EXPECT_GARBAGE = {"crm": "CRM: cannot connect to sqlite:///$dir/garbage.db: file is not a database",
                  "state": "state store sqlite:///$dir/garbage.db: upgrading the schema failed: file is not a database"}


BROKEN_CRM = [
    Case("crm without its contacts table", setup=lambda ws: ws.crm("DROP TABLE contacts"),
         expect=("schemas/embedded.yaml:8: contacts.table: table 'contacts' does not exist in the database",)),
    Case("crm contacts without the email column",
         setup=lambda ws: ws.crm("ALTER TABLE contacts RENAME COLUMN email TO e_mail"),
         expect=("table 'contacts' has no column 'email'",)),
    Case("crm file missing", env={"CRM_SYNC_CRM__URL": "sqlite:///$dir/nowhere/crm.db"},
         expect=("contacts.table: the database has none of the described tables (activities, contacts, ",
                 "is the URL right? `crm-sync demo init` creates the demo CRM")),
    garbage("crm"),
    garbage("state"),
    Case("state store from a newer crm-sync", code=3,
         setup=lambda ws: _state_sql(ws, "UPDATE crm_sync_alembic_version SET version_num = 'ffffffffffff'"),
         expect=("state store sqlite:///$dir/state.db: cannot upgrade its schema to ",
                 "a newer crm-sync may have upgraded it")),
    Case("state store without its member table", code=4, network=True,
         setup=lambda ws: _state_sql(ws, "DROP TABLE member_state"),
         expect=("state store sqlite:///$dir/state.db: reading member state failed: no such table: member_state",)),
]


def _state_sql(workspace, statement: str) -> None:
    import sqlite3
    with sqlite3.connect(workspace.dir / "state.db") as conn:
        conn.execute(statement)


DATABASE_CASES = [*url_cases("state"), *url_cases("crm"), *BROKEN_CRM]


@pytest.mark.parametrize("case", [param(case) for case in DATABASE_CASES])
def test_a_bad_database_url_or_database(pushed, case):
    pushed.run("databases", case)
