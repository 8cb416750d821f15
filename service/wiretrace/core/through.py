"""Passages found through a third text: if the query shares a passage with a stored story, and that
story is stored as sharing that passage with a source, the query's passage and the source's are
one statement, whatever their distance in words.

A quote is usually found first in a text that repeats it closely (a verbatim copy, the same
machine translation), and only through it in its source, whose wording is further away: another
translation (WMT21 ja-en: in all 17 of 100 planted quotes that meaning on demand missed, the host
story had matched other versions of the article, never its reference), or the original in another
language. Each of the two stored alignments is evidence; composed, they say which sentences of
the query and of the source to compare, so meaning decides at a lower bar there, as passim and
TextPAIR follow alignments transitively.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wiretrace.core.features import TextFeatures
from wiretrace.core.meaning import encode_together
from wiretrace.core.model import Match, MatchKind, PassageKind, SharedPassage
from wiretrace.core.settings import IndexSettings
from wiretrace.core.signatures import Signature
from wiretrace.core.translation import aligned_pairs, meaning_match


@dataclass(frozen=True, slots=True)
class ImpliedPassage:
    """Where one statement stands in the query and in the source, by a third text's alignments:
    [start, end) in code points on each side."""

    query_start: int
    query_end: int
    source_start: int
    source_end: int


def _within(features: TextFeatures, start: int, end: int) -> list[int]:
    """Indices of the sentences overlapping [start, end), in text order."""
    spans = [s.span for s in features.sentences]
    return [i for i in features.sentence_order().order if spans[i].start < end and start < spans[i].end]


def verify_through(
    source_id: str,
    query: TextFeatures,
    query_signature: Signature,
    source: TextFeatures,
    source_signature: Signature,
    implied: list[ImpliedPassage],
    settings: IndexSettings,
    translated: bool,
) -> Match | None:
    """The reused-passage match of the query with the source, from the sentences each implied
    passage points at that meaning aligns (mutual best, at the translation floor and margin)."""
    if query.meanings is None or source.meanings is None:
        return None
    passages: dict[tuple[int, int, int, int], SharedPassage] = {}
    aligned: set[tuple[int, int]] = set()
    kind = PassageKind.TRANSLATED if translated else PassageKind.VARIANT
    for where in implied:
        rows = _within(query, where.query_start, where.query_end)
        columns = _within(source, where.source_start, where.source_end)
        if not rows or not columns:
            continue
        encode_together([(query.meanings, rows), (source.meanings, columns)])
        cosine = query.meanings.of(rows) @ source.meanings.of(columns).T
        pairs = aligned_pairs(cosine, settings)
        if not pairs:
            continue
        aligned.update((rows[r], columns[c]) for r, c in pairs)
        first, last = min(pairs), max(pairs)
        found = SharedPassage(
            query_start=query.sentences[rows[first[0]]].span.start,
            query_end=query.sentences[rows[last[0]]].span.end,
            matched_start=source.sentences[columns[min(c for _, c in pairs)]].span.start,
            matched_end=source.sentences[columns[max(c for _, c in pairs)]].span.end,
            kind=kind,
            score=round(float(np.mean([cosine[pair] for pair in pairs])), 4),
        )
        passages.setdefault((found.query_start, found.query_end, found.matched_start, found.matched_end), found)
    if not passages:
        return None
    ordered = tuple(sorted(passages.values(), key=lambda p: (p.query_start, p.matched_start)))
    coverage = min(len(aligned) / max(len(query.sentences), 1), len(aligned) / max(len(source.sentences), 1))
    return meaning_match(source_id, MatchKind.REUSED_PASSAGE, coverage, query_signature, source_signature, ordered)
