"""LSH banding of MinHash signatures, laid out as datasketch's ``MinHashLSH``.

Band ``i`` is ``signature[i*rows:(i+1)*rows]`` and (bands, rows) come from
datasketch's own optimiser for a Jaccard threshold, so candidates are the ones
``MinHashLSH(params=(bands, rows))`` would return. Each band is reduced to one
64-bit bucket key (band number mixed in), so a storage backend keeps buckets as
plain integers: a dict in memory, a set per key in Redis, all bands of a
query looked up in one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from datasketch.lsh import _optimal_param

BucketKeys = npt.NDArray[np.uint64]

_PRIME_1 = np.uint64(0x9E3779B185EBCA87)
_PRIME_2 = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True, slots=True)
class LshParams:
    """Bands x rows of an LSH table tuned for a Jaccard ``threshold``."""

    threshold: float
    num_perm: int
    bands: int
    rows: int

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int) -> LshParams:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"LSH threshold must be between 0 and 1 (exclusive), got {threshold}")
        bands, rows = _optimal_params(round(threshold, 4), num_perm)
        return cls(threshold, num_perm, bands, rows)


@lru_cache(maxsize=64)
def _optimal_params(threshold: float, num_perm: int) -> tuple[int, int]:
    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def bucket_keys(signatures: npt.NDArray[np.uint32], params: LshParams, *, family: int = 0) -> BucketKeys:
    """Bucket keys, shape (n, bands), of an (n, num_perm) signature matrix (or one signature).

    ``family`` keeps tables of different feature sets that share one bucket store apart.
    """
    matrix = np.atleast_2d(signatures)
    if matrix.shape[1] != params.num_perm:
        raise ValueError(f"expected signatures of {params.num_perm} values, got {matrix.shape[1]}")
    banded = matrix[:, : params.bands * params.rows].reshape(matrix.shape[0], params.bands, params.rows)
    first_band = 1 + family * 4096
    band_numbers = np.arange(first_band, first_band + params.bands, dtype=np.uint64)
    acc = np.broadcast_to(band_numbers * _PRIME_2, banded.shape[:2]).copy()
    for row in range(params.rows):
        acc ^= banded[:, :, row].astype(np.uint64)
        acc *= _PRIME_1
        acc ^= acc >> np.uint64(29)
    acc *= _PRIME_2
    acc ^= acc >> np.uint64(32)
    return acc
