"""Translated quotes (issue 15): a statement rendered in other words is found in the default
configuration, by meaning where words do not decide, and aligned as a whole statement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from wiretrace.core import matching, meaning
from wiretrace.core.engine import Wiretrace
from wiretrace.core.gist import GIST_SENTENCES
from wiretrace.core.model import ArticleDraft, MatchKind
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts, syndicated_copy

# 003 (Reuters) reports in other words what a sentence of 000 (Sputnik) says.
REUTERS_RENDERING = (
    "Kazakh President Kassym-Jomart Tokayev said Friday that constitutional order has been largely restored "
    "in the Central Asian country that was ravaged by unrest this week, his office quoted him in a statement."
)
UNRELATED_HOST = [
    "The city council approved a new budget for public libraries on Monday evening.",
    "Opening hours will be extended on weekends, and two branches closed last year will reopen in spring.",
    "Librarians welcomed the decision, saying visitor numbers had doubled since the pandemic.",
    "The council also voted to repair the roof of the central reading room before the winter.",
    "A public consultation on the design of a children's corner starts next week.",
]


def _engine(path: Path, **overrides: object) -> Wiretrace:
    return Wiretrace(SqliteStorage(path), IndexSettings(max_text_chars=20_000, **overrides))  # type: ignore[arg-type]


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Wiretrace]:
    engine = _engine(tmp_path)
    for draft in seed_drafts():
        engine.ingest(draft)
    yield engine
    engine.close()


def _host_with(sentence: str) -> str:
    return "\n".join([*UNRELATED_HOST[:3], sentence, *UNRELATED_HOST[3:]])


@pytest.mark.parametrize("verify_meaning", [True, False])
def test_a_translated_sentence_in_an_unrelated_story_is_traced_to_its_source(
    tmp_path: Path, verify_meaning: bool
) -> None:
    engine = _engine(tmp_path, verify_meaning=verify_meaning)
    original = next(d for d in seed_drafts() if d.article_id == "000")
    engine.ingest(original)
    host = _host_with(REUTERS_RENDERING)
    matches = [m for m in engine.find_matches(text=host).matches if m.article_id == "000"]
    engine.close()
    if not verify_meaning:
        assert not matches  # words alone do not decide this pair: the meaning check finds it
        return
    (match,) = matches
    assert match.kind is MatchKind.REUSED_PASSAGE
    (passage,) = match.passages
    assert host[passage.query_start : passage.query_end] == REUTERS_RENDERING
    assert "has mainly been restored" in original.text[passage.matched_start : passage.matched_end]


def test_the_unrelated_story_alone_matches_nothing(seeded: Wiretrace) -> None:
    assert not seeded.find_matches(text="\n".join(UNRELATED_HOST)).matches


@pytest.mark.parametrize("pair", [("003", "000"), ("003", "001")])
def test_one_passage_covers_the_whole_statement_in_both_texts(seeded: Wiretrace, pair: tuple[str, str]) -> None:
    query_id, matched_id = pair
    query, matched = seeded.get(query_id).text, seeded.get(matched_id).text
    (match,) = [m for m in seeded.find_matches(article_id=query_id).matches if m.article_id == matched_id]
    covering = [
        p
        for p in match.passages
        if all(
            "working hard" in text[start:end] and "restored" in text[start:end]
            for text, start, end in (
                (query, p.query_start, p.query_end),
                (matched, p.matched_start, p.matched_end),
            )
        )
    ]
    assert covering, match.passages


def test_a_verbatim_copy_weighs_no_sentence_by_meaning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder's cost grows with undecided sentence pairs, not with sentences ingested: a copy
    encodes its gist's opening sentences (to find its translations) and nothing else."""
    engine = _engine(tmp_path)
    original = next(d for d in seed_drafts() if d.article_id == "003")
    engine.ingest(original)
    asked: list[int] = []
    real = meaning.SentenceMeanings.of

    def counting(self: meaning.SentenceMeanings, indices: Sequence[int]) -> npt.NDArray[np.float32]:
        asked.append(len(indices))
        return real(self, indices)

    monkeypatch.setattr(meaning.SentenceMeanings, "of", counting)
    result = engine.ingest(ArticleDraft("copy", syndicated_copy(1, original.text)))
    engine.close()
    assert [m.kind for m in result.matches] == [MatchKind.NEAR_DUPLICATE]
    assert asked == [GIST_SENTENCES]


def _pair(query_index: int, matched_index: int, lexical: bool) -> matching._PassagePair:
    return matching._PassagePair(query_index, matched_index, 0.7, 3, False, lexical)


def test_runs_of_aligned_pairs_and_their_word_anchors() -> None:
    # Two neighbouring sentences of like meaning between texts on one topic are a run of two,
    # which needs the background test unless the texts align as near-duplicates; a pair aligned
    # by shared words anchors its run whatever its length.
    alone, first, second = _pair(0, 0, False), _pair(3, 7, False), _pair(4, 8, False)
    crossed = _pair(6, 5, False)  # next on one side only: not in a run
    a, b, c = _pair(10, 20, False), _pair(11, 21, True), _pair(12, 22, False)
    lengths = matching._runs([alone, first, second, crossed, a, b, c])
    assert [lengths[id(p)] for p in (alone, first, second, crossed)] == [1, 2, 2, 1]
    assert {lengths[id(p)] for p in (a, b, c)} == {matching._ANCHORED_RUN}
    three = [_pair(i, i + 1, False) for i in range(3)]
    assert {matching._runs(three)[id(p)] for p in three} == {3}
