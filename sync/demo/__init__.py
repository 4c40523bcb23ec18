"""The two-command demo: a generated embedded CRM and a local provider sandbox."""
