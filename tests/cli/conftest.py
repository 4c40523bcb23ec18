"""Shared fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from sync.sandbox.mailchimp import MailchimpSandbox
from tests.cli.run import project_copy, sandbox_env


@pytest.fixture
def mailchimp_project(tmp_path):
    """(project folder, Mailchimp sandbox, environment): a newcomer's checkout, a 60-contact demo CRM and one
    audience, configured by environment alone."""
    project = project_copy(tmp_path)
    with MailchimpSandbox() as sandbox:
        env = sandbox_env(tmp_path, sandbox, "Good", contacts=60, seed=5)
        yield project, sandbox, env
        assert sandbox.internal_errors == []
