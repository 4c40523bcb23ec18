"""The push journey: rules per contact, households, the plan stream, incremental scope, the executor, its summary."""
