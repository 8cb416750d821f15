"""The gists of one store's articles, by language, for finding an article's translations.

Held in memory (usearch HNSW graphs over one byte a dimension, one graph per language, so
that a language with few articles is never crowded out by one with many) and caught up from
the store before each use: it is rebuilt after a restart, and sees what other processes
sharing the store wrote. A deleted article stays listed until the next restart (a replaced one
is listed under its new text): the matcher reads candidates' records, and a deleted one has none.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from wiretrace.core.features import decode_stored_gist
from wiretrace.core.gist import Gist
from wiretrace.core.ports import Storage
from wiretrace.core.semantic import EMBEDDING_DIMENSIONS, ENCODER_LANGUAGES

# Articles read from the store per page while catching up.
_PAGE = 1000


class GistIndex:
    def __init__(self) -> None:
        self._graphs: dict[str, Any] = {}
        # article id -> (its ingest sequence: the key in its language's graph, that language)
        self._entries: dict[str, tuple[int, str]] = {}
        self._ids: dict[int, str] = {}
        self._last_seq = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def catch_up(self, storage: Storage) -> None:
        """Add the gists of articles stored since the last call (all of them, the first time),
        a page at a time and each page's gists of one language in one call (after a restart
        of a large store, adding them one by one cost most of the first request)."""
        with self._lock:
            while page := storage.list_articles(self._last_seq, _PAGE):
                records = storage.get_records(a.article_id for a in page)
                by_language: dict[str, list[tuple[str, int, Gist]]] = {}
                for article in page:
                    record = records.get(article.article_id)
                    gist = decode_stored_gist(record.features) if record is not None and record.features else None
                    if gist is not None:
                        by_language.setdefault(article.language, []).append((article.article_id, article.seq, gist))
                for language, gists in by_language.items():
                    self._add(language, gists)
                self._last_seq = page[-1].seq
                if len(page) < _PAGE:
                    break

    def holds_other_languages(self, language: str) -> bool:
        """Whether any article of another language the encoder knows has a gist here."""
        with self._lock:
            return any(
                other != language and other in ENCODER_LANGUAGES and len(graph) for other, graph in self._graphs.items()
            )

    def nearest(self, gist: Gist, language: str, limit: int, min_cosine: float) -> list[tuple[str, float]]:
        """Articles of other languages than ``language`` whose gists are closest, at
        ``min_cosine`` or more, closest first (languages the encoder knows only)."""
        found: list[tuple[str, float]] = []
        with self._lock:
            for other, graph in self._graphs.items():
                if other == language or other not in ENCODER_LANGUAGES or not len(graph):
                    continue
                hits = graph.search(gist, min(limit, len(graph)))
                for key, distance in zip(hits.keys.tolist(), hits.distances.tolist(), strict=True):
                    cosine = 1.0 - float(distance)
                    if cosine >= min_cosine and int(key) in self._ids:
                        found.append((self._ids[int(key)], cosine))
        found.sort(key=lambda hit: -hit[1])
        return found[:limit]

    def _add(self, language: str, gists: list[tuple[str, int, Gist]]) -> None:
        """Add (article id, ingest sequence, gist) of articles of one language."""
        for article_id, _, _ in gists:
            self._remove(article_id)  # replaced: its new text has a new sequence
        graph = self._graphs.get(language)
        if graph is None:
            from usearch.index import Index

            graph = self._graphs[language] = Index(ndim=EMBEDDING_DIMENSIONS, metric="cos", dtype="i8")
        keys = np.array([seq for _, seq, _ in gists], dtype=np.uint64)
        graph.add(keys, np.vstack([np.asarray(gist, dtype=np.float32) for _, _, gist in gists]))
        for article_id, seq, _ in gists:
            self._entries[article_id] = (seq, language)
            self._ids[seq] = article_id

    def _remove(self, article_id: str) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is not None:
            seq, language = entry
            self._graphs[language].remove(seq)
            del self._ids[seq]
