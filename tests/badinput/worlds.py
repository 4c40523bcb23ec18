"""Where the corpus's cases run: a project folder with the shipped config/, a 60-contact demo CRM, a SQLite state
store and two audiences configured by environment alone: ``newsletter`` in a Mailchimp sandbox and
``nieuwsbrief`` (the same mapping section) in a Spotler sandbox, both on loopback.

``Workspace.pushed`` starts from a state store that already pushed both audiences (the session's sandboxes, not
one request expected); ``Workspace.fresh`` has its own new sandboxes and an empty state store (provider faults).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sync.demo.crm.generate import create_demo_crm
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from tests.badinput.harness import (
    Case,
    Result,
    check_common,
    count,
    run_cli,
    state_rows,
    substitute,
)
from tests.cli.run import REPO

CONTACTS, SEED = 60, 5
WRITTEN = 40  # members a first push of that CRM writes, per audience (the others are skipped with reasons)


def make_template(folder: Path) -> Path:
    """config/ and crm.db, copied into every workspace."""
    shutil.copytree(REPO / "config", folder / "config")
    create_demo_crm(f"sqlite:///{folder / 'crm.db'}", contacts=CONTACTS, seed=SEED)
    return folder


@dataclass
class Workspace:
    dir: Path
    mailchimp: MailchimpSandbox
    spotler: SpotlerSandbox
    list_id: str
    env: dict[str, str] = field(default_factory=dict)
    more_names: dict[str, str] = field(default_factory=dict)  # further $names for the cases (fake CRMs' URLs)

    @classmethod
    def create(cls, folder: Path, template: Path, mailchimp: MailchimpSandbox, spotler: SpotlerSandbox,
               list_id: str) -> Workspace:
        shutil.copytree(template, folder, dirs_exist_ok=True)
        workspace = cls(folder, mailchimp, spotler, list_id)
        workspace.env = {
            "CRM_SYNC_CRM__URL": f"sqlite:///{folder / 'crm.db'}",
            "CRM_SYNC_STATE__URL": f"sqlite:///{folder / 'state.db'}",
            "CRM_SYNC_MAILCHIMP__API_KEY": mailchimp.api_key, "CRM_SYNC_MAILCHIMP__BASE_URL": mailchimp.base_url,
            "CRM_SYNC_MAILCHIMP__RETRY_SECONDS": "3", "CRM_SYNC_MAILCHIMP__RETRY_INITIAL_WAIT": "0.05",
            "CRM_SYNC_MAILCHIMP__TIMEOUT_SECONDS": "5",
            "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": list_id,
            "CRM_SYNC_SPOTLER__CONSUMER_KEY": spotler.consumer_key,
            "CRM_SYNC_SPOTLER__CONSUMER_SECRET": spotler.consumer_secret,
            "CRM_SYNC_SPOTLER__BASE_URL": spotler.base_url, "CRM_SYNC_SPOTLER__REQUESTS_PER_SECOND": "0",
            "CRM_SYNC_SPOTLER__RETRY_SECONDS": "3", "CRM_SYNC_SPOTLER__RETRY_INITIAL_WAIT": "0.05",
            "CRM_SYNC_SPOTLER__TIMEOUT_SECONDS": "5",
            "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PROVIDER": "spotler",
            "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__PERMISSION_BITS": "[1]",
            "CRM_SYNC_AUDIENCES__NIEUWSBRIEF__MAPPING": "newsletter",
        }
        return workspace

    @property
    def names(self) -> dict[str, str]:
        return {"dir": str(self.dir), "mc": self.mailchimp.base_url, "sp": self.spotler.base_url,
                "list": self.list_id, "pg": os.environ.get("CRM_SYNC_TEST_POSTGRES_URL", ""),
                "my": os.environ.get("CRM_SYNC_TEST_MARIADB_URL", ""), **self.more_names}

    def requests(self) -> int:
        return self.mailchimp.request_count() + self.spotler.request_count()

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(list(args), self.dir, self.env | (env or {}))

    def runs(self) -> list[tuple[str, str, str, str]]:
        """(kind, audience, outcome, error) of every run in the state store, oldest first."""
        with sqlite3.connect(self.dir / "state.db") as conn:
            return [tuple(row) for row in conn.execute(
                "SELECT kind, audience, outcome, coalesce(error, '') FROM runs ORDER BY id")]

    def crm(self, *statements: str) -> None:
        """Run SQL on the workspace's CRM (a broken row, a dropped column)."""
        with sqlite3.connect(self.dir / "crm.db") as conn:
            for statement in statements:
                conn.execute(statement)

    def apply(self, case: Case) -> dict[str, str]:
        """Write the case's files, run its setup; the environment to run it with."""
        for relative, content in case.files.items():
            path = self.dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_bytes(substitute(content, self.names).encode("utf-8", errors="surrogateescape"))
        if case.setup:
            case.setup(self)
        return self.env | {name: substitute(value, self.names) for name, value in case.env.items()}

    def run(self, category: str, case: Case) -> Result:
        """Run one case end to end: the common checks, no request and no state change unless the case allows
        them, then its own ``still``; counted only when all of it passed."""
        env = {name: value for name, value in self.apply(case).items() if value is not None}
        requests, state = self.requests(), state_rows(self.dir / "state.db")
        result = run_cli([substitute(arg, self.names) for arg in case.args], self.dir, env)
        check_common(case, result, self.names)
        if not case.network:
            assert self.requests() == requests, "a request reached a provider before the input was refused"
            assert state_rows(self.dir / "state.db") == state, "the state store changed"
        recovered = case.still(self, result) if case.still else 0
        count(category, case, result, recovered)
        return result
