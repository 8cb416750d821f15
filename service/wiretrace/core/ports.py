"""The storage port: the one interface the core uses for what it keeps, owned by the core.

An adapter (``wiretrace.storage.sqlite``, ``wiretrace.storage.redis``) keeps articles,
their LSH bucket keys, match edges and cluster labels, and answers candidate look-ups. Every write goes through
:meth:`Storage.apply`, which must be atomic and durable when it returns: the
service acknowledges an ingest only after that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from wiretrace.core.identity import IndexIdentity
from wiretrace.core.model import Article, ClusterSummary, MatchEdge, Membership, OrderKey, StorageStats

if TYPE_CHECKING:
    from wiretrace.core.analysis import Analysis


# Owners a candidate look-up reads from one bucket, the earliest ingested first: enough to rank
# candidates, and a bucket that thousands of copies of one story share costs what a small one does.
# A sentence shared by many articles is a story's, found through its document buckets.
DOCUMENT_BUCKET_READ = 256
PASSAGE_BUCKET_READ = 32


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An article with what the index keeps of it."""

    article: Article
    document_signature: npt.NDArray[np.uint32]
    document_keys: npt.NDArray[np.uint64]
    # Shape (passages, passage_bands).
    passage_keys: npt.NDArray[np.uint64]
    # Exact-wording fingerprints of the indexed passages (for boilerplate counts, per story and per outlet).
    passage_fingerprints: tuple[int, ...]
    # The lexical features (``wiretrace.core.features.encode_features``), so that a later article
    # is verified against this one without re-reading its text; empty = not stored.
    features: bytes = b""

    @classmethod
    def of(cls, article: Article, analysis: Analysis) -> ArticleRecord:
        return cls(
            article=article,
            document_signature=analysis.document_signature,
            document_keys=analysis.document_keys,
            passage_keys=analysis.passage_keys,
            passage_fingerprints=analysis.passage_fingerprints,
            features=analysis.stored_features,
        )


@dataclass(slots=True)
class ChangeSet:
    """One atomic write, applied in this order: deleted articles (with their buckets, fingerprints
    and edges), removed memberships and clusters, new articles, edges, then memberships and
    cluster summaries written (inserted or replaced)."""

    deletes: list[str] = field(default_factory=list)
    records: list[ArticleRecord] = field(default_factory=list)
    # The best matches of new articles (query side = the new article).
    edges: list[MatchEdge] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    # (cluster_id, article_id)
    removed_memberships: list[tuple[str, str]] = field(default_factory=list)
    clusters: list[ClusterSummary] = field(default_factory=list)
    removed_clusters: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.deletes
            or self.records
            or self.edges
            or self.memberships
            or self.removed_memberships
            or self.clusters
            or self.removed_clusters
        )


@runtime_checkable
class Storage(Protocol):
    """Persistent state of one wiretrace index."""

    @property
    def backend(self) -> str:
        """Short backend name for stats and logs ("sqlite", "redis")."""
        ...

    def describe(self) -> str:
        """Where the store is, for messages."""
        ...

    def exists(self) -> bool:
        """Whether an index is stored there already (callable before :meth:`open`)."""
        ...

    def saved_parameters(self) -> dict[str, Any] | None:
        """The index parameters the store was built with (None for a new store); callable before
        :meth:`open`, without side effects, so a command can take them instead of its defaults."""
        ...

    def open(self, identity: IndexIdentity, parameters: Mapping[str, Any]) -> None:
        """Attach to the store (recording ``parameters`` in a new one); raise IndexMismatch if it
        was built with another identity, StoreBusy if another process owns it."""

    def close(self) -> None: ...

    def lock(self) -> AbstractContextManager[Any]:
        """Held while a write is computed and applied: other writers on the same store wait."""
        ...

    def apply(self, changes: ChangeSet) -> None:
        """Write atomically and durably (deletes also drop the article's buckets and edges)."""

    def get_articles(self, article_ids: Iterable[str]) -> dict[str, Article]: ...

    def list_articles(self, after_seq: int, limit: int) -> list[Article]:
        """Articles with ``seq`` greater than ``after_seq``, in ``seq`` order."""
        ...

    def iter_articles(self, batch_size: int = 1000) -> Iterator[Article]:
        """Every article in ``seq`` order, fetched in batches (for reindexing and export)."""
        ...

    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        """Articles with their signatures and bucket keys."""
        ...

    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        """Ids of articles sharing a document or passage bucket with the keys: the ``limit`` that
        share the most buckets, ties to the earlier ingested (a story with thousands of stored
        copies yields a bounded handful, the earliest first)."""
        ...

    def buckets_hold(
        self, article_id: str, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]
    ) -> bool:
        """Whether any of the buckets of these keys holds the article (for ``check``)."""
        ...

    def fingerprint_counts(self, fingerprints: Iterable[int], cap: int, source: str) -> dict[int, int]:
        """How many stored articles of outlet ``source`` contain each exact-wording fingerprint,
        counted up to ``cap`` (a count of ``cap`` means "at least")."""
        ...

    def story_counts(self, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        """How many distinct stories (:attr:`Article.story_key`) have a stored article containing
        each exact-wording fingerprint, counted up to ``cap`` (a negative cap counts them all).

        Kept per write, not counted from the articles: a story's 5,000th copy costs what its
        second did, and a wire story's own sentences count once however many outlets run it.
        """
        ...

    def story_carriers(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """For each (fingerprint, story key), how many stored articles of that story contain the
        fingerprint (0 for none): what a batch's own copies add to :meth:`story_counts`."""
        ...

    def edges_of(self, article_ids: Iterable[str]) -> list[MatchEdge]:
        """Every stored edge touching any of the articles (each edge once; for batch jobs)."""
        ...

    def matches_of(self, article_id: str) -> list[MatchEdge]:
        """The article's own stored best matches (it is the query side)."""
        ...

    def memberships_of(self, article_ids: Iterable[str]) -> list[Membership]:
        """Every cluster membership of the articles."""
        ...

    def cluster_summaries(self, cluster_ids: Iterable[str]) -> dict[str, ClusterSummary]: ...

    def cluster_page(self, cluster_id: str, after: OrderKey | None, limit: int) -> list[Membership]:
        """Members in lineage order (:attr:`Membership.order`), after ``after``."""
        ...

    def children(self, cluster_id: str, parent_id: str) -> list[Membership]:
        """Members whose parent in the cluster is ``parent_id``."""
        ...

    def list_clusters(self, after_cluster_id: str, limit: int) -> list[ClusterSummary]:
        """Clusters with two or more members, in id order, after the given id."""
        ...

    def stats(self) -> StorageStats: ...
