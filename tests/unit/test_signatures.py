"""Signatures equal datasketch's for the same seed; banding finds what MinHashLSH finds."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st
from wiretrace.core.features import shingle_hash
from wiretrace.core.lsh import LshParams, bucket_keys
from wiretrace.core.signatures import MinHasher, estimate_jaccard

HASHER = MinHasher(num_perm=128, seed=1)
hash_sets = st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=200, unique=True)


def _datasketch(values: list[int], num_perm: int = 128, seed: int = 1) -> MinHash:
    minhash = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda v: v)
    minhash.update_batch(values)
    return minhash


@given(hash_sets)
def test_signature_equals_datasketch(values: list[int]) -> None:
    ours = HASHER.signature(np.array(values, dtype=np.uint32))
    assert np.array_equal(ours, _datasketch(values).hashvalues)


@given(st.lists(hash_sets, min_size=1, max_size=8))
def test_batched_signatures_equal_single(sets: list[list[int]]) -> None:
    arrays = [np.array(s, dtype=np.uint32) for s in sets] + [np.empty(0, dtype=np.uint32)]
    batch = HASHER.signatures(arrays)
    for row, array in zip(batch, arrays, strict=True):
        assert np.array_equal(row, HASHER.signature(array))


def test_other_seed_and_size_match_datasketch() -> None:
    hasher = MinHasher(num_perm=64, seed=42)
    values = list(range(1000, 1300))
    assert np.array_equal(hasher.signature(np.array(values, dtype=np.uint32)), _datasketch(values, 64, 42).hashvalues)


def test_shingle_hash_works_as_datasketch_hashfunc() -> None:
    shingles = [["constitutional", "order", "has", "been", "restored"], ["order", "has", "been", "restored", "in"]]
    minhash = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)
    minhash.update_batch(shingles)
    ours = HASHER.signature(np.array([shingle_hash(s) for s in shingles], dtype=np.uint32))
    assert np.array_equal(ours, minhash.hashvalues)


def test_lean_minhash_round_trip_and_estimate() -> None:
    first = HASHER.signature(np.arange(0, 100, dtype=np.uint32))
    second = HASHER.signature(np.arange(50, 150, dtype=np.uint32))
    lean_first, lean_second = HASHER.to_lean_minhash(first), HASHER.to_lean_minhash(second)
    assert lean_first.jaccard(lean_second) == estimate_jaccard(first, second)
    assert abs(estimate_jaccard(first, second) - 1 / 3) < 0.15


@settings(max_examples=20, deadline=None)
@given(st.lists(hash_sets, min_size=2, max_size=20), st.sampled_from([0.3, 0.5, 0.8]))
def test_candidates_equal_datasketch_lsh(sets: list[list[int]], threshold: float) -> None:
    params = LshParams.for_threshold(threshold, 128)
    lsh = MinHashLSH(num_perm=128, params=(params.bands, params.rows))
    signatures = HASHER.signatures([np.array(s, dtype=np.uint32) for s in sets])
    keys = bucket_keys(signatures, params)
    buckets: dict[int, set[int]] = {}
    for index, row in enumerate(signatures):
        lsh.insert(index, HASHER.to_lean_minhash(row))
        for key in keys[index].tolist():
            buckets.setdefault(key, set()).add(index)
    for index, row in enumerate(signatures):
        ours = set().union(*(buckets[key] for key in keys[index].tolist()))
        assert ours == set(lsh.query(HASHER.to_lean_minhash(row)))
