"""Storage port and its adapters; the core talks only to :class:`Storage`."""

from wiretrace.storage.base import ArticleRecord, ChangeSet, IndexIdentity, Storage

__all__ = ["ArticleRecord", "ChangeSet", "IndexIdentity", "Storage"]
