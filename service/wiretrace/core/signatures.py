"""MinHash signatures computed in bulk with numpy, bit-identical to datasketch.

datasketch's ``MinHash(scheme="affine32")`` pre-mixes each input hash with the
MurmurHash3 finaliser and applies ``a*h + b mod 2**32``; :class:`MinHasher`
does the same for a whole array of hashes at once, with the permutations that
datasketch draws for the same ``num_perm`` and ``seed``. The results are plain
uint32 arrays that convert to :class:`datasketch.LeanMinHash` (see
:meth:`MinHasher.to_lean_minhash`), so datasketch's LSH and Jaccard estimates
work on them.

Example:
    >>> hasher = MinHasher(num_perm=128, seed=1)
    >>> signature = hasher.signature(np.array([1, 2, 3], dtype=np.uint32))
    >>> hasher.to_lean_minhash(signature).jaccard(hasher.to_lean_minhash(signature))
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHash

from wiretrace.core.tokenhash import fmix32 as _fmix32

Signature = npt.NDArray[np.uint32]
EMPTY_HASH = np.uint32(0xFFFFFFFF)
_SCHEME = "affine32"
# Rows of hash x permutation products computed at once; bounds temporary memory.
_CHUNK = 4096


class MinHasher:
    """Computes datasketch-compatible MinHash signatures of uint32 hash sets."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if not 2 <= num_perm <= 1024:
            raise ValueError(f"num_perm must be between 2 and 1024, got {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        permutations = MinHash(num_perm=num_perm, seed=seed, scheme=_SCHEME).permutations
        self._a: npt.NDArray[np.uint32] = np.asarray(permutations[0], dtype=np.uint32)
        self._b: npt.NDArray[np.uint32] = np.asarray(permutations[1], dtype=np.uint32)
        self.permutations = (self._a, self._b)

    def signature(self, hashes: npt.NDArray[np.uint32]) -> Signature:
        """MinHash of one set of 32-bit hashes (an empty set gives all 0xFFFFFFFF)."""
        result = np.full(self.num_perm, EMPTY_HASH, dtype=np.uint32)
        mixed = _fmix32(np.asarray(hashes, dtype=np.uint32))
        for start in range(0, mixed.size, _CHUNK):
            chunk = mixed[start : start + _CHUNK, None] * self._a + self._b
            np.minimum(result, chunk.min(axis=0), out=result)
        return result

    def signatures(self, sets: Sequence[npt.NDArray[np.uint32]]) -> npt.NDArray[np.uint32]:
        """One signature row per set, computed together (for many small sets, e.g. sentences)."""
        out = np.full((len(sets), self.num_perm), EMPTY_HASH, dtype=np.uint32)
        sizes = np.fromiter((s.size for s in sets), dtype=np.int64, count=len(sets))
        nonempty = np.flatnonzero(sizes)
        if nonempty.size == 0:
            return out
        flat = _fmix32(np.concatenate([np.asarray(sets[int(i)], dtype=np.uint32) for i in nonempty]))
        products = flat[:, None] * self._a + self._b
        starts = np.concatenate(([0], np.cumsum(sizes[nonempty])[:-1]))
        out[nonempty] = np.minimum.reduceat(products, starts, axis=0)
        return out

    def to_lean_minhash(self, signature: Signature) -> LeanMinHash:
        """The signature as a datasketch LeanMinHash (same seed and scheme)."""
        minhash = MinHash(seed=self.seed, hashvalues=signature, permutations=self.permutations, scheme=_SCHEME)
        return LeanMinHash(minhash)


def estimate_jaccard(first: Signature, second: Signature) -> float:
    """Share of equal MinHash values: datasketch's ``MinHash.jaccard``."""
    if first.shape != second.shape:
        raise ValueError(f"signatures differ in length: {first.size} vs {second.size}")
    return float(np.count_nonzero(first == second)) / float(first.size)
