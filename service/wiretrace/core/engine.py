"""The use cases: ingest, find matches, lineage, delete, list, stats.

:class:`Wiretrace` is what the gRPC servicer, the CLI's batch jobs and library
users call. Writes are serialised by one lock and computed against a
:class:`_Overlay` (the store plus the batch's pending changes), so articles of
one batch see each other; the whole batch is then one atomic ``Storage.apply``
and nothing is acknowledged before it returns.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import secrets
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat
from typing import cast

import numpy as np
import numpy.typing as npt

from wiretrace.core import semantic
from wiretrace.core.errors import (
    ArticleAlreadyExists,
    ArticleNotFound,
    ClusterNotFound,
    InvalidArgument,
    WiretraceError,
)
from wiretrace.core.features import (
    SentenceSets,
    TextFeatures,
    decode_features,
    decode_sentence_sets,
    encode_features,
    extract,
)
from wiretrace.core.lineage import build_cluster, components
from wiretrace.core.lsh import bucket_keys
from wiretrace.core.matching import may_align, verify
from wiretrace.core.model import (
    Article,
    ArticleDraft,
    Cluster,
    IngestOutcome,
    IngestResult,
    Match,
    MatchEdge,
    Page,
    Stats,
)
from wiretrace.core.settings import IndexSettings
from wiretrace.core.signatures import MinHasher, Signature
from wiretrace.core.validation import validate_article_id, validate_draft, validate_text
from wiretrace.storage.base import ArticleRecord, ChangeSet, IndexIdentity, Storage

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_MATCHES = 1000
DEFAULT_MATCHES = 20


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text's features, signatures and bucket keys."""

    features: TextFeatures
    document_signature: Signature
    document_keys: npt.NDArray[np.uint64]
    passage_keys: npt.NDArray[np.uint64]
    # ``features`` as stored (:func:`encode_features`).
    stored_features: bytes

    def __reduce__(self) -> tuple[Callable[..., Analysis], tuple[object, ...]]:
        # Analyses come back from worker processes: the stored form pickles several times
        # faster than the feature objects, and is needed anyway.
        embeddings = self.features.embeddings
        fields = (self.stored_features, embeddings, self.document_signature, self.document_keys, self.passage_keys)
        return _restore_analysis, fields


def _restore_analysis(
    stored_features: bytes,
    embeddings: npt.NDArray[np.float32] | None,
    document_signature: Signature,
    document_keys: npt.NDArray[np.uint64],
    passage_keys: npt.NDArray[np.uint64],
) -> Analysis:
    features = replace(decode_features(stored_features), embeddings=embeddings)
    return Analysis(features, document_signature, document_keys, passage_keys, stored_features)


@dataclass(frozen=True, slots=True)
class IngestRequest:
    draft: ArticleDraft
    replace_existing: bool = False
    # Precomputed by ``Wiretrace.analyse`` (e.g. in a worker process) under the same settings.
    analysis: Analysis | None = None


@lru_cache(maxsize=8)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


def text_features(text: str, settings: IndexSettings, stored: bytes = b"") -> TextFeatures:
    """What matching compares: lexical features (``stored`` ones when given), plus sentence
    embeddings when the semantic layer is on."""
    features = decode_features(stored) if stored else extract(text, settings.features)
    if settings.semantic:
        sentences = [text[p.span.start : p.span.end] for p in features.passages]
        features = replace(features, embeddings=semantic.default_encoder().encode(sentences))
    return features


def analyse_text(text: str, settings: IndexSettings) -> Analysis:
    """Features, signatures and bucket keys of a text under ``settings`` (no storage needed).

    Each passage's bucket keys are its content-word bands, then (semantic layer) the
    bands of its embedding's top-dimension set, in a separate key family.
    """
    features = text_features(text, settings)
    hasher = _hasher(settings.num_perm, settings.seed)
    document_signature = hasher.signature(features.shingles)
    passage_lsh = settings.passage_lsh
    bands = passage_lsh.bands + (settings.semantic_lsh.bands if settings.semantic else 0)
    passage_keys = np.empty((0, bands), dtype=np.uint64)
    if features.passages:
        passage_hasher = _hasher(settings.passage_perms, settings.seed)
        passage_keys = bucket_keys(passage_hasher.signatures([p.features for p in features.passages]), passage_lsh)
        if features.embeddings is not None:
            meaning = semantic.top_dimension_sets(features.embeddings, settings.semantic_top_dims)
            # The meaning sets' low threshold needs many bands: all num_perm permutations.
            meaning_keys = bucket_keys(hasher.signatures(meaning), settings.semantic_lsh, family=1)
            passage_keys = np.hstack([passage_keys, meaning_keys])
    return Analysis(
        features=features,
        document_signature=document_signature,
        document_keys=bucket_keys(document_signature, settings.document_lsh)[0],
        passage_keys=passage_keys,
        stored_features=encode_features(features),
    )


def _best_cosine(query: TextFeatures, candidates: Iterable[TextFeatures]) -> npt.NDArray[np.float32] | None:
    """Per query sentence, its highest cosine with any candidate's sentence (semantic layer only)."""
    if query.embeddings is None or not query.passages:
        return None
    others = [c.embeddings for c in candidates if c.embeddings is not None and c.embeddings.size]
    if not others:
        return None
    best: npt.NDArray[np.float32] = (query.embeddings @ np.vstack(others).T).max(axis=1)
    return best


_worker_settings: IndexSettings | None = None


def _init_worker(settings: IndexSettings) -> None:
    global _worker_settings
    _worker_settings = settings
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A worker holds both ends of its task queue, so it would wait on it forever once the
        # server is killed (kill -9 runs no shutdown): leave with the parent instead.
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="exit-with-parent", daemon=True).start()


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(0)


def _analyse_all(texts: list[str]) -> list[Analysis]:
    """Runs in an analysis worker process."""
    assert _worker_settings is not None
    return [analyse_text(text, _worker_settings) for text in texts]


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_cluster_id() -> str:
    return secrets.token_hex(8)


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


class _Overlay:
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
        pending = self._records.pop(article_id, None)
        if pending is not None:
            del self._pending_numbers[article_id]
            self.changes.records.remove(pending)
            self.changes.edges = [e for e in self.changes.edges if article_id not in (e.query_id, e.matched_id)]
            self._edges = [e for e in self._edges if article_id not in (e.query_id, e.matched_id)]
            for fingerprint in set(pending.passage_fingerprints):
                self._fingerprints[fingerprint] -= 1
                self._source_fingerprints[pending.article.source][fingerprint] -= 1
        else:
            self.changes.deletes.append(article_id)
        self._deleted.add(article_id)
        self._labels.pop(article_id, None)
        self.changes.cluster_labels.pop(article_id, None)


class Wiretrace:
    """A wiretrace index over one storage backend.

    Example:
        >>> from wiretrace.storage.sqlite import SqliteStorage
        >>> index = Wiretrace(SqliteStorage("/tmp/wiretrace-example"))  # doctest: +SKIP
        >>> index.ingest(ArticleDraft("a1", "Some text ..."))  # doctest: +SKIP
    """

    def __init__(
        self,
        storage: Storage,
        settings: IndexSettings | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        feature_cache_size: int = 4096,
        analysis_workers: int = 0,
    ) -> None:
        """``analysis_workers`` > 0 analyses ingested texts in that many worker processes
        (see :meth:`prepare`), so a busy ingest uses more than one core. The workers are
        spawned, so a script using them needs the ``if __name__ == "__main__":`` guard."""
        self.storage = storage
        self.settings = settings or IndexSettings()
        self._clock = clock
        self._document_lsh = self.settings.document_lsh
        self._passage_lsh = self.settings.passage_lsh
        self._write_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], TextFeatures] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = feature_cache_size
        if self.settings.semantic:
            semantic.check_available()
        storage.open(self.identity)
        self._analysis_workers = analysis_workers
        self._pool = (
            # Spawned, not forked: the process may already run gRPC's threads, which fork does not copy.
            ProcessPoolExecutor(
                analysis_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.settings,),
            )
            if analysis_workers > 0
            else None
        )

    @property
    def identity(self) -> IndexIdentity:
        s = self.settings
        return IndexIdentity(
            feature_version=s.feature_version,
            num_perm=s.num_perm,
            seed=s.seed,
            shingle_size=s.shingle_size,
            document_bands=self._document_lsh.bands,
            document_rows=self._document_lsh.rows,
            passage_bands=self._passage_lsh.bands,
            passage_rows=self._passage_lsh.rows,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self.storage.close()

    # -- analysis --------------------------------------------------------------------------------------

    def analyse(self, text: str) -> Analysis:
        return analyse_text(text, self.settings)

    def _cached(self, record: ArticleRecord) -> TextFeatures | None:
        key = (record.article.article_id, record.article.content_sha256)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
            return cached

    def _features_of(self, record: ArticleRecord) -> TextFeatures:
        cached = self._cached(record)
        if cached is not None:
            return cached
        article = record.article
        features = text_features(article.text, self.settings, record.features)
        self._remember((article.article_id, article.content_sha256), features)
        return features

    def _sentence_sets(self, record: ArticleRecord) -> SentenceSets:
        cached = self._cached(record)
        if cached is not None:
            return cached.sentence_sets()
        if record.features:
            return decode_sentence_sets(record.features)
        return self._features_of(record).sentence_sets()

    def _plausible(self, analysis: Analysis, records: dict[str, ArticleRecord]) -> dict[str, ArticleRecord]:
        """The candidates verification could accept in lexical mode: with a sentence that aligns
        by shared words (:func:`may_align`), or a near-duplicate by their document signatures.

        Near-duplicates need an exact shingle Jaccard of ``near_duplicate_jaccard``; half of it as
        the MinHash estimate's floor misses one with odds of about 1e-8 at 128 permutations.
        """
        ids = sorted(records)
        aligned = may_align(analysis.features, [self._sentence_sets(records[i]) for i in ids], self.settings)
        signatures = np.vstack([records[i].document_signature for i in ids])
        estimated = (signatures == analysis.document_signature).mean(axis=1)
        near = estimated >= self.settings.near_duplicate_jaccard / 2
        return {i: records[i] for i, keep in zip(ids, (aligned | near).tolist(), strict=True) if keep}

    def _remember(self, key: tuple[str, str], features: TextFeatures) -> None:
        with self._cache_lock:
            self._cache[key] = features
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _match(self, view: _Overlay, analysis: Analysis, exclude: set[str], source: str = "") -> list[Match]:
        candidate_ids = view.candidates(analysis.document_keys, analysis.passage_keys) - exclude
        if not candidate_ids:
            return []
        records = view.records(candidate_ids)
        if not self.settings.semantic:
            # Sentences can also align by meaning in the semantic layer; there every candidate is verified.
            records = self._plausible(analysis, records)
            if not records:
                return []
        candidates = {i: self._features_of(r) for i, r in records.items()}
        # Boilerplate is wording that recurs verbatim, so the query's own sentences tell it: in
        # many articles anywhere, or in several of the same outlet's (site furniture, bios).
        own = {p.fingerprint for p in analysis.features.passages}
        limit = self.settings.boilerplate_max_articles
        boilerplate = {fp for fp, count in view.fingerprint_counts(own).items() if count >= limit}
        if source:
            outlet_limit = self.settings.outlet_boilerplate_articles
            boilerplate |= {fp for fp, count in view.fingerprint_counts(own, source).items() if count >= outlet_limit}
        best_cosine = _best_cosine(analysis.features, candidates.values())
        matches = []
        for article_id, features in candidates.items():
            match = verify(
                article_id,
                analysis.features,
                analysis.document_signature,
                features,
                records[article_id].document_signature,
                self.settings,
                boilerplate,
                best_cosine,
            )
            if match is not None:
                matches.append(match)
        matches.sort(key=lambda m: (-m.score, m.article_id))
        return matches

    # -- writes ----------------------------------------------------------------------------------------

    def ingest(self, draft: ArticleDraft, *, replace_existing: bool = False) -> IngestResult:
        """Store one article (durably) and return what it matched and its cluster."""
        result = self.ingest_batch([IngestRequest(draft, replace_existing)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def ingest_batch(self, requests: Sequence[IngestRequest]) -> list[IngestResult | Exception]:
        """Ingest many articles with one durable commit; a rejected one does not stop the others.

        Each entry of the result is the article's result or the domain error that rejected it.
        Storage failures are raised: then nothing of the batch was stored.
        """
        prepared = self.prepare(requests).result()
        with self._write_lock, self.storage.lock():
            view = _Overlay(self.storage)
            staged: list[tuple[str, IngestOutcome, tuple[Match, ...]] | Exception] = []
            for item in prepared:
                if isinstance(item, WiretraceError):
                    staged.append(item)
                    continue
                try:
                    staged.append(self._stage(view, item))
                except WiretraceError as error:
                    staged.append(error)
            self.storage.apply(view.changes)
            # Still under the lock: another writer could otherwise merge the cluster away first.
            return self._results(staged)

    def prepare(self, requests: Sequence[IngestRequest]) -> Future[list[IngestRequest | WiretraceError]]:
        """Validate and analyse requests for :meth:`ingest_batch`: the work that needs no lock.

        With analysis workers this runs in other processes and the future completes later, so
        a caller can prepare the next batch while the current one is being stored; without
        them it is done here and the future is already complete.
        """
        outcome: list[IngestRequest | WiretraceError] = []
        waiting: list[int] = []
        for request in requests:
            try:
                validate_draft(request.draft, self.settings.max_text_chars)
            except WiretraceError as error:
                outcome.append(error)
                continue
            if request.analysis is None:
                if self._pool is None:
                    request = replace(request, analysis=self.analyse(request.draft.text))
                else:
                    waiting.append(len(outcome))
            outcome.append(request)
        done: Future[list[IngestRequest | WiretraceError]] = Future()
        if not waiting:
            done.set_result(outcome)
            return done
        assert self._pool is not None
        texts = [cast(IngestRequest, outcome[i]).draft.text for i in waiting]
        size = -(-len(texts) // self._analysis_workers)  # one share of the batch per worker
        parts = [self._pool.submit(_analyse_all, texts[i : i + size]) for i in range(0, len(texts), size)]
        remaining = [len(parts)]
        lock = threading.Lock()

        def attach(_: Future[list[Analysis]]) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            try:
                analyses = [analysis for part in parts for analysis in part.result()]
                for position, analysis in zip(waiting, analyses, strict=True):
                    outcome[position] = replace(cast(IngestRequest, outcome[position]), analysis=analysis)
            except BaseException as error:  # a worker died: the batch fails, nothing was stored
                done.set_exception(error)
                return
            done.set_result(outcome)

        for part in parts:
            part.add_done_callback(attach)
        return done

    def _stage(self, view: _Overlay, request: IngestRequest) -> tuple[str, IngestOutcome, tuple[Match, ...]]:
        draft = request.draft
        sha = content_sha256(draft.text)
        existing = view.article(draft.article_id)
        outcome = IngestOutcome.CREATED
        if existing is not None:
            if existing.same_content(draft, sha):
                edges = view.edges_of([draft.article_id])
                matches = sorted(
                    (e.evidence_from(draft.article_id) for e in edges),
                    key=lambda m: (-m.score, m.article_id),
                )
                return draft.article_id, IngestOutcome.UNCHANGED, tuple(matches)
            if not request.replace_existing:
                raise ArticleAlreadyExists(draft.article_id)
            self._delete_in(view, draft.article_id)
            outcome = IngestOutcome.REPLACED
        analysis = request.analysis or self.analyse(draft.text)
        matches = self._match(view, analysis, exclude={draft.article_id}, source=draft.source)
        cluster_id = self._merge_clusters(view, [m.article_id for m in matches])
        article = Article(
            article_id=draft.article_id,
            text=draft.text,
            title=draft.title,
            source=draft.source,
            url=draft.url,
            publish_time=draft.publish_time,
            language=draft.language,
            create_time=self._clock(),
            content_sha256=sha,
            cluster_id=cluster_id,
            seq=0,
        )
        record = ArticleRecord(
            article=article,
            document_signature=analysis.document_signature,
            document_keys=analysis.document_keys,
            passage_keys=analysis.passage_keys,
            passage_fingerprints=tuple(p.fingerprint for p in analysis.features.passages),
            features=analysis.stored_features,
        )
        view.add(record, [MatchEdge(draft.article_id, m.article_id, m) for m in matches])
        # Later articles are verified against this one: keep its features rather than re-extract them.
        self._remember((draft.article_id, sha), analysis.features)
        return draft.article_id, outcome, tuple(matches)

    def _merge_clusters(self, view: _Overlay, neighbour_ids: list[str]) -> str:
        """The cluster a new article joins: its neighbours' clusters merged into the largest."""
        if not neighbour_ids:
            return new_cluster_id()
        labels = {r.article.cluster_id for r in view.records(neighbour_ids).values()}
        members = {label: view.cluster_members(label) for label in labels}
        target = max(labels, key=lambda label: (len(members[label]), label))
        for label in labels - {target}:
            view.label(members[label], target)
        return target

    def delete(self, article_id: str) -> None:
        """Remove an article, its index entries and edges; split its cluster if it held it together."""
        validate_article_id(article_id)
        with self._write_lock, self.storage.lock():
            view = _Overlay(self.storage)
            self._delete_in(view, article_id)
            self.storage.apply(view.changes)

    def _delete_in(self, view: _Overlay, article_id: str) -> None:
        article = view.article(article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        remaining = view.cluster_members(article.cluster_id) - {article_id}
        view.delete(article_id)
        if not remaining:
            return
        parts = sorted(components(remaining, view.edges_of(remaining)), key=len, reverse=True)
        for part in parts[1:]:
            view.label(part, new_cluster_id())

    def _results(
        self, staged: list[tuple[str, IngestOutcome, tuple[Match, ...]] | Exception]
    ) -> list[IngestResult | Exception]:
        """Results read back from the store: one read for all articles, each cluster built once."""
        articles = self.storage.get_articles(item[0] for item in staged if not isinstance(item, Exception))
        clusters: dict[str, Cluster] = {}
        results: list[IngestResult | Exception] = []
        for item in staged:
            if isinstance(item, Exception):
                results.append(item)
                continue
            article_id, outcome, matches = item
            article = articles[article_id]
            if article.cluster_id not in clusters:
                clusters[article.cluster_id] = self.cluster(article.cluster_id)
            results.append(IngestResult(article, outcome, matches, clusters[article.cluster_id]))
        return results

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, article_id: str) -> Article:
        validate_article_id(article_id)
        article = self.storage.get_articles([article_id]).get(article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        return article

    def list_articles(self, page_size: int = 0, page_token: str = "") -> Page[Article]:
        limit = _page_size(page_size)
        after = int(_decode_token(page_token, "a") or 0)
        articles = self.storage.list_articles(after, limit + 1)
        more = len(articles) > limit
        articles = articles[:limit]
        token = _encode_token("a", str(articles[-1].seq)) if more else ""
        return Page(articles, token, self.storage.stats().articles)

    def find_matches(
        self, *, article_id: str | None = None, text: str | None = None, max_matches: int = 0
    ) -> list[Match]:
        """Verified matches, best first, for a stored article (against all others) or for raw text."""
        limit = min(max_matches or DEFAULT_MATCHES, MAX_MATCHES)
        if max_matches < 0:
            raise InvalidArgument("max_matches must not be negative")
        if (article_id is None) == (text is None):
            raise InvalidArgument("give exactly one of article or text")
        exclude: set[str] = set()
        source = ""
        if article_id is not None:
            stored = self.get(article_id)
            query_text, source = stored.text, stored.source
            exclude.add(article_id)
        else:
            assert text is not None
            validate_text(text, self.settings.max_text_chars)
            query_text = text
        return self._match(_Overlay(self.storage), self.analyse(query_text), exclude, source)[:limit]

    def cluster(self, cluster_id: str) -> Cluster:
        member_ids = self.storage.cluster_members(cluster_id)
        if not member_ids:
            raise ClusterNotFound(cluster_id)
        members = self.storage.get_articles(member_ids)
        return build_cluster(cluster_id, members.values(), self.storage.edges_of(member_ids))

    def cluster_of(self, article_id: str) -> Cluster:
        return self.cluster(self.get(article_id).cluster_id)

    def list_clusters(self, page_size: int = 0, page_token: str = "") -> Page[Cluster]:
        limit = _page_size(page_size)
        after = _decode_token(page_token, "c") or ""
        cluster_ids = self.storage.list_clusters(after, limit + 1)
        more = len(cluster_ids) > limit
        cluster_ids = cluster_ids[:limit]
        token = _encode_token("c", cluster_ids[-1]) if more else ""
        return Page([self.cluster(c) for c in cluster_ids], token, 0)

    def stats(self) -> Stats:
        s = self.settings
        return Stats(
            storage=self.storage.backend,
            counts=self.storage.stats(),
            parameters={
                "num_perm": s.num_perm,
                "seed": s.seed,
                "shingle_size": s.shingle_size,
                "document_threshold": s.document_threshold,
                "passage_threshold": s.passage_threshold,
                "document_bands": self._document_lsh.bands,
                "document_rows": self._document_lsh.rows,
                "passage_bands": self._passage_lsh.bands,
                "passage_rows": self._passage_lsh.rows,
                "feature_version": s.feature_version,
            },
        )


def _page_size(page_size: int) -> int:
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _encode_token(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _decode_token(token: str, kind: str) -> str | None:
    if not token:
        return None
    try:
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value or (kind == "a" and not value.isdigit()):
        raise InvalidArgument("page_token is invalid; pass the next_page_token of the previous page")
    return value
