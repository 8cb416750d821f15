"""How rare a stemmed content word is in English: what translation leaves standing.

Two translations of one statement rarely share five words in a row, or even half
their content words, but they keep its names, numbers and uncommon nouns: the rare
words. Rarity orders each sentence's words for the passage index (its rarest words
are its keys) and weighs shared words in verification (sharing "Tokayev" and
"restored" says more than sharing "people" and "said").

The table is wordfreq's English frequencies (a shipped word list, not the index's own
counts), mapped through this service's normalising and stemming, quantised, and stored
with the package: keys already in an index never change meaning. It is rebuilt by
``tools/build_rarity_table.py``, and a test checks that the shipped copy is fresh.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

TABLE_PATH = Path(__file__).with_name("rarity_en.npz")
# Part of the feature version: another table orders and weighs words otherwise.
RARITY_VERSION = "wordfreq3.1-en/q8"
# Levels are -log10(frequency) in eighths; words the table does not know (names, figures
# of more than four digits, words rarer than one in 10^8) are the rarest level.
LEVELS_PER_DECADE = 8
UNKNOWN_LEVEL = 9 * LEVELS_PER_DECADE


class RarityTable:
    """Stem hash -> rarity level, for whole arrays of hashes at once."""

    def __init__(self, keys: npt.NDArray[np.uint32], levels: npt.NDArray[np.uint8]) -> None:
        self.keys = keys
        self.levels = levels

    def level(self, hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
        """Rarity level of each hash (higher = rarer)."""
        if self.keys.size == 0 or hashes.size == 0:
            return np.full(hashes.size, UNKNOWN_LEVEL, dtype=np.uint8)
        position = np.minimum(np.searchsorted(self.keys, hashes), self.keys.size - 1)
        found: npt.NDArray[np.uint8] = np.where(
            self.keys[position] == hashes, self.levels[position], np.uint8(UNKNOWN_LEVEL)
        ).astype(np.uint8)
        return found

    def weight(self, hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.float64]:
        """Information of each word, -log10 of its frequency (at least 1): the weight of sharing it."""
        weights: npt.NDArray[np.float64] = np.maximum(self.level(hashes) / LEVELS_PER_DECADE, 1.0)
        return weights


@lru_cache(maxsize=1)
def table() -> RarityTable:
    """The shipped table, loaded once per process."""
    with np.load(TABLE_PATH) as stored:
        return RarityTable(stored["keys"].astype(np.uint32), stored["levels"].astype(np.uint8))


def quantise(frequency: float) -> int:
    """A frequency as a rarity level."""
    if frequency <= 0:
        return UNKNOWN_LEVEL
    return int(min(UNKNOWN_LEVEL, max(0, round(-np.log10(frequency) * LEVELS_PER_DECADE))))
