"""The use cases end to end in process, on the embedded backend."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from wiretrace.core.analysis import analyse_text
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.errors import (
    ArticleAlreadyExists,
    ArticleNotFound,
    ArticleTooLarge,
    ClusterNotFound,
    IndexMismatch,
    InvalidArgument,
)
from wiretrace.core.features import decode_sentence_sets, encode_features
from wiretrace.core.matching import screen, verify
from wiretrace.core.model import ArticleDraft, ClusterKind, IngestOutcome, MatchKind, PassageKind
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import BOILERPLATE, TOKAYEV_VERBATIM, seed_drafts, statement_of


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Wiretrace]:
    index = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000))
    yield index
    index.close()


@pytest.fixture
def seeded(engine: Wiretrace) -> Wiretrace:
    for draft in seed_drafts():
        engine.ingest(draft)
    return engine


def test_verbatim_statement_links_000_and_001_with_offsets(seeded: Wiretrace) -> None:
    text_000, text_001 = seeded.get("000").text, seeded.get("001").text
    (match,) = [m for m in seeded.find_matches(article_id="001").matches if m.article_id == "000"]
    assert match.kind is MatchKind.REUSED_PASSAGE
    verbatim = [p for p in match.passages if p.kind is PassageKind.VERBATIM]
    assert verbatim, match
    passage = verbatim[0]
    assert TOKAYEV_VERBATIM in text_001[passage.query_start : passage.query_end]
    assert TOKAYEV_VERBATIM in text_000[passage.matched_start : passage.matched_end]
    assert 0 <= match.estimated_jaccard < 0.2 and 0 < match.jaccard < 0.5


def test_three_versions_of_the_statement_form_one_cluster(seeded: Wiretrace) -> None:
    assert seeded.cluster_of("003").member_count == 1  # 003 is the Reuters story it is
    cluster = statement_of(seeded, "003")
    assert {m.article_id for m in cluster.members} == {"000", "001", "003"}
    assert cluster.root_id == "000"  # published 2022-01-07 00:00, ingested before 003
    assert {e.child_id for e in cluster.edges} == {"001", "003"}
    for edge in cluster.edges:
        assert edge.evidence.passages and edge.reason


def test_boilerplate_is_never_reported_as_reuse(seeded: Wiretrace) -> None:
    for article_id in ("000", "001", "002", "003", "004"):
        text = seeded.get(article_id).text
        for match in seeded.find_matches(article_id=article_id).matches:
            other = seeded.get(match.article_id).text
            for passage in match.passages:
                shared = (
                    text[passage.query_start : passage.query_end] + other[passage.matched_start : passage.matched_end]
                )
                assert not any(phrase in shared for phrase in BOILERPLATE)
    assert seeded.cluster_of("004").members[0].article_id == "004"
    assert len(seeded.cluster_of("004").members) == 1


def test_find_matches_for_unstored_text(seeded: Wiretrace) -> None:
    text = "Officials said: the constitutional order has been mostly restored in all regions of the country."
    matches = seeded.find_matches(text=text).matches
    assert {m.article_id for m in matches} >= {"000", "001"}
    assert seeded.stats().counts.articles == 5


def test_near_duplicate(engine: Wiretrace) -> None:
    original = seed_drafts()[3]
    engine.ingest(original)
    edited = original.text.replace("Friday", "Saturday").replace("ALMATY", "NUR-SULTAN")
    result = engine.ingest(ArticleDraft("copy", edited + "\nAdditional reporting by our desk."))
    (match,) = result.matches
    assert match.article_id == original.article_id
    assert match.kind is MatchKind.NEAR_DUPLICATE and match.jaccard > 0.7


def test_idempotent_ingest_returns_stored_result(seeded: Wiretrace) -> None:
    draft = next(d for d in seed_drafts() if d.article_id == "001")
    again = seeded.ingest(draft)
    assert again.outcome is IngestOutcome.UNCHANGED
    assert {m.article_id for m in again.matches} == {"000"}  # what it matched when it was ingested
    assert seeded.stats().counts.articles == 5


def test_conflicting_content_needs_replace(seeded: Wiretrace) -> None:
    changed = ArticleDraft("002", "A completely different story about rain in Lisbon and the tram network.")
    with pytest.raises(ArticleAlreadyExists):
        seeded.ingest(changed)
    result = seeded.ingest(changed, replace_existing=True)
    assert result.outcome is IngestOutcome.REPLACED
    assert seeded.get("002").text == changed.text


def test_replacing_a_linking_article_reindexes_it(seeded: Wiretrace) -> None:
    result = seeded.ingest(ArticleDraft("001", "Nothing to see here at all, just weather."), replace_existing=True)
    assert result.matches == ()
    assert len(seeded.cluster_of("001").members) == 1
    assert [c.kind for c in seeded.clusters_of("001")] == [ClusterKind.STORY]
    assert {m.article_id for m in statement_of(seeded, "000").members} == {"000", "003"}


def test_delete_removes_article_edges_and_splits_cluster(seeded: Wiretrace) -> None:
    cluster_id = statement_of(seeded, "000").cluster_id
    seeded.delete("003")
    with pytest.raises(ArticleNotFound):
        seeded.get("003")
    assert all(m.article_id != "003" for m in seeded.find_matches(article_id="001").matches)
    assert {m.article_id for m in seeded.cluster(cluster_id).members} == {"000", "001"}
    seeded.delete("001")
    assert [m.article_id for m in seeded.cluster(cluster_id).members] == ["000"]
    assert seeded.stats().counts.edges == 0
    with pytest.raises(ArticleNotFound):
        seeded.delete("001")


def test_batch_members_see_each_other_and_errors_stay_per_item(engine: Wiretrace) -> None:
    drafts = seed_drafts()
    requests = [IngestRequest(d) for d in drafts]
    requests.insert(2, IngestRequest(ArticleDraft("bad id!", "text")))
    requests.insert(3, IngestRequest(ArticleDraft("blank", "   \n ")))
    results = engine.ingest_batch(requests)
    assert isinstance(results[2], InvalidArgument) and isinstance(results[3], InvalidArgument)
    stored = [r for r in results if not isinstance(r, Exception)]
    assert len(stored) == 5
    assert {m.article_id for m in statement_of(engine, "003").members} == {"000", "001", "003"}


def test_duplicate_id_inside_one_batch(engine: Wiretrace) -> None:
    first, second = ArticleDraft("x", "One text about harbours and ships."), ArticleDraft("x", "Another text.")
    results = engine.ingest_batch([IngestRequest(first), IngestRequest(second), IngestRequest(first)])
    assert isinstance(results[1], ArticleAlreadyExists)
    assert [r.outcome for r in results if not isinstance(r, Exception)] == [
        IngestOutcome.CREATED,
        IngestOutcome.UNCHANGED,
    ]


@pytest.mark.parametrize(
    ("draft", "error"),
    [
        (ArticleDraft("", "text"), InvalidArgument),
        (ArticleDraft("a/b", "text"), InvalidArgument),
        (ArticleDraft("x" * 129, "text"), InvalidArgument),
        (ArticleDraft("ok", ""), InvalidArgument),
        (ArticleDraft("ok", " \t\n"), InvalidArgument),
        (ArticleDraft("ok", "bell \x07 inside"), InvalidArgument),
        (ArticleDraft("ok", "x" * 20_001), ArticleTooLarge),
        (ArticleDraft("ok", "text", language="not a tag"), InvalidArgument),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    engine: Wiretrace, draft: ArticleDraft, error: type[Exception]
) -> None:
    with pytest.raises(error):
        engine.ingest(draft)
    assert engine.stats().counts.articles == 0


def test_paging(seeded: Wiretrace) -> None:
    first = seeded.list_articles(page_size=2)
    assert [a.article_id for a in first.items] == ["000", "001"] and first.total_size == 5
    second = seeded.list_articles(page_size=2, page_token=first.next_page_token)
    third = seeded.list_articles(page_size=2, page_token=second.next_page_token)
    assert [a.article_id for a in second.items + third.items] == ["002", "003", "004"]
    assert third.next_page_token == ""
    with pytest.raises(InvalidArgument):
        seeded.list_articles(page_token="garbage")
    clusters = seeded.list_clusters()
    assert len(clusters.items) == 1 and clusters.next_page_token == ""
    with pytest.raises(ClusterNotFound):
        seeded.cluster("nope")


def test_state_survives_reopen(tmp_path: Path) -> None:
    engine = Wiretrace(SqliteStorage(tmp_path))
    for draft in seed_drafts():
        engine.ingest(draft)
    before = {m.article_id for m in engine.find_matches(article_id="003").matches}
    engine.close()
    reopened = Wiretrace(SqliteStorage(tmp_path))
    assert reopened.stats().counts.articles == 5
    assert {m.article_id for m in reopened.find_matches(article_id="003").matches} == before
    reopened.close()


FURNITURE = "Subscribe to our newsletter for the latest updates on politics, business and sport every morning."


def test_outlet_furniture_is_not_reuse(engine: Wiretrace) -> None:
    stories = [
        "Farmers in the north expect a record wheat harvest after a wet spring and a warm summer.",
        "The city council approved a new budget for schools, roads and public transport on Tuesday.",
        "A local football club signed two young players from the regional academy this week.",
        "Scientists at the university published a study on river pollution and fish populations.",
    ]
    for number, story in enumerate(stories[:3]):
        engine.ingest(ArticleDraft(f"site-{number}", f"{story}\n{FURNITURE}", source="Daily Example"))
    fourth = engine.ingest(ArticleDraft("site-3", f"{stories[3]}\n{FURNITURE}", source="Daily Example"))
    assert fourth.matches == ()  # the same outlet's furniture, 3 times before: not evidence
    other = engine.ingest(ArticleDraft("quote", f"Something else entirely.\n{FURNITURE}", source="Other Paper"))
    assert {m.article_id for m in other.matches} == {"site-0", "site-1", "site-2", "site-3"}  # another outlet


def test_analysis_in_worker_processes_gives_the_same_index(tmp_path: Path) -> None:
    drafts = seed_drafts()
    results = []
    for workers in (0, 1):
        index = Wiretrace(
            SqliteStorage(tmp_path / str(workers)), IndexSettings(max_text_chars=20_000), analysis_workers=workers
        )
        ingested = index.ingest_batch([IngestRequest(d) for d in drafts] + [IngestRequest(ArticleDraft("bad", " "))])
        assert isinstance(ingested[-1], InvalidArgument)  # rejected in validation, the rest still stored
        results.append(
            [(r.article.article_id, [(m.article_id, m.kind, m.passages) for m in r.matches]) for r in ingested[:-1]]  # type: ignore[union-attr]
        )
        index.close()
    assert results[0] == results[1]
    assert any(matches for _, matches in results[1])


def test_an_analysis_survives_the_trip_from_a_worker_process() -> None:
    settings = IndexSettings()
    for draft in seed_drafts():
        analysis = analyse_text(draft.text, settings)
        copy = pickle.loads(pickle.dumps(analysis))
        assert copy.stored_features == analysis.stored_features == encode_features(analysis.features)
        assert [(p.span, p.fingerprint, p.features.tolist()) for p in copy.features.passages] == [
            (p.span, p.fingerprint, p.features.tolist()) for p in analysis.features.passages
        ]
        for name in ("shingles", "flat_features", "flat_owners"):
            assert getattr(copy.features, name).tolist() == getattr(analysis.features, name).tolist()
        for name in ("document_signature", "document_keys", "passage_keys"):
            assert getattr(copy, name).tolist() == getattr(analysis, name).tolist()


def test_minhash_passage_index_with_fewer_permutations_has_fewer_bands_and_a_new_identity(tmp_path: Path) -> None:
    small = IndexSettings(passage_index="minhash", passage_num_perm=32, max_text_chars=20_000)
    assert small.passage_lsh.num_perm == 32 and small.passage_lsh.bands < IndexSettings().passage_lsh.bands
    index = Wiretrace(SqliteStorage(tmp_path), small)
    for draft in seed_drafts():
        result = index.ingest(draft)
        assert result.article.article_id == draft.article_id
    stored = index.storage.get_records(["001"])["001"]
    assert stored.passage_keys.shape[1] == small.passage_lsh.bands
    assert any(m.article_id == "000" for m in index.find_matches(article_id="001").matches)  # the verbatim statement
    index.close()
    with pytest.raises(IndexMismatch):
        Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000))


def test_cheap_sentence_test_never_drops_a_candidate_verification_accepts() -> None:
    """The screen is a necessary condition: a lexical passage needs a sentence aligned by words,
    and any other match but a shingle near-duplicate an undecided pair for meaning. Checked over
    every pair of seeds and of Clough-Stevenson-like rewrites (words dropped, sentences shuffled)."""
    settings = IndexSettings()
    rng = random.Random(3)
    texts = [draft.text for draft in seed_drafts()]
    for text in list(texts):
        sentences = text.split(". ")
        rng.shuffle(sentences)
        kept = [" ".join(w for w in s.split() if rng.random() > 0.3) for s in sentences]
        texts.append(". ".join(kept))
    analyses = [analyse_text(t, settings) for t in texts]
    stored = [decode_sentence_sets(encode_features(a.features)) for a in analyses]
    accepted = rejected = by_meaning = 0
    for query in analyses:
        found = screen(query.features, stored, settings)
        for other, words, closeness in zip(analyses, found.by_words.tolist(), found.undecided.tolist(), strict=True):
            match = verify(
                "x", query.features, query.document_signature, other.features, other.document_signature, settings
            )
            by_shingles = match is not None and match.jaccard >= settings.near_duplicate_jaccard
            lexical = match is not None and (match.passages or not by_shingles)
            assert words or not lexical or closeness > 0
            assert words or closeness > 0 or match is None or by_shingles
            accepted += words
            by_meaning += closeness > 0
            rejected += not words and not closeness
    assert accepted and rejected and by_meaning


def test_a_copy_in_the_same_batch_is_not_crowded_out_by_stored_candidates(tmp_path: Path) -> None:
    """With the candidate limit taken by stored articles, a copy staged earlier in the same
    batch is still verified (it shares document buckets): identical texts share a story."""
    index = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_candidates=2, max_text_chars=20_000))
    seeds = {d.article_id: d for d in seed_drafts()}
    index.ingest(seeds["000"])
    index.ingest(seeds["001"])  # both carry the statement the new story quotes
    story = seeds["003"].text
    results = index.ingest_batch([IngestRequest(ArticleDraft("a", story)), IngestRequest(ArticleDraft("b", story))])
    second = results[1]
    assert not isinstance(second, Exception)
    assert any(m.article_id == "a" and m.kind is MatchKind.NEAR_DUPLICATE for m in second.matches)
    assert index.get("a").cluster_id == index.get("b").cluster_id
    index.close()


def test_the_same_story_in_other_words_in_the_same_batch_is_not_crowded_out(tmp_path: Path) -> None:
    """A rewording staged in the same batch shares passage buckets only (no shingle): with the
    candidate limit taken by stored articles it is still verified, as it would be once stored."""
    index = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_candidates=3, max_text_chars=20_000))
    seeds = {d.article_id: d for d in seed_drafts()}
    for article_id in ("000", "001", "002", "004"):  # stories of the same events as the one ingested
        index.ingest(seeds[article_id])
    story = seeds["003"].text
    reworded = "\n".join(" ".join(reversed(line.split())) for line in story.split("\n"))
    results = index.ingest_batch([IngestRequest(ArticleDraft("a", story)), IngestRequest(ArticleDraft("b", reworded))])
    second = results[1]
    assert not isinstance(second, Exception)
    assert any(m.article_id == "a" and m.kind is MatchKind.NEAR_DUPLICATE for m in second.matches)
    assert all(m.estimated_jaccard < 0.2 for m in second.matches if m.article_id == "a")
    index.close()


def test_a_one_line_headline_is_matched_to_its_rewording(engine: Wiretrace) -> None:
    """A text with no sentence of five content words is found by its shorter sentences."""
    engine.ingest(ArticleDraft("first", "Biker suffers leg injuries"))  # under one word shingle: no signature
    engine.ingest(ArticleDraft("unrelated", "Parliament debates budget cuts"))
    found = engine.find_matches(text="Biker suffers leg injury").matches
    assert [m.article_id for m in found] == ["first"]
