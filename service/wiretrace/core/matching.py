"""Verification of LSH candidates against the exact feature sets, and passage alignment.

LSH only proposes; every reported match carries exact scores computed here, and
its shared passages are aligned sentence to sentence and merged into maximal
runs (as passim and TextPAIR extend seed matches), with offsets on both sides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from wiretrace.core.features import PassageFeatures, TextFeatures
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


def _overlap(first: np.ndarray, second: np.ndarray) -> int:
    return int(np.intersect1d(first, second, assume_unique=True).size)


def align_passages(
    query: tuple[PassageFeatures, ...],
    matched: tuple[PassageFeatures, ...],
    settings: IndexSettings,
    boilerplate: Collection[int] = (),
) -> tuple[list[SharedPassage], int, int]:
    """Shared passages (query side first), the shared features behind them, and the aligned sentence pairs."""
    by_feature: defaultdict[int, list[int]] = defaultdict(list)
    for index, passage in enumerate(matched):
        if passage.fingerprint in boilerplate:
            continue
        for feature in passage.features.tolist():
            by_feature[feature].append(index)
    pairs: list[_PassagePair] = []
    for query_index, passage in enumerate(query):
        if passage.fingerprint in boilerplate:
            continue
        counts: defaultdict[int, int] = defaultdict(int)
        for feature in passage.features.tolist():
            for matched_index in by_feature.get(feature, ()):
                counts[matched_index] += 1
        for matched_index, shared in counts.items():
            if shared < settings.passage_min_shared:
                continue
            other = matched[matched_index]
            similarity = shared / (passage.features.size + other.features.size - shared)
            if similarity >= settings.passage_min_similarity:
                verbatim = passage.fingerprint == other.fingerprint
                pairs.append(_PassagePair(query_index, matched_index, similarity, shared, verbatim))
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
    chosen.sort(key=lambda p: p.query_index)
    return _merge_runs(chosen, query, matched), sum(p.shared for p in chosen), len(chosen)


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
        weight = sum(p.shared for p in run)
        score = sum(p.similarity * p.shared for p in run) / weight
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
) -> Match | None:
    """The match between two texts if the exact evidence is strong enough, else None."""
    shared = _overlap(query.shingles, matched.shingles)
    union = query.shingles.size + matched.shingles.size - shared
    jaccard = shared / union if union else 0.0
    query_containment = shared / query.shingles.size if query.shingles.size else 0.0
    matched_containment = shared / matched.shingles.size if matched.shingles.size else 0.0
    passages, _, aligned = align_passages(query.passages, matched.passages, settings, boilerplate)
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
