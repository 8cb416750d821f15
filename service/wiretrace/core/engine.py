"""The use cases: ingest, find matches, lineage, delete, prune, list, stats.

:class:`Wiretrace` is what the gRPC servicer, the CLI's batch jobs and library
users call. Writes are serialised by one lock and computed against an
:class:`~wiretrace.core.staging.Overlay` (the store plus the batch's pending
changes), so articles of one batch see each other; the whole batch is then one
atomic ``Storage.apply`` and nothing is acknowledged before it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

from wiretrace.core import lineage, paging, semantic
from wiretrace.core.analysis import Analysis, AnalysisPool, analyse_text
from wiretrace.core.errors import (
    ArticleAlreadyExists,
    ArticleNotFound,
    ClusterNotFound,
    InvalidArgument,
    WiretraceError,
)
from wiretrace.core.filters import MatchFilter
from wiretrace.core.gist_index import GistIndex
from wiretrace.core.identity import IndexIdentity, index_parameters
from wiretrace.core.language import detect_language
from wiretrace.core.matcher import Matcher
from wiretrace.core.model import (
    Article,
    ArticleDraft,
    Cluster,
    ClusterKind,
    ClusterSummary,
    IngestOutcome,
    IngestResult,
    Match,
    MatchEdge,
    MatchReport,
    Membership,
    OrderKey,
    Page,
    PruneResult,
    Stats,
    content_sha256,
)
from wiretrace.core.ports import ArticleRecord, ChangeSet, Storage
from wiretrace.core.settings import IndexSettings
from wiretrace.core.staging import Overlay
from wiretrace.core.validation import validate_article_id, validate_draft, validate_text

MAX_MATCHES = 1000
DEFAULT_MATCHES = 20
# Articles a prune call looks at (in ingest order) for ones older than its cut.
PRUNE_SCAN = 1000


@dataclass(frozen=True, slots=True)
class IngestRequest:
    draft: ArticleDraft
    replace_existing: bool = False
    # Precomputed by ``Wiretrace.analyse`` (e.g. in a worker process) under the same settings.
    analysis: Analysis | None = None
    # Which matches the result reports; what is stored (evidence, lineage) is never filtered.
    report_filter: MatchFilter | None = None


_Staged = tuple[str, IngestOutcome, tuple[Match, ...]]


def _text_order(membership: Membership, summary: ClusterSummary) -> tuple[tuple[int, int], OrderKey, int, str]:
    """Where a cluster's text is in the article; of two at one place, the older, then the larger."""
    return (membership.span, summary.root_order, -summary.member_count, summary.cluster_id)


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
        analysis_pool: AnalysisPool | None = None,
    ) -> None:
        """``analysis_workers`` > 0 analyses ingested texts in that many worker processes
        (see :meth:`prepare`), so a busy ingest uses more than one core. The workers are
        spawned, so a script using them needs the ``if __name__ == "__main__":`` guard.
        ``analysis_pool``: another engine's workers, under the same settings, shared (and closed
        by their owner), so that engines of several namespaces use the cores once."""
        self.storage = storage
        self.settings = settings or IndexSettings()
        self._clock = clock
        self._write_lock = threading.Lock()
        self._matcher = Matcher(self.settings, feature_cache_size)
        self._gists = GistIndex() if self.settings.gists else None
        if self.settings.semantic:
            semantic.check_available()
        storage.open(self.identity, index_parameters(self.settings))
        self._owns_pool = analysis_pool is None and analysis_workers > 0
        self._pool = AnalysisPool(analysis_workers, self.settings) if self._owns_pool else analysis_pool

    @property
    def identity(self) -> IndexIdentity:
        return IndexIdentity.of(self.settings)

    @property
    def analysis_pool(self) -> AnalysisPool | None:
        return self._pool

    def close(self) -> None:
        if self._pool is not None and self._owns_pool:
            self._pool.close()
        self.storage.close()

    def analyse(self, text: str, *, with_language: bool = False) -> Analysis:
        return analyse_text(text, self.settings, with_language=with_language)

    # -- writes ----------------------------------------------------------------------------------------

    def ingest(
        self, draft: ArticleDraft, *, replace_existing: bool = False, report_filter: MatchFilter | None = None
    ) -> IngestResult:
        """Store one article (durably) and return what it matched and its cluster."""
        result = self.ingest_batch([IngestRequest(draft, replace_existing, report_filter=report_filter)])[0]
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
            view = self._view()
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
                    draft = request.draft
                    request = replace(request, analysis=self.analyse(draft.text, with_language=not draft.language))
                else:
                    waiting.append(len(outcome))
            outcome.append(request)
        done: Future[list[IngestRequest | WiretraceError]] = Future()
        if self._pool is None or not waiting:
            done.set_result(outcome)
            return done
        drafts = [cast(IngestRequest, outcome[i]).draft for i in waiting]
        analysed = self._pool.analyse([d.text for d in drafts], [not d.language for d in drafts])

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

    def _view(self) -> Overlay:
        """The store as matching reads it, with the gists of every stored article at hand."""
        if self._gists is not None:
            self._gists.catch_up(self.storage)
        return Overlay(self.storage, self._gists)

    def _stage(self, view: Overlay, request: IngestRequest) -> _Staged:
        draft = request.draft
        if not draft.language:
            detected = request.analysis.language if request.analysis else None
            draft = replace(draft, language=detect_language(draft.text) if detected is None else detected)
        existing = view.article(draft.article_id)
        outcome = IngestOutcome.CREATED
        if existing is not None:
            if existing.same_content(draft, content_sha256(draft.text)):
                stored = sorted((e.evidence for e in view.matches_of(draft.article_id)), key=_best_first)
                if request.report_filter:
                    matched_articles = {i: r.article for i, r in view.records(m.article_id for m in stored).items()}
                    stored = _reported(stored, matched_articles, request.report_filter, existing)
                return draft.article_id, IngestOutcome.UNCHANGED, tuple(stored)
            if not request.replace_existing:
                raise ArticleAlreadyExists(draft.article_id)
            self._delete_in(view, draft.article_id)
            outcome = IngestOutcome.REPLACED
        analysis = request.analysis or self.analyse(draft.text)
        matches, records = self._matcher.match(
            view, analysis, exclude={draft.article_id}, source=draft.source, language=draft.language
        )
        matched = {i: r.article for i, r in records.items()}
        placed = Article.from_draft(draft, create_time=self._clock(), cluster_id="")
        placement = lineage.place(
            view,
            placed,
            matches,
            matched,
            max_statements=self.settings.max_statements,
            same_outlet_jaccard=self.settings.near_duplicate_jaccard,
        )
        article = replace(placed, cluster_id=placement.story_id)
        kept = matches[: self.settings.max_stored_matches]
        view.add(ArticleRecord.of(article, analysis), [MatchEdge(draft.article_id, m.article_id, m) for m in kept])
        self._matcher.remember(draft.article_id, article.content_sha256, analysis.features)
        reported = _reported(matches, matched, request.report_filter, article)[: self.settings.max_stored_matches]
        return draft.article_id, outcome, tuple(reported)

    def delete(self, article_id: str) -> None:
        """Remove an article, its index entries, edges and cluster memberships."""
        validate_article_id(article_id)
        with self._write_lock, self.storage.lock():
            view = Overlay(self.storage)
            self._delete_in(view, article_id)
            self.storage.apply(view.changes)

    def prune(self, before: datetime, page_size: int = 0, page_token: str = "") -> PruneResult:
        """Delete up to ``page_size`` articles that appeared before ``before`` (publication time,
        else ingest time), each as :meth:`delete` does (its clusters re-rooted), in one write.

        Looks at up to :data:`PRUNE_SCAN` articles in ingest order from ``page_token``; call again
        with ``next_page_token`` until it is empty. The lock is held for one page only, so that
        ingest waits at most that long.
        """
        if before.tzinfo is None:
            raise InvalidArgument("the prune cut needs a time zone")
        limit = paging.page_size(page_size)
        after = int(paging.decode_token(page_token, "a") or 0)
        scanned = self.storage.list_articles(after, PRUNE_SCAN)
        old = [a for a in scanned if a.lineage_time < before]
        taken = old[:limit]
        deleted: list[str] = []
        if taken:
            with self._write_lock, self.storage.lock():
                view = Overlay(self.storage)
                for candidate in taken:
                    current = view.article(candidate.article_id)  # replaced or deleted meanwhile?
                    if current is not None and current.lineage_time < before:
                        self._delete_in(view, candidate.article_id)
                        deleted.append(candidate.article_id)
                self.storage.apply(view.changes)
        if len(old) > limit:
            position = taken[-1].seq
        elif len(scanned) == PRUNE_SCAN:
            position = scanned[-1].seq
        else:
            return PruneResult(tuple(deleted), "")
        return PruneResult(tuple(deleted), paging.encode_token("a", str(position)))

    def restore(self, changes: ChangeSet) -> None:
        """Write a prepared change set (snapshot import) under the same lock as every other write."""
        with self._write_lock, self.storage.lock():
            self.storage.apply(changes)

    def _delete_in(self, view: Overlay, article_id: str) -> None:
        if view.article(article_id) is None:
            raise ArticleNotFound(article_id)
        lineage.remove(view, article_id)
        view.delete(article_id)

    def _results(self, staged: list[_Staged | Exception]) -> list[IngestResult | Exception]:
        """Results read back from the store: one read for all articles, clusters as summaries."""
        done = [item for item in staged if not isinstance(item, Exception)]
        memberships = self.storage.memberships_of(article_id for article_id, _, _ in done)
        summaries = self.storage.cluster_summaries({m.cluster_id for m in memberships})
        parents = {m.parent_id for m in memberships if m.parent_id}
        articles = self.storage.get_articles({article_id for article_id, _, _ in done} | parents)
        texts = self._texts(m.article_id for _, _, matches in done for m in matches)
        by_article: dict[str, list[Membership]] = {}
        for membership in memberships:
            by_article.setdefault(membership.article_id, []).append(membership)
        results: list[IngestResult | Exception] = []
        for item in staged:
            if isinstance(item, Exception):
                results.append(item)
                continue
            article_id, outcome, matches = item
            article = articles[article_id]
            # The statements in the order they are in its text.
            carried = sorted(by_article[article_id], key=lambda m: _text_order(m, summaries[m.cluster_id]))
            own = [_summary_cluster(summaries[m.cluster_id], m, articles) for m in carried]
            story = next(c for c in own if c.cluster_id == article.cluster_id)
            statements = tuple(c for c in own if c.kind is ClusterKind.STATEMENT)
            matched_texts = {m.article_id: texts.get(m.article_id, "") for m in matches}
            results.append(IngestResult(article, outcome, matches, story, matched_texts, statements))
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

    def list_articles(
        self, page_size: int = 0, page_token: str = "", *, text_budget: int | None = None
    ) -> Page[Article]:
        """A page in ingest order; ``text_budget`` (characters) ends a page early once its texts
        reach it (at least one article a page), so that a page of long texts fits in a message."""
        limit = paging.page_size(page_size)
        after = int(paging.decode_token(page_token, "a") or 0)
        articles = self.storage.list_articles(after, limit + 1)
        if text_budget is not None:
            total = fits = 0
            for article in articles[:limit]:
                total += len(article.text)
                if fits and total > text_budget:
                    break
                fits += 1
            limit = min(limit, fits)
        more = len(articles) > limit
        articles = articles[:limit]
        token = paging.encode_token("a", str(articles[-1].seq)) if more else ""
        return Page(articles, token, self.storage.stats().articles)

    def find_matches(
        self,
        *,
        article_id: str | None = None,
        text: str | None = None,
        max_matches: int = 0,
        match_filter: MatchFilter | None = None,
    ) -> MatchReport:
        """Verified matches, best first, for a stored article (against all others) or for raw text;
        with ``match_filter``, only matched articles it admits, filtered before the cut to
        ``max_matches`` (a raw text's own time is now and it has no outlet)."""
        if max_matches < 0:
            raise InvalidArgument("max_matches must not be negative")
        limit = min(max_matches or DEFAULT_MATCHES, MAX_MATCHES)
        if (article_id is None) == (text is None):
            raise InvalidArgument("give exactly one of article or text")
        exclude: set[str] = set()
        source = language = ""
        own_time = self._clock()
        if article_id is not None:
            stored = self.get(article_id)
            query_text, source, own_time, language = stored.text, stored.source, stored.lineage_time, stored.language
            exclude.add(article_id)
        else:
            assert text is not None
            validate_text(text, self.settings.max_text_chars)
            query_text = text
        admits = match_filter.bind(own_time, source) if match_filter else None
        analysis = analyse_text(query_text, self.settings, with_gist=False)
        language = language or detect_language(query_text)
        matches, records = self._matcher.match(self._view(), analysis, exclude, source, admits, language)
        kept = tuple(matches[:limit])
        return MatchReport(query_text, kept, {m.article_id: records[m.article_id].article.text for m in kept})

    def cluster(self, cluster_id: str, page_size: int = 0, page_token: str = "") -> Cluster:
        """The cluster's summary and one page of its members, earliest first, with their parent edges."""
        summary = self.storage.cluster_summaries([cluster_id]).get(cluster_id)
        if summary is None:
            raise ClusterNotFound(cluster_id)
        limit = paging.page_size(page_size)
        page = self.storage.cluster_page(cluster_id, _decode_order(page_token), limit + 1)
        more = len(page) > limit
        page = page[:limit]
        edges = [e for e in (m.edge() for m in page) if e is not None]
        articles = self.storage.get_articles({m.article_id for m in page} | {e.parent_id for e in edges})
        return Cluster(
            cluster_id=cluster_id,
            root_id=summary.root_id,
            members=tuple(articles[m.article_id] for m in page if m.article_id in articles),
            edges=tuple(edges),
            member_count=summary.member_count,
            kind=summary.kind,
            next_page_token=_encode_order(page[-1].order) if more else "",
            texts={i: a.text for i, a in articles.items()},
        )

    def cluster_of(self, article_id: str, page_size: int = 0, page_token: str = "") -> Cluster:
        """The article's story cluster (a page of it)."""
        return self.cluster(self.get(article_id).cluster_id, page_size, page_token)

    def clusters_of(self, article_id: str) -> list[ClusterSummary]:
        """Every cluster the article belongs to: its story first, then the statements it carries
        in the order they are in its text."""
        article = self.get(article_id)
        memberships = self.storage.memberships_of([article_id])
        summaries = self.storage.cluster_summaries(m.cluster_id for m in memberships)
        carried = sorted(
            (m for m in memberships if m.cluster_id in summaries),
            key=lambda m: (m.cluster_id != article.cluster_id, _text_order(m, summaries[m.cluster_id])),
        )
        return [summaries[m.cluster_id] for m in carried]

    def list_clusters(self, page_size: int = 0, page_token: str = "") -> Page[ClusterSummary]:
        limit = paging.page_size(page_size)
        after = paging.decode_token(page_token, "c") or ""
        summaries = self.storage.list_clusters(after, limit + 1)
        more = len(summaries) > limit
        summaries = summaries[:limit]
        token = paging.encode_token("c", summaries[-1].cluster_id) if more else ""
        return Page(summaries, token, 0)

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


def _summary_cluster(summary: ClusterSummary, membership: Membership, articles: Mapping[str, Article]) -> Cluster:
    """A cluster as an ingest answer carries it: summary, the article and its parent, its own edge."""
    edge = membership.edge()
    members = [articles[membership.article_id]]
    if edge is not None and edge.parent_id in articles:
        members.insert(0, articles[edge.parent_id])
    return Cluster(
        cluster_id=summary.cluster_id,
        root_id=summary.root_id,
        members=tuple(members),
        edges=() if edge is None else (edge,),
        member_count=summary.member_count,
        kind=summary.kind,
        texts={a.article_id: a.text for a in members},
    )


def _reported(
    matches: Sequence[Match], matched: Mapping[str, Article], report_filter: MatchFilter | None, own: Article
) -> list[Match]:
    """The matches an ingest answer reports: those of matched articles the filter admits."""
    if not report_filter:
        return list(matches)
    admits = report_filter.bind(own.lineage_time, own.source)
    return [m for m in matches if m.article_id in matched and admits(matched[m.article_id])]


def _best_first(match: Match) -> tuple[float, str]:
    return -match.score, match.article_id


def _encode_order(order: OrderKey) -> str:
    return paging.encode_token("m", f"{order[0]}:{order[1]}:{order[2]}")


def _decode_order(token: str) -> OrderKey | None:
    value = paging.decode_token(token, "m")
    if value is None:
        return None
    appeared, _, rest = value.partition(":")
    ingested, _, article_id = rest.partition(":")
    try:
        return int(appeared), int(ingested), article_id
    except ValueError:
        raise InvalidArgument("page_token is invalid; pass the next_page_token of the previous page") from None
