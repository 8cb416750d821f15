"""The compact LSH bucket index answers exactly what a dict of sets would."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from wiretrace.storage import buckets
from wiretrace.storage.buckets import CompactBuckets

operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "add", "remove", "lookup"]),
        st.integers(min_value=0, max_value=40),
        st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12),
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_matches_a_dict_of_sets(ops: list[tuple[str, int, list[int]]]) -> None:
    original = buckets._PENDING_LIMIT
    buckets._PENDING_LIMIT = 7  # force flushes and merges on small inputs
    try:
        index = CompactBuckets()
        model: dict[int, set[int]] = {}
        added: set[int] = set()
        for op, owner, keys in ops:
            array = np.array(keys, dtype=np.uint64)
            if op == "add" and owner not in added:  # owners (article numbers) are never reused
                index.add(owner, array)
                added.add(owner)
                for key in keys:
                    model.setdefault(key, set()).add(owner)
            elif op == "remove":
                index.remove(owner)
                for members in model.values():
                    members.discard(owner)
            elif op == "lookup":
                owners, counts = index.hits(array)
                expected = {}
                for key in set(keys):
                    for member in model.get(key, set()):
                        expected[member] = expected.get(member, 0) + 1
                assert set(owners.tolist()) == set(expected)
                assert all(counts[i] >= expected[o] for i, o in enumerate(owners.tolist()))
    finally:
        buckets._PENDING_LIMIT = original


def test_memory_is_at_most_nine_bytes_an_entry() -> None:
    index = CompactBuckets()
    rng = np.random.default_rng(1)
    for owner in range(200):
        index.add(owner, rng.integers(0, 2**63, size=1000, dtype=np.uint64))
    index._flush()
    assert index.entries == 200_000
    assert 8 * 200_000 < index.nbytes <= 9 * 200_000  # key + owner, and the radix directory


def test_full_64_bit_keys_are_found_and_only_low_bit_twins_collide() -> None:
    index = CompactBuckets()
    key = np.uint64(0xDEADBEEF_12345678)
    index.add(1, np.array([key], dtype=np.uint64))
    index.add(2, np.array([0x00000001_12345678], dtype=np.uint64))  # same low 32 bits: a bounded false candidate
    index.add(3, np.array([0xDEADBEEF_00000000], dtype=np.uint64))
    owners, _ = index.hits(np.array([key], dtype=np.uint64))
    assert set(owners.tolist()) == {1, 2}


def test_a_crowded_bucket_reads_only_its_earliest_owners() -> None:
    index = CompactBuckets()
    shared = np.array([0xABCDEF], dtype=np.uint64)
    for owner in range(3000):  # one bucket of 3,000 copies, written out into several runs
        index.add(owner, np.concatenate([shared, np.array([owner * 7 + 1_000_003], dtype=np.uint64)]))
    index._flush()
    owners, _ = index.hits(shared, per_key=50)
    assert len(owners) <= 50 * (len(index._runs) + 1)
    assert set(owners.tolist()) >= set(range(50))  # the earliest added, ties to ingest order
    assert set(index.hits(shared)[0].tolist()) == set(range(3000))
