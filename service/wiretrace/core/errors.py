"""Domain errors. Each carries a machine-readable ``reason`` (UPPER_SNAKE_CASE);
the API layer maps the class to a canonical status code in one table."""

from __future__ import annotations


class WiretraceError(Exception):
    """Base of every error the domain raises on purpose."""

    reason = "WIRETRACE_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidArgument(WiretraceError):
    """The request is malformed: bad id, empty text, bad field value or page token."""

    reason = "INVALID_ARGUMENT"


class ArticleTooLarge(WiretraceError):
    """The text is longer than the configured maximum."""

    reason = "ARTICLE_TOO_LARGE"


class ArticleNotFound(WiretraceError):
    reason = "ARTICLE_NOT_FOUND"

    def __init__(self, article_id: str) -> None:
        super().__init__(f"article {article_id!r} does not exist")
        self.article_id = article_id


class ClusterNotFound(WiretraceError):
    reason = "CLUSTER_NOT_FOUND"

    def __init__(self, cluster_id: str) -> None:
        super().__init__(f"cluster {cluster_id!r} does not exist")
        self.cluster_id = cluster_id


class ArticleAlreadyExists(WiretraceError):
    """Same id, different content, and no permission to replace."""

    reason = "ARTICLE_ALREADY_EXISTS"

    def __init__(self, article_id: str) -> None:
        super().__init__(
            f"article {article_id!r} already exists with different content; "
            "set replace_existing (CLI: --replace) to replace and re-index it"
        )
        self.article_id = article_id


class IndexMismatch(WiretraceError):
    """The data directory was built with other feature or LSH parameters."""

    reason = "INDEX_PARAMETERS_CHANGED"


class StorageUnavailable(WiretraceError):
    """The storage backend cannot be reached; the call may be retried."""

    reason = "STORAGE_UNAVAILABLE"


class StoreNotFound(WiretraceError):
    """A command that works on an existing index found none where it was pointed."""

    reason = "STORE_NOT_FOUND"


class StoreBusy(WiretraceError):
    """Another process owns the data directory (a server, or a write command)."""

    reason = "STORE_BUSY"


class InvalidStore(WiretraceError):
    """The store cannot be opened as it is (corrupt, unreadable or read-only files)."""

    reason = "INVALID_STORE"


class StorageFull(WiretraceError):
    """A write failed because the store's disk (file system) is full; nothing of it was stored.

    The same write succeeds once space is freed: the server stays up and answers reads."""

    reason = "STORAGE_FULL"


class StorageReadOnly(WiretraceError):
    """The store's files cannot be written (read-only mount, immutable files, permissions).

    Not transient: the same write fails until an operator makes the data writable again."""

    reason = "STORAGE_READ_ONLY"


class StoreCorrupt(InvalidStore):
    """The store's files are damaged (truncated, overwritten): restore it from a snapshot."""

    reason = "STORE_CORRUPT"


class InvalidNamespace(InvalidArgument):
    """A namespace name that is not lowercase letters, digits and hyphens (at most 63)."""

    reason = "INVALID_NAMESPACE"


class NamespaceDenied(WiretraceError):
    """The caller's token is bound to other namespaces than the one it asked for."""

    reason = "NAMESPACE_DENIED"


class NamespaceNotFound(WiretraceError):
    """A call that only reads named a namespace nothing was ever ingested into (a typo, most often):
    a namespace is created by its first ingest, never by a read."""

    reason = "NAMESPACE_NOT_FOUND"

    def __init__(self, namespace: str) -> None:
        super().__init__(f"namespace {namespace!r} does not exist: a namespace is created by its first ingest")
        self.namespace = namespace


class TooManyNamespaces(WiretraceError):
    """The server already holds as many namespaces open as it was allowed (``--max-namespaces``)."""

    reason = "TOO_MANY_NAMESPACES"
