"""Storage adapters behind the core's port (:class:`wiretrace.core.ports.Storage`): SQLite (the
embedded default), Redis (shared by replicas), memory (tests and short-lived library use)."""
