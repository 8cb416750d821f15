"""From LSH candidates to verified matches: screen, boilerplate, exact verification.

The :class:`Matcher` keeps recently seen articles' features (a later article is
verified against them without decoding them again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from wiretrace.core.analysis import Analysis, text_features
from wiretrace.core.features import SentenceSets, TextFeatures, decode_sentence_sets
from wiretrace.core.matching import may_align, verify
from wiretrace.core.model import Match
from wiretrace.core.ports import ArticleRecord
from wiretrace.core.settings import IndexSettings
from wiretrace.core.staging import Overlay


def _best_cosine(query: TextFeatures, candidates: Iterable[TextFeatures]) -> npt.NDArray[np.float32] | None:
    """Per query sentence, its highest cosine with any candidate's sentence (semantic layer only)."""
    if query.embeddings is None or not query.passages:
        return None
    others = [c.embeddings for c in candidates if c.embeddings is not None and c.embeddings.size]
    if not others:
        return None
    best: npt.NDArray[np.float32] = (query.embeddings @ np.vstack(others).T).max(axis=1)
    return best


class Matcher:
    def __init__(self, settings: IndexSettings, feature_cache_size: int = 4096) -> None:
        self.settings = settings
        self._cache: OrderedDict[tuple[str, str], TextFeatures] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = feature_cache_size

    def match(
        self, view: Overlay, analysis: Analysis, exclude: set[str], source: str = ""
    ) -> tuple[list[Match], dict[str, ArticleRecord]]:
        """Verified matches, best first, and the records of the matched articles."""
        candidate_ids = view.candidates(analysis.document_keys, analysis.passage_keys) - exclude
        if not candidate_ids:
            return [], {}
        records = view.records(candidate_ids)
        if not self.settings.semantic:
            # Sentences can also align by meaning in the semantic layer; there every candidate is verified.
            records = self._plausible(analysis, records)
            if not records:
                return [], {}
        candidates = {i: self._features_of(r) for i, r in records.items()}
        # Boilerplate is wording that recurs verbatim, so the query's own sentences tell it: in
        # many articles anywhere, or in several of the same outlet's (site furniture, bios).
        own = {p.fingerprint for p in analysis.features.passages}
        limit = self.settings.boilerplate_max_articles
        boilerplate = {fp for fp, count in view.fingerprint_counts(own).items() if count >= limit}
        if source:
            outlet_limit = self.settings.outlet_boilerplate_articles
            boilerplate |= {fp for fp, count in view.fingerprint_counts(own, source).items() if count >= outlet_limit}
        best_cosine = _best_cosine(analysis.features, candidates.values())
        matches = []
        for article_id, features in candidates.items():
            match = verify(
                article_id,
                analysis.features,
                analysis.document_signature,
                features,
                records[article_id].document_signature,
                self.settings,
                boilerplate,
                best_cosine,
            )
            if match is not None:
                matches.append(match)
        matches.sort(key=lambda m: (-m.score, m.article_id))
        return matches, {m.article_id: records[m.article_id] for m in matches}

    def remember(self, article_id: str, content_sha256: str, features: TextFeatures) -> None:
        """Keep a just-stored article's features: later articles are verified against it."""
        key = (article_id, content_sha256)
        with self._cache_lock:
            self._cache[key] = features
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _cached(self, record: ArticleRecord) -> TextFeatures | None:
        key = (record.article.article_id, record.article.content_sha256)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
            return cached

    def _features_of(self, record: ArticleRecord) -> TextFeatures:
        cached = self._cached(record)
        if cached is not None:
            return cached
        article = record.article
        features = text_features(article.text, self.settings, record.features)
        self.remember(article.article_id, article.content_sha256, features)
        return features

    def _sentence_sets(self, record: ArticleRecord) -> SentenceSets:
        cached = self._cached(record)
        if cached is not None:
            return cached.sentence_sets()
        if record.features:
            return decode_sentence_sets(record.features)
        return self._features_of(record).sentence_sets()

    def _plausible(self, analysis: Analysis, records: dict[str, ArticleRecord]) -> dict[str, ArticleRecord]:
        """The candidates verification could accept in lexical mode: with a sentence that aligns
        by shared words (:func:`may_align`), or a near-duplicate by their document signatures.

        Near-duplicates need an exact shingle Jaccard of ``near_duplicate_jaccard``; half of it as
        the MinHash estimate's floor misses one with odds of about 1e-8 at 128 permutations.
        """
        ids = sorted(records)
        aligned = may_align(analysis.features, [self._sentence_sets(records[i]) for i in ids], self.settings)
        signatures = np.vstack([records[i].document_signature for i in ids])
        estimated = (signatures == analysis.document_signature).mean(axis=1)
        near = estimated >= self.settings.near_duplicate_jaccard / 2
        return {i: records[i] for i, keep in zip(ids, (aligned | near).tolist(), strict=True) if keep}
