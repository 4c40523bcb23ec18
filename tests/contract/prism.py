"""Run Stoplight Prism as a validating proxy in front of a server, for contract tests.

``prism proxy --errors`` checks every request and response against the Mailchimp OpenAPI spec in
``<repo>/../shared/specs``: a request that breaks the spec is answered by Prism with 422 problem+json and never
forwarded; a response that breaks it becomes a 500. Prism comes from ``npm install`` at the repository root
(``package.json`` pins ``@stoplight/prism-cli``); without it the tests that need it are skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
MAILCHIMP_SPEC = SHARED / "specs" / "mailchimp-marketing.json"
PRISM = REPO_ROOT / "node_modules" / ".bin" / "prism"
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class PrismProxy:
    """A running proxy: point clients at ``url`` (no ``/3.0``; Prism appends paths to the upstream URL)."""

    url: str
    log_path: Path

    def log(self) -> str:
        """Everything Prism printed so far (routes, validation verdicts)."""
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _skip_reason(spec: Path) -> str | None:
    if not PRISM.exists():
        return f"Prism is not installed ({PRISM.relative_to(REPO_ROOT)} missing): run `npm install` in {REPO_ROOT}"
    if not spec.exists():
        return f"the API spec {spec} is missing (expected the shared folder next to the repository)"
    return None


@contextmanager
def prism_proxy(upstream: str, spec: Path = MAILCHIMP_SPEC) -> Iterator[PrismProxy]:
    """Start ``prism proxy --errors`` from ``spec`` to ``upstream``; wait until it answers; stop it afterwards.

    Skips the calling test when Prism or the spec is missing; fails with Prism's log when it does not start.
    """
    reason = _skip_reason(spec)
    if reason:
        pytest.skip(reason)
    port = _free_port()
    with tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log", delete=False) as log_file:
        log_path = Path(log_file.name)
    command = [str(PRISM), "proxy", str(spec), upstream, "--errors", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    proxy = PrismProxy(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_answering(process, proxy)
        yield proxy
    finally:
        _stop(process)
        log_path.unlink(missing_ok=True)


def _wait_until_answering(process: subprocess.Popen[bytes], proxy: PrismProxy) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Prism exited with code {process.returncode} while starting:\n{proxy.log()[-3000:]}")
        try:
            requests.get(f"{proxy.url}/ping", timeout=1)  # any HTTP answer (401 without auth) means it is up
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"Prism did not answer within {STARTUP_SECONDS} s:\n{proxy.log()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Prism and anything it started (it runs in its own process group, which only it belongs to)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
