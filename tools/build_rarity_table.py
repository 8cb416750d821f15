"""Build service/wiretrace/core/rarity_en.npz from wordfreq (see wiretrace.core.rarity).

    python tools/build_rarity_table.py           # write the table
    python tools/build_rarity_table.py --check   # exit 1 when the shipped table differs

Every word of wordfreq's English "large" list goes through the service's own normalising,
stop-word filter and Snowball stemming; frequencies of words with one stem add up. wordfreq
folds digits together, so numbers 0-9999 get its own estimate for the digit string.
Needs ``pip install wordfreq`` (a dev dependency); the service reads only the table.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "service"))

from wiretrace.core import features, rarity  # noqa: E402
from wiretrace.core.text import words  # noqa: E402


def build() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    import wordfreq

    frequency: dict[int, float] = {}
    for word, value in wordfreq.get_frequency_dict("en", wordlist="large").items():
        if any(ch.isdigit() for ch in word):
            continue
        tokens = words(word)
        if len(tokens) != 1 or not features.is_content_word(tokens[0]):
            continue
        key = features.term_hash(tokens[0])
        frequency[key] = frequency.get(key, 0.0) + value
    for number in range(10_000):
        token = str(number)
        if features.is_content_word(token):
            frequency[features.term_hash(token)] = wordfreq.word_frequency(token, "en")
    keys = np.array(sorted(frequency), dtype=np.uint32)
    levels = np.array([rarity.quantise(frequency[int(k)]) for k in keys], dtype=np.uint8)
    return keys, levels


def encoded(keys: npt.NDArray[np.uint32], levels: npt.NDArray[np.uint8]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, keys=keys, levels=levels)
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped table instead of writing")
    args = parser.parse_args()
    keys, levels = build()
    if args.check:
        shipped = rarity.table()
        fresh = np.array_equal(shipped.keys, keys) and np.array_equal(shipped.levels, levels)
        print("rarity table is fresh" if fresh else f"{rarity.TABLE_PATH} is stale: run {__file__}")
        return 0 if fresh else 1
    rarity.TABLE_PATH.write_bytes(encoded(keys, levels))
    print(f"wrote {rarity.TABLE_PATH} ({keys.size} stems)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
