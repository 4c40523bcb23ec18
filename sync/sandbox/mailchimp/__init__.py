"""A stateful, Mailchimp-compatible API server over loopback, for tests, benchmarks and ``crm-sync demo``.

Public API: ``MailchimpSandbox`` (start/stop or ``with``; ``base_url``, ``api_key``, control and inspection
methods) and ``Faults`` (``sandbox.faults``). Behaviour follows ``../shared/docs/mailchimp-api.md``.
"""

from __future__ import annotations

from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.faults import Faults
from sync.sandbox.mailchimp.sandbox import MailchimpSandbox

__all__ = ["Faults", "MailchimpSandbox", "subscriber_hash"]
