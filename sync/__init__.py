"""crm-sync: keeps a CRM and an email-marketing provider in step."""

__version__ = "0.1.0"
