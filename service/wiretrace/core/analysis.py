"""Analysis: a text's features, signatures and LSH bucket keys, here or in worker processes.

Analysis needs no storage and no lock, so a busy ingest runs it in spawned worker
processes (:class:`AnalysisPool`) while the engine stores the previous batch.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from wiretrace.core import semantic
from wiretrace.core.features import TextFeatures, decode_features, encode_features, extract
from wiretrace.core.gist import gist_of
from wiretrace.core.language import detect_language
from wiretrace.core.lsh import bucket_keys
from wiretrace.core.meaning import SentenceMeanings, remember
from wiretrace.core.passage_keys import stored_and_query_keys
from wiretrace.core.settings import IndexSettings
from wiretrace.core.signatures import MinHasher, Signature


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text's features, signatures and bucket keys."""

    features: TextFeatures
    document_signature: Signature
    document_keys: npt.NDArray[np.uint64]
    # Keys a passage is stored under, and (more of its rare words) the keys it looks up.
    passage_keys: npt.NDArray[np.uint64]
    passage_query_keys: npt.NDArray[np.uint64]
    # ``features`` as stored (:func:`encode_features`).
    stored_features: bytes
    # The text's language as detected with it (:func:`detect_language`; "" unsure), None when not
    # asked: detection is a millisecond of the ingest's serial path otherwise.
    language: str | None = None

    @property
    def passage_fingerprints(self) -> tuple[int, ...]:
        return tuple(p.fingerprint for p in self.features.passages)

    def __reduce__(self) -> tuple[Callable[..., Analysis], tuple[object, ...]]:
        # Analyses come back from worker processes: the stored form pickles several times
        # faster than the feature objects, and is needed anyway.
        # The sentences a worker encoded (the gist's) come along, so the engine does not again.
        embeddings = self.features.embeddings
        meanings = self.features.meanings
        fields = (
            self.stored_features,
            embeddings,
            None if meanings is None else meanings.text,
            None if meanings is None else meanings.encoded(),
            self.document_signature,
            self.document_keys,
            self.passage_keys,
            self.passage_query_keys,
            self.language,
        )
        return _restore_analysis, fields


def _restore_analysis(
    stored_features: bytes,
    embeddings: npt.NDArray[np.float32] | None,
    meaning_text: str | None,
    encoded: tuple[list[int], npt.NDArray[np.float16]] | None,
    document_signature: Signature,
    document_keys: npt.NDArray[np.uint64],
    passage_keys: npt.NDArray[np.uint64],
    passage_query_keys: npt.NDArray[np.uint64],
    language: str | None,
) -> Analysis:
    features = replace(decode_features(stored_features), embeddings=embeddings)
    if meaning_text is not None:
        features = replace(features, meanings=SentenceMeanings(meaning_text, features.sentences))
    if encoded is not None:
        remember(*encoded)
    return Analysis(
        features, document_signature, document_keys, passage_keys, passage_query_keys, stored_features, language
    )


@lru_cache(maxsize=8)
def _hasher(num_perm: int, seed: int) -> MinHasher:
    return MinHasher(num_perm, seed)


def text_features(text: str, settings: IndexSettings, stored: bytes = b"") -> TextFeatures:
    """What matching compares: lexical features (``stored`` ones when given), plus sentence
    embeddings when the semantic layer is on, or else embeddings on demand (``verify_meaning``)."""
    features = decode_features(stored) if stored else extract(text, settings.features)
    if settings.semantic:
        sentences = [text[p.span.start : p.span.end] for p in features.passages]
        features = replace(features, embeddings=semantic.default_encoder().encode(sentences))
    elif settings.verify_meaning:
        features = replace(features, meanings=SentenceMeanings(text, features.sentences))
    return features


def analyse_text(
    text: str, settings: IndexSettings, *, with_gist: bool = True, with_language: bool = False
) -> Analysis:
    """Features, signatures and bucket keys of a text under ``settings`` (no storage needed);
    ``with_gist=False`` leaves the gist for the matcher to compute if another language needs it
    (a text only looked up: its gist is never stored); ``with_language`` detects its language.

    Each passage's bucket keys are pairs of its rarest words (:mod:`wiretrace.core.passage_keys`),
    then (semantic layer) the bands of its embedding's top-dimension set, in a separate key family.
    """
    features = text_features(text, settings)
    if settings.gists and with_gist:
        features = replace(features, gist=gist_of(features))
    hasher = _hasher(settings.num_perm, settings.seed)
    document_signature = hasher.signature(features.shingles)
    if settings.passage_index == "minhash":
        passage_keys = np.empty((0, settings.passage_lsh.bands), dtype=np.uint64)
        if features.passages:
            passage_hasher = _hasher(settings.passage_perms, settings.seed)
            passage_keys = bucket_keys(
                passage_hasher.signatures([p.features for p in features.passages]), settings.passage_lsh
            )
        query_keys = passage_keys
    else:
        passage_keys, query_keys = stored_and_query_keys(
            features, settings.passage_stored_words, settings.passage_query_words
        )
    if features.embeddings is not None and features.passages:
        meaning = semantic.top_dimension_sets(features.embeddings, settings.semantic_top_dims)
        # The meaning sets' low threshold needs many bands: all num_perm permutations.
        meaning_keys = bucket_keys(hasher.signatures(meaning), settings.semantic_lsh, family=1)
        passage_keys = np.hstack([passage_keys, meaning_keys])
        query_keys = np.hstack([query_keys, meaning_keys])
    return Analysis(
        features=features,
        document_signature=document_signature,
        document_keys=bucket_keys(document_signature, settings.document_lsh)[0],
        passage_keys=passage_keys,
        passage_query_keys=query_keys,
        stored_features=encode_features(features),
        language=detect_language(text) if with_language else None,
    )


class AnalysisPool:
    """Worker processes that analyse texts under one settings object.

    The workers are spawned, not forked (the process may already run gRPC's threads, which
    fork does not copy), so a script using them needs the ``if __name__ == "__main__":`` guard.
    """

    def __init__(self, workers: int, settings: IndexSettings) -> None:
        self.workers = workers
        self.settings = settings
        self._executor = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=(settings,)
        )

    def analyse(self, texts: list[str], with_language: list[bool] | None = None) -> Future[list[Analysis]]:
        """The analyses of ``texts`` in order, one share of them per worker; the language of
        those flagged in ``with_language`` detected too."""
        flags = with_language or [False] * len(texts)
        size = -(-len(texts) // self.workers)
        parts = [
            self._executor.submit(_analyse_all, texts[i : i + size], flags[i : i + size])
            for i in range(0, len(texts), size)
        ]
        done: Future[list[Analysis]] = Future()
        remaining = [len(parts)]
        lock = threading.Lock()

        def attach(_: Future[list[Analysis]]) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            try:
                done.set_result([analysis for part in parts for analysis in part.result()])
            except BaseException as error:  # a worker died: the batch fails, nothing was stored
                done.set_exception(error)

        for part in parts:
            part.add_done_callback(attach)
        if not parts:
            done.set_result([])
        return done

    def close(self) -> None:
        self._executor.shutdown(cancel_futures=True)


_worker_settings: IndexSettings | None = None


def _init_worker(settings: IndexSettings) -> None:
    global _worker_settings
    _worker_settings = settings
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A worker holds both ends of its task queue, so it would wait on it forever once the
        # server is killed (kill -9 runs no shutdown): leave with the parent instead.
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="exit-with-parent", daemon=True).start()


def _exit_with(parent_sentinel: int) -> None:
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(0)


def _analyse_all(texts: list[str], with_language: list[bool]) -> list[Analysis]:
    """Runs in an analysis worker process."""
    assert _worker_settings is not None
    settings = _worker_settings
    return [analyse_text(t, settings, with_language=w) for t, w in zip(texts, with_language, strict=True)]
