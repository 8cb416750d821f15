"""Verification across languages: sentences aligned by meaning alone.

Two texts in different languages share no words to screen or align by, so every sentence
of both is encoded (embeddings cached by wording, :mod:`wiretrace.core.meaning`) and pairs
are taken as bitext miners take them: each other's best counterpart (mutual best), at a
cosine floor, and ahead of both sentences' next-best counterparts by a margin. A run of
pairs in order (a few sentences apart at most) is a translated passage; a pair standing alone needs a higher cosine, the
chance of a single close pair between two unrelated texts on one topic being real.

Only candidates another language's gist brought (:mod:`wiretrace.core.gist_index`) are
verified here, a handful per article.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from wiretrace.core.features import TextFeatures
from wiretrace.core.meaning import encode_together
from wiretrace.core.model import Match, MatchKind, PassageKind, SharedPassage
from wiretrace.core.settings import IndexSettings
from wiretrace.core.signatures import Signature, estimate_jaccard

# Sentences of each text compared at most, from its start: bounds the encoder's work on a long text.
MAX_SENTENCES = 64
# Sentences a run of aligned pairs may step over on either side.
_GAP = 2


def _opening(features: TextFeatures) -> list[int]:
    """Indices of the text's first sentences in text order."""
    return list(features.sentence_order().order[:MAX_SENTENCES])


def aligned_pairs(cosine: npt.NDArray[np.float32], settings: IndexSettings) -> list[tuple[int, int]]:
    """(row, column) pairs of a cosine matrix that are mutual best, above the floor and ahead of
    their rows' and columns' next best by the margin, in row order."""
    rows, columns = cosine.shape
    if not rows or not columns:
        return []
    best_column = cosine.argmax(axis=1)
    best_row = cosine.argmax(axis=0)
    pairs = []
    for row in range(rows):
        column = int(best_column[row])
        value = float(cosine[row, column])
        if best_row[column] != row or value < settings.translation_min_cosine:
            continue
        rivals = [
            float(np.delete(cosine[row], column).max()) if columns > 1 else -1.0,
            float(np.delete(cosine[:, column], row).max()) if rows > 1 else -1.0,
        ]
        if value - max(rivals) >= settings.translation_min_lead:
            pairs.append((row, column))
    return pairs


def _follows(previous: tuple[int, int], pair: tuple[int, int]) -> bool:
    """Whether ``pair`` continues a run ending at ``previous``: later on both sides, and at most
    ``_GAP`` sentences on: a translation splits and merges sentences, and leaves some out."""
    return 0 < pair[0] - previous[0] <= _GAP and 0 < pair[1] - previous[1] <= _GAP


def verify_translation(
    matched_id: str,
    query: TextFeatures,
    query_signature: Signature,
    matched: TextFeatures,
    matched_signature: Signature,
    settings: IndexSettings,
) -> Match | None:
    """The match between two texts in different languages, if meaning aligns enough of them."""
    if query.meanings is None or matched.meanings is None:
        return None
    query_order, matched_order = _opening(query), _opening(matched)
    if not query_order or not matched_order:
        return None
    encode_together([(query.meanings, query_order), (matched.meanings, matched_order)])
    cosine = query.meanings.of(query_order) @ matched.meanings.of(matched_order).T
    pairs = aligned_pairs(cosine, settings)
    runs: list[list[tuple[int, int]]] = []
    for row, column in pairs:
        if runs and _follows(runs[-1][-1], (row, column)):
            runs[-1].append((row, column))
        else:
            runs.append([(row, column)])
    kept = [run for run in runs if len(run) > 1 or cosine[run[0]] >= settings.translation_single_min_cosine]
    if not kept:
        return None
    passages = tuple(_passage(run, cosine, query, query_order, matched, matched_order) for run in kept)
    aligned = sum(len(run) for run in kept)
    coverage = min(aligned / len(query_order), aligned / len(matched_order))
    kind = MatchKind.NEAR_DUPLICATE if coverage >= settings.near_duplicate_coverage else MatchKind.REUSED_PASSAGE
    return meaning_match(matched_id, kind, coverage, query_signature, matched_signature, passages)


def meaning_match(
    matched_id: str,
    kind: MatchKind,
    coverage: float,
    query_signature: Signature,
    matched_signature: Signature,
    passages: tuple[SharedPassage, ...],
) -> Match:
    """A match found by meaning alone: scored by the share of both sides' sentences aligned, as
    any match is; no shingles shared to speak of."""
    return Match(
        article_id=matched_id,
        kind=kind,
        score=round(coverage, 4),
        estimated_jaccard=round(estimate_jaccard(query_signature, matched_signature), 4),
        jaccard=0.0,
        query_containment=0.0,
        matched_containment=0.0,
        passages=passages,
    )


def _passage(
    run: list[tuple[int, int]],
    cosine: npt.NDArray[np.float32],
    query: TextFeatures,
    query_order: list[int],
    matched: TextFeatures,
    matched_order: list[int],
) -> SharedPassage:
    first, last = run[0], run[-1]
    return SharedPassage(
        query_start=query.sentences[query_order[first[0]]].span.start,
        query_end=query.sentences[query_order[last[0]]].span.end,
        matched_start=matched.sentences[matched_order[first[1]]].span.start,
        matched_end=matched.sentences[matched_order[last[1]]].span.end,
        kind=PassageKind.TRANSLATED,
        score=round(float(np.mean([cosine[pair] for pair in run])), 4),
    )
