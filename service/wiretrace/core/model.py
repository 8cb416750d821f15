"""Domain objects: plain frozen dataclasses, no transport types."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


class MatchKind(enum.Enum):
    NEAR_DUPLICATE = "near_duplicate"
    REUSED_PASSAGE = "reused_passage"


class PassageKind(enum.Enum):
    VERBATIM = "verbatim"
    VARIANT = "variant"
    # The same statement in another language (aligned by meaning alone, core/translation.py).
    TRANSLATED = "translated"


class IngestOutcome(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article as a client sends it, before it is stored."""

    article_id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    publish_time: datetime | None = None
    language: str = ""

    @classmethod
    def from_article(cls, article: Article) -> ArticleDraft:
        """What a client would send to store ``article`` again (re-indexing)."""
        return cls(
            article.article_id,
            article.text,
            article.title,
            article.source,
            article.url,
            article.publish_time,
            article.language,
        )


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article. ``seq`` orders articles by ingest."""

    article_id: str
    text: str
    title: str
    source: str
    url: str
    publish_time: datetime | None
    language: str
    create_time: datetime
    content_sha256: str
    cluster_id: str
    seq: int

    @classmethod
    def from_draft(cls, draft: ArticleDraft, *, create_time: datetime, cluster_id: str, seq: int = 0) -> Article:
        return cls(
            article_id=draft.article_id,
            text=draft.text,
            title=draft.title,
            source=draft.source,
            url=draft.url,
            publish_time=draft.publish_time,
            language=draft.language,
            create_time=create_time,
            content_sha256=content_sha256(draft.text),
            cluster_id=cluster_id,
            seq=seq,
        )

    @property
    def lineage_time(self) -> datetime:
        """When the article appeared, for lineage: publication time, else ingest time."""
        return self.publish_time or self.create_time

    @property
    def story_key(self) -> str:
        """The story the article is a copy of, for counting stories rather than copies: its story
        cluster (kept for the article's life: story clusters never merge, a re-root keeps the id),
        or the article alone when it is in none."""
        return self.cluster_id or f"article:{self.article_id}"

    @property
    def order(self) -> OrderKey:
        """Its place in lineage: earlier appearance first, then earlier ingest, then id."""
        return (_micros(self.lineage_time), _micros(self.create_time), self.article_id)

    def same_content(self, draft: ArticleDraft, content_sha256: str) -> bool:
        return (
            self.content_sha256 == content_sha256
            and self.title == draft.title
            and self.source == draft.source
            and self.url == draft.url
            and self.publish_time == draft.publish_time
            and self.language == draft.language
        )


@dataclass(frozen=True, slots=True)
class SharedPassage:
    """A passage found in both texts; offsets are code points, [start, end)."""

    query_start: int
    query_end: int
    matched_start: int
    matched_end: int
    kind: PassageKind
    score: float

    def flipped(self) -> SharedPassage:
        return SharedPassage(
            self.matched_start, self.matched_end, self.query_start, self.query_end, self.kind, self.score
        )


@dataclass(frozen=True, slots=True)
class Match:
    """A verified match of a query text against the stored article ``article_id``."""

    article_id: str
    kind: MatchKind
    score: float
    estimated_jaccard: float
    jaccard: float
    query_containment: float
    matched_containment: float
    passages: tuple[SharedPassage, ...] = ()

    def seen_from(self, query_id: str) -> Match:
        """The same evidence with the roles of query and matched article swapped."""
        return replace(
            self,
            article_id=query_id,
            query_containment=self.matched_containment,
            matched_containment=self.query_containment,
            passages=tuple(p.flipped() for p in self.passages),
        )


@dataclass(frozen=True, slots=True)
class MatchEdge:
    """A stored match between two articles: ``evidence`` is as seen from ``query_id``."""

    query_id: str
    matched_id: str
    evidence: Match

    def other(self, article_id: str) -> str:
        return self.matched_id if article_id == self.query_id else self.query_id

    def evidence_from(self, article_id: str) -> Match:
        """The evidence with ``article_id`` as the query side."""
        if article_id == self.query_id:
            return self.evidence
        return self.evidence.seen_from(self.query_id)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """``child`` derives from ``parent``; evidence passages have the child as query side."""

    parent_id: str
    child_id: str
    evidence: Match
    reason: str


class ClusterKind(enum.Enum):
    """What the members of a lineage cluster carry: one story, or one statement (a quote, a passage)."""

    STORY = "story"
    STATEMENT = "statement"


# Where a member stands in its cluster's lineage: (time it appeared, ingest time, id), in microseconds.
OrderKey = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Membership:
    """An article in a lineage cluster, with its parent there (empty for a root) and the evidence.

    A statement cluster also keeps where the statement stands in this article: ``span`` [start, end).
    """

    cluster_id: str
    article_id: str
    kind: ClusterKind
    order: OrderKey
    parent_id: str = ""
    evidence: Match | None = None
    reason: str = ""
    span: tuple[int, int] = (0, 0)

    def edge(self) -> LineageEdge | None:
        if not self.parent_id or self.evidence is None:
            return None
        return LineageEdge(self.parent_id, self.article_id, self.evidence, self.reason)


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """What is kept up to date per ingest: root and size, never a member list."""

    cluster_id: str
    kind: ClusterKind
    root_id: str
    root_order: OrderKey
    member_count: int


@dataclass(frozen=True, slots=True)
class Cluster:
    """A cluster with one page of its members (earliest first) and their parent edges."""

    cluster_id: str
    root_id: str
    members: tuple[Article, ...]
    edges: tuple[LineageEdge, ...]
    member_count: int = 0
    kind: ClusterKind = ClusterKind.STORY
    next_page_token: str = ""
    # Texts of the members and of their parents, for the edges' passages.
    texts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestResult:
    article: Article
    outcome: IngestOutcome
    matches: tuple[Match, ...]
    # The story cluster: its summary, the article and its parent, and the article's own parent edge.
    cluster: Cluster
    # Texts of the matched articles, for the passages' text on the other side.
    matched_texts: Mapping[str, str] = field(default_factory=dict)
    # The statement clusters the article carries, summarised the same way.
    statements: tuple[Cluster, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchReport:
    """What FindMatches answers: the matches and the texts their passages point into."""

    query_text: str
    matches: tuple[Match, ...]
    matched_texts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PruneResult:
    """One prune call: the articles it deleted, and where the next call goes on ("" when done)."""

    deleted: tuple[str, ...]
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str = ""
    total_size: int = 0


@dataclass(frozen=True, slots=True)
class StorageStats:
    articles: int
    clusters: int
    passages: int
    edges: int
    # What the index takes: SQLite, the database file and the in-memory buckets; Redis, the
    # memory its server(s) use (every prefix); the in-memory store, its arrays.
    index_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Stats:
    storage: str
    counts: StorageStats
    parameters: dict[str, float | int | str] = field(default_factory=dict)
