"""Sentence meanings on demand: embeddings only for the sentence pairs words cannot decide.

Two translations of one statement share some rare words but often under half their
content words, as do two sentences of one story that say different things. Words decide
most pairs (a copy, or nothing in common); the rest, sharing a few rare words, are
decided by a multilingual sentence encoder (:mod:`wiretrace.core.semantic`). Its cost then
grows with such candidate pairs, not with every sentence ingested: a sentence is encoded
the first time it is in one, and its embedding kept by wording (equal wording, one
embedding) for the next article that quotes it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from wiretrace.core import semantic
from wiretrace.core.features import Meanings, PassageFeatures

Embeddings = npt.NDArray[np.float32]


class EmbeddingCache:
    """Embeddings by sentence fingerprint (its normalised wording), least recently used out.

    Held as float16: half the memory, and cosines change by under 1e-3.
    """

    def __init__(self, size: int = 200_000) -> None:
        self._size = size
        self._vectors: OrderedDict[int, npt.NDArray[np.float16]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, fingerprints: Sequence[int]) -> list[npt.NDArray[np.float16] | None]:
        with self._lock:
            found = [self._vectors.get(f) for f in fingerprints]
            for fingerprint, vector in zip(fingerprints, found, strict=True):
                if vector is not None:
                    self._vectors.move_to_end(fingerprint)
            return found

    def put(self, fingerprints: Sequence[int], vectors: npt.NDArray[np.float16]) -> None:
        with self._lock:
            for fingerprint, vector in zip(fingerprints, vectors, strict=True):
                self._vectors[fingerprint] = vector
                self._vectors.move_to_end(fingerprint)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)


_CACHE = EmbeddingCache()


class SentenceMeanings:
    """The embeddings of one text's passages, each computed the first time it is asked for."""

    def __init__(self, text: str, passages: tuple[PassageFeatures, ...]) -> None:
        self._text = text
        self._passages = passages

    @property
    def text(self) -> str:
        return self._text

    def known(self, indices: Sequence[int]) -> list[int]:
        """Those of ``indices`` whose embeddings are at hand (cached): free to compare."""
        found, _ = self._lookup(indices)
        return [i for i, (_, vector) in zip(indices, found, strict=True) if vector is not None]

    def encoded(self) -> tuple[list[int], npt.NDArray[np.float16]]:
        """Fingerprints and embeddings of this text's sentences encoded so far: what a worker
        process that analysed the text (its gist) hands back with it, for :func:`remember`."""
        found, _ = self._lookup(range(len(self._passages)))
        known = {f: v for f, v in found if v is not None}
        if not known:
            return [], np.empty((0, semantic.EMBEDDING_DIMENSIONS), dtype=np.float16)
        return list(known), np.vstack(list(known.values()))

    def missing(self, indices: Sequence[int]) -> dict[int, str]:
        """The sentences at ``indices`` not encoded yet, by fingerprint."""
        return self._lookup(indices)[1]

    def of(self, indices: Sequence[int]) -> Embeddings:
        """L2-normalised embeddings of the passages at ``indices``, in that order."""
        found, missing = self._lookup(indices)
        fresh = _encode(missing)
        vectors = [fresh[f] if v is None else v for f, v in found]
        if not vectors:
            return np.empty((0, semantic.EMBEDDING_DIMENSIONS), dtype=np.float32)
        return np.vstack(vectors).astype(np.float32)

    def _lookup(
        self, indices: Sequence[int]
    ) -> tuple[list[tuple[int, npt.NDArray[np.float16] | None]], dict[int, str]]:
        """(each index's fingerprint and cached embedding, the uncached sentences by fingerprint)."""
        fingerprints = [self._passages[i].fingerprint for i in indices]
        found = list(zip(fingerprints, _CACHE.get(fingerprints), strict=True))
        missing = {f: self._sentence(i) for i, (f, v) in zip(indices, found, strict=True) if v is None}
        return found, missing

    def _sentence(self, index: int) -> str:
        span = self._passages[index].span
        return self._text[span.start : span.end]


def remember(fingerprints: Sequence[int], vectors: npt.NDArray[np.float16]) -> None:
    """Cache embeddings computed elsewhere (:meth:`SentenceMeanings.encoded`)."""
    if len(fingerprints):
        _CACHE.put(fingerprints, vectors)


def encode_together(requests: Sequence[tuple[Meanings, Sequence[int]]]) -> None:
    """Encode in one batch what several :meth:`SentenceMeanings.of` calls are about to ask for:
    a call to the encoder costs about as much as half a sentence beside each sentence's own."""
    wanted: dict[int, str] = {}
    for meanings, indices in requests:
        wanted.update(meanings.missing(indices))
    _encode(wanted)


def _encode(sentences: dict[int, str]) -> dict[int, npt.NDArray[np.float16]]:
    """Embeddings of ``sentences`` (by fingerprint), now also cached."""
    if not sentences:
        return {}
    fingerprints = sorted(sentences)
    # Through float16 as cached: the first answer equals every later one.
    encoded = semantic.default_encoder().encode([sentences[f] for f in fingerprints]).astype(np.float16)
    _CACHE.put(fingerprints, encoded)
    return dict(zip(fingerprints, encoded, strict=True))
