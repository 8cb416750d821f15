"""Cluster building: parents are earlier articles sharing most; the root is the earliest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wiretrace.core.lineage import build_cluster, components
from wiretrace.core.model import Article, Match, MatchEdge, MatchKind

T0 = datetime(2022, 1, 7, tzinfo=UTC)


def _article(article_id: str, hours: float | None, seq: int) -> Article:
    return Article(
        article_id=article_id,
        text="",
        title="",
        source="",
        url="",
        publish_time=None if hours is None else T0 + timedelta(hours=hours),
        language="",
        create_time=T0 + timedelta(days=1, seconds=seq),
        content_sha256="",
        cluster_id="c",
        seq=seq,
    )


def _edge(query: str, matched: str, score: float) -> MatchEdge:
    return MatchEdge(query, matched, Match(matched, MatchKind.REUSED_PASSAGE, score, 0.0, 0.0, 0.0, 0.0))


def test_root_is_earliest_published_not_first_ingested() -> None:
    members = [_article("late", 5, 1), _article("early", 1, 2), _article("middle", 3, 3)]
    edges = [_edge("early", "late", 0.5), _edge("middle", "late", 0.9), _edge("middle", "early", 0.4)]
    cluster = build_cluster("c", members, edges)
    assert cluster.root_id == "early"
    assert [m.article_id for m in cluster.members] == ["early", "middle", "late"]
    parents = {e.child_id: e.parent_id for e in cluster.edges}
    assert parents == {"middle": "early", "late": "middle"}


def test_evidence_is_seen_from_the_child() -> None:
    members = [_article("a", 1, 1), _article("b", 2, 2)]
    cluster = build_cluster("c", members, [_edge("a", "b", 0.7)])
    (edge,) = cluster.edges
    assert (edge.parent_id, edge.child_id) == ("a", "b")
    assert edge.evidence.article_id == "a"
    assert "score 0.70" in edge.reason


def test_unknown_publication_time_falls_back_to_ingest_time() -> None:
    members = [_article("undated", None, 1), _article("dated", 0, 2)]
    cluster = build_cluster("c", members, [_edge("undated", "dated", 0.5)])
    assert cluster.root_id == "dated"


def test_components() -> None:
    edges = [_edge("a", "b", 1), _edge("c", "d", 1), _edge("d", "x", 1)]
    found = sorted(sorted(c) for c in components(["a", "b", "c", "d", "e"], edges))
    assert found == [["a", "b"], ["c", "d"], ["e"]]


def test_explicit_attribution_picks_the_credited_parent() -> None:
    from dataclasses import replace

    wire = replace(_article("wire", 1, 1), source="TASS")
    blog = replace(_article("blog", 2, 2), source="Some blog")
    child = replace(_article("child", 3, 3), text="Troops entered the square, according to TASS correspondents.")
    edges = [_edge("child", "blog", 0.9), _edge("child", "wire", 0.4), _edge("blog", "wire", 0.5)]
    cluster = build_cluster("c", [wire, blog, child], edges)
    parents = {e.child_id: (e.parent_id, e.reason) for e in cluster.edges}
    assert parents["child"][0] == "wire" and "credits 'tass'" in parents["child"][1]
    assert parents["blog"][0] == "wire"


def test_attributions() -> None:
    from wiretrace.core.attribution import attributions

    found = attributions("ALMATY (Reuters) - Over 3,000 detained, Khabar 24 reported, citing the Interior Ministry.")
    assert {"reuters", "khabar 24", "interior ministry"} <= found
