"""Lineage inside a cluster: who derives from whom, earliest source first.

Each article's parent is the earlier article (by publication time, then ingest
order) that it shares most with among its verified matches; the cluster's root
is its earliest member.
"""

from __future__ import annotations

from collections.abc import Iterable

from wiretrace.core.attribution import credits
from wiretrace.core.model import Article, Cluster, LineageEdge, MatchEdge


def lineage_order(article: Article) -> tuple[object, ...]:
    return (article.lineage_time, article.create_time, article.seq, article.article_id)


def build_cluster(cluster_id: str, members: Iterable[Article], edges: Iterable[MatchEdge]) -> Cluster:
    ordered = sorted(members, key=lineage_order)
    if not ordered:
        raise ValueError("a cluster has at least one member")
    rank = {article.article_id: position for position, article in enumerate(ordered)}
    by_id = {article.article_id: article for article in ordered}
    by_article: dict[str, list[MatchEdge]] = {article.article_id: [] for article in ordered}
    for edge in edges:
        if edge.query_id in rank and edge.matched_id in rank:
            by_article[edge.query_id].append(edge)
            by_article[edge.matched_id].append(edge)
    lineage: list[LineageEdge] = []
    for child in ordered[1:]:
        earlier = [e for e in by_article[child.article_id] if rank[e.other(child.article_id)] < rank[child.article_id]]
        if not earlier:
            continue
        credited = {
            e.other(child.article_id): credits(child.text, by_id[e.other(child.article_id)].source) for e in earlier
        }
        best = max(
            earlier,
            key=lambda e: (
                credited[e.other(child.article_id)] is not None,
                e.evidence.score,
                -rank[e.other(child.article_id)],
            ),
        )
        parent_id = best.other(child.article_id)
        evidence = best.evidence_from(child.article_id)
        shared = f"{evidence.kind.value}, score {evidence.score:.2f}, {len(evidence.passages)} shared passage(s)"
        if credited[parent_id] is not None:
            reason = f"{child.article_id} credits {credited[parent_id]!r}, the outlet of earlier {parent_id} ({shared})"
        elif by_id[parent_id].lineage_time == child.lineage_time:
            # A tie in time is broken by ingest order; say so rather than claim it appeared earlier.
            reason = (
                f"{parent_id} has the same publication time as {child.article_id} but was ingested first, "
                f"and shares most with it ({shared})"
            )
        else:
            reason = f"{parent_id} appeared earlier and shares most with {child.article_id} ({shared})"
        lineage.append(LineageEdge(parent_id, child.article_id, evidence, reason))
    return Cluster(
        cluster_id=cluster_id,
        root_id=ordered[0].article_id,
        members=tuple(ordered),
        edges=tuple(lineage),
        member_count=len(ordered),
    )


def components(nodes: Iterable[str], edges: Iterable[MatchEdge]) -> list[set[str]]:
    """Connected components of ``nodes`` under ``edges`` (edges to other nodes are ignored)."""
    remaining = set(nodes)
    neighbours: dict[str, set[str]] = {node: set() for node in remaining}
    for edge in edges:
        if edge.query_id in neighbours and edge.matched_id in neighbours:
            neighbours[edge.query_id].add(edge.matched_id)
            neighbours[edge.matched_id].add(edge.query_id)
    result = []
    while remaining:
        start = remaining.pop()
        component = {start}
        frontier = [start]
        while frontier:
            for other in neighbours[frontier.pop()]:
                if other in remaining:
                    remaining.discard(other)
                    component.add(other)
                    frontier.append(other)
        result.append(component)
    return result
