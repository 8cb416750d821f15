"""Lineage clusters: one reused text each (a story or a statement), roots, parents and their reasons."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ArticleDraft, ClusterKind
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts

T0 = datetime(2022, 1, 7, tzinfo=UTC)
STORY = seed_drafts()[4].text  # a whole story, unrelated to the Tokayev statement


def _copy(number: int, text: str = STORY, edits: int = 3) -> str:
    words = text.split(" ")
    rng = random.Random(number)
    for _ in range(edits):
        words[rng.randrange(len(words))] = f"edit{number}"
    return " ".join(words)


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


def test_a_thousand_copies_page_and_re_root(engine: Wiretrace) -> None:
    original = ArticleDraft("original", STORY, source="Wire", publish_time=T0)
    copies = [
        ArticleDraft(f"copy{n:04d}", _copy(n), source=f"Outlet {n}", publish_time=T0 + timedelta(minutes=n))
        for n in range(1, 1000)
    ]
    engine.ingest(original)
    for start in range(0, len(copies), 100):
        results = engine.ingest_batch([IngestRequest(d) for d in copies[start : start + 100]])
        assert all(not isinstance(r, Exception) for r in results)
    last = results[-1]
    assert not isinstance(last, Exception)
    assert last.cluster.member_count == 1000 and last.cluster.root_id == "original"
    assert len(last.cluster.members) <= 2  # a summary: the article and its parent, never the member list
    seen: list[str] = []
    token = ""
    while True:
        page = engine.cluster_of("copy0500", page_size=128, page_token=token)
        seen += [a.article_id for a in page.members]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["original"] + [d.article_id for d in copies]  # complete, in lineage order, no repeats
    assert page.member_count == 1000
    engine.delete("original")
    cluster = engine.cluster_of("copy0500", page_size=5)
    assert cluster.root_id == "copy0001" and cluster.member_count == 999
    assert check_consistency(engine) == []


def test_attributions() -> None:
    from wiretrace.core.attribution import attributions

    found = attributions("ALMATY (Reuters) - Over 3,000 detained, Khabar 24 reported, citing the Interior Ministry.")
    assert {"reuters", "khabar 24", "interior ministry"} <= found
