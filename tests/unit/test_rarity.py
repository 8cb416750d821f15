"""The shipped rarity table and the passage keys built on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from wiretrace.core import rarity
from wiretrace.core.features import extract, term_hash
from wiretrace.core.passage_keys import rare_pair_keys, stored_and_query_keys
from wiretrace.core.settings import IndexSettings

from seeds import seed_drafts

ROOT = Path(__file__).resolve().parents[2]
FEATURES = IndexSettings().features


def _level(word: str) -> int:
    return int(rarity.table().level(np.array([term_hash(word)], dtype=np.uint32))[0])


def test_shipped_table_is_fresh() -> None:
    """Keys already stored must keep their meaning: the table equals a rebuild from wordfreq."""
    spec = importlib.util.spec_from_file_location("build_rarity_table", ROOT / "tools" / "build_rarity_table.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    keys, levels = builder.build()
    shipped = rarity.table()
    assert np.array_equal(shipped.keys, keys) and np.array_equal(shipped.levels, levels)


def test_names_and_figures_are_rarer_than_common_words() -> None:
    assert _level("tokayev") == rarity.UNKNOWN_LEVEL  # not in the word list: rarest
    assert _level("kazakhstan") > _level("restored") > _level("people")
    assert _level("1435") > _level("2021")


def _keys(text: str, depth: int) -> set[int]:
    return set(rare_pair_keys(extract(text, FEATURES), depth).reshape(-1).tolist())


def test_two_translations_sharing_rare_words_share_a_key() -> None:
    first = "Kazakh President Tokayev said constitutional order had largely been restored in Almaty."
    second = "Constitutional order is mostly restored in Almaty, President Tokayev of Kazakhstan declared."
    unrelated = "The president said the order of the day had been restored after the people had voted."
    stored = _keys(first, IndexSettings().passage_stored_words)
    assert stored & _keys(second, IndexSettings().passage_query_words)
    assert not stored & _keys(unrelated, IndexSettings().passage_query_words)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from("alpha beta gamma delta epsilon zeta kappa lambda omicron sigma".split()), min_size=5))
def test_stored_keys_are_among_the_query_keys(word_list: list[str]) -> None:
    """A sentence always finds itself: its stored keys are a subset of those it looks up."""
    features = extract(" ".join(word_list) + ".", FEATURES)
    for stored, queried in zip(rare_pair_keys(features, 6), rare_pair_keys(features, 8), strict=True):
        assert set(stored.tolist()) <= set(queried.tolist())


def test_stored_and_query_keys_in_one_pass_equal_two() -> None:
    for draft in seed_drafts():
        features = extract(draft.text, FEATURES)
        stored, queried = stored_and_query_keys(features, 6, 8)
        assert np.array_equal(stored, rare_pair_keys(features, 6))
        assert np.array_equal(queried, rare_pair_keys(features, 8))
