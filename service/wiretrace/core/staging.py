"""Staging: the store as a batch of writes sees it, pending changes laid over committed ones.

The engine computes a whole batch against an :class:`Overlay`, so articles of one
batch match each other and join each other's clusters, then writes
:attr:`Overlay.changes` with one ``Storage.apply``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt

from wiretrace.core.features import decode_stored_gist
from wiretrace.core.gist import Gist
from wiretrace.core.gist_index import GistIndex
from wiretrace.core.model import Article, ClusterSummary, MatchEdge, Membership
from wiretrace.core.ports import ArticleRecord, ChangeSet, Storage
from wiretrace.core.semantic import ENCODER_LANGUAGES


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

    def lookup(self, keys: npt.NDArray[np.uint64]) -> Counter[int]:
        """Pending article numbers sharing any of the keys, with how many keys each shares."""
        hits = self._first.keys() & keys.ravel().tolist()
        numbers = Counter(map(self._first.__getitem__, hits))
        # One update for all shared keys: copies in one batch share hundreds of keys.
        numbers.update(chain.from_iterable(map(self._more.__getitem__, hits & self._more.keys())))
        return numbers


class _PendingStories:
    """How a batch changes the stories that carry each passage wording: fingerprint -> story key
    -> carriers added (negative: removed), laid over the store's counts."""

    def __init__(self) -> None:
        self._changes: defaultdict[int, Counter[str]] = defaultdict(Counter)

    def change(self, record: ArticleRecord, carriers: int) -> None:
        story = record.article.story_key
        for fingerprint in set(record.passage_fingerprints):
            self._changes[fingerprint][story] += carriers

    def counts(self, storage: Storage, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        """``storage.story_counts`` as the batch leaves them: a story counts once however many of
        its copies the batch adds, and not again when the store counts it already."""
        wanted = set(fingerprints)
        changed = {
            fingerprint: stories
            for fingerprint in wanted & self._changes.keys()
            if (stories := {story: c for story, c in self._changes[fingerprint].items() if c})
        }
        # Stories the batch may take away: the store is asked beyond the cap by as many.
        removable = {fingerprint: sum(c < 0 for c in stories.values()) for fingerprint, stories in changed.items()}
        asked = cap + max(removable.values(), default=0) if cap >= 0 else cap
        counted = storage.story_counts(wanted, asked)
        # A changed story moves the count only if the store holds none, or the batch removes all,
        # of its carriers; a count that stays at the cap whatever the batch removes needs no look.
        undecided = [
            (fingerprint, story)
            for fingerprint, stories in changed.items()
            if cap < 0 or counted[fingerprint] < cap + removable[fingerprint]
            for story in stories
        ]
        stored = storage.story_carriers(undecided) if undecided else {}
        for fingerprint, story in undecided:
            before = stored.get((fingerprint, story), 0)
            after = before + changed[fingerprint][story]
            counted[fingerprint] += (after > 0) - (before > 0)
        return {fp: min(count, cap) if cap >= 0 else count for fp, count in counted.items()}


class Overlay:
    """Reads of the store with pending (uncommitted) changes laid over them."""

    def __init__(self, storage: Storage, gists: GistIndex | None = None) -> None:
        self.storage = storage
        self._gist_index = gists
        # The batch's own gists: (article id, language, gist).
        self._gists: list[tuple[str, str, Gist]] = []
        self._deletes: list[str] = []
        self._records: dict[str, ArticleRecord] = {}
        self._deleted: set[str] = set()
        # The batch's own bucket entries; owners are numbers into ``_pending_ids``.
        self._pending_ids: list[str] = []
        self._pending_numbers: dict[str, int] = {}
        self._buckets = _PendingBuckets()
        self._stories = _PendingStories()
        # Stored articles the batch deletes whose carriers _stories does not subtract yet.
        self._uncounted_deletes: list[str] = []
        self._source_fingerprints: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._edges: list[MatchEdge] = []
        self._memberships: dict[tuple[str, str], Membership] = {}
        self._removed_memberships: set[tuple[str, str]] = set()
        self._summaries: dict[str, ClusterSummary] = {}
        self._removed_clusters: set[str] = set()

    @property
    def changes(self) -> ChangeSet:
        return ChangeSet(
            deletes=list(self._deletes),
            records=list(self._records.values()),
            edges=list(self._edges),
            memberships=list(self._memberships.values()),
            removed_memberships=sorted(self._removed_memberships - self._memberships.keys()),
            clusters=list(self._summaries.values()),
            removed_clusters=sorted(self._removed_clusters),
        )

    # -- articles and matching -----------------------------------------------------------------------

    def records(self, ids: Iterable[str]) -> dict[str, ArticleRecord]:
        wanted = list(ids)
        found = {i: self._records[i] for i in wanted if i in self._records}
        found.update(self.storage.get_records(i for i in wanted if i not in self._records and i not in self._deleted))
        return found

    def article(self, article_id: str) -> Article | None:
        record = self.records([article_id]).get(article_id)
        return record.article if record else None

    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        """The best candidates of the store and of the batch, ``limit`` at most: batch members that
        share document buckets first (a copy staged in the same batch is never crowded out by
        the store's chance hits), then up to a quarter of the places for batch members sharing
        passage buckets only, then the store's; each group most shared buckets first. (Batch
        members sharing passages come before the store's, so that a caller taking fewer than
        ``limit`` never drops them: the same story in other words, staged in the same batch,
        shares passages only.)"""
        found = [i for i in self.storage.candidates(document_keys, passage_keys, limit) if i not in self._deleted]
        if not self._pending_numbers:
            return found[:limit]
        live = set(self._pending_numbers.values())
        documents = self._buckets.lookup(document_keys)
        passages = self._buckets.lookup(passage_keys)

        def ranked(counts: Counter[int]) -> list[str]:
            return [self._pending_ids[n] for n, _ in sorted(counts.items(), key=lambda c: (-c[1], c[0])) if n in live]

        near = ranked(Counter({n: documents[n] + passages[n] for n in documents}))
        quoted = ranked(Counter({n: c for n, c in passages.items() if n not in documents}))
        reserved = min(len(quoted), limit // 4)
        merged = [*near, *quoted[:reserved], *found[: max(limit - len(near) - reserved, 0)], *quoted[reserved:]]
        return list(dict.fromkeys(merged))[:limit]

    def holds_other_languages(self, language: str) -> bool:
        """Whether the store or the batch holds gists of another language than ``language``."""
        if self._gist_index is not None and self._gist_index.holds_other_languages(language):
            return True
        return any(other != language and other in ENCODER_LANGUAGES for _, other, _ in self._gists)

    def nearest_gists(self, gist: Gist, language: str, limit: int, min_cosine: float) -> list[str]:
        """Articles of other languages whose gists are closest (:class:`GistIndex`), the batch's
        own included, closest first."""
        found = self._gist_index.nearest(gist, language, limit, min_cosine) if self._gist_index else []
        pending = {article_id for article_id, _, _ in self._gists}
        found = [hit for hit in found if hit[0] not in self._deleted and hit[0] not in pending]
        for article_id, other, vector in self._gists:
            cosine = float(vector @ gist)
            known = other in ENCODER_LANGUAGES and self._pending_numbers.get(article_id) is not None
            if other != language and known and cosine >= min_cosine:
                found.append((article_id, cosine))
        found.sort(key=lambda hit: -hit[1])
        return list(dict.fromkeys(article_id for article_id, _ in found))[:limit]

    def fingerprint_counts(self, fingerprints: Iterable[int], cap: int, source: str) -> dict[int, int]:
        counts = self.storage.fingerprint_counts(fingerprints, cap, source)
        pending: Mapping[int, int] = self._source_fingerprints.get(source) or {}
        return {fp: count + pending.get(fp, 0) for fp, count in counts.items()}

    def story_counts(self, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        if self._uncounted_deletes:  # read when a count is first asked: a prune never asks
            for record in self.storage.get_records(self._uncounted_deletes).values():
                self._stories.change(record, -1)
            self._uncounted_deletes = []
        return self._stories.counts(self.storage, fingerprints, cap)

    def matches_of(self, article_id: str) -> list[MatchEdge]:
        if article_id in self._records:
            return [e for e in self._edges if e.query_id == article_id]
        if article_id in self._deleted:
            return []
        return [e for e in self.storage.matches_of(article_id) if e.matched_id not in self._deleted]

    def add(self, record: ArticleRecord, edges: list[MatchEdge]) -> None:
        article_id = record.article.article_id
        self._records[article_id] = record
        self._deleted.discard(article_id)
        number = len(self._pending_ids)
        self._pending_ids.append(article_id)
        self._pending_numbers[article_id] = number
        self._buckets.add(number, record.document_keys)
        self._buckets.add(number, record.passage_keys)
        self._stories.change(record, 1)
        for fingerprint in set(record.passage_fingerprints):
            self._source_fingerprints[record.article.source][fingerprint] += 1
        self._edges.extend(edges)
        gist = decode_stored_gist(record.features) if record.features else None
        if gist is not None:
            self._gists.append((article_id, record.article.language, gist))

    def delete(self, article_id: str) -> None:
        """The article and every edge to it (memberships are the lineage's to remove)."""
        # Pending edges to the article go whether it is pending or stored: an edge staged earlier
        # in the batch to a stored article that is now replaced would otherwise outlive it.
        self._edges = [e for e in self._edges if article_id not in (e.query_id, e.matched_id)]
        pending = self._records.pop(article_id, None)
        if pending is not None:
            del self._pending_numbers[article_id]
            self._stories.change(pending, -1)
            for fingerprint in set(pending.passage_fingerprints):
                self._source_fingerprints[pending.article.source][fingerprint] -= 1
        else:
            self._deletes.append(article_id)
            self._uncounted_deletes.append(article_id)
        self._deleted.add(article_id)

    # -- clusters ------------------------------------------------------------------------------------

    def memberships_of(self, article_id: str) -> list[Membership]:
        stored = [] if article_id in self._records else self.storage.memberships_of([article_id])
        found = {(m.cluster_id, m.article_id): m for m in stored}
        found.update({key: m for key, m in self._memberships.items() if key[1] == article_id})
        return [m for key, m in found.items() if key not in self._removed_memberships or key in self._memberships]

    def summary(self, cluster_id: str) -> ClusterSummary | None:
        if cluster_id in self._summaries:
            return self._summaries[cluster_id]
        if cluster_id in self._removed_clusters:
            return None
        return self.storage.cluster_summaries([cluster_id]).get(cluster_id)

    def children(self, cluster_id: str, parent_id: str) -> list[Membership]:
        found = {m.article_id: m for m in self.storage.children(cluster_id, parent_id)}
        for (cluster, article_id), membership in self._memberships.items():
            if cluster == cluster_id:
                found[article_id] = membership
        return [m for m in found.values() if m.parent_id == parent_id and self._live((cluster_id, m.article_id))]

    def earliest(self, cluster_id: str) -> Membership | None:
        """The cluster's earliest member as the batch leaves it (the root after a delete)."""
        best: Membership | None = None
        after = None
        while True:  # skip members the batch removed; they are few
            page = self.storage.cluster_page(cluster_id, after, 16)
            live = [self._memberships.get((cluster_id, m.article_id), m) for m in page]
            live = [m for m in live if self._live((cluster_id, m.article_id))]
            if live or len(page) < 16:
                best = min(live, key=lambda m: m.order, default=None)
                break
            after = page[-1].order
        for (cluster, _), membership in self._memberships.items():
            if cluster == cluster_id and (best is None or membership.order < best.order):
                best = membership
        return best

    def _live(self, key: tuple[str, str]) -> bool:
        return key in self._memberships or key not in self._removed_memberships

    def put_membership(self, membership: Membership) -> None:
        key = (membership.cluster_id, membership.article_id)
        self._memberships[key] = membership
        self._removed_memberships.discard(key)

    def remove_membership(self, cluster_id: str, article_id: str) -> None:
        key = (cluster_id, article_id)
        self._memberships.pop(key, None)
        self._removed_memberships.add(key)

    def put_summary(self, summary: ClusterSummary) -> None:
        self._summaries[summary.cluster_id] = summary
        self._removed_clusters.discard(summary.cluster_id)

    def remove_cluster(self, cluster_id: str) -> None:
        self._summaries.pop(cluster_id, None)
        self._removed_clusters.add(cluster_id)
