"""A stateful fake vtiger CRM 8.2.0 webservice for tests and the demo."""

from sync.sandbox.vtiger.server import VtigerSandbox

__all__ = ["VtigerSandbox"]
