"""The pull journey: the exactly-once importer, engagement folded into CRM history, and where each event belongs."""
