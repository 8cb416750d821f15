"""One contract, every storage backend: SQLite, a Redis node and a 3-master Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from boilerplate_stories import LIMIT, QUOTED, quoting_story, sharing, wire_story, with_funding_note
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.errors import IndexMismatch
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import (
    Article,
    ArticleDraft,
    ClusterKind,
    ClusterSummary,
    Match,
    MatchEdge,
    MatchKind,
    Membership,
    PassageKind,
    SharedPassage,
)
from wiretrace.core.ports import ArticleRecord, ChangeSet, IndexIdentity, Storage
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.memory import MemoryStorage
from wiretrace.storage.redis import RedisStorage
from wiretrace.storage.sqlite import SqliteStorage

from seeds import TOKAYEV_VERBATIM, seed_drafts, syndicated_copy

IDENTITY = IndexIdentity("test-v1", 8, 1, 5, 4, 2, 2, 4)
PARAMETERS = {"num_perm": 8, "shingle_size": 5, "semantic": False}
Factory = Callable[[], Storage]


def _factories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Builds storages on one shared store (two calls = two handles on the same data)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    opened: list[Storage] = []

    shared_memory = MemoryStorage()

    def factory() -> Storage:
        if request.param == "memory":  # one store in this process: every handle is the same object
            return shared_memory
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


@pytest.fixture(params=["memory", "sqlite", "redis", "redis-cluster"])
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


def test_a_replaced_or_deleted_record_is_read_anew(storage: Storage) -> None:
    """Records read before a write are never served after it (a store that owns its data keeps
    decoded records: the write must drop them)."""
    storage.apply(ChangeSet(records=[_record("a", "c", [1, 2, 3, 4], [], 1), _record("b", "c", [5, 6, 7, 8], [], 2)]))
    before = storage.get_records(["a", "b"])
    assert set(storage.get_articles(["a", "b"])) == {"a", "b"}
    replacement = _record("a", "c2", [9, 10, 11, 12], [[20, 21, 22, 23]], 3)
    replacement = replace(replacement, article=replace(replacement.article, text="the replaced text"))
    storage.apply(ChangeSet(deletes=["a", "b"], records=[replacement]))
    after = storage.get_records(["a", "b", "a"])
    assert set(after) == {"a"}
    assert after["a"].article.text == "the replaced text" and after["a"].article.cluster_id == "c2"
    assert after["a"].article.seq > before["a"].article.seq
    assert np.array_equal(after["a"].passage_keys, replacement.passage_keys)
    assert after["a"].features == replacement.features
    assert {i: a.text for i, a in storage.get_articles(["a", "b"]).items()} == {"a": "the replaced text"}
    storage.apply(ChangeSet(deletes=["a"]))
    assert storage.get_records(["a"]) == {} and storage.get_articles(["a"]) == {}


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
    assert storage.candidates(np.array([9, 9, 3, 9], dtype=np.uint64), none, 10) == ["a"]
    both = np.array([[0, 0, 0, 13]], dtype=np.uint64)
    assert storage.candidates(np.array([99, 98, 97, 96], dtype=np.uint64), both, 10) == ["a", "b"]  # earlier first
    assert storage.candidates(np.array([99, 98, 97, 96], dtype=np.uint64), both, 1) == ["a"]
    # Ranked by shared buckets: b shares three here, a one.
    assert storage.candidates(np.array([5, 6, 3, 99], dtype=np.uint64), both, 10) == ["b", "a"]
    assert storage.candidates(np.array([99, 98, 97, 96], dtype=np.uint64), none, 10) == []
    assert storage.buckets_hold("a", np.array([1, 0, 0, 0], dtype=np.uint64), none)
    assert not storage.buckets_hold("a", np.array([5, 0, 0, 0], dtype=np.uint64), none)
    storage.apply(ChangeSet(deletes=["a", "never-stored"]))
    keys = np.array([1, 2, 3, 4], dtype=np.uint64)
    assert storage.candidates(keys, np.array([[10, 11, 12, 13]], dtype=np.uint64), 10) == ["b"]
    assert not storage.buckets_hold("a", keys, none)
    assert storage.get_articles(["a"]) == {}
    assert storage.stats().articles == 1


def test_fingerprint_counts_per_outlet(storage: Storage) -> None:
    first = _record("a", "c", [1, 2, 3, 4], [[1, 1, 1, 1]], 0)
    second = _record("b", "d", [5, 6, 7, 8], [[2, 2, 2, 2], [3, 3, 3, 3]], 0)
    storage.apply(ChangeSet(records=[first, second]))
    assert storage.fingerprint_counts([100, 101, 999], 10, "wire") == {100: 2, 101: 1, 999: 0}
    assert storage.fingerprint_counts([100], 10, "elsewhere") == {100: 0}
    assert storage.fingerprint_counts([100], 1, "wire")[100] >= 1  # counted up to the cap at least
    storage.apply(ChangeSet(deletes=["b"]))
    assert storage.fingerprint_counts([100, 101], 10, "wire") == {100: 1, 101: 0}


def _carrying(article_id: str, story: str, fingerprints: list[int]) -> ArticleRecord:
    """An article of story cluster ``story`` ("": of none) whose passages have these wordings."""
    record = _record(article_id, story, [1, 2, 3, 4], [[9, 9, 9, 9]] * len(fingerprints))
    return replace(record, passage_fingerprints=tuple(fingerprints))


def test_story_counts_count_stories_not_copies(storage: Storage) -> None:
    storage.apply(
        ChangeSet(
            records=[
                _carrying("a", "s1", [7, 9]),
                _carrying("b", "s1", [7, 7]),  # a wording twice in one article counts once
                _carrying("c", "s2", [7, 2**64 - 1]),
            ]
        )
    )
    storage.apply(ChangeSet(records=[_carrying("d", "s1", [7, 9]), _carrying("alone", "", [7, 8])]))
    assert storage.story_counts([7, 8, 9, 2**64 - 1, 10], 10) == {7: 3, 8: 1, 9: 1, 2**64 - 1: 1, 10: 0}
    assert storage.story_counts([7], 2) == {7: 2}  # up to the cap
    assert storage.story_counts([7], -1) == {7: 3}  # no cap
    pairs = [(7, "s1"), (7, "s2"), (9, "s1"), (7, "article:alone"), (8, "s1")]
    assert storage.story_carriers(pairs) == {
        (7, "s1"): 3,
        (7, "s2"): 1,
        (9, "s1"): 2,
        (7, "article:alone"): 1,  # an article in no story cluster is a story of its own
        (8, "s1"): 0,
    }
    storage.apply(ChangeSet(deletes=["a", "c"]))  # s1 keeps two carriers of 7, s2 had one
    assert storage.story_counts([7, 9, 2**64 - 1], 10) == {7: 2, 9: 1, 2**64 - 1: 0}
    assert storage.story_carriers([(7, "s1"), (7, "s2"), (9, "s1")]) == {(7, "s1"): 2, (7, "s2"): 0, (9, "s1"): 1}
    storage.apply(ChangeSet(deletes=["b", "d", "alone"]))
    assert storage.story_counts([7, 8, 9], 10) == {7: 0, 8: 0, 9: 0}
    assert storage.story_carriers([(7, "s1"), (8, "article:alone")]) == {(7, "s1"): 0, (8, "article:alone"): 0}


def test_matches_read_before_a_write_are_read_anew(storage: Storage) -> None:
    """An article's matches read before its edges change, or before a matched article is deleted,
    are never served after it (a store that owns its data keeps them decoded)."""
    records = [_record(i, "k1", [n, n + 10, n + 20, n + 30], [], n) for n, i in enumerate(["x", "y", "z"])]
    storage.apply(ChangeSet(records=records, edges=[_edge("z", "y")]))
    assert storage.matches_of("x") == [] and [e.matched_id for e in storage.matches_of("z")] == ["y"]
    storage.apply(ChangeSet(edges=[_edge("x", "y"), _edge("z", "x")]))  # e.g. a snapshot import
    assert [e.matched_id for e in storage.matches_of("x")] == ["y"]
    assert sorted(e.matched_id for e in storage.matches_of("z")) == ["x", "y"]
    storage.apply(ChangeSet(deletes=["y"]))
    assert storage.matches_of("x") == [] and [e.matched_id for e in storage.matches_of("z")] == ["x"]


def _member(
    cluster: str, article: str, when: int, parent: str = "", kind: ClusterKind = ClusterKind.STORY
) -> Membership:
    evidence = _edge(article, parent).evidence if parent else None
    return Membership(cluster, article, kind, (when, 1000 + when, article), parent, evidence, "why", (when, when + 5))


def _summary(cluster: str, root: str, when: int, count: int, kind: ClusterKind = ClusterKind.STORY) -> ClusterSummary:
    return ClusterSummary(cluster, kind, root, (when, 1000 + when, root), count)


def test_edges_and_stats(storage: Storage) -> None:
    records = [_record(i, "k1", [n, n + 10, n + 20, n + 30], [], n) for n, i in enumerate(["x", "y", "z", "w"])]
    storage.apply(ChangeSet(records=records, edges=[_edge("y", "x"), _edge("z", "y")]))
    edges = storage.edges_of(["y"])
    assert sorted((e.query_id, e.matched_id) for e in edges) == [("y", "x"), ("z", "y")]
    assert edges[0].evidence.passages[0].kind is PassageKind.VARIANT
    assert len(storage.edges_of(["x", "y", "z"])) == 2
    assert [(e.query_id, e.matched_id) for e in storage.matches_of("y")] == [("y", "x")]
    assert storage.matches_of("x") == []
    assert storage.stats().edges == 2
    storage.apply(ChangeSet(deletes=["y"]))
    assert storage.edges_of(["x", "z"]) == [] and storage.matches_of("z") == []
    assert storage.stats().edges == 0


def test_memberships_and_cluster_summaries(storage: Storage) -> None:
    records = [_record(i, "k1", [n, n + 10, n + 20, n + 30], [], n) for n, i in enumerate(["x", "y", "z", "w"])]
    statement = ClusterKind.STATEMENT
    storage.apply(
        ChangeSet(
            records=records,
            memberships=[
                _member("k1", "x", 1),
                _member("k1", "y", 3, parent="x"),
                _member("k1", "z", 2, parent="x"),
                _member("k2", "w", 0),
                _member("s1", "x", 1, kind=statement),
                _member("s1", "w", 0, parent="", kind=statement),
            ],
            clusters=[_summary("k1", "x", 1, 3), _summary("k2", "w", 0, 1), _summary("s1", "w", 0, 2, statement)],
        )
    )
    assert [m.article_id for m in storage.cluster_page("k1", None, 10)] == ["x", "z", "y"]  # lineage order
    first = storage.cluster_page("k1", None, 2)
    assert [m.article_id for m in storage.cluster_page("k1", first[-1].order, 2)] == ["y"]
    (y,) = [m for m in first + storage.cluster_page("k1", first[-1].order, 2) if m.article_id == "y"]
    assert (y.parent_id, y.reason, y.span, y.kind) == ("x", "why", (3, 8), ClusterKind.STORY)
    assert y.evidence is not None and y.evidence.passages[0].kind is PassageKind.VARIANT
    assert sorted(m.article_id for m in storage.children("k1", "x")) == ["y", "z"]
    assert sorted((m.cluster_id, m.kind) for m in storage.memberships_of(["x"])) == [
        ("k1", ClusterKind.STORY),
        ("s1", statement),
    ]
    summaries = storage.cluster_summaries(["k1", "s1", "missing"])
    assert summaries["k1"] == _summary("k1", "x", 1, 3) and summaries["s1"].kind is statement
    assert [c.cluster_id for c in storage.list_clusters("", 10)] == ["k1", "s1"]  # two or more members
    assert [c.cluster_id for c in storage.list_clusters("k1", 10)] == ["s1"]
    assert storage.stats().clusters == 2
    storage.apply(
        ChangeSet(
            memberships=[_member("k1", "z", 2)],  # replaced: no parent any more
            removed_memberships=[("k1", "y"), ("s1", "w"), ("s1", "x")],
            clusters=[_summary("k1", "x", 1, 2)],
            removed_clusters=["s1"],
        )
    )
    assert [(m.article_id, m.parent_id) for m in storage.cluster_page("k1", None, 10)] == [("x", ""), ("z", "")]
    assert storage.children("k1", "x") == []
    assert storage.cluster_summaries(["s1"]) == {} and storage.memberships_of(["w"])[0].cluster_id == "k2"
    assert storage.stats().clusters == 1


def test_list_clusters_pages(storage: Storage) -> None:
    summaries = [_summary(f"k{n}", f"m{n}", n, 2) for n in range(4)] + [_summary("k9", "m9", 9, 1)]
    storage.apply(ChangeSet(clusters=summaries))
    assert [c.cluster_id for c in storage.list_clusters("", 2)] == ["k0", "k1"]
    assert [c.cluster_id for c in storage.list_clusters("k1", 10)] == ["k2", "k3"]


def test_two_replicas_see_each_others_writes(make_shared_storage: Factory) -> None:
    first, second = make_shared_storage(), make_shared_storage()
    first.open(IDENTITY, PARAMETERS)
    second.open(IDENTITY, PARAMETERS)
    first.apply(ChangeSet(records=[_record("from-first", "c", [1, 2, 3, 4], [], 1)]))
    assert set(second.get_articles(["from-first"])) == {"from-first"}
    assert second.candidates(np.array([1, 0, 0, 0], dtype=np.uint64), np.empty((0, 4), dtype=np.uint64), 10) == [
        "from-first"
    ]


def test_a_replica_reads_the_records_another_replaced(make_shared_storage: Factory) -> None:
    first, second = make_shared_storage(), make_shared_storage()
    first.open(IDENTITY, PARAMETERS)
    second.open(IDENTITY, PARAMETERS)
    first.apply(ChangeSet(records=[_record("a", "c", [1, 2, 3, 4], [], 1)]))
    assert second.get_records(["a"])["a"].article.cluster_id == "c"
    first.apply(ChangeSet(deletes=["a"], records=[_record("a", "c2", [1, 2, 3, 4], [], 2)]))
    assert second.get_records(["a"])["a"].article.cluster_id == "c2"
    first.apply(ChangeSet(deletes=["a"]))
    assert second.get_records(["a"]) == {} and second.get_articles(["a"]) == {}


def test_engine_on_the_seeds(make_storage: Factory) -> None:
    engine = Wiretrace(make_storage())
    for draft in seed_drafts():
        engine.ingest(draft)
    assert _statement_members(engine, "003") == {"000", "001", "003"}
    (match,) = [m for m in engine.find_matches(article_id="001").matches if m.article_id == "000"]
    text_001 = engine.get("001").text
    assert any(
        TOKAYEV_VERBATIM in text_001[p.query_start : p.query_end] and p.kind is PassageKind.VERBATIM
        for p in match.passages
    )
    assert check_consistency(engine) == []
    engine.delete("003")
    assert _statement_members(engine, "001") == {"000", "001"}
    assert check_consistency(engine) == []


def _statement_members(engine: Wiretrace, article_id: str) -> set[str]:
    """Members of the statement cluster the article carries (the seeds quote one statement)."""
    (statement,) = [c for c in engine.clusters_of(article_id) if c.kind is ClusterKind.STATEMENT]
    return {a.article_id for a in engine.cluster(statement.cluster_id).members}


def test_replicas_share_matches_and_lineage(make_shared_storage: Factory) -> None:
    first, second = Wiretrace(make_shared_storage()), Wiretrace(make_shared_storage())
    drafts = seed_drafts()
    for number, draft in enumerate(drafts):
        (first if number % 2 else second).ingest(draft)
    for article_id in ("000", "001", "003"):
        assert {m.article_id for m in first.find_matches(article_id=article_id).matches} == {
            m.article_id for m in second.find_matches(article_id=article_id).matches
        }
    assert first.clusters_of("003") == second.clusters_of("003")
    second.delete("003")
    assert _statement_members(first, "001") == {"000", "001"}
    assert check_consistency(first) == []


def _replace_under_a_reader(reader: Wiretrace, writer: Wiretrace) -> None:
    """``reader`` verifies a copy against a stored story (reading its record); ``writer`` replaces
    the story with another text, then deletes it: ``reader`` never matches the old text again."""
    seeds = seed_drafts()
    story, other = seeds[4].text, seeds[2].text
    writer.ingest(ArticleDraft("story", story))
    assert [m.article_id for m in reader.ingest(ArticleDraft("copy1", syndicated_copy(1, story))).matches] == ["story"]
    writer.ingest(ArticleDraft("story", other), replace_existing=True)
    assert [m.article_id for m in reader.ingest(ArticleDraft("copy2", syndicated_copy(2, story))).matches] == ["copy1"]
    report = reader.find_matches(text=other)
    assert [m.article_id for m in report.matches] == ["story"] and report.matched_texts["story"] == other
    writer.delete("story")
    assert reader.find_matches(text=other).matches == ()
    assert check_consistency(reader) == []


def test_a_replaced_article_is_never_matched_by_its_old_text(make_storage: Factory) -> None:
    engine = Wiretrace(make_storage())
    _replace_under_a_reader(engine, engine)


def test_replicas_match_the_text_another_replaced(make_shared_storage: Factory) -> None:
    _replace_under_a_reader(Wiretrace(make_shared_storage()), Wiretrace(make_shared_storage()))


def test_a_thousand_copies_page_and_re_root(make_storage: Factory) -> None:
    """A story syndicated 999 times: root and size right, paging complete and stable, the root's
    delete re-roots it, and check finds it consistent (issue 13), on every backend."""
    engine = Wiretrace(make_storage())
    story, start = seed_drafts()[4].text, datetime(2022, 1, 7, tzinfo=UTC)
    original = ArticleDraft("original", story, source="Wire", publish_time=start)
    copies = [
        ArticleDraft(
            f"copy{n:04d}", syndicated_copy(n, story), source=f"Outlet {n}", publish_time=start + timedelta(minutes=n)
        )
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


def test_a_wire_story_over_the_boilerplate_limit_keeps_its_quoted_paragraph(make_storage: Factory) -> None:
    """Copies of one story count as one story towards boilerplate, and unrelated stories each
    count (tests/core/test_boilerplate.py), on every backend."""
    engine = Wiretrace(make_storage(), IndexSettings(boilerplate_stories=LIMIT))
    ingested = engine.ingest_batch([IngestRequest(d) for d in wire_story()[:3]])
    assert all(not isinstance(r, Exception) for r in ingested)
    for draft in wire_story()[3:]:
        engine.ingest(draft)
    quoting = quoting_story()
    assert sharing(engine.ingest(quoting).matches, quoting.text, QUOTED)
    for number in range(LIMIT):
        engine.ingest(with_funding_note(number))
    assert engine.ingest(with_funding_note(LIMIT)).matches == ()
    engine.delete("wire")
    assert check_consistency(engine) == []
