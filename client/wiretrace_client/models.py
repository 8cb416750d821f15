"""What the client returns: plain dataclasses, never protobufs. ``to_dict`` gives
JSON-ready documents in which every article is referred to by ``article_id``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


class _Document:
    def to_dict(self) -> dict[str, Any]:
        return _json(asdict(self))  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True, slots=True)
class MatchFilter(_Document):
    """Which matched articles to report; every condition given must hold. A matched article's
    time is its publish time, else its ingest time; ``until`` is exclusive; outlets
    (``source``) compare case-insensitively."""

    since: datetime | None = None
    until: datetime | None = None
    # Within this many days of the query article's own time (a raw text's: now).
    window_days: int = 0
    sources: tuple[str, ...] = ()
    excluded_sources: tuple[str, ...] = ()
    # Leave out the query article's own outlet.
    other_outlets: bool = False


@dataclass(frozen=True, slots=True)
class ArticleInput(_Document):
    """An article to ingest (``report_filter``: which of its matches the answer reports)."""

    article_id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    publish_time: datetime | None = None
    language: str = ""
    replace_existing: bool = False
    report_filter: MatchFilter | None = None


@dataclass(frozen=True, slots=True)
class Article(_Document):
    article_id: str
    text: str
    title: str
    source: str
    url: str
    publish_time: datetime | None
    language: str
    create_time: datetime | None
    cluster_id: str
    content_sha256: str


@dataclass(frozen=True, slots=True)
class SharedPassage(_Document):
    """Offsets are code points into each text, [start, end); the texts are cut to their first
    2,000 characters when ``texts_cut`` (the offsets still cover the whole passage)."""

    query_start: int
    query_end: int
    matched_start: int
    matched_end: int
    kind: str  # "verbatim" or "variant"
    score: float
    query_text: str
    matched_text: str
    texts_cut: bool = False


@dataclass(frozen=True, slots=True)
class Match(_Document):
    article_id: str
    kind: str  # "near_duplicate" or "reused_passage"
    score: float
    estimated_jaccard: float
    jaccard: float
    query_containment: float
    matched_containment: float
    passages: list[SharedPassage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClusterMember(_Document):
    article_id: str
    title: str
    source: str
    publish_time: datetime | None


@dataclass(frozen=True, slots=True)
class LineageEdge(_Document):
    """``child_id`` derives from ``parent_id``; passages have the child as query side."""

    parent_id: str
    child_id: str
    kind: str
    score: float
    passages: list[SharedPassage]
    reason: str


@dataclass(frozen=True, slots=True)
class Cluster(_Document):
    """The articles that carry one reused text: a story, or a statement (``kind``)."""

    cluster_id: str
    root_id: str
    members: list[ClusterMember]
    edges: list[LineageEdge]
    # All members; ``members`` may list fewer (ingest results: the article and its parent;
    # list_clusters and clusters_of: none).
    member_count: int = 0
    kind: str = "story"  # or "statement"


@dataclass(frozen=True, slots=True)
class IngestResult(_Document):
    article: Article
    outcome: str  # "created", "unchanged" or "replaced"
    matches: list[Match]
    # The story cluster, summarised: root, member_count, the article, its parent and its edge.
    cluster: Cluster
    # The statement clusters the article carries, summarised the same way.
    statements: list[Cluster] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Stats(_Document):
    articles: int
    clusters: int
    passages: int
    edges: int
    storage: str
    index: dict[str, float | int | str]
    index_bytes: int = 0
