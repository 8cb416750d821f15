"""Storage in this process's memory: nothing durable, for tests and short-lived library use.

It keeps the port's contract exactly (the contract suite runs it beside SQLite and Redis), so
engine tests can run without files, and a library user can match a batch of texts without a
server. Everything is lost with the process.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from wiretrace.core.errors import IndexMismatch
from wiretrace.core.identity import IndexIdentity
from wiretrace.core.model import Article, ClusterSummary, MatchEdge, Membership, OrderKey, StorageStats
from wiretrace.core.ports import DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ, ArticleRecord, ChangeSet
from wiretrace.storage.buckets import CompactBuckets, ranked_owners


class MemoryStorage:
    backend = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._identity: IndexIdentity | None = None
        self._parameters: dict[str, Any] | None = None
        self._records: dict[str, ArticleRecord] = {}
        self._seq = 0
        self._ids: dict[int, str] = {}
        self._documents = CompactBuckets()
        self._passages = CompactBuckets()
        self._fingerprints: defaultdict[int, dict[str, str]] = defaultdict(dict)  # fp -> id -> source
        self._stories: defaultdict[int, Counter[str]] = defaultdict(Counter)  # fp -> story -> carriers
        self._edges: dict[tuple[str, str], MatchEdge] = {}
        self._memberships: dict[tuple[str, str], Membership] = {}
        self._clusters: dict[str, ClusterSummary] = {}

    def describe(self) -> str:
        return "memory"

    def exists(self) -> bool:
        return self._identity is not None

    def saved_parameters(self) -> dict[str, Any] | None:
        return dict(self._parameters) if self._parameters is not None else None

    def open(self, identity: IndexIdentity, parameters: Mapping[str, Any]) -> None:
        if self._identity is not None and self._identity != identity:
            raise IndexMismatch(f"this memory store was indexed with {self._identity.describe()}")
        self._identity = identity
        if self._parameters is None:
            self._parameters = dict(parameters)

    def close(self) -> None:
        pass

    def lock(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def apply(self, changes: ChangeSet) -> None:
        with self._lock:
            for article_id in changes.deletes:
                self._delete(article_id)
            for key in changes.removed_memberships:
                self._memberships.pop(key, None)
            for cluster_id in changes.removed_clusters:
                self._clusters.pop(cluster_id, None)
            for record in changes.records:
                self._seq += 1
                article = replace(record.article, seq=self._seq)
                self._records[article.article_id] = replace(record, article=article)
                self._ids[self._seq] = article.article_id
                self._documents.add(self._seq, record.document_keys)
                self._passages.add(self._seq, record.passage_keys)
                for fingerprint in set(record.passage_fingerprints):
                    self._fingerprints[fingerprint][article.article_id] = article.source
                    self._stories[fingerprint][article.story_key] += 1
            for edge in changes.edges:
                self._edges[(edge.query_id, edge.matched_id)] = edge
            for membership in changes.memberships:
                self._memberships[(membership.cluster_id, membership.article_id)] = membership
            for summary in changes.clusters:
                self._clusters[summary.cluster_id] = summary

    def _delete(self, article_id: str) -> None:
        record = self._records.pop(article_id, None)
        if record is None:
            return
        seq = record.article.seq
        self._ids.pop(seq, None)
        self._documents.remove(seq)
        self._passages.remove(seq)
        story = record.article.story_key
        for fingerprint in set(record.passage_fingerprints):
            self._fingerprints[fingerprint].pop(article_id, None)
            carriers = self._stories[fingerprint]
            carriers[story] -= 1
            if carriers[story] <= 0:
                del carriers[story]
            if not carriers:
                del self._stories[fingerprint]
        for key in [k for k in self._edges if article_id in k]:
            del self._edges[key]

    def get_articles(self, article_ids: Iterable[str]) -> dict[str, Article]:
        with self._lock:
            return {i: self._records[i].article for i in article_ids if i in self._records}

    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        with self._lock:
            return {i: self._records[i] for i in article_ids if i in self._records}

    def list_articles(self, after_seq: int, limit: int) -> list[Article]:
        with self._lock:
            seqs = sorted(seq for seq in self._ids if seq > after_seq)[:limit]
            return [self._records[self._ids[seq]].article for seq in seqs]

    def iter_articles(self, batch_size: int = 1000) -> Iterator[Article]:
        after = 0
        while batch := self.list_articles(after, batch_size):
            yield from batch
            after = batch[-1].seq

    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        with self._lock:
            reads = (DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ)
            seqs = ranked_owners(self._documents, self._passages, document_keys, passage_keys, limit, reads)
            return [self._ids[seq] for seq in seqs]

    def buckets_hold(
        self, article_id: str, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]
    ) -> bool:
        with self._lock:
            record = self._records.get(article_id)
            if record is None:
                return False
            seq = record.article.seq
            return bool(
                np.isin(seq, self._documents.hits(document_keys)[0])
                or np.isin(seq, self._passages.hits(passage_keys)[0])
            )

    def fingerprint_counts(self, fingerprints: Iterable[int], cap: int, source: str) -> dict[int, int]:
        with self._lock:
            counts = {}
            for fingerprint in set(fingerprints):
                holders = self._fingerprints.get(fingerprint, {})
                count = sum(1 for s in holders.values() if s == source)
                counts[fingerprint] = min(count, cap) if cap >= 0 else count
            return counts

    def story_counts(self, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        with self._lock:
            counts = {fp: len(self._stories.get(fp, ())) for fp in set(fingerprints)}
            return {fp: min(count, cap) if cap >= 0 else count for fp, count in counts.items()}

    def story_carriers(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        with self._lock:
            return {(fp, story): self._stories[fp][story] if fp in self._stories else 0 for fp, story in pairs}

    def edges_of(self, article_ids: Iterable[str]) -> list[MatchEdge]:
        wanted = set(article_ids)
        with self._lock:
            return [e for (q, m), e in self._edges.items() if q in wanted or m in wanted]

    def matches_of(self, article_id: str) -> list[MatchEdge]:
        with self._lock:
            return [e for (q, _), e in self._edges.items() if q == article_id]

    def memberships_of(self, article_ids: Iterable[str]) -> list[Membership]:
        wanted = set(article_ids)
        with self._lock:
            return [m for (_, a), m in self._memberships.items() if a in wanted]

    def cluster_summaries(self, cluster_ids: Iterable[str]) -> dict[str, ClusterSummary]:
        with self._lock:
            return {c: self._clusters[c] for c in cluster_ids if c in self._clusters}

    def cluster_page(self, cluster_id: str, after: OrderKey | None, limit: int) -> list[Membership]:
        with self._lock:
            members = sorted(
                (
                    m
                    for (c, _), m in self._memberships.items()
                    if c == cluster_id and (after is None or m.order > after)
                ),
                key=lambda m: m.order,
            )
            return members[:limit]

    def children(self, cluster_id: str, parent_id: str) -> list[Membership]:
        with self._lock:
            return [m for (c, _), m in self._memberships.items() if c == cluster_id and m.parent_id == parent_id]

    def list_clusters(self, after_cluster_id: str, limit: int) -> list[ClusterSummary]:
        with self._lock:
            shared = sorted(c for c, s in self._clusters.items() if s.member_count > 1 and c > after_cluster_id)
            return [self._clusters[c] for c in shared[:limit]]

    def stats(self) -> StorageStats:
        with self._lock:
            passages = sum(int(r.passage_keys.shape[0]) for r in self._records.values())
            clusters = sum(1 for s in self._clusters.values() if s.member_count > 1)
            arrays = sum(
                r.document_signature.nbytes + r.document_keys.nbytes + r.passage_keys.nbytes
                for r in self._records.values()
            )
            return StorageStats(len(self._records), clusters, passages, len(self._edges), arrays)
