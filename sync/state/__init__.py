"""The state store: runs, per-member state, cursors, the event ledger and run locks (see ``store``)."""
