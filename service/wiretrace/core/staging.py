"""Staging: the store as a batch of writes sees it, pending changes laid over committed ones.

The engine computes a whole batch against an :class:`Overlay`, so articles of one
batch match each other, then writes ``Overlay.changes`` with one ``Storage.apply``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import repeat

import numpy as np
import numpy.typing as npt

from wiretrace.core.model import Article, MatchEdge
from wiretrace.core.ports import ArticleRecord, ChangeSet, Storage


class _PendingBuckets:
    """The bucket entries of a batch being staged: bucket key -> pending article numbers.

    Dict and set operations that run in C over a whole article's keys: a batch holds a
    few hundred articles, too few for sorted arrays to pay for re-sorting after each one.
    """

    def __init__(self) -> None:
        self._first: dict[int, int] = {}
        # Later owners of a key, for the rare keys that several pending articles share.
        self._more: dict[int, list[int]] = {}

    def add(self, number: int, keys: npt.NDArray[np.uint64]) -> None:
        new = keys.ravel().tolist()
        taken = self._first.keys() & new
        if taken:
            for key in taken:
                self._more.setdefault(key, []).append(number)
            new = [key for key in new if key not in taken]
        self._first.update(zip(new, repeat(number)))

    def lookup(self, keys: npt.NDArray[np.uint64]) -> set[int]:
        hits = self._first.keys() & keys.ravel().tolist()
        numbers = {self._first[key] for key in hits}
        for key in hits & self._more.keys():
            numbers.update(self._more[key])
        return numbers


class Overlay:
    """Reads of the store with pending (uncommitted) changes laid over them."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.changes = ChangeSet()
        self._records: dict[str, ArticleRecord] = {}
        self._deleted: set[str] = set()
        self._labels: dict[str, str] = {}
        # The batch's own bucket entries; owners are numbers into ``_pending_ids``.
        self._pending_ids: list[str] = []
        self._pending_numbers: dict[str, int] = {}
        self._buckets = _PendingBuckets()
        self._fingerprints: defaultdict[int, int] = defaultdict(int)
        self._source_fingerprints: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._edges: list[MatchEdge] = []

    def _stored_ids(self, ids: Iterable[str]) -> list[str]:
        return [i for i in ids if i not in self._records and i not in self._deleted]

    def records(self, ids: Iterable[str]) -> dict[str, ArticleRecord]:
        wanted = list(ids)
        found = {i: self._records[i] for i in wanted if i in self._records}
        found.update(self.storage.get_records(self._stored_ids(wanted)))
        return {i: self._relabelled(r) for i, r in found.items()}

    def _relabelled(self, record: ArticleRecord) -> ArticleRecord:
        label = self._labels.get(record.article.article_id)
        if label is None or label == record.article.cluster_id:
            return record
        return replace(record, article=replace(record.article, cluster_id=label))

    def article(self, article_id: str) -> Article | None:
        record = self.records([article_id]).get(article_id)
        return record.article if record else None

    def candidates(self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]) -> set[str]:
        found = self.storage.candidates(document_keys, passage_keys) - self._deleted
        if self._pending_numbers:
            numbers = self._buckets.lookup(document_keys) | self._buckets.lookup(passage_keys)
            live = set(self._pending_numbers.values())
            found.update(self._pending_ids[n] for n in numbers if n in live)
        return found - self._deleted

    def fingerprint_counts(self, fingerprints: Iterable[int], source: str | None = None) -> dict[int, int]:
        counts = self.storage.fingerprint_counts(fingerprints, source)
        pending: Mapping[int, int] = (
            self._fingerprints if source is None else self._source_fingerprints.get(source) or {}
        )
        return {fp: count + pending.get(fp, 0) for fp, count in counts.items()}

    def edges_of(self, ids: Iterable[str]) -> list[MatchEdge]:
        wanted = set(ids)
        edges = [e for e in self.storage.edges_of(wanted) if not {e.query_id, e.matched_id} & self._deleted]
        edges += [e for e in self._edges if e.query_id in wanted or e.matched_id in wanted]
        return edges

    def cluster_members(self, cluster_id: str) -> set[str]:
        members = {i for i in self.storage.cluster_members(cluster_id) if i not in self._deleted}
        members |= {i for i, r in self._records.items() if r.article.cluster_id == cluster_id}
        members -= {i for i, label in self._labels.items() if label != cluster_id}
        members |= {i for i, label in self._labels.items() if label == cluster_id and i not in self._deleted}
        return members

    def add(self, record: ArticleRecord, edges: list[MatchEdge]) -> None:
        article_id = record.article.article_id
        self._records[article_id] = record
        self._deleted.discard(article_id)
        number = len(self._pending_ids)
        self._pending_ids.append(article_id)
        self._pending_numbers[article_id] = number
        self._buckets.add(number, record.document_keys)
        self._buckets.add(number, record.passage_keys)
        for fingerprint in set(record.passage_fingerprints):
            self._fingerprints[fingerprint] += 1
            self._source_fingerprints[record.article.source][fingerprint] += 1
        self._edges.extend(edges)
        self.changes.records.append(record)
        self.changes.edges.extend(edges)

    def label(self, article_ids: Iterable[str], cluster_id: str) -> None:
        for article_id in article_ids:
            self._labels[article_id] = cluster_id
            self.changes.cluster_labels[article_id] = cluster_id

    def delete(self, article_id: str) -> None:
        # Pending edges to the article go whether it is pending or stored: an edge staged earlier
        # in the batch to a stored article that is now replaced would otherwise outlive it.
        self.changes.edges = [e for e in self.changes.edges if article_id not in (e.query_id, e.matched_id)]
        self._edges = [e for e in self._edges if article_id not in (e.query_id, e.matched_id)]
        pending = self._records.pop(article_id, None)
        if pending is not None:
            del self._pending_numbers[article_id]
            self.changes.records.remove(pending)
            for fingerprint in set(pending.passage_fingerprints):
                self._fingerprints[fingerprint] -= 1
                self._source_fingerprints[pending.article.source][fingerprint] -= 1
        else:
            self.changes.deletes.append(article_id)
        self._deleted.add(article_id)
        self._labels.pop(article_id, None)
        self.changes.cluster_labels.pop(article_id, None)
