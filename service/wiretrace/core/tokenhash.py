"""Token hashing for signatures, vectorised over a whole text with numpy.

Signing a text is dominated by per-token Python work (finding tokens, normalising,
hashing: about 150 ns each, ~100 µs for a news article). For texts whose word
characters are ASCII (most English news, once typographic quotes and dashes are
folded) this module finds, normalises and hashes all tokens in a handful of numpy
passes over the text's bytes. Other texts take the scalar path. Both give exactly
``[word_hash(w) for w in text.words(t)]``: the tokens of :mod:`wiretrace.core.text`
(runs of letters/digits joined by inner ``. , ' ’``; lower-cased; apostrophes and
thousands separators dropped), each hashed with :func:`word_hash`.

``word_hash`` is a polynomial hash of the code points, mod 2**32, finished with the
MurmurHash3 avalanche, so that it can be computed for many tokens at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HashArray = npt.NDArray[np.uint32]

_BASE = 0x01000193  # odd: powers never vanish mod 2**32
_LENGTH_MIX = 0x9E3779B1
_MASK = 0xFFFFFFFF

# Typographic characters folded to ASCII ones with the same role for tokenising:
# ’ joins like ' (and is dropped like it); the others separate tokens.
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": " ",
        "“": " ",
        "”": " ",
        "«": " ",
        "»": " ",
        "–": " ",
        "—": " ",
        "…": " ",
        "\u00a0": " ",
        "•": " ",
        "·": " ",
        "©": " ",
        "®": " ",
        "°": " ",
    }
)

_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _WORD[_c] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
_JOINER = np.zeros(256, dtype=bool)
for _c in b".,'":
    _JOINER[_c] = True
_LOWER = np.arange(256, dtype=np.uint32)
_LOWER[ord("A") : ord("Z") + 1] += 32
_APOSTROPHE = ord("'")


def fmix32(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """The MurmurHash3 32-bit finaliser, element-wise (datasketch pre-mixes MinHash input with it)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def _fmix32_scalar(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK
    return value ^ (value >> 16)


def word_hash(word: str) -> int:
    """32-bit hash of one normalised word (the scalar reference of :func:`ascii_token_hashes`)."""
    acc = 0
    for char in word:
        acc = (acc * _BASE + ord(char)) & _MASK
    return _fmix32_scalar((acc + len(word) * _LENGTH_MIX) & _MASK)


_powers = np.ones(1, dtype=np.uint32)


def _power_table(length: int) -> npt.NDArray[np.uint32]:
    global _powers
    if _powers.size < length:
        table = np.empty(max(length, 2 * _powers.size), dtype=np.uint32)
        table[0] = 1
        for index in range(1, table.size):  # grows rarely: the longest token seen so far
            table[index] = (int(table[index - 1]) * _BASE) & _MASK
        _powers = table
    return _powers


@dataclass(frozen=True, slots=True)
class TokenHashes:
    """Hashes of a text's tokens with their [start, end) offsets in the text."""

    hashes: HashArray
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]


def ascii_token_hashes(text: str) -> HashArray | None:
    """Hashes of the text's tokens, or None when its word characters are not all ASCII."""
    found = ascii_tokens(text)
    return None if found is None else found.hashes


def ascii_tokens(text: str) -> TokenHashes | None:
    """Tokens of the text, hashed and located, or None when its word characters are not all ASCII."""
    folded = text.translate(_FOLD) if not text.isascii() else text
    if not folded.isascii():
        return None
    raw = np.frombuffer(folded.encode("ascii"), dtype=np.uint8)
    if raw.size == 0:
        return _EMPTY
    padded = np.concatenate(([0], raw, [0])).astype(np.uint8)
    word = _WORD[padded]
    # A joiner belongs to a token when word characters stand on both sides of it.
    inside = word.copy()
    inside[1:-1] |= _JOINER[padded[1:-1]] & word[:-2] & word[2:]
    starts = np.flatnonzero(inside[1:] & ~inside[:-1]) + 1
    ends = np.flatnonzero(inside[:-1] & ~inside[1:]) + 1  # exclusive, in padded coordinates
    if starts.size == 0:
        return _EMPTY
    token_of = np.cumsum(np.diff(inside.astype(np.int8), prepend=np.int8(0)) == 1) - 1
    keep = inside & (padded != _APOSTROPHE)
    # Thousands separators ("3,000" -> "3000"): in a token starting with a digit, a joiner
    # after a digit and before exactly three digits that end the token or precede a non-digit.
    digit = _DIGIT[padded] & inside
    joiner_inside = inside & _JOINER[padded] & (padded != _APOSTROPHE)
    candidates = np.flatnonzero(joiner_inside)
    if candidates.size:
        digit_start = _DIGIT[padded[starts]]
        end_of_token = ends[token_of[candidates]]
        tail = np.concatenate((digit, np.zeros(4, dtype=bool)))
        is_separator = (
            digit_start[token_of[candidates]]
            & digit[candidates - 1]
            & tail[candidates + 1]
            & tail[candidates + 2]
            & tail[candidates + 3]
            & ((candidates + 4 >= end_of_token) | ~tail[candidates + 4])
        )
        keep[candidates[is_separator]] = False
    kept = np.flatnonzero(keep)
    kept_token = token_of[kept]
    lengths = np.bincount(kept_token, minlength=starts.size).astype(np.int64)
    first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position_in_token = np.arange(kept.size) - first[kept_token]
    exponent = lengths[kept_token] - 1 - position_in_token
    powers = _power_table(int(lengths.max()) if lengths.size else 1)
    terms = _LOWER[padded[kept]] * powers[exponent]
    sums = np.add.reduceat(terms, first) if kept.size else np.empty(0, dtype=np.uint32)
    hashes = fmix32(sums.astype(np.uint32) + lengths.astype(np.uint32) * np.uint32(_LENGTH_MIX))
    return TokenHashes(hashes.astype(np.uint32), (starts - 1).astype(np.int64), (ends - 1).astype(np.int64))


_EMPTY = TokenHashes(np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

_SEQUENCE_BASE = 0x100000001B3  # FNV-1a 64-bit prime, odd
_MASK64 = (1 << 64) - 1


def sequence_fingerprint(hashes: list[int]) -> int:
    """64-bit fingerprint of a token-hash sequence (exact wording of a passage)."""
    acc = 0
    for value in hashes:
        acc = (acc * _SEQUENCE_BASE + value + 1) & _MASK64
    return (acc ^ (len(hashes) * 0x9E3779B97F4A7C15)) & _MASK64


def sequence_fingerprints(hashes: HashArray, group: npt.NDArray[np.int64], groups: int) -> npt.NDArray[np.uint64]:
    """:func:`sequence_fingerprint` of each group's hashes (``group`` sorted, one id per token)."""
    counts = np.bincount(group, minlength=groups).astype(np.int64)
    result = np.zeros(groups, dtype=np.uint64)
    if hashes.size == 0:
        return result ^ (counts.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    exponent = counts[group] - 1 - (np.arange(hashes.size) - first[group])
    powers = _power_table64(int(counts.max()))
    terms = (hashes.astype(np.uint64) + np.uint64(1)) * powers[exponent]
    present = counts > 0
    result[present] = np.add.reduceat(terms, first[present])
    return result ^ (counts.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))


_powers64 = np.ones(1, dtype=np.uint64)


def _power_table64(length: int) -> npt.NDArray[np.uint64]:
    global _powers64
    if _powers64.size < length:
        table = np.empty(max(length, 2 * _powers64.size), dtype=np.uint64)
        table[0] = 1
        for index in range(1, table.size):
            table[index] = (int(table[index - 1]) * _SEQUENCE_BASE) & _MASK64
        _powers64 = table
    return _powers64
