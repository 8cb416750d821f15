"""One contract, every storage backend: SQLite, a Redis node and a 3-master Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import IndexMismatch
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import Article, Match, MatchEdge, MatchKind, PassageKind, SharedPassage
from wiretrace.core.ports import ArticleRecord, ChangeSet, IndexIdentity, Storage
from wiretrace.storage.redis import RedisStorage
from wiretrace.storage.sqlite import SqliteStorage

from seeds import TOKAYEV_VERBATIM, seed_drafts

IDENTITY = IndexIdentity("test-v1", 8, 1, 5, 4, 2, 2, 4)
PARAMETERS = {"num_perm": 8, "shingle_size": 5, "semantic": False}
Factory = Callable[[], Storage]


def _factories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Builds storages on one shared store (two calls = two handles on the same data)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    opened: list[Storage] = []

    def factory() -> Storage:
        if request.param == "sqlite":
            storage: Storage = SqliteStorage(tmp_path)
        elif request.param == "redis":
            storage = RedisStorage(request.getfixturevalue("redis_url"), prefix=prefix)
        else:
            storage = RedisStorage(request.getfixturevalue("redis_cluster_url"), cluster=True, prefix=prefix)
        opened.append(storage)
        return storage

    yield factory
    for storage in opened:
        storage.close()


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    yield from _factories(request, tmp_path)


@pytest.fixture(params=["redis", "redis-cluster"])
def make_shared_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Backends that several service replicas share (the embedded one belongs to one process)."""
    yield from _factories(request, tmp_path)


@pytest.fixture
def storage(make_storage: Factory) -> Storage:
    opened = make_storage()
    opened.open(IDENTITY, PARAMETERS)
    return opened


def _record(article_id: str, cluster: str, keys: list[int], passages: list[list[int]], seq: int = 0) -> ArticleRecord:
    article = Article(
        article_id=article_id,
        text=f"text of {article_id} ünïcode",
        title=f"title {article_id}",
        source="wire",
        url=f"https://example.org/{article_id}",
        publish_time=datetime(2022, 1, 7, 12, 30, 15, 250000, tzinfo=UTC) if article_id != "undated" else None,
        language="en",
        create_time=datetime(2026, 11, 22, 10, 0, seq, tzinfo=UTC),
        content_sha256="ab" * 32,
        cluster_id=cluster,
        seq=0,
    )
    return ArticleRecord(
        article=article,
        document_signature=np.arange(8, dtype=np.uint32) + seq,
        document_keys=np.array(keys, dtype=np.uint64),
        passage_keys=np.array(passages, dtype=np.uint64).reshape(len(passages), 4),
        passage_fingerprints=tuple(range(100 + seq, 100 + seq + len(passages))),
        features=bytes([seq, 0, 255]) * seq,
    )


def _edge(query: str, matched: str) -> MatchEdge:
    passage = SharedPassage(1, 10, 2, 11, PassageKind.VARIANT, 0.75)
    return MatchEdge(query, matched, Match(matched, MatchKind.REUSED_PASSAGE, 0.5, 0.1, 0.05, 0.2, 0.3, (passage,)))


def test_identity_is_checked(make_storage: Factory) -> None:
    first = make_storage()
    first.open(IDENTITY, PARAMETERS)
    first.close()
    second = make_storage()
    with pytest.raises(IndexMismatch):
        second.open(IndexIdentity("other-v2", 8, 1, 5, 4, 2, 2, 4), PARAMETERS)


def test_a_store_remembers_its_parameters(make_storage: Factory) -> None:
    new = make_storage()
    assert not new.exists()
    assert new.saved_parameters() is None
    new.open(IDENTITY, PARAMETERS)
    new.close()
    again = make_storage()
    assert again.exists()
    assert again.saved_parameters() == PARAMETERS
    again.open(IDENTITY, {**PARAMETERS, "shingle_size": 9})  # the first parameters stay
    assert again.saved_parameters() == PARAMETERS


def test_records_round_trip(storage: Storage) -> None:
    records = [
        _record("a", "c1", [1, 2, 3, 2**64 - 1], [[10, 11, 12, 13], [14, 15, 16, 17]], 1),
        _record("undated", "c2", [4, 5, 6, 7], [], 2),
    ]
    storage.apply(ChangeSet(records=records))
    got = storage.get_records(["a", "undated", "missing"])
    assert set(got) == {"a", "undated"}
    for original in records:
        stored = got[original.article.article_id]
        assert (
            stored.article == original.article.__class__(**{**original.article.__dict__, "seq": stored.article.seq})
            if hasattr(original.article, "__dict__")
            else True
        )
        for field in ("article_id", "text", "title", "source", "url", "publish_time", "language", "create_time",
                      "content_sha256", "cluster_id"):  # fmt: skip
            assert getattr(stored.article, field) == getattr(original.article, field), field
        assert np.array_equal(stored.document_signature, original.document_signature)
        assert np.array_equal(stored.document_keys, original.document_keys)
        assert np.array_equal(stored.passage_keys.reshape(-1), original.passage_keys.reshape(-1))
        assert stored.passage_fingerprints == original.passage_fingerprints
        assert stored.features == original.features
    assert got["a"].article.seq < got["undated"].article.seq
    assert set(storage.get_articles(["a", "missing"])) == {"a"}


def test_listing_in_ingest_order(storage: Storage) -> None:
    for number in range(7):
        storage.apply(ChangeSet(records=[_record(f"n{number}", f"c{number}", [number, 50, 60, 70], [], number)]))
    first = storage.list_articles(0, 3)
    assert [a.article_id for a in first] == ["n0", "n1", "n2"]
    rest = storage.list_articles(first[-1].seq, 10)
    assert [a.article_id for a in rest] == ["n3", "n4", "n5", "n6"]
    assert [a.article_id for a in storage.iter_articles(batch_size=2)] == [f"n{i}" for i in range(7)]
    assert storage.stats().articles == 7


def test_candidates_and_deletes(storage: Storage) -> None:
    storage.apply(
        ChangeSet(
            records=[
                _record("a", "c", [1, 2, 3, 4], [[10, 11, 12, 13]], 1),
                _record("b", "c", [5, 6, 7, 8], [[20, 21, 22, 13]], 2),
            ]
        )
    )
    none = np.empty((0, 4), dtype=np.uint64)
    assert storage.candidates(np.array([9, 9, 3, 9], dtype=np.uint64), none) == {"a"}
    assert storage.candidates(
        np.array([99, 98, 97, 96], dtype=np.uint64), np.array([[0, 0, 0, 13]], dtype=np.uint64)
    ) == {
        "a",
        "b",
    }
    assert storage.candidates(np.array([99, 98, 97, 96], dtype=np.uint64), none) == set()
    storage.apply(ChangeSet(deletes=["a", "never-stored"]))
    assert storage.candidates(
        np.array([1, 2, 3, 4], dtype=np.uint64), np.array([[10, 11, 12, 13]], dtype=np.uint64)
    ) == {"b"}
    assert storage.get_articles(["a"]) == {}
    assert storage.stats().articles == 1


def test_fingerprint_counts(storage: Storage) -> None:
    first = _record("a", "c", [1, 2, 3, 4], [[1, 1, 1, 1]], 0)
    second = _record("b", "d", [5, 6, 7, 8], [[2, 2, 2, 2], [3, 3, 3, 3]], 0)
    storage.apply(ChangeSet(records=[first, second]))
    assert storage.fingerprint_counts([100, 101, 999]) == {100: 2, 101: 1, 999: 0}
    assert storage.fingerprint_counts([100, 101], source="wire") == {100: 2, 101: 1}
    assert storage.fingerprint_counts([100], source="elsewhere") == {100: 0}
    storage.apply(ChangeSet(deletes=["b"]))
    assert storage.fingerprint_counts([100, 101]) == {100: 1, 101: 0}
    assert storage.fingerprint_counts([100, 101], source="wire") == {100: 1, 101: 0}


def test_edges_clusters_and_stats(storage: Storage) -> None:
    records = [_record(i, "solo-" + i, [n, n + 10, n + 20, n + 30], [], n) for n, i in enumerate(["x", "y", "z", "w"])]
    storage.apply(
        ChangeSet(
            records=records,
            edges=[_edge("y", "x"), _edge("z", "y")],
            cluster_labels={"x": "k1", "y": "k1", "z": "k1", "w": "k2"},
        )
    )
    edges = storage.edges_of(["y"])
    assert sorted((e.query_id, e.matched_id) for e in edges) == [("y", "x"), ("z", "y")]
    assert edges[0].evidence.passages[0].kind is PassageKind.VARIANT
    assert len(storage.edges_of(["x", "y", "z"])) == 2
    assert sorted(storage.cluster_members("k1")) == ["x", "y", "z"]
    assert storage.get_articles(["z"])["z"].cluster_id == "k1"
    assert storage.list_clusters("", 10) == ["k1"]
    stats = storage.stats()
    assert (stats.articles, stats.clusters, stats.edges) == (4, 1, 2)
    storage.apply(ChangeSet(deletes=["y"], cluster_labels={"z": "k3"}))
    assert storage.edges_of(["x", "z"]) == []
    assert storage.cluster_members("k1") == ["x"] and storage.cluster_members("k3") == ["z"]
    assert storage.list_clusters("", 10) == []
    assert storage.stats().edges == 0


def test_list_clusters_pages(storage: Storage) -> None:
    records = [_record(f"m{n}", f"k{n // 2}", [n, n + 100, n + 200, n + 300], [], n) for n in range(8)]
    storage.apply(ChangeSet(records=records))
    assert storage.list_clusters("", 2) == ["k0", "k1"]
    assert storage.list_clusters("k1", 10) == ["k2", "k3"]


def test_two_replicas_see_each_others_writes(make_shared_storage: Factory) -> None:
    first, second = make_shared_storage(), make_shared_storage()
    first.open(IDENTITY, PARAMETERS)
    second.open(IDENTITY, PARAMETERS)
    first.apply(ChangeSet(records=[_record("from-first", "c", [1, 2, 3, 4], [], 1)]))
    assert set(second.get_articles(["from-first"])) == {"from-first"}
    assert second.candidates(np.array([1, 0, 0, 0], dtype=np.uint64), np.empty((0, 4), dtype=np.uint64)) == {
        "from-first"
    }


def test_engine_on_the_seeds(make_storage: Factory) -> None:
    engine = Wiretrace(make_storage())
    for draft in seed_drafts():
        engine.ingest(draft)
    assert {m.article_id for m in engine.cluster_of("003").members} == {"000", "001", "003"}
    (match,) = [m for m in engine.find_matches(article_id="001").matches if m.article_id == "000"]
    text_001 = engine.get("001").text
    assert any(
        TOKAYEV_VERBATIM in text_001[p.query_start : p.query_end] and p.kind is PassageKind.VERBATIM
        for p in match.passages
    )
    assert check_consistency(engine) == []
    engine.delete("003")
    assert {m.article_id for m in engine.cluster_of("001").members} == {"000", "001"}
    assert check_consistency(engine) == []


def test_replicas_share_matches_and_lineage(make_shared_storage: Factory) -> None:
    first, second = Wiretrace(make_shared_storage()), Wiretrace(make_shared_storage())
    drafts = seed_drafts()
    for number, draft in enumerate(drafts):
        (first if number % 2 else second).ingest(draft)
    for article_id in ("000", "001", "003"):
        assert {m.article_id for m in first.find_matches(article_id=article_id).matches} == {
            m.article_id for m in second.find_matches(article_id=article_id).matches
        }
    assert first.cluster_of("003") == second.cluster_of("003")
    second.delete("003")
    assert {m.article_id for m in first.cluster_of("001").members} == {"000", "001"}
    assert check_consistency(first) == []
