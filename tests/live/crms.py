"""The real EspoCRM and vtiger of ``../shared/live-crms`` (``live-crms.sh up``): where they are, and putting one
back to its seeded data.

Their URLs and credentials come from the environment or from the file ``live-crms.sh up`` writes
(``$LIVE_CRMS_BASE/live_crms.env``, /opt/live-crms by default). When they are not running the tests that need
them are skipped, except under CI (``CI`` set), where a missing live CRM is a failure: CI starts them.
Every test of a live CRM carries the xdist group ``live-<crm>``; ``tests/conftest.py`` holds that CRM's lock
(``exclusive``) for the test's whole run, so one test at a time uses it, whatever worker runs it (pytest 9 with
xdist 3.8 does not keep a group on one worker). Tests that change a live CRM restore its database first.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
import requests

BASE = Path(os.environ.get("LIVE_CRMS_BASE", "/opt/live-crms"))
DATABASES = {"espocrm": "espocrm_live", "vtiger": "vtiger_live"}
PROBES = {"espocrm": "LIVE_ESPOCRM_URL", "vtiger": "LIVE_VTIGER_URL"}


@contextmanager
def exclusive(group: str, seconds: float = 1200) -> Iterator[None]:
    """Hold the lock of one live CRM (``live-espocrm``, ``live-vtiger``) across processes."""
    path = Path(tempfile.gettempdir()) / f"crm-sync-{group}.lock"
    with open(path, "a") as handle:
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{group} stayed locked ({path}) for {seconds:.0f} s")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def live_env() -> dict[str, str]:
    """LIVE_ESPOCRM_* and LIVE_VTIGER_* from the env file, overridden by the environment."""
    values: dict[str, str] = {}
    env_file = Path(os.environ.get("LIVE_CRMS_ENV_FILE", BASE / "live_crms.env"))
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                name, _, value = line[len("export "):].partition("=")
                values[name] = shlex.split(value)[0] if value else ""
    values.update({k: v for k, v in os.environ.items() if k.startswith(("LIVE_ESPOCRM_", "LIVE_VTIGER_"))})
    return values


@cache
def _running(crm: str) -> str | None:
    url = live_env().get(PROBES[crm])
    if not url:
        return f"no {PROBES[crm]}: run ../shared/live-crms/live-crms.sh up"
    try:
        requests.get(url, timeout=10)
    except requests.RequestException as error:
        return f"{crm} at {url} does not answer ({type(error).__name__}): run ../shared/live-crms/live-crms.sh up"
    return None


def require(crm: str) -> dict[str, str]:
    """The live env when ``crm`` runs; else skip (fail under CI)."""
    problem = _running(crm)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"live {crm} needed under CI: {problem}")
        pytest.skip(problem)
    return live_env()


def add_espocrm_checkbox(name: str, label: str) -> str:
    """Add a custom checkbox to the live EspoCRM's Contact as its admin does (Entity Manager); returns its API
    name (``c`` + name). Remove it with ``remove_espocrm_field`` before ``restore`` (its metadata is a file)."""
    env = require("espocrm")
    answer = requests.post(f"{env['LIVE_ESPOCRM_API_URL']}/Admin/fieldManager/Contact", timeout=60,
                           auth=(env["LIVE_ESPOCRM_ADMIN_USER"], env["LIVE_ESPOCRM_ADMIN_PASSWORD"]),
                           json={"name": name, "type": "bool", "label": label})
    if answer.status_code != 200:
        raise AssertionError(f"EspoCRM refused the field {name!r}: {answer.status_code} "
                             f"{answer.headers.get('X-Status-Reason')}")
    return "c" + name[:1].upper() + name[1:]


def remove_espocrm_field(api_name: str) -> None:
    env = require("espocrm")
    requests.delete(f"{env['LIVE_ESPOCRM_API_URL']}/Admin/fieldManager/Contact/{api_name}", timeout=60,
                    auth=(env["LIVE_ESPOCRM_ADMIN_USER"], env["LIVE_ESPOCRM_ADMIN_PASSWORD"]))


def restore(crm: str) -> None:
    """Put one live CRM's database back to the seeded snapshot (the server keeps running)."""
    snapshot = BASE / "state" / f"{crm}.sql.gz"
    with gzip.open(snapshot, "rb") as dump:
        subprocess.run(["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "--default-character-set=utf8mb4",
                        DATABASES[crm]], input=dump.read(), check=True, timeout=120, capture_output=True)


def crm_page(crm: str, route: str, screenshot: Path) -> str:
    """The visible text of a live CRM's page as its admin sees it in headless Chromium (EspoCRM: a client route
    such as ``Campaign/view/<id>``; vtiger: a query such as ``module=Contacts&view=Detail&record=117``); the page
    is saved to ``screenshot``. Needs ``live-crms.sh screenshot`` to have run once (it installs Chromium and
    puppeteer-core), as ``.ci/run`` does."""
    env = require(crm)
    tools = BASE / "tools" / "node_modules"
    if not (tools / "puppeteer-core").is_dir():
        problem = f"no {tools}/puppeteer-core: run ../shared/live-crms/live-crms.sh screenshot /tmp/login.png"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    prefix = "LIVE_ESPOCRM" if crm == "espocrm" else "LIVE_VTIGER"
    user = env["LIVE_ESPOCRM_ADMIN_USER"] if crm == "espocrm" else env["LIVE_VTIGER_USERNAME"]
    script = Path(__file__).with_name("crm_page.js")
    done = subprocess.run(["node", str(script), crm, env[f"{prefix}_URL"], user, env[f"{prefix}_ADMIN_PASSWORD"],
                           route, str(screenshot)],
                          env={**os.environ, "NODE_PATH": str(tools)}, capture_output=True, text=True, timeout=240)
    if done.returncode:
        raise AssertionError(f"headless Chromium failed on {crm} {route}: {done.stderr[-2000:]}")
    return done.stdout


def add_vtiger_checkbox(label: str, block_id: int = 5) -> str:
    """Add a custom checkbox to the live vtiger's Contacts as its admin does (Layout Editor, block "Custom
    Information"); returns its column (``cf_NNN``). The webservice cannot add fields; ``restore`` removes it."""
    env = require("vtiger")
    base = env["LIVE_VTIGER_URL"]
    with requests.Session() as web:
        page = web.get(f"{base}/index.php", timeout=30)
        web.post(f"{base}/index.php?module=Users&action=Login", timeout=30, data={
            "__vtrftk": _vtiger_token(page.text), "username": env.get("LIVE_VTIGER_USERNAME", "admin"),
            "password": env["LIVE_VTIGER_ADMIN_PASSWORD"]})
        page = web.get(f"{base}/index.php?module=LayoutEditor&parent=Settings&view=Index&sourceModule=Contacts",
                       timeout=30)
        added = web.post(f"{base}/index.php", headers={"X-Requested-With": "XMLHttpRequest"}, timeout=30, data={
            "__vtrftk": _vtiger_token(page.text), "module": "LayoutEditor", "parent": "Settings", "action": "Field",
            "mode": "add", "sourceModule": "Contacts", "blockid": str(block_id), "fieldType": "Checkbox",
            "fieldLabel": label, "mandatory": "O", "presence": "2", "quickcreate": "1", "masseditable": "1"})
    answer = added.json()
    if not answer.get("success"):
        raise AssertionError(f"vtiger refused the field {label!r}: {added.text[:500]}")
    return str(answer["result"]["column"])


def _vtiger_token(page: str) -> str:
    found = (re.search(r'name="__vtrftk" value="([^"]+)"', page)
             or re.search(r"csrfMagicToken\s*=\s*['\"]([^'\"]+)", page))
    if found is None:
        raise AssertionError("no CSRF token on vtiger's page: is it logged in?")
    return found.group(1)
