"""Compact in-memory LSH buckets: sorted numpy runs instead of a dict of sets.

A dict of sets costs some 250 bytes per (bucket key, article) entry; here an entry is
8 bytes (the key's low 32 bits and a uint32 article number) in sorted runs, searched with
``np.searchsorted``. New entries are merged into a small sorted pending run (no
per-key Python work: an article brings ~700 keys) that is written out when it
fills; a run is merged with the one before it while it is at least half that
one's size (a log-structured merge: about log2(entries / 65536) runs, each entry
re-sorted about log2 times). Removals are tombstones, dropped when runs merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]

_PENDING_LIMIT = 65_536
_KEY = np.uint32


Owners = npt.NDArray[np.uint32]


def _positions(low: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """All indexes of the ranges [low, low + counts), concatenated."""
    return np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))


def owners_of(
    run_keys: npt.NDArray[np.unsignedinteger[Any]],
    run_owners: Owners,
    wanted: npt.NDArray[np.unsignedinteger[Any]],
    per_key: int | None = None,
) -> Owners:
    """Owners of every entry of a sorted run whose key is in ``wanted`` (the first ``per_key`` of a key)."""
    low = np.searchsorted(run_keys, wanted, side="left")
    high = np.searchsorted(run_keys, wanted, side="right")
    counts = high - low if per_key is None else np.minimum(high - low, per_key)
    return run_owners[_positions(low, counts)]


class SortedRun:
    """(key, owner) entries kept sorted by key; an insert merges whole key arrays in at once."""

    def __init__(self, key_type: type[np.unsignedinteger[Any]] = np.uint64) -> None:
        self.keys: npt.NDArray[np.unsignedinteger[Any]] = np.empty(0, dtype=key_type)
        self.owners: Owners = np.empty(0, dtype=np.uint32)

    @property
    def size(self) -> int:
        return int(self.keys.size)

    def add(self, owner: int, keys: npt.NDArray[np.unsignedinteger[Any]]) -> None:
        self.add_many([owner], [keys])

    def add_many(self, owners: Sequence[int], keys: Sequence[npt.NDArray[np.unsignedinteger[Any]]]) -> None:
        flat = np.concatenate([k.ravel() for k in keys]).astype(self.keys.dtype, copy=False)
        owner_of = np.repeat(np.asarray(owners, dtype=np.uint32), [k.size for k in keys])
        order = np.argsort(flat, kind="stable")
        flat, owner_of = flat[order], owner_of[order]
        where = np.searchsorted(self.keys, flat, side="right")
        self.keys = np.insert(self.keys, where, flat)
        self.owners = np.insert(self.owners, where, owner_of)

    def lookup(self, wanted: npt.NDArray[np.unsignedinteger[Any]], per_key: int | None = None) -> Owners:
        """Owners of the entries whose key is in ``wanted`` (sorted, in this run's key type)."""
        return owners_of(self.keys, self.owners, wanted, per_key)


class _FrozenRun:
    """An immutable sorted run with a radix directory: where each high-bit prefix of the keys starts.

    A look-up goes straight to the few entries sharing its prefix instead of binary-searching
    millions of keys (about 20 cache misses each); the directory costs under a byte an entry.
    """

    __slots__ = ("_shift", "_starts", "keys", "owners")

    def __init__(self, keys: npt.NDArray[np.uint32], owners: Owners) -> None:
        self.keys, self.owners = keys, owners
        bits = max(1, min(26, int(keys.size).bit_length() - 3))  # 4 to 8 entries a prefix
        self._shift = np.uint32(32 - bits)
        bounds = np.arange(2**bits + 1, dtype=np.uint64) << np.uint64(32 - bits)
        self._starts = np.searchsorted(keys.astype(np.uint64), bounds).astype(np.uint32)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.owners.nbytes + self._starts.nbytes)

    def lookup(self, wanted: npt.NDArray[np.uint32], per_key: int | None = None) -> Owners:
        prefix = (wanted >> self._shift).astype(np.int64)
        low = self._starts[prefix].astype(np.int64)
        counts = self._starts[prefix + 1].astype(np.int64) - low
        if per_key is not None and int(counts.max(initial=0)) > 4 * per_key:
            # A crowded prefix (a bucket of thousands): search the keys exactly instead of scanning it.
            return owners_of(self.keys, self.owners, wanted, per_key)
        positions = _positions(low, counts)
        hits = positions[self.keys[positions] == np.repeat(wanted, counts)]
        if per_key is not None and hits.size:
            hits = hits[_rank_within_key(self.keys[hits]) < per_key]
        found: Owners = self.owners[hits]
        return found


def _rank_within_key(keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """For sorted keys, each entry's position among the entries of the same key."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return np.arange(keys.size) - np.repeat(starts, np.diff(np.append(starts, keys.size)))


def ranked_owners(
    documents: CompactBuckets,
    passages: CompactBuckets,
    document_keys: Keys,
    passage_keys: Keys,
    limit: int,
    reads: tuple[int, int],
) -> list[int]:
    """The ``limit`` owners in most of the keys' buckets (document and passage buckets together,
    reading at most ``reads`` owners of a bucket of each kind), ties to the lower owner number."""
    document_owners, document_hits = documents.hits(document_keys, reads[0])
    passage_owners, passage_hits = passages.hits(passage_keys, reads[1])
    owners, where = np.unique(np.concatenate((document_owners, passage_owners)), return_inverse=True)
    hits = np.bincount(where, weights=np.concatenate((document_hits, passage_hits)).astype(np.float64))
    ranked: list[int] = owners[np.lexsort((owners, -hits))[:limit]].tolist()
    return ranked


class CompactBuckets:
    """bucket key -> article numbers (uint32), with insert, remove and batch look-up.

    Keys are held as their low 32 bits (the bucket-key mix makes every bit uniform): 8
    bytes an entry instead of 12. Two buckets that share those bits only add a candidate,
    which verification drops; at 30 million entries a looked-up key meets a stranger's
    with probability 30e6 / 2**32, under 1 %.
    """

    def __init__(self) -> None:
        self._pending = SortedRun(_KEY)
        self._runs: list[_FrozenRun] = []
        self._removed: set[int] = set()

    def add(self, owner: int, keys: Keys) -> None:
        self.add_many([owner], [keys])

    def add_many(self, owners: Sequence[int], keys: Sequence[Keys]) -> None:
        """Index many articles' keys at once (one sort and one merge for a whole batch)."""
        if not owners:
            return
        self._pending.add_many(owners, keys)
        self._removed.difference_update(owners)
        if self._pending.size >= _PENDING_LIMIT:
            self._flush()

    def remove(self, owner: int) -> None:
        self._removed.add(owner)

    def hits(self, keys: Keys, per_key: int | None = None) -> tuple[Owners, npt.NDArray[np.int64]]:
        """Owners of any of ``keys`` (ascending) and how many of the keys' buckets each is in.

        ``per_key`` reads only the first (earliest added) owners of a bucket in each run: a
        bucket that thousands of copies of one story share then costs what a small one does.
        """
        wanted = np.unique(keys.ravel().astype(_KEY))
        if wanted.size == 0:
            return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64)
        parts = [self._pending.lookup(wanted, per_key)] + [run.lookup(wanted, per_key) for run in self._runs]
        owners, counts = np.unique(np.concatenate(parts), return_counts=True)
        if self._removed:
            dead = np.fromiter(self._removed, dtype=np.uint32, count=len(self._removed))
            live = ~np.isin(owners, dead)
            owners, counts = owners[live], counts[live]
        return owners, counts.astype(np.int64)

    @property
    def entries(self) -> int:
        return self._pending.size + sum(run.keys.size for run in self._runs)

    @property
    def nbytes(self) -> int:
        """Bytes held by the frozen runs (the pending run is bounded and small)."""
        return sum(run.nbytes for run in self._runs)

    def _flush(self) -> None:
        if not self._pending.size:
            return
        self._runs.append(_FrozenRun(self._pending.keys.astype(_KEY), self._pending.owners))
        self._pending = SortedRun(_KEY)
        while len(self._runs) > 1 and 2 * self._runs[-1].keys.size >= self._runs[-2].keys.size:
            self._merge_last_two()

    def _merge_last_two(self) -> None:
        first, second = self._runs[-2], self._runs[-1]
        keys = np.concatenate((first.keys, second.keys))
        owners = np.concatenate((first.owners, second.owners))
        if self._removed:
            dead = np.fromiter(self._removed, dtype=np.uint32, count=len(self._removed))
            keep = ~np.isin(owners, dead)
            keys, owners = keys[keep], owners[keep]
        order = np.argsort(keys, kind="stable")  # two sorted runs: timsort merges them in linear time
        self._runs[-2:] = [_FrozenRun(keys[order], owners[order])]
        if len(self._runs) == 1 and self._pending.size == 0:
            self._removed = set()  # every entry has been filtered once
