"""Compact in-memory LSH buckets: sorted numpy runs instead of a dict of sets.

A dict of sets costs some 250 bytes per (bucket key, article) entry; here an entry is
12 bytes (a uint64 key and a uint32 article number) in sorted runs, searched with
``np.searchsorted``. New entries collect in a small dict and are written out as a run
when it fills; a run is merged with the one before it while it is at least half that
one's size (a log-structured merge: about log2(entries / 65536) runs, each entry
re-sorted about log2 times). Removals are tombstones, dropped when runs merge.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]

_PENDING_LIMIT = 65_536


class CompactBuckets:
    """bucket key -> article numbers (uint32), with insert, remove and batch look-up."""

    def __init__(self) -> None:
        self._pending: dict[int, list[int]] = {}
        self._pending_entries = 0
        self._runs: list[tuple[Keys, npt.NDArray[np.uint32]]] = []
        self._removed: set[int] = set()

    def add(self, owner: int, keys: Keys) -> None:
        pending = self._pending
        for key in keys.ravel().tolist():
            pending.setdefault(key, []).append(owner)
        self._pending_entries += keys.size
        self._removed.discard(owner)
        if self._pending_entries >= _PENDING_LIMIT:
            self._flush()

    def remove(self, owner: int) -> None:
        self._removed.add(owner)

    def lookup(self, keys: Keys, into: set[int]) -> None:
        """Add the owners of any of ``keys`` to ``into``."""
        wanted = np.unique(keys.ravel())
        if wanted.size == 0:
            return
        found: list[int] = []
        for key in wanted.tolist():
            owners = self._pending.get(key)
            if owners:
                found.extend(owners)
        for run_keys, run_owners in self._runs:
            low = np.searchsorted(run_keys, wanted, side="left")
            high = np.searchsorted(run_keys, wanted, side="right")
            hits = high - low
            total = int(hits.sum())
            if total:
                starts = np.repeat(low - np.cumsum(hits) + hits, hits) + np.arange(total)
                found.extend(run_owners[starts].tolist())
        if self._removed:
            into.update(owner for owner in found if owner not in self._removed)
        else:
            into.update(found)

    @property
    def entries(self) -> int:
        return self._pending_entries + sum(keys.size for keys, _ in self._runs)

    @property
    def nbytes(self) -> int:
        """Bytes held by the sorted runs (the pending dict is bounded and small)."""
        return sum(keys.nbytes + owners.nbytes for keys, owners in self._runs)

    def _flush(self) -> None:
        if not self._pending:
            return
        counts = [len(owners) for owners in self._pending.values()]
        keys = np.repeat(np.fromiter(self._pending.keys(), dtype=np.uint64, count=len(counts)), counts)
        owners = np.fromiter(
            (owner for group in self._pending.values() for owner in group), dtype=np.uint32, count=sum(counts)
        )
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], owners[order]))
        self._pending = {}
        self._pending_entries = 0
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
