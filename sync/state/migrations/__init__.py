"""Alembic environment and revisions of the state store's schema (run through ``sync.state.migrate``)."""
