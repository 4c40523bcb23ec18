"""vtiger CRM 8.x over its webservice (``/webservice.php``), optionally reading contacts from its database."""
