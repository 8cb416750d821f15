"""Storage adapters (SQLite, Redis) behind the core's port, :class:`wiretrace.core.ports.Storage`."""
