"""Numbers are anchors: texts on one template with other figures are other reports, not copies."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wiretrace.core.engine import Wiretrace
from wiretrace.core.features import NUMBER_WORDS, extract, number_terms, term_hash
from wiretrace.core.matching import align_passages, screen
from wiretrace.core.model import ArticleDraft, MatchKind
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

SETTINGS = IndexSettings(verify_meaning=False)


def results_table(rng: random.Random) -> str:
    """A quarterly results table as wires publish them: the same lines, other figures."""

    def cts() -> str:
        return f"{rng.choice(['profit', 'loss'])} {rng.randint(2, 95)} cts"

    def mln() -> str:
        return f"{rng.randint(10, 900)}.{rng.randint(0, 9)} mln"

    return "\n".join(
        [
            f"Shr {cts()} vs {cts()}",
            f"Net {rng.choice(['profit', 'loss'])} {rng.randint(100, 9999):,},000 vs {rng.randint(100, 9999):,},000",
            f"Revs {mln()} vs {mln()}",
            f"Avg shrs {mln()} vs {mln()}",
            "Nine mths",
            f"Shr {cts()} vs {cts()}",
            f"Net {rng.choice(['profit', 'loss'])} {mln()} vs {mln()}",
            f"Revs {mln()} vs {mln()}",
        ]
    )


@pytest.fixture(params=[False, True], ids=["words-only", "default"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Wiretrace]:
    settings = IndexSettings() if request.param else SETTINGS
    index = Wiretrace(SqliteStorage(tmp_path), settings)
    yield index
    index.close()


def test_results_tables_of_different_companies_do_not_match(engine: Wiretrace) -> None:
    rng = random.Random(7)
    tables = [results_table(rng) for _ in range(8)]
    for number, table in enumerate(tables):
        engine.ingest(ArticleDraft(f"company-{number}", table, source=f"outlet-{number}"))
    for number in range(len(tables)):
        assert engine.find_matches(article_id=f"company-{number}").matches == ()
        assert engine.cluster_of(f"company-{number}").member_count == 1


def test_a_results_table_republished_is_a_near_duplicate(engine: Wiretrace) -> None:
    rng = random.Random(11)
    table = results_table(rng)
    engine.ingest(ArticleDraft("original", table, source="wire"))
    engine.ingest(ArticleDraft("other-company", results_table(rng), source="wire-2"))
    republished = table.replace("Nine mths", "Nine months") + "\nNOTE: results restated for a stock split."
    engine.ingest(ArticleDraft("copy", republished, source="paper"))
    (match,) = engine.find_matches(article_id="copy").matches
    assert match.article_id == "original" and match.kind is MatchKind.NEAR_DUPLICATE
    assert engine.cluster_of("copy").root_id == "original"


NOTICE = (
    "The central bank will offer {} billion in seven-day repurchase agreements at its weekly tender on Tuesday. "
    "Banks bid for {} billion at the previous tender, when the bank allotted funds at a rate of {} percent. "
    "The agreements mature on {} March and settle through the usual clearing accounts of the bank."
)


def _aligned(first: str, second: str) -> int:
    config = SETTINGS.features
    _, _, aligned = align_passages(extract(first, config), extract(second, config), SETTINGS)
    return aligned


def test_a_notice_whose_figures_all_changed_is_another_report() -> None:
    assert _aligned(NOTICE.format(12, 9, 3.5, 14), NOTICE.format(15, 11, 3.75, 21)) == 0


def test_an_update_that_changes_one_figure_is_the_same_story() -> None:
    assert _aligned(NOTICE.format(12, 9, 3.5, 14), NOTICE.format(12, 9, 3.5, 21)) == 3
    assert _aligned(NOTICE.format(12, 9, 3.5, 14), NOTICE.format("12 (3 more)", "nine", 3.5, "14th")) == 3


def test_one_sentence_may_change_its_figure_unless_figures_are_what_it_says() -> None:
    """Paraphrase corpora count "killed at least 22" ~ "killed at least three" as one statement;
    a line of a table is its figures."""
    sentence = "The storm killed {} people in the northern province on Monday, regional officials confirmed."
    assert _aligned(sentence.format(12), sentence.format(13)) == 1
    assert _aligned("Shr loss 89 cts vs loss 42 cts", "Shr loss 89 cts vs loss 31 cts") == 0
    assert _aligned("Avg shrs 127.3 mln vs 154.5 mln", "Avg shrs 15.0 mln vs 14.9 mln") == 0
    assert _aligned("Avg shrs 127.3 mln vs 154.5 mln", "Avg shrs 127.3 mln vs 154.5 mln in the year") == 1


def test_the_screen_passes_what_figures_leave_aligned_and_only_that() -> None:
    """The screen applies verification's rule: a table with other figures is no candidate to verify."""
    table = "Shr loss 89 cts vs loss 42 cts\nNet loss 5,300,000 vs 3,100,000"
    others = [
        "Shr loss 12 cts vs loss 31 cts\nNet loss 1,590,000 vs 1,140,000",  # every figure other
        "Shr loss 89 cts vs loss 42 cts\nNet loss 1,590,000 vs 1,140,000",  # one line the same
        "Shr loss 89 cts vs loss 42 cts in the year\nNet loss 5,300,000 vs 3,100,000",  # the figures kept
    ]
    config = SETTINGS.features
    found = screen(extract(table, config), [extract(text, config).sentence_sets() for text in others], SETTINGS)
    assert found.by_words.tolist() == [False, True, True]
    assert [_aligned(table, text) > 0 for text in others] == [False, True, True]


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12).filter(lambda w: w not in NUMBER_WORDS))
def test_only_numbers_hash_into_the_numbers_range(word: str) -> None:
    hashed = np.array([term_hash(word), term_hash(str(len(word) * 37)), term_hash("3.25")], dtype=np.uint32)
    assert number_terms(hashed).tolist() == [False, True, True]
