"""Passage index keys: every pair of a sentence's rarest words.

A sentence is a candidate for another when they share two of their rarest words
(names, numbers, uncommon nouns: what survives translation and rewording), as passim
and TextPAIR bound candidates by a few shared uncommon n-grams. Each 2-subset of a
sentence's ``depth`` rarest stems (rarity: :mod:`wiretrace.core.rarity`) is one bucket
key; a stored sentence is indexed under those of its ``stored_depth`` rarest, a query
looks up those of its ``query_depth`` rarest, so one shared key means two shared rare
words. Measured on WMT21 human translation pairs (bench/passage_candidates.py): depth
6 stored, 8 queried makes 0.977 (de-en) / 0.922 (cs-en) of the pairs candidates, against
0.62 / 0.36 for MinHash LSH 14x4 on the same sets, with about as many keys per sentence.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from wiretrace.core.features import TextFeatures
from wiretrace.core.rarity import table

PassageKeys = npt.NDArray[np.uint64]

# Keys of this index live beside MinHash band keys in one bucket store: salted apart.
_PAIR_SALT = np.uint64(0x243F6A8885A308D3)
_SINGLE_SALT = np.uint64(0x13198A2E03707344)


def _mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, elementwise."""
    with np.errstate(over="ignore"):
        x = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return mixed


@lru_cache(maxsize=16)
def _combinations(depth: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    pairs = np.array(list(itertools.combinations(range(depth), 2)), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def rarest_first(features: npt.NDArray[np.uint32], owners: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """The order that sorts ``features`` by owner, then rarest first (ties: a fixed hash order)."""
    level = table().level(features).astype(np.int64)
    tiebreak = _mix64(features.astype(np.uint64) ^ np.uint64(0x5BD1E995))
    return np.lexsort((tiebreak, -level, owners)).astype(np.int64)


def rare_pair_keys(features: TextFeatures, depth: int) -> PassageKeys:
    """Shape (passages, depth*(depth-1)/2): each passage's keys, one per pair of its ``depth``
    rarest words. A passage with fewer words repeats its first key (a bucket holds it once);
    one with a single word is keyed by that word alone."""
    count = len(features.passages)
    first, second = _combinations(depth)
    if count == 0 or first.size == 0:
        return np.empty((count, first.size), dtype=np.uint64)
    order = rarest_first(features.flat_features, features.flat_owners)
    words, owners = features.flat_features[order].astype(np.uint64), features.flat_owners[order].astype(np.int64)
    starts = np.searchsorted(owners, np.arange(count))
    rank = np.arange(owners.size, dtype=np.int64) - starts[owners]
    keep = rank < depth
    rarest = np.zeros((count, depth), dtype=np.uint64)
    present = np.zeros((count, depth), dtype=bool)
    rarest[owners[keep], rank[keep]] = words[keep]
    present[owners[keep], rank[keep]] = True
    low = np.minimum(rarest[:, first], rarest[:, second])
    high = np.maximum(rarest[:, first], rarest[:, second])
    keys = _mix64(((low << np.uint64(32)) | high) ^ _PAIR_SALT)
    valid = present[:, first] & present[:, second]
    single = ~valid[:, 0]
    keys[single, 0] = _mix64(rarest[single, 0] ^ _SINGLE_SALT)
    keys = np.where(valid, keys, keys[:, :1])
    return np.ascontiguousarray(keys)


def stored_and_query_keys(features: TextFeatures, stored: int, queried: int) -> tuple[PassageKeys, PassageKeys]:
    """(:func:`rare_pair_keys` at ``stored``, at ``queried``) in one pass: the pairs of the
    ``stored`` rarest words are those of the ``queried`` rarest with both words among them, in
    the same order, so the stored keys are columns of the query keys."""
    query = rare_pair_keys(features, queried)
    _, second = _combinations(queried)
    return np.ascontiguousarray(query[:, second < stored]), query
