"""A stateful fake EspoCRM 9.1.7 over loopback, seeded with the recorded fixtures' data set."""

from __future__ import annotations

import secrets
from typing import Any

from sync.sandbox.espocrm.server import App, Fault, Handler
from sync.sandbox.espocrm.store import Store
from sync.sandbox.serving import ServedSandbox

__all__ = ["EspoSandbox", "Fault"]


class EspoSandbox(ServedSandbox[App]):
    """A fake EspoCRM at ``base_url`` (``http://127.0.0.1:PORT``; the API under ``/api/v1``).

    ``api_key`` is the sync user's (full Sync role), ``hmac_key``/``hmac_secret`` an HMAC user's, and
    ``nocamp_key`` a user whose role has Contact only (no Campaign, so no CampaignLogRecord).
    """

    label = "EspoCRM sandbox"

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.api_key, self.hmac_key, self.nocamp_key = (secrets.token_hex(16) for _ in range(3))
        self.hmac_secret = secrets.token_hex(16)
        self.store = Store()
        self._app = App(self.store, {self.api_key: ("6b03436f71d1b768f", "sync"),
                                     self.hmac_key: ("6b0343a3334547f28", "sync"),
                                     self.nocamp_key: ("6b0343b2357119ac3", "nocamp")},
                        {self.hmac_key: self.hmac_secret})
        self._serve_with((host, port), self._app, Handler)

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def traffic(self):
        return self._app.traffic

    def fail(self, prefix: str, status: int, count: int = 1, after_commit: bool = False) -> None:
        """Answer ``status`` to the next ``count`` requests ``METHOD path…`` (e.g. ``"POST CampaignLogRecord"``)."""
        with self.store.lock:
            self._app.faults.append(Fault(prefix, status, count, after_commit))

    def add_field(self, name: str, spec: dict[str, Any], entity: str = "Contact") -> None:
        """Add a field as the admin's Entity Manager does (``name`` with its ``c`` prefix, e.g. ``cNewsletter``)."""
        with self.store.lock:
            self.store.fields[entity][name] = {"isCustom": True, **spec}

    def add_contact(self, email: str | None, opt_out: bool = False, invalid: bool = False,
                    entity: str = "Contact", **fields: Any) -> str:
        """Add a record as the CRM's users would (no API rules applied); returns its id."""
        with self.store.lock:
            now = self.store.now()
            record: dict[str, Any] = {"id": self.store.new_id(), "createdAt": now, "modifiedAt": now, **fields}
            self.store.set_addresses(record, [{"emailAddress": email, "primary": True, "optOut": opt_out,
                                               "invalid": invalid}] if email else [])
            self.store.records[entity][record["id"]] = record
            return str(record["id"])

    def touch(self, entity: str, record_id: str, modified_at: str) -> None:
        """Set a record's ``modifiedAt`` as the CRM's own users would have (tests of incremental reads)."""
        with self.store.lock:
            self.store.records[entity][record_id]["modifiedAt"] = modified_at
