"""Consistency check, re-indexing (with resume) and snapshot round trip."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from processes import run_cli
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.features import decode_features
from wiretrace.core.maintenance import (
    article_drafts,
    check_consistency,
    export_snapshot,
    import_snapshot,
    reindex,
)
from wiretrace.core.model import ArticleDraft, MatchEdge
from wiretrace.core.ports import ChangeSet
from wiretrace.core.record_codec import decode_article, encode_article
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import MANIFEST, seed_drafts, statement_of


def _seeded(path: Path, settings: IndexSettings | None = None) -> Wiretrace:
    engine = Wiretrace(SqliteStorage(path), settings)
    for draft in seed_drafts():
        engine.ingest(draft)
    return engine


def _state(engine: Wiretrace) -> dict[str, object]:
    articles = list(engine.storage.iter_articles())
    return {
        "articles": [(a.article_id, a.content_sha256, a.publish_time, a.create_time) for a in articles],
        "clusters": sorted(
            sorted(m.article_id for m in engine.cluster(c.cluster_id).members)
            for a in articles
            for c in engine.clusters_of(a.article_id)
        ),
        "matches": {
            a.article_id: [m.article_id for m in engine.find_matches(article_id=a.article_id).matches] for a in articles
        },
    }


def test_consistent_index_has_no_problems(tmp_path: Path) -> None:
    engine = _seeded(tmp_path)
    engine.delete("001")
    assert check_consistency(engine) == []
    engine.close()


def test_check_finds_a_wrong_cluster_label_and_a_dangling_edge(tmp_path: Path) -> None:
    _seeded(tmp_path).close()
    with closing(sqlite3.connect(tmp_path / "wiretrace.sqlite3")) as db, db:  # closed: opened exclusively
        seq, stored = db.execute("SELECT seq, article FROM articles WHERE article_id = '003'").fetchone()
        relabelled = replace(decode_article(stored, seq), cluster_id="elsewhere")
        db.execute("UPDATE articles SET article = ? WHERE article_id = '003'", (encode_article(relabelled),))
        db.execute("INSERT INTO edges VALUES ('ghost', '000', (SELECT evidence FROM edges LIMIT 1))")
    engine = Wiretrace(SqliteStorage(tmp_path))
    problems = check_consistency(engine)
    assert any("003: not a member of its story cluster elsewhere" in p for p in problems)
    assert any("ghost is not stored" in p for p in problems)
    engine.close()


def test_check_finds_story_counts_that_disagree_with_the_articles(tmp_path: Path) -> None:
    _seeded(tmp_path).close()
    with closing(sqlite3.connect(tmp_path / "wiretrace.sqlite3")) as db, db:
        fingerprint, story = db.execute("SELECT fingerprint, story FROM fingerprint_stories LIMIT 1").fetchone()
        db.execute(
            "UPDATE fingerprint_stories SET carriers = 2 WHERE fingerprint = ? AND story = ?", (fingerprint, story)
        )
        db.execute("INSERT INTO fingerprint_stories VALUES (?, 'a-story-long-gone', 1)", (fingerprint,))
    engine = Wiretrace(SqliteStorage(tmp_path))
    shown = f"{fingerprint % 2**64:016x}"
    assert sorted(check_consistency(engine)) == [
        f"passage wording {shown}: counted in 2 stories, its stored articles are in 1",
        f"passage wording {shown}: story {story} counts 2 carrier(s), 1 stored",
    ]
    engine.close()


def test_stored_features_are_used_for_verification_and_checked(tmp_path: Path) -> None:
    engine = _seeded(tmp_path)
    record = engine.storage.get_records(["000"])["000"]
    assert decode_features(record.features).shingles.size > 0
    engine.close()
    # Features of another article under 000 (the connection closed: the store is opened exclusively).
    with closing(sqlite3.connect(tmp_path / "wiretrace.sqlite3")) as db, db:
        db.execute(
            "UPDATE articles SET features = (SELECT features FROM articles WHERE article_id = '002') "
            "WHERE article_id = '000'"
        )
    engine = Wiretrace(SqliteStorage(tmp_path))
    assert any("000: stored features differ" in p for p in check_consistency(engine))
    # Verification reads them: 001 no longer finds its statement in 000, which now "holds" 002's text.
    assert "000" not in {m.article_id for m in engine.find_matches(article_id="001").matches}
    engine.close()


def test_reindex_with_new_parameters_and_resume(tmp_path: Path) -> None:
    source = _seeded(tmp_path / "old")
    drafts = list(article_drafts(source.storage.iter_articles()))
    source.close()
    settings = IndexSettings(shingle_size=4)
    checkpoint = tmp_path / "new" / "checkpoint.json"
    target = Wiretrace(SqliteStorage(tmp_path / "new"), settings, analysis_workers=2)

    class Interrupted(Exception):
        pass

    def interrupt_after_two(count: int) -> None:
        if count and target.storage.stats().articles >= 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        reindex(drafts, target, checkpoint=checkpoint, batch_size=2, progress=interrupt_after_two)
    assert json.loads(checkpoint.read_text())["done"] == 2
    report = reindex(drafts, target, checkpoint=checkpoint, batch_size=2)
    assert (report.read, report.skipped, report.ingested, report.rejected) == (5, 2, 3, [])
    assert target.stats().parameters["shingle_size"] == 4
    assert {m.article_id for m in statement_of(target, "003").members} == {"000", "001", "003"}
    assert check_consistency(target) == []
    target.close()


def test_after_a_reindex_in_place_the_store_serves_the_rebuilt_records(tmp_path: Path) -> None:
    engine = _seeded(tmp_path)
    old = engine.storage.get_records(["000"])["000"]  # read, so kept decoded by the engine's store
    engine.close()
    run_cli("reindex", "--data", str(tmp_path), "--shingle-size", "4", "--quiet", "--workers", "1")
    reopened = Wiretrace(SqliteStorage(tmp_path), IndexSettings(shingle_size=4))
    rebuilt = reopened.storage.get_records(["000"])["000"]
    assert rebuilt.features != old.features
    assert check_consistency(reopened) == []  # the stored keys and features are the new parameters'
    reopened.close()


def test_reindex_rejects_bad_archive_lines_but_keeps_going(tmp_path: Path) -> None:
    target = Wiretrace(SqliteStorage(tmp_path), analysis_workers=2)
    drafts = [*seed_drafts(), ArticleDraft("bad id", "some text"), ArticleDraft("empty", " ")]
    report = reindex(drafts, target, batch_size=3)
    assert report.ingested == 5 and [r[0] for r in report.rejected] == ["bad id", "empty"]
    target.close()


def test_snapshot_round_trip(tmp_path: Path) -> None:
    engine = _seeded(tmp_path / "a")
    before = _state(engine)
    buffer = io.StringIO()
    assert export_snapshot(engine, buffer) == 5
    engine.close()
    header = json.loads(buffer.getvalue().splitlines()[0])
    assert header["format"] == "wiretrace-snapshot" and header["version"] == 2
    restored = Wiretrace(SqliteStorage(tmp_path / "b"))
    assert import_snapshot(restored, io.StringIO(buffer.getvalue())) == 5
    assert _state(restored) == before
    assert check_consistency(restored) == []
    with pytest.raises(InvalidArgument):
        import_snapshot(restored, io.StringIO(buffer.getvalue()))
    restored.close()


def test_snapshot_rejects_other_files(tmp_path: Path) -> None:
    engine = Wiretrace(SqliteStorage(tmp_path))
    with pytest.raises(InvalidArgument):
        import_snapshot(engine, io.StringIO(MANIFEST.read_text()))
    engine.close()


def test_a_replace_in_the_same_batch_leaves_no_stale_edge(tmp_path: Path) -> None:
    """Issue 12 item 4: B, staged in a batch against stored A, must not keep its edge to A when A
    is replaced later in the same batch by an unrelated text."""
    drafts = {d.article_id: d for d in seed_drafts()}
    statement, unrelated = drafts["000"].text, drafts["004"].text
    engine = Wiretrace(SqliteStorage(tmp_path / "data"))
    engine.ingest(ArticleDraft("A", statement))
    filler = " ".join(f"Filler sentence number {n} talks about weather in town {n}." for n in range(400))
    engine.ingest_batch(
        [
            IngestRequest(ArticleDraft("F", filler)),
            IngestRequest(ArticleDraft("B", "Update. " + statement)),
            IngestRequest(ArticleDraft("A", unrelated), replace_existing=True),
        ]
    )
    assert check_consistency(engine) == []
    assert engine.storage.edges_of(["B"]) == []
    engine.ingest(ArticleDraft("C", unrelated + " " + statement))
    assert check_consistency(engine) == []
    for edge in engine.cluster_of("B").edges:
        assert {edge.parent_id, edge.child_id} != {"A", "B"}


def test_check_finds_evidence_that_no_longer_holds(tmp_path: Path) -> None:
    drafts = seed_drafts()
    engine = Wiretrace(SqliteStorage(tmp_path / "data"))
    for draft in drafts:
        engine.ingest(draft)
    # An edge between two unrelated stored articles, as a torn or stale write would leave.
    edge = engine.storage.edges_of(["001"])[0]
    engine.restore(ChangeSet(edges=[MatchEdge("002", "004", replace(edge.evidence, article_id="004"))]))
    assert any("edge 002 -> 004: its evidence no longer holds" in p for p in check_consistency(engine))
