"""The use cases: ingest, find matches, lineage, delete, list, stats.

:class:`Wiretrace` is what the gRPC servicer, the CLI's batch jobs and library
users call. Writes are serialised by one lock and computed against an
:class:`~wiretrace.core.staging.Overlay` (the store plus the batch's pending
changes), so articles of one batch see each other; the whole batch is then one
atomic ``Storage.apply`` and nothing is acknowledged before it returns.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

from wiretrace.core import paging, semantic
from wiretrace.core.analysis import Analysis, AnalysisPool, analyse_text
from wiretrace.core.errors import (
    ArticleAlreadyExists,
    ArticleNotFound,
    ClusterNotFound,
    InvalidArgument,
    WiretraceError,
)
from wiretrace.core.identity import IndexIdentity, index_parameters
from wiretrace.core.lineage import build_cluster, components
from wiretrace.core.matcher import Matcher
from wiretrace.core.model import (
    Article,
    ArticleDraft,
    Cluster,
    IngestOutcome,
    IngestResult,
    Match,
    MatchEdge,
    MatchReport,
    Page,
    Stats,
    content_sha256,
)
from wiretrace.core.ports import ArticleRecord, ChangeSet, Storage
from wiretrace.core.settings import IndexSettings
from wiretrace.core.staging import Overlay
from wiretrace.core.validation import validate_article_id, validate_draft, validate_text

MAX_MATCHES = 1000
DEFAULT_MATCHES = 20


@dataclass(frozen=True, slots=True)
class IngestRequest:
    draft: ArticleDraft
    replace_existing: bool = False
    # Precomputed by ``Wiretrace.analyse`` (e.g. in a worker process) under the same settings.
    analysis: Analysis | None = None


def new_cluster_id() -> str:
    return secrets.token_hex(8)


_Staged = tuple[str, IngestOutcome, tuple[Match, ...]]


class Wiretrace:
    """A wiretrace index over one storage backend (built by ``wiretrace.bootstrap``).

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
        self._write_lock = threading.Lock()
        self._matcher = Matcher(self.settings, feature_cache_size)
        if self.settings.semantic:
            semantic.check_available()
        storage.open(self.identity, index_parameters(self.settings))
        self._pool = AnalysisPool(analysis_workers, self.settings) if analysis_workers > 0 else None

    @property
    def identity(self) -> IndexIdentity:
        return IndexIdentity.of(self.settings)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self.storage.close()

    def analyse(self, text: str) -> Analysis:
        return analyse_text(text, self.settings)

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
            view = Overlay(self.storage)
            staged: list[_Staged | Exception] = []
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
        if self._pool is None or not waiting:
            done.set_result(outcome)
            return done
        analysed = self._pool.analyse([cast(IngestRequest, outcome[i]).draft.text for i in waiting])

        def attach(future: Future[list[Analysis]]) -> None:
            try:
                analyses = future.result()
            except BaseException as error:  # a worker died: the batch fails, nothing was stored
                done.set_exception(error)
                return
            for position, analysis in zip(waiting, analyses, strict=True):
                outcome[position] = replace(cast(IngestRequest, outcome[position]), analysis=analysis)
            done.set_result(outcome)

        analysed.add_done_callback(attach)
        return done

    def _stage(self, view: Overlay, request: IngestRequest) -> _Staged:
        draft = request.draft
        existing = view.article(draft.article_id)
        outcome = IngestOutcome.CREATED
        if existing is not None:
            if existing.same_content(draft, content_sha256(draft.text)):
                stored = (e.evidence_from(draft.article_id) for e in view.edges_of([draft.article_id]))
                return draft.article_id, IngestOutcome.UNCHANGED, tuple(sorted(stored, key=_best_first))
            if not request.replace_existing:
                raise ArticleAlreadyExists(draft.article_id)
            self._delete_in(view, draft.article_id)
            outcome = IngestOutcome.REPLACED
        analysis = request.analysis or self.analyse(draft.text)
        matches, _ = self._matcher.match(view, analysis, exclude={draft.article_id}, source=draft.source)
        cluster_id = self._merge_clusters(view, [m.article_id for m in matches])
        article = Article.from_draft(draft, create_time=self._clock(), cluster_id=cluster_id)
        view.add(ArticleRecord.of(article, analysis), [MatchEdge(draft.article_id, m.article_id, m) for m in matches])
        self._matcher.remember(draft.article_id, article.content_sha256, analysis.features)
        return draft.article_id, outcome, tuple(matches)

    def _merge_clusters(self, view: Overlay, neighbour_ids: list[str]) -> str:
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
            view = Overlay(self.storage)
            self._delete_in(view, article_id)
            self.storage.apply(view.changes)

    def restore(self, changes: ChangeSet) -> None:
        """Write a prepared change set (snapshot import) under the same lock as every other write."""
        with self._write_lock, self.storage.lock():
            self.storage.apply(changes)

    def _delete_in(self, view: Overlay, article_id: str) -> None:
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

    def _results(self, staged: list[_Staged | Exception]) -> list[IngestResult | Exception]:
        """Results read back from the store: one read for all articles, each cluster built once."""
        done = [item for item in staged if not isinstance(item, Exception)]
        articles = self.storage.get_articles(article_id for article_id, _, _ in done)
        texts = self._texts(m.article_id for _, _, matches in done for m in matches)
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
            matched_texts = {m.article_id: texts.get(m.article_id, "") for m in matches}
            results.append(IngestResult(article, outcome, matches, clusters[article.cluster_id], matched_texts))
        return results

    def _texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        return {i: a.text for i, a in self.storage.get_articles(article_ids).items()}

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, article_id: str) -> Article:
        validate_article_id(article_id)
        article = self.storage.get_articles([article_id]).get(article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        return article

    def list_articles(self, page_size: int = 0, page_token: str = "") -> Page[Article]:
        limit = paging.page_size(page_size)
        after = int(paging.decode_token(page_token, "a") or 0)
        articles = self.storage.list_articles(after, limit + 1)
        more = len(articles) > limit
        articles = articles[:limit]
        token = paging.encode_token("a", str(articles[-1].seq)) if more else ""
        return Page(articles, token, self.storage.stats().articles)

    def find_matches(
        self, *, article_id: str | None = None, text: str | None = None, max_matches: int = 0
    ) -> MatchReport:
        """Verified matches, best first, for a stored article (against all others) or for raw text."""
        if max_matches < 0:
            raise InvalidArgument("max_matches must not be negative")
        limit = min(max_matches or DEFAULT_MATCHES, MAX_MATCHES)
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
        matches, records = self._matcher.match(Overlay(self.storage), self.analyse(query_text), exclude, source)
        kept = tuple(matches[:limit])
        return MatchReport(query_text, kept, {m.article_id: records[m.article_id].article.text for m in kept})

    def cluster(self, cluster_id: str) -> Cluster:
        member_ids = self.storage.cluster_members(cluster_id)
        if not member_ids:
            raise ClusterNotFound(cluster_id)
        members = self.storage.get_articles(member_ids)
        return build_cluster(cluster_id, members.values(), self.storage.edges_of(member_ids))

    def cluster_of(self, article_id: str) -> Cluster:
        return self.cluster(self.get(article_id).cluster_id)

    def list_clusters(self, page_size: int = 0, page_token: str = "") -> Page[Cluster]:
        limit = paging.page_size(page_size)
        after = paging.decode_token(page_token, "c") or ""
        cluster_ids = self.storage.list_clusters(after, limit + 1)
        more = len(cluster_ids) > limit
        cluster_ids = cluster_ids[:limit]
        token = paging.encode_token("c", cluster_ids[-1]) if more else ""
        return Page([self.cluster(c) for c in cluster_ids], token, 0)

    def stats(self) -> Stats:
        s, identity = self.settings, self.identity
        return Stats(
            storage=self.storage.backend,
            counts=self.storage.stats(),
            parameters={
                "num_perm": s.num_perm,
                "seed": s.seed,
                "shingle_size": s.shingle_size,
                "document_threshold": s.document_threshold,
                "passage_threshold": s.passage_threshold,
                "document_bands": identity.document_bands,
                "document_rows": identity.document_rows,
                "passage_bands": identity.passage_bands,
                "passage_rows": identity.passage_rows,
                "feature_version": s.feature_version,
            },
        )


def _best_first(match: Match) -> tuple[float, str]:
    return -match.score, match.article_id
