"""Verification of LSH candidates against the exact feature sets, and passage alignment.

LSH only proposes; every reported match carries exact scores computed here, and
its shared passages are aligned sentence to sentence and merged into maximal
runs (as passim and TextPAIR extend seed matches), with offsets on both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wiretrace.core.features import HashArray, PassageFeatures, SentenceSets, TextFeatures
from wiretrace.core.model import Match, MatchKind, PassageKind, SharedPassage
from wiretrace.core.settings import IndexSettings
from wiretrace.core.signatures import Signature, estimate_jaccard


@dataclass(frozen=True, slots=True)
class _PassagePair:
    query_index: int
    matched_index: int
    similarity: float
    shared: int
    verbatim: bool
    # Aligned by shared words; otherwise by meaning (semantic layer).
    lexical: bool


def _overlap(first: np.ndarray, second: np.ndarray) -> int:
    return int(np.intersect1d(first, second, assume_unique=True).size)


def _shared_counts(
    query: TextFeatures, features: HashArray, owners: npt.NDArray[np.int32], width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query sentence, other sentence, shared features) for every pair sharing a feature.

    ``features`` (sorted) and ``owners`` are the other side's flattened sentence sets, whose
    sentence indices are below ``width``.
    """
    if query.flat_features.size == 0 or features.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    low = np.searchsorted(features, query.flat_features, side="left")
    high = np.searchsorted(features, query.flat_features, side="right")
    hits = high - low
    total = int(hits.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    query_side = np.repeat(query.flat_owners.astype(np.int64), hits)
    starts = np.repeat(low - np.cumsum(hits) + hits, hits) + np.arange(total)
    other_side = owners[starts].astype(np.int64)
    pairs, shared = np.unique(query_side * width + other_side, return_counts=True)
    return pairs // width, pairs % width, shared


def _aligns_lexically(
    shared: np.ndarray, query_sizes: np.ndarray, other_sizes: np.ndarray, settings: IndexSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(pair aligns by shared words, Jaccard) for sentence pairs with these sizes and overlaps."""
    jaccard = shared / np.maximum(query_sizes + other_sizes - shared, 1)
    return (shared >= settings.passage_min_shared) & (jaccard >= settings.passage_min_similarity), jaccard


def may_align(query: TextFeatures, candidates: Sequence[SentenceSets], settings: IndexSettings) -> np.ndarray:
    """Per candidate, whether any of its sentences aligns with one of the query's by shared words.

    Without such a pair a candidate can have no lexical passage and no sentence coverage, so
    verification would reject it unless it is a near-duplicate by shingles. Most LSH candidates
    of a large index are chance collisions of common words; this tests them all in one
    vectorised pass, so that full verification runs only on the few that can pass.
    """
    result = np.zeros(len(candidates), dtype=bool)
    if not candidates or query.flat_features.size == 0:
        return result
    counts = np.array([c.sizes.size for c in candidates], dtype=np.int64)
    bases = np.concatenate(([0], np.cumsum(counts)[:-1]))
    width = int(counts.sum())
    features = np.concatenate([c.features for c in candidates])
    owners = np.concatenate([c.owners.astype(np.int64) + base for c, base in zip(candidates, bases, strict=True)])
    order = np.argsort(features, kind="stable")
    query_index, other_index, shared = _shared_counts(query, features[order], owners[order], max(width, 1))
    if shared.size == 0:
        return result
    query_sizes = np.bincount(query.flat_owners, minlength=len(query.passages))
    other_sizes = np.concatenate([c.sizes for c in candidates])
    aligned, _ = _aligns_lexically(shared, query_sizes[query_index], other_sizes[other_index], settings)
    owner_candidate = np.repeat(np.arange(len(candidates)), counts)
    result[owner_candidate[other_index[aligned]]] = True
    return result


def _sentence_pairs(
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
    best_cosine: npt.NDArray[np.float32] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sentence pairs that may align: (query index, matched index, shared features, similarity, lexical).

    Lexically, a pair shares enough stemmed content words. With embeddings on both
    sides (semantic layer) a pair also aligns on meaning: a high cosine, or a fair
    one with some words in common; its similarity is then the larger of the two.
    ``best_cosine`` (per query sentence, over every candidate text) keeps meaning-only
    pairs to the query sentence's nearest counterparts, as margin-based bitext mining
    does: a sentence on the same topic is close, its translation is closer.
    """
    query_index, matched_index, shared = _shared_counts(
        query, matched.flat_features, matched.flat_owners, len(matched.passages)
    )
    query_sizes = np.array([p.features.size for p in query.passages], dtype=np.int64)
    matched_sizes = np.array([p.features.size for p in matched.passages], dtype=np.int64)
    lexical, jaccard = _aligns_lexically(shared, query_sizes[query_index], matched_sizes[matched_index], settings)
    if query.embeddings is None or matched.embeddings is None or not query.passages or not matched.passages:
        return query_index[lexical], matched_index[lexical], shared[lexical], jaccard[lexical], lexical[lexical]
    cosine = query.embeddings @ matched.embeddings.T
    word_jaccard = np.zeros(cosine.shape)
    word_jaccard[query_index, matched_index] = jaccard
    shared_words = np.zeros(cosine.shape, dtype=np.int64)
    shared_words[query_index, matched_index] = shared
    is_lexical = np.zeros(cosine.shape, dtype=bool)
    is_lexical[query_index[lexical], matched_index[lexical]] = True
    by_meaning = (cosine >= settings.semantic_min_cosine) | (
        (cosine >= settings.semantic_supported_cosine) & (word_jaccard >= settings.semantic_support_jaccard)
    )
    if best_cosine is not None:
        by_meaning &= cosine >= best_cosine[:, None] - settings.semantic_margin
    rows, columns = np.nonzero(is_lexical | by_meaning)
    similarity = np.where(
        is_lexical[rows, columns],
        word_jaccard[rows, columns],
        np.maximum(word_jaccard[rows, columns], cosine[rows, columns]),
    )
    return rows, columns, shared_words[rows, columns], similarity, is_lexical[rows, columns]


def align_passages(
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
    boilerplate: Collection[int] = (),
    best_cosine: npt.NDArray[np.float32] | None = None,
) -> tuple[list[SharedPassage], int, int]:
    """Shared passages (query side first), the shared features behind them, and the aligned sentence pairs."""
    query_index, matched_index, shared, similarity, lexical = _sentence_pairs(query, matched, settings, best_cosine)
    pairs: list[_PassagePair] = []
    columns = (query_index, matched_index, shared, similarity, lexical)
    for q, m, count, score, by_words in zip(*(c.tolist() for c in columns), strict=True):
        first, second = query.passages[q], matched.passages[m]
        if first.fingerprint in boilerplate or second.fingerprint in boilerplate:
            continue
        pairs.append(_PassagePair(q, m, score, count, first.fingerprint == second.fingerprint, by_words))
    # One-to-one: each sentence pairs with its most similar counterpart.
    pairs.sort(key=lambda p: (-p.similarity, -p.shared, p.query_index, p.matched_index))
    used_query: set[int] = set()
    used_matched: set[int] = set()
    chosen: list[_PassagePair] = []
    for pair in pairs:
        if pair.query_index in used_query or pair.matched_index in used_matched:
            continue
        used_query.add(pair.query_index)
        used_matched.add(pair.matched_index)
        chosen.append(pair)
    if chosen and not any(p.lexical for p in chosen):
        # Meaning alone: independent texts on one topic have a few such sentences; a translation
        # or paraphrase of the shorter text has most of them.
        shorter = min(len(query.passages), len(matched.passages))
        if len(chosen) < settings.semantic_min_coverage * shorter:
            chosen = []
    chosen.sort(key=lambda p: p.query_index)
    return _merge_runs(chosen, query.passages, matched.passages), sum(p.shared for p in chosen), len(chosen)


def _merge_runs(
    pairs: list[_PassagePair], query: tuple[PassageFeatures, ...], matched: tuple[PassageFeatures, ...]
) -> list[SharedPassage]:
    """Consecutive sentence pairs on both sides become one maximal passage."""
    runs: list[list[_PassagePair]] = []
    for pair in pairs:
        if (
            runs
            and pair.query_index == runs[-1][-1].query_index + 1
            and (pair.matched_index == runs[-1][-1].matched_index + 1)
        ):
            runs[-1].append(pair)
        else:
            runs.append([pair])
    passages = []
    for run in runs:
        weights = [max(p.shared, 1) for p in run]
        score = sum(p.similarity * w for p, w in zip(run, weights, strict=True)) / sum(weights)
        kind = PassageKind.VERBATIM if all(p.verbatim for p in run) else PassageKind.VARIANT
        passages.append(
            SharedPassage(
                query_start=query[run[0].query_index].span.start,
                query_end=query[run[-1].query_index].span.end,
                matched_start=matched[run[0].matched_index].span.start,
                matched_end=matched[run[-1].matched_index].span.end,
                kind=kind,
                score=round(score, 4),
            )
        )
    return passages


def verify(
    matched_id: str,
    query: TextFeatures,
    query_signature: Signature,
    matched: TextFeatures,
    matched_signature: Signature,
    settings: IndexSettings,
    boilerplate: Collection[int] = (),
    best_cosine: npt.NDArray[np.float32] | None = None,
) -> Match | None:
    """The match between two texts if the exact evidence is strong enough, else None.

    ``best_cosine``: see :func:`_sentence_pairs` (semantic layer only).
    """
    shared = _overlap(query.shingles, matched.shingles)
    union = query.shingles.size + matched.shingles.size - shared
    jaccard = shared / union if union else 0.0
    query_containment = shared / query.shingles.size if query.shingles.size else 0.0
    matched_containment = shared / matched.shingles.size if matched.shingles.size else 0.0
    passages, _, aligned = align_passages(query, matched, settings, boilerplate, best_cosine)
    # Share of each side's sentences aligned with the other: a story re-published in other
    # words (re-translated, rewritten sentence by sentence) covers both sides.
    coverage = min(aligned / len(query.passages), aligned / len(matched.passages)) if aligned else 0.0
    if jaccard >= settings.near_duplicate_jaccard or coverage >= settings.near_duplicate_coverage:
        kind = MatchKind.NEAR_DUPLICATE
    elif passages:
        kind = MatchKind.REUSED_PASSAGE
    else:
        return None
    score = max(jaccard, coverage)
    return Match(
        article_id=matched_id,
        kind=kind,
        score=round(score, 4),
        estimated_jaccard=round(estimate_jaccard(query_signature, matched_signature), 4),
        jaccard=round(jaccard, 4),
        query_containment=round(query_containment, 4),
        matched_containment=round(matched_containment, 4),
        passages=tuple(passages),
    )
