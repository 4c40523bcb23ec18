"""The embedded demo CRM: its tables (``schema``) and a deterministic generator (``generate``)."""
