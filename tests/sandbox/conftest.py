"""Fixtures for the Mailchimp sandbox tests: a running sandbox, an audience, and the official SDK pointed at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mailchimp_marketing
import pytest
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import MailchimpSandbox


@pytest.fixture
def sandbox() -> Iterator[MailchimpSandbox]:
    with MailchimpSandbox() as running:
        yield running
        assert running.internal_errors == [], running.internal_errors[-1]


@pytest.fixture
def list_id(sandbox: MailchimpSandbox) -> str:
    return sandbox.create_audience("Sandbox test audience")


def sdk_client(base_url: str, api_key: str, timeout: float = 10) -> mailchimp_marketing.Client:
    """The official SDK configured the way crm-sync configures it."""
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": api_key, "timeout": timeout})
    client.api_client.host = base_url
    return client


@pytest.fixture
def client(sandbox: MailchimpSandbox) -> mailchimp_marketing.Client:
    return sdk_client(sandbox.base_url, sandbox.api_key)


def problem_of(error: ApiClientError) -> dict[str, Any]:
    """The problem document of an SDK error: a JSON string for problem+json answers, as from the real API."""
    assert isinstance(error.text, str), f"expected problem+json text, got {type(error.text).__name__}"
    return json.loads(error.text)
