"""The fake vtiger on loopback and a connector talking HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.connectors.vtiger.crm import VtigerCrm, open_vtiger
from sync.sandbox.vtiger import VtigerSandbox


@pytest.fixture
def sandbox() -> Iterator[VtigerSandbox]:
    with VtigerSandbox() as served:
        yield served


def connect(sandbox: VtigerSandbox, **options) -> VtigerCrm:
    return open_vtiger(sandbox.base_url, sandbox.username, sandbox.access_key, retry_seconds=3, **options)


@pytest.fixture
def crm(sandbox: VtigerSandbox) -> Iterator[VtigerCrm]:
    with connect(sandbox) as connected:
        yield connected
