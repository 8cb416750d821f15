"""Compact in-memory LSH buckets: sorted numpy runs instead of a dict of sets.

A dict of sets costs some 250 bytes per (bucket key, article) entry; here an entry is
12 bytes (a uint64 key and a uint32 article number) in sorted runs, searched with
``np.searchsorted``. New entries are merged into a small sorted pending run (no
per-key Python work: an article brings ~700 keys) that is written out when it
fills; a run is merged with the one before it while it is at least half that
one's size (a log-structured merge: about log2(entries / 65536) runs, each entry
re-sorted about log2 times). Removals are tombstones, dropped when runs merge.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]

_PENDING_LIMIT = 65_536


Owners = npt.NDArray[np.uint32]


def owners_of(run_keys: Keys, run_owners: Owners, wanted: Keys) -> Owners:
    """Owners of every entry of a sorted run whose key is in ``wanted``."""
    low = np.searchsorted(run_keys, wanted, side="left")
    high = np.searchsorted(run_keys, wanted, side="right")
    hits = high - low
    total = int(hits.sum())
    if not total:
        return run_owners[:0]
    starts = np.repeat(low - np.cumsum(hits) + hits, hits) + np.arange(total)
    return run_owners[starts]


class SortedRun:
    """(key, owner) entries kept sorted by key; an insert merges a whole key array in at once."""

    def __init__(self) -> None:
        self.keys: Keys = np.empty(0, dtype=np.uint64)
        self.owners: Owners = np.empty(0, dtype=np.uint32)

    @property
    def size(self) -> int:
        return int(self.keys.size)

    def add(self, owner: int, keys: Keys) -> None:
        flat = np.sort(keys.ravel())
        where = np.searchsorted(self.keys, flat, side="right")
        self.keys = np.insert(self.keys, where, flat)
        self.owners = np.insert(self.owners, where, np.uint32(owner))

    def lookup(self, wanted: Keys) -> Owners:
        return owners_of(self.keys, self.owners, wanted)


class CompactBuckets:
    """bucket key -> article numbers (uint32), with insert, remove and batch look-up."""

    def __init__(self) -> None:
        self._pending = SortedRun()
        self._runs: list[tuple[Keys, Owners]] = []
        self._removed: set[int] = set()

    def add(self, owner: int, keys: Keys) -> None:
        self._pending.add(owner, keys)
        self._removed.discard(owner)
        if self._pending.size >= _PENDING_LIMIT:
            self._flush()

    def remove(self, owner: int) -> None:
        self._removed.add(owner)

    def lookup(self, keys: Keys, into: set[int]) -> None:
        """Add the owners of any of ``keys`` to ``into``."""
        wanted = np.unique(keys.ravel())
        if wanted.size == 0:
            return
        parts = [self._pending.lookup(wanted)] + [owners_of(k, o, wanted) for k, o in self._runs]
        found = np.unique(np.concatenate(parts)).tolist()
        if self._removed:
            into.update(owner for owner in found if owner not in self._removed)
        else:
            into.update(found)

    @property
    def entries(self) -> int:
        return self._pending.size + sum(keys.size for keys, _ in self._runs)

    @property
    def nbytes(self) -> int:
        """Bytes held by the sorted runs (the pending run is bounded and small)."""
        return sum(keys.nbytes + owners.nbytes for keys, owners in self._runs)

    def _flush(self) -> None:
        if not self._pending.size:
            return
        self._runs.append((self._pending.keys, self._pending.owners))
        self._pending = SortedRun()
        while len(self._runs) > 1 and 2 * self._runs[-1][0].size >= self._runs[-2][0].size:
            self._merge_last_two()

    def _merge_last_two(self) -> None:
        (first_keys, first_owners), (second_keys, second_owners) = self._runs[-2], self._runs[-1]
        keys = np.concatenate((first_keys, second_keys))
        owners = np.concatenate((first_owners, second_owners))
        if self._removed:
            dead = np.fromiter(self._removed, dtype=np.uint32, count=len(self._removed))
            keep = ~np.isin(owners, dead)
            keys, owners = keys[keep], owners[keep]
        order = np.argsort(keys, kind="stable")  # two sorted runs: timsort merges them in linear time
        self._runs[-2:] = [(keys[order], owners[order])]
        if len(self._runs) == 1 and not self._pending:
            self._removed = set()  # every entry has been filtered once
