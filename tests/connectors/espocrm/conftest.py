"""The EspoCRM connector's tests run against two EspoCRMs: the fake one (``sync/sandbox/espocrm``, fast, always)
and the live EspoCRM 9.1.7 of ``tests/live/crms.py`` (skipped when it is not running; one worker at a time,
its database restored before each test that uses it). Both hold the fixtures' data set; ``Backend`` names its
records by first name, so one test reads the same on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from sync.connectors.espocrm.client import EspoClient
from sync.connectors.espocrm.crm import EspoCrm
from sync.sandbox.espocrm import EspoSandbox
from sync.sandbox.espocrm import seed as fake_seed
from tests.live.crms import BASE, require, restore

LIVE = pytest.mark.xdist_group("live-espocrm")


@dataclass
class Backend:
    """One EspoCRM to test against: where it is, its keys, and its seed records by first name."""

    name: str
    base_url: str
    api_key: str
    hmac_key: str
    hmac_secret: str
    nocamp_key: str
    ids: dict[str, str]
    newsletter: str
    vip: str
    accounts: dict[str, str]
    sandbox: EspoSandbox | None = None
    opened: list[EspoCrm] = field(default_factory=list)

    def crm(self, api_key: str | None = None, secret: str | None = None, entity: str = "Contact",
            retry_seconds: float = 3.0) -> EspoCrm:
        crm = EspoCrm(EspoClient(self.base_url, api_key or self.api_key, secret, timeout=30,
                                 retry_seconds=retry_seconds), entity)
        self.opened.append(crm)
        return crm

    def raw(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """A call straight over HTTP (not through the connector): how a test looks at the CRM itself."""
        answer = requests.request(method, f"{self.base_url}/api/v1/{path}", params=params, timeout=30,
                                  headers={"X-Api-Key": self.api_key, "Content-Type": "application/json"},
                                  data=None if body is None else json.dumps(body))
        assert answer.status_code == 200, (answer.status_code, answer.headers.get("X-Status-Reason"))
        return answer.json() if answer.content else None

    def search(self, path: str, where: list[dict], **extra: Any) -> dict[str, Any]:
        return self.raw("GET", path, {"searchParams": json.dumps({"where": where, "maxSize": 200, **extra})})


def _fake() -> Iterator[Backend]:
    with EspoSandbox() as sandbox:
        backend = Backend("fake", sandbox.base_url, sandbox.api_key, sandbox.hmac_key, sandbox.hmac_secret,
                          sandbox.nocamp_key, {name.split()[0]: ident for name, ident in fake_seed.IDS.items()},
                          fake_seed.NEWSLETTER, fake_seed.VIP,
                          {"Müller": fake_seed.MULLER, "Bloemen": fake_seed.BLOEMEN}, sandbox)
        yield backend
        for crm in backend.opened:
            crm.close()


def _live(writes: bool) -> Iterator[Backend]:
    env = require("espocrm")
    if writes:
        restore("espocrm")
    state = json.loads((BASE / "state" / "espocrm.json").read_text())
    ids = {name.split()[0]: ident for name, ident in {**state["contacts"], **state["leads"]}.items()}
    muller, bloemen = state["accounts"]
    backend = Backend("live", env["LIVE_ESPOCRM_URL"], env["LIVE_ESPOCRM_API_KEY"], env["LIVE_ESPOCRM_HMAC_API_KEY"],
                      env["LIVE_ESPOCRM_HMAC_SECRET_KEY"], env["LIVE_ESPOCRM_NOCAMP_API_KEY"], ids,
                      env["LIVE_ESPOCRM_TARGETLIST_NEWSLETTER_ID"], env["LIVE_ESPOCRM_TARGETLIST_VIP_ID"],
                      {"Müller": muller, "Bloemen": bloemen})
    yield backend
    for crm in backend.opened:
        crm.close()
    if writes:
        restore("espocrm")  # leave the seeded data for the next test that only reads


@pytest.hookimpl(tryfirst=True)  # before anything that reads the group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the live runs in the xdist group of the live EspoCRM: ``tests/conftest.py`` then holds its lock for the
    test's whole run."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "live" in (params.get("espo"), params.get("espo_rw")):
            item.add_marker(LIVE)


@pytest.fixture(params=["fake", "live"])
def espo(request) -> Iterator[Backend]:
    """The fake EspoCRM, then the live one, with the seed data, for a test that only reads."""
    yield from (_fake() if request.param == "fake" else _live(writes=False))


@pytest.fixture(params=["fake", "live"])
def espo_rw(request) -> Iterator[Backend]:
    """Like ``espo``, for a test that changes the CRM: the live one is restored before and after."""
    yield from (_fake() if request.param == "fake" else _live(writes=True))


@pytest.fixture
def fake() -> Iterator[Backend]:
    """The fake EspoCRM only (faults, counted requests, large data sets)."""
    yield from _fake()
