"""The SQL CRM: any SQLAlchemy database described table by table, read in streams and written through its history."""
