"""Run the real `crm-sync` console command in a clean environment, in a given folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


def crm_sync(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300,
             input: str | None = None) -> Result:
    """`crm-sync ARGS` as a user would type it (``input`` on its standard input), with only the given CRM_SYNC_*
    variables set."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CRM_SYNC_")}
    environment.update(env or {})
    command = shutil.which("crm-sync", path=str(Path(sys.executable).parent)) or "crm-sync"
    done = subprocess.run([command, *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout, input=input if input is not None else "")
    assert "Traceback" not in done.stderr, done.stderr
    return Result(done.returncode, done.stdout, done.stderr)


def project_copy(tmp_path: Path) -> Path:
    """A folder with the shipped config/, as a newcomer's checkout has."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def sandbox_env(folder: Path, sandbox, audience: str, contacts: int, seed: int, state: str = "state.db") -> dict:
    """A demo CRM in ``folder`` and the environment-only settings that point crm-sync at it and the sandbox."""
    from sync.demo.crm.generate import create_demo_crm

    crm_url = f"sqlite:///{folder / 'crm.db'}"
    if not (folder / "crm.db").exists():
        create_demo_crm(crm_url, contacts=contacts, seed=seed)
    return {"CRM_SYNC_CRM__URL": crm_url, "CRM_SYNC_STATE__URL": f"sqlite:///{folder / state}",
            "CRM_SYNC_MAILCHIMP__API_KEY": sandbox.api_key, "CRM_SYNC_MAILCHIMP__BASE_URL": sandbox.base_url,
            "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": sandbox.create_audience(audience)}


def start(project: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    """`crm-sync ARGS` started in the background (for concurrency, kill and scheduler tests)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CRM_SYNC_")} | env
    command = shutil.which("crm-sync", path=str(Path(sys.executable).parent)) or "crm-sync"
    return subprocess.Popen([command, *args], cwd=project, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
