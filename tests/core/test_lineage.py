"""Lineage clusters: one reused text each (a story or a statement), roots, parents and their reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wiretrace.core.engine import Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ArticleDraft, ClusterKind
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts, syndicated_copy

T0 = datetime(2022, 1, 7, tzinfo=UTC)
STORY = seed_drafts()[4].text  # a whole story, unrelated to the Tokayev statement


def _copy(number: int) -> str:
    return syndicated_copy(number, STORY)


@pytest.fixture
def engine(tmp_path: Path) -> Wiretrace:
    return Wiretrace(SqliteStorage(tmp_path / "data"))


def test_root_is_the_earliest_published_not_the_first_ingested(engine: Wiretrace) -> None:
    engine.ingest(ArticleDraft("late", _copy(1), source="Blog", publish_time=T0 + timedelta(hours=5)))
    engine.ingest(ArticleDraft("early", _copy(2), source="Wire", publish_time=T0 + timedelta(hours=1)))
    engine.ingest(ArticleDraft("middle", _copy(3), source="Paper", publish_time=T0 + timedelta(hours=3)))
    cluster = engine.cluster_of("late")
    assert cluster.kind is ClusterKind.STORY and cluster.member_count == 3
    assert cluster.root_id == "early"
    assert [a.article_id for a in cluster.members] == ["early", "middle", "late"]
    parents = {e.child_id: e.parent_id for e in cluster.edges}
    # "late" was ingested before "early" existed; "early" took over the root and, having matched
    # "late" directly, became its parent. "middle" derives from the earliest closest copy.
    assert parents == {"late": "early", "middle": "early"}
    for edge in cluster.edges:
        assert edge.evidence.article_id == edge.parent_id  # evidence is seen from the child
        assert "appeared earlier" in edge.reason
    assert check_consistency(engine) == []


def test_a_credited_outlet_is_the_parent(engine: Wiretrace) -> None:
    engine.ingest(ArticleDraft("wire", _copy(1), source="TASS", publish_time=T0))
    engine.ingest(ArticleDraft("blog", _copy(2), source="Some blog", publish_time=T0 + timedelta(hours=1)))
    credited = _copy(3) + " Troops entered the square, according to TASS correspondents."
    engine.ingest(ArticleDraft("child", credited, source="Paper", publish_time=T0 + timedelta(hours=2)))
    (edge,) = [e for e in engine.cluster_of("child").edges if e.child_id == "child"]
    assert edge.parent_id == "wire" and "credits 'tass'" in edge.reason


def test_a_quoted_statement_is_its_own_cluster_and_never_merges_stories(engine: Wiretrace) -> None:
    drafts = {d.article_id: d for d in seed_drafts()}
    for article_id in ("000", "001", "002", "003", "004"):
        engine.ingest(drafts[article_id])
    # 003 is the Reuters story it is; the statement it quotes is shared with 000 and 001.
    assert engine.cluster_of("003").member_count == 1
    (statement,) = [c for c in engine.clusters_of("003") if c.kind is ClusterKind.STATEMENT]
    cluster = engine.cluster(statement.cluster_id)
    assert cluster.root_id == "000" and {a.article_id for a in cluster.members} == {"000", "001", "003"}
    # A story that quotes the statement and also copies an unrelated story joins both, merging neither.
    both = drafts["004"].text + "\n\n" + drafts["000"].text
    engine.ingest(ArticleDraft("both", both, publish_time=T0 + timedelta(days=2)))
    kinds = {c.kind: c for c in engine.clusters_of("both")}
    assert engine.cluster(kinds[ClusterKind.STORY].cluster_id).root_id == "004"
    assert "004" not in {a.article_id for a in engine.cluster(statement.cluster_id).members}
    assert check_consistency(engine) == []


def test_attributions() -> None:
    from wiretrace.core.attribution import attributions

    found = attributions("ALMATY (Reuters) - Over 3,000 detained, Khabar 24 reported, citing the Interior Ministry.")
    assert {"reuters", "khabar 24", "interior ministry"} <= found


@pytest.mark.parametrize("first", ["002", "004"])
def test_statements_are_listed_in_the_order_they_are_in_the_text(engine: Wiretrace, first: str) -> None:
    drafts = {d.article_id: d for d in seed_drafts()}
    for article_id in ("002", "004"):
        engine.ingest(drafts[article_id])
    quoted = {i: [line for line in drafts[i].text.split("\n") if len(line.split()) > 12][2:4] for i in ("002", "004")}
    second = "004" if first == "002" else "002"
    filler = "The city council met on Tuesday to discuss the budget for the new library and the old bridge."
    bakery = "A local bakery won a regional prize for its rye bread."
    host = "\n".join([filler, *quoted[first], bakery, *quoted[second]])
    result = engine.ingest(ArticleDraft("host", host, source="Gazette"))
    assert [c.root_id for c in result.statements] == [first, second]
    assert [c.root_id for c in engine.clusters_of("host")] == ["host", first, second]
