"""Verification of LSH candidates against the exact feature sets, and passage alignment.

LSH only proposes; every reported match carries exact scores computed here, and
its shared passages are aligned sentence to sentence and merged into maximal
runs (as passim and TextPAIR extend seed matches), with offsets on both sides.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wiretrace.core.features import (
    DistinctSets,
    Meanings,
    PassageFeatures,
    SentenceOrder,
    SentenceSets,
    TextFeatures,
    number_terms,
    pooled_sets,
)
from wiretrace.core.meaning import encode_together
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


@dataclass(frozen=True, slots=True)
class _SetPairs:
    """Pairs of distinct sets (query side, other side) that share words, with their exact overlaps."""

    query: npt.NDArray[np.int64]
    other: npt.NDArray[np.int64]
    shared: npt.NDArray[np.int64]
    # Other-side sets that may have a qualifying pair not examined (work limit reached).
    unexamined: npt.NDArray[np.int64]


_EMPTY = np.empty(0, dtype=np.int64)
# Word checks done per vectorised step: bounds the temporary arrays (about 40 bytes a check).
_CHECK_CHUNK = 1 << 20


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``range(start, start + length)`` for each pair of the arguments."""
    total = int(lengths.sum())
    if total == 0:
        return _EMPTY
    offsets = np.cumsum(lengths) - lengths
    return np.asarray(np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64), dtype=np.int64)


def _prefix_entries(
    sets: DistinctSets, rank: np.ndarray, min_similarity: float, min_shared: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rank, set) of each set's prefix: its rarest words, as many as a pair reaching the
    thresholds must share one of (prefix filtering, as in all-pairs similarity search).

    A pair with Jaccard >= t shares at least t * |x| words of x, and at least ``min_shared``:
    with o such words, x's |x| - o + 1 rarest hold one that is also among y's |y| - o + 1
    rarest (the rarest shared word), so pairs sharing no prefix word can be left out exactly.
    """
    sizes = sets.sizes
    needed = np.maximum(min_shared, np.ceil(min_similarity * sizes - 1e-9)).astype(np.int64)
    prefix = sizes - needed + 1
    owners = sets.owners
    order = np.lexsort((rank, owners))
    position = np.arange(owners.size, dtype=np.int64) - sets.bounds[owners[order]]
    keep = position < prefix[owners[order]]
    ranks, owned = rank[order][keep], owners[order][keep]
    by_rank = np.lexsort((owned, ranks))
    return ranks[by_rank], owned[by_rank]


def _overlaps(
    query: DistinctSets, other: DistinctSets, pair_query: np.ndarray, pair_other: np.ndarray
) -> npt.NDArray[np.int64]:
    """Exact |query set ∩ other set| for each pair: each word of the smaller set looked up in the other."""
    query_keys = (query.owners.astype(np.uint64) << np.uint64(32)) | query.features.astype(np.uint64)
    other_keys = (other.owners.astype(np.uint64) << np.uint64(32)) | other.features.astype(np.uint64)
    query_sizes, other_sizes = query.sizes[pair_query], other.sizes[pair_other]
    result = np.zeros(pair_query.size, dtype=np.int64)
    from_query = query_sizes <= other_sizes
    for expand_query in (True, False):
        chosen = np.flatnonzero(from_query == expand_query)
        if expand_query:
            sets, looked_up, own, counterpart = query, other_keys, pair_query[chosen], pair_other[chosen]
        else:
            sets, looked_up, own, counterpart = other, query_keys, pair_other[chosen], pair_query[chosen]
        lengths = sets.sizes[own]
        ends = np.cumsum(lengths)
        start = 0
        while start < chosen.size:
            stop = max(int(np.searchsorted(ends, ends[start] - lengths[start] + _CHECK_CHUNK, side="right")), start + 1)
            entries = _expand(sets.bounds[own[start:stop]], lengths[start:stop])
            which = np.repeat(np.arange(stop - start), lengths[start:stop])
            keys = (counterpart[start:stop][which].astype(np.uint64) << np.uint64(32)) | sets.features[entries].astype(
                np.uint64
            )
            found = np.minimum(np.searchsorted(looked_up, keys), max(looked_up.size - 1, 0))
            hit = looked_up[found] == keys if looked_up.size else np.zeros(keys.size, dtype=bool)
            result[chosen[start:stop]] = np.bincount(which[hit], minlength=stop - start)
            start = stop
    return result


def _set_pairs(
    query: DistinctSets, other: DistinctSets, min_similarity: float, min_shared: int, max_work: int
) -> _SetPairs:
    """Pairs of distinct sets sharing words, with their exact overlaps: at least every pair that
    may reach ``min_shared`` shared words and Jaccard ``min_similarity``, while the work allows.

    When all (set, set, shared word) hits number at most ``max_work``, they are counted (every
    pair sharing a word). Otherwise :func:`_prefix_pairs`: pairs are generated from shared
    prefix words, rarest first, each costing one unit and then the size of its smaller set to
    check, at most ``max_work`` units of each. Beyond that (sentences by the thousand that all
    share common words) the pairs sharing only the most common words are left out, and their
    other-side sets are reported as ``unexamined``.
    """
    if query.count == 0 or other.count == 0:
        return _SetPairs(_EMPTY, _EMPTY, _EMPTY, _EMPTY)
    # Few enough (set, set, word) hits: count them all, which gives every pair sharing a word.
    low = np.searchsorted(other.sorted_features, query.features, side="left")
    hits = np.searchsorted(other.sorted_features, query.features, side="right") - low
    if int(hits.sum()) <= max_work:
        query_side = np.repeat(query.owners, hits)
        other_side = other.sorted_owners[_expand(low, hits)]
        keys, shared = np.unique(query_side * other.count + other_side, return_counts=True)
        return _SetPairs(keys // other.count, keys % other.count, shared.astype(np.int64), _EMPTY)
    return _prefix_pairs(query, other, min_similarity, min_shared, max_work)


def _prefix_pairs(
    query: DistinctSets, other: DistinctSets, min_similarity: float, min_shared: int, max_work: int
) -> _SetPairs:
    """:func:`_set_pairs` by prefix filtering: pairs that share a prefix word, then checked."""
    # One order of all words, rarest first (ties by value): the prefixes' order.
    words, inverse, frequency = np.unique(
        np.concatenate((query.features, other.features)), return_inverse=True, return_counts=True
    )
    rank_of_word = np.empty(words.size, dtype=np.int64)
    rank_of_word[np.lexsort((words, frequency))] = np.arange(words.size, dtype=np.int64)
    rank = rank_of_word[inverse.reshape(-1)]
    query_rank, query_owner = _prefix_entries(query, rank[: query.features.size], min_similarity, min_shared)
    other_rank, other_owner = _prefix_entries(other, rank[query.features.size :], min_similarity, min_shared)
    low = np.searchsorted(other_rank, query_rank, side="left")
    hits = np.searchsorted(other_rank, query_rank, side="right") - low
    # Rarest words first, as far as the work allows (the last word's pairs maybe in part).
    total = np.cumsum(hits)
    generated = int(np.searchsorted(total, max_work, side="right"))
    unexamined = [_EMPTY]
    if generated < hits.size:
        skipped = np.unique(query_rank[generated:][hits[generated:] > 0])
        unexamined.append(other_owner[np.isin(other_rank, skipped)])
        hits = hits[: generated + 1].copy()
        hits[generated] = max_work - (int(total[generated - 1]) if generated else 0)
        generated += 1
    query_side = np.repeat(query_owner[:generated], hits[:generated])
    other_side = other_owner[_expand(low[:generated], hits[:generated])]
    keys, first_seen = np.unique(query_side * other.count + other_side, return_index=True)
    keys = keys[np.argsort(first_seen, kind="stable")]
    pair_query, pair_other = keys // other.count, keys % other.count
    cost = np.minimum(query.sizes[pair_query], other.sizes[pair_other])
    checked = int(np.searchsorted(np.cumsum(cost), max_work, side="right"))
    unexamined.append(pair_other[checked:])
    pair_query, pair_other = pair_query[:checked], pair_other[:checked]
    shared = _overlaps(query, other, pair_query, pair_other)
    return _SetPairs(pair_query, pair_other, shared, np.unique(np.concatenate(unexamined)))


def _aligns_lexically(
    shared: np.ndarray,
    query_sizes: np.ndarray,
    other_sizes: np.ndarray,
    settings: IndexSettings,
    extra: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(pair aligns by shared words, Jaccard) for sentence pairs with these sizes and overlaps;
    ``extra`` is added to each pair's union (changed figures, :func:`_changed_figures`)."""
    jaccard = shared / np.maximum(query_sizes + other_sizes - shared + extra, 1)
    return (shared >= settings.passage_min_shared) & (jaccard >= settings.passage_min_similarity), jaccard


def _undecided(
    shared: np.ndarray, jaccard: np.ndarray, lexical: np.ndarray, settings: IndexSettings
) -> npt.NDArray[np.bool_]:
    """Pairs that words do not align but that share enough to be weighed by meaning."""
    undecided: npt.NDArray[np.bool_] = (
        ~lexical & (shared >= settings.meaning_min_shared) & (jaccard >= settings.meaning_min_jaccard)
    )
    return undecided


def _pair_floor(settings: IndexSettings, by_meaning: bool) -> tuple[float, int]:
    """(Jaccard, shared words) a sentence pair needs to be examined at all."""
    if by_meaning:
        return (
            min(settings.passage_min_similarity, settings.meaning_min_jaccard),
            min(settings.passage_min_shared, settings.meaning_min_shared),
        )
    return settings.passage_min_similarity, settings.passage_min_shared


@dataclass(frozen=True, slots=True)
class Screen:
    """What one vectorised pass tells of each candidate before verification."""

    # A sentence aligns with one of the query's by shared words (or was not examined).
    by_words: npt.NDArray[np.bool_]
    # Otherwise, the best Jaccard of a sentence pair words leave undecided (0: none), the
    # pair that meaning may align: candidates are weighed by meaning best first.
    undecided: npt.NDArray[np.float64]


def screen(query: TextFeatures, candidates: Sequence[SentenceSets], settings: IndexSettings) -> Screen:
    """Per candidate, whether any of its sentences aligns with one of the query's by shared words,
    and how close its nearest undecided sentence pair comes.

    A pair aligns by the rule verification applies (figures that disagree count against it,
    :func:`_changed_figures`: two earnings tables on one template do not pass). Without such a
    pair a candidate can have no lexical passage and no sentence coverage, so
    verification would reject it unless it is a near-duplicate by shingles or, with meanings on
    demand, a sentence of it means what one of the query's says. Most LSH candidates of a large
    index are chance collisions of common words; this tests them all in one vectorised pass,
    so that full verification runs only on the few that can pass. Equal sets of the query are
    tested once (:meth:`TextFeatures.distinct`), the candidates' each (:func:`pooled_sets`); when
    the work limit (``max_pair_work``) leaves pairs unexamined, their candidates are kept.
    """
    by_words = np.zeros(len(candidates), dtype=bool)
    undecided_score = np.zeros(len(candidates), dtype=np.float64)
    if not candidates or query.flat_features.size == 0:
        return Screen(by_words, undecided_score)
    counts = np.array([c.sizes.size for c in candidates], dtype=np.int64)
    bases = np.concatenate(([0], np.cumsum(counts)[:-1]))
    features = np.concatenate([c.features for c in candidates])
    owners = np.concatenate([c.owners.astype(np.int64) + base for c, base in zip(candidates, bases, strict=True)])
    own = query.distinct()
    pool = pooled_sets(features, owners, int(counts.sum()), own.sorted_features)
    by_meaning = query.meanings is not None
    pairs = _set_pairs(own, pool, *_pair_floor(settings, by_meaning), settings.max_pair_work)
    changed = _changed_figures(own, pool, pairs.query, pairs.other)
    aligned, jaccard = _aligns_lexically(
        pairs.shared, own.sizes[pairs.query], pool.sizes[pairs.other], settings, 2 * changed
    )
    owner_candidate = np.repeat(np.arange(len(candidates)), counts)
    kept = np.zeros(pool.count, dtype=bool)
    kept[pairs.other[aligned]] = True
    kept[pairs.unexamined] = True
    by_words[owner_candidate[kept[pool.of]]] = True
    if by_meaning:
        undecided = _undecided(pairs.shared, jaccard, aligned, settings)
        best = np.zeros(pool.count, dtype=np.float64)
        np.maximum.at(best, pairs.other[undecided], jaccard[undecided])
        np.maximum.at(undecided_score, owner_candidate, best[pool.of])
    undecided_score[by_words] = 0.0
    return Screen(by_words, undecided_score)


def _sentence_pairs(
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
    best_cosine: npt.NDArray[np.float32] | None = None,
    by_meaning: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of distinct sentence sets (:meth:`TextFeatures.distinct`) that may align:
    (query set, matched set, shared features, similarity, lexical).

    Lexically, a pair shares enough stemmed content words; with meanings on demand on both
    sides (:mod:`wiretrace.core.meaning`), a pair of sentences that words leave undecided
    aligns when their embeddings' cosine is high (:func:`_by_meaning`). With embeddings on both
    sides (semantic layer) a pair also aligns on meaning: a high cosine, or a fair
    one with some words in common; its similarity is then the larger of the two.
    ``best_cosine`` (per query sentence, over every candidate text) keeps meaning-only
    pairs to the query sentence's nearest counterparts, as margin-based bitext mining
    does: a sentence on the same topic is close, its translation is closer. A set stands
    for its first sentence's embedding; at most ``max_pair_work`` cosines are compared
    (the query's first sets against all of the other's).
    """
    own, other = query.distinct(), matched.distinct()
    semantic = query.embeddings is not None and matched.embeddings is not None and own.count > 0 and other.count > 0
    # The semantic layer weighs every pair sharing a word (word Jaccard supports a fair cosine).
    weigh_meaning = by_meaning and on_demand(query, matched, settings)
    if semantic:
        pairs = _set_pairs(own, other, 0.0, 1, settings.max_pair_work)
    else:
        pairs = _set_pairs(own, other, *_pair_floor(settings, weigh_meaning), settings.max_pair_work)
    query_index, matched_index, shared = pairs.query, pairs.other, pairs.shared
    query_sizes, other_sizes = own.sizes[query_index], other.sizes[matched_index]
    # Numbers are anchors: a changed figure counts three times in the pair's union, and an
    # encoder does not read figures, so where they are a quarter of the words, words decide.
    changed = _changed_figures(own, other, query_index, matched_index)
    lexical, jaccard = _aligns_lexically(shared, query_sizes, other_sizes, settings, 2 * changed)
    readable = 4 * changed < query_sizes + other_sizes - shared
    if weigh_meaning and _covered(query_index[lexical], matched_index[lexical], query, matched, settings):
        weigh_meaning = False  # a near-duplicate by its words alone: meaning adds nothing to decide
    if weigh_meaning:
        accepted, similarity = _by_meaning(query, matched, pairs, jaccard, lexical, settings, readable)
        return (
            query_index[accepted],
            matched_index[accepted],
            shared[accepted],
            similarity[accepted],
            lexical[accepted],
        )
    if not semantic:
        return query_index[lexical], matched_index[lexical], shared[lexical], jaccard[lexical], lexical[lexical]
    assert query.embeddings is not None and matched.embeddings is not None
    rows = min(own.count, settings.max_pair_work // other.count)
    # Pairs of query sets beyond the cosine block align by their words alone.
    outside = (query_index >= rows) & lexical
    beyond = (query_index[outside], matched_index[outside], shared[outside], jaccard[outside])
    inside = query_index < rows
    query_index, matched_index = query_index[inside], matched_index[inside]
    shared, jaccard, lexical_inside = shared[inside], jaccard[inside], lexical[inside]
    cosine = query.embeddings[own.first[:rows]] @ matched.embeddings[other.first].T
    word_jaccard = np.zeros(cosine.shape)
    word_jaccard[query_index, matched_index] = jaccard
    shared_words = np.zeros(cosine.shape, dtype=np.int64)
    shared_words[query_index, matched_index] = shared
    is_lexical = np.zeros(cosine.shape, dtype=bool)
    is_lexical[query_index[lexical_inside], matched_index[lexical_inside]] = True
    close = (cosine >= settings.semantic_min_cosine) | (
        (cosine >= settings.semantic_supported_cosine) & (word_jaccard >= settings.semantic_support_jaccard)
    )
    if best_cosine is not None:
        close &= cosine >= best_cosine[own.first[:rows], None] - settings.semantic_margin
    block_rows, columns = np.nonzero(is_lexical | close)
    similarity = np.where(
        is_lexical[block_rows, columns],
        word_jaccard[block_rows, columns],
        np.maximum(word_jaccard[block_rows, columns], cosine[block_rows, columns]),
    )
    return (
        np.concatenate((block_rows, beyond[0])),
        np.concatenate((columns, beyond[1])),
        np.concatenate((shared_words[block_rows, columns], beyond[2])),
        np.concatenate((similarity, beyond[3])),
        np.concatenate((is_lexical[block_rows, columns], np.ones(beyond[0].size, dtype=bool))),
    )


def _covered(
    query_sets: np.ndarray,
    matched_sets: np.ndarray,
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
) -> bool:
    """Whether pairs of these sets align enough sentences to make a near-duplicate (an estimate:
    distinct sets aligned, against the shorter text's passages)."""
    shorter = min(len(query.passages), len(matched.passages))
    aligned = min(np.unique(query_sets).size, np.unique(matched_sets).size)
    return shorter > 0 and aligned >= settings.near_duplicate_coverage * shorter


def _by_meaning(
    query: TextFeatures,
    matched: TextFeatures,
    pairs: _SetPairs,
    jaccard: np.ndarray,
    lexical: np.ndarray,
    settings: IndexSettings,
    readable: np.ndarray,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """(pair aligns, similarity): pairs aligned by words, and undecided pairs whose sentences'
    cosine reaches ``meaning_min_cosine`` (similarity: the larger of Jaccard and cosine).

    Only sentences that no pair aligns by words are weighed, at most ``max_meaning_pairs``
    pairs (highest Jaccard first), so a copy or an unrelated text encodes nothing.
    """
    own, other = query.distinct(), matched.distinct()
    assert query.meanings is not None and matched.meanings is not None
    query_index, matched_index = pairs.query, pairs.other
    undecided = _undecided(pairs.shared, jaccard, lexical, settings) & readable
    undecided &= ~np.isin(query_index, query_index[lexical]) & ~np.isin(matched_index, matched_index[lexical])
    weighed = np.flatnonzero(undecided)
    weighed = weighed[np.argsort(-jaccard[weighed], kind="stable")][: settings.max_meaning_pairs]
    similarity = jaccard.astype(np.float64)
    accepted = lexical.copy()
    if weighed.size:
        first = own.first[query_index[weighed]].tolist()
        second = other.first[matched_index[weighed]].tolist()
        encode_together([(query.meanings, first), (matched.meanings, second)])
        cosine = np.einsum("ij,ij->i", query.meanings.of(first), matched.meanings.of(second))
        close = cosine >= settings.meaning_min_cosine
        accepted[weighed[close]] = True
        similarity[weighed] = np.maximum(similarity[weighed], cosine)
    return accepted, similarity


def _occurrences(
    sets: DistinctSets, passages: tuple[PassageFeatures, ...], boilerplate: Collection[int]
) -> tuple[list[int], list[int], list[int]]:
    """Per distinct set, its sentences in text order, boilerplate left out: (sentences, starts, ends)."""
    usable = [p.fingerprint not in boilerplate for p in passages] if boilerplate else []
    if all(usable):
        sentences, starts, ends = sets.members()
        return sentences, list(starts), ends  # the starts are advanced as sentences are taken
    order = np.lexsort((np.arange(sets.of.size), sets.of))
    order = order[np.array(usable, dtype=bool)[order]]
    counts = np.bincount(sets.of[order], minlength=sets.count)
    end_at = np.cumsum(counts)
    return order.tolist(), (end_at - counts).tolist(), end_at.tolist()


def align_passages(
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
    boilerplate: Collection[int] = (),
    best_cosine: npt.NDArray[np.float32] | None = None,
    by_meaning: bool = True,
) -> tuple[list[SharedPassage], int, int]:
    """Shared passages (query side first), the shared features behind them, and the aligned sentence pairs.

    One-to-one: each sentence pairs with its most similar counterpart, pairs taken best first.
    Pairs are found between distinct sets; a set that several sentences share pairs its
    sentences in text order with the other set's (a sentence repeated on both sides aligns
    with its repetitions there, first with first), so repeated text costs no more pair work.
    """
    own, other = query.distinct(), matched.distinct()
    query_set, matched_set, shared, similarity, lexical = _sentence_pairs(
        query, matched, settings, best_cosine, by_meaning
    )
    # Best first; ties by the sets' first sentences (equal to sentence order when none repeats).
    order = np.lexsort((other.first[matched_set], own.first[query_set], -shared, -similarity))
    query_sentences, query_next, query_end = _occurrences(own, query.passages, boilerplate)
    matched_sentences, matched_next, matched_end = _occurrences(other, matched.passages, boilerplate)
    left = min(len(query_sentences), len(matched_sentences))
    chosen: list[_PassagePair] = []
    columns = (query_set[order], matched_set[order], shared[order], similarity[order], lexical[order])
    for q, m, count, score, by_words in zip(*(c.tolist() for c in columns), strict=True):
        if left == 0:
            break
        take = min(query_end[q] - query_next[q], matched_end[m] - matched_next[m])
        if take <= 0:
            continue
        for offset in range(take):
            first = query_sentences[query_next[q] + offset]
            second = matched_sentences[matched_next[m] + offset]
            verbatim = query.passages[first].fingerprint == matched.passages[second].fingerprint
            chosen.append(_PassagePair(first, second, score, count, verbatim, by_words))
        query_next[q] += take
        matched_next[m] += take
        left -= take
    if on_demand(query, matched, settings):
        chosen = _without_chance_meanings(chosen, query, matched, settings)
    elif chosen and not any(p.lexical for p in chosen):
        # Meaning alone: independent texts on one topic have a few such sentences; a translation
        # or paraphrase of the shorter text has most of them.
        shorter = min(len(query.passages), len(matched.passages))
        if len(chosen) < settings.semantic_min_coverage * shorter:
            chosen = []
    aligned = len(chosen)
    if chosen:
        # A near-duplicate extends by words alone (its sentences align anyway; no encoder work).
        shorter = min(len(query.passages), len(matched.passages))
        use_meaning = by_meaning and aligned < settings.near_duplicate_coverage * shorter
        chosen = _extend(chosen, query, matched, settings, boilerplate, use_meaning)
        if _one_template(chosen, query, matched):
            chosen, aligned = [], 0
    query_text, matched_text = query.sentence_order(), matched.sentence_order()
    chosen.sort(key=lambda p: query_text.position[p.query_index])
    passages = _merge_runs(chosen, query_text, matched_text)
    return passages, sum(p.shared for p in chosen), aligned


def _figures_disagree(first: frozenset[int], second: frozenset[int]) -> bool:
    """Whether two sentences' numbers (:meth:`TextFeatures.sentence_figures`) both give figures,
    each one the other lacks (an added figure is an edit: "12 killed" ~ "12 killed, 3 of them children")."""
    return bool(first) and bool(second) and not (first <= second or second <= first)


def _changed_figures(
    query: DistinctSets, other: DistinctSets, query_sets: np.ndarray, other_sets: np.ndarray
) -> npt.NDArray[np.int64]:
    """Per pair of distinct sets, how many figures differ when the two disagree (else 0): when
    each has a number the other lacks (:func:`_figures_disagree`), the size of their numbers'
    symmetric difference.

    "Avg shrs 127.3 mln vs 154.5 mln" ~ "Avg shrs 15.0 mln vs 14.9 mln" share every word and
    must not align; "… killed at least 22 people …" ~ "… at least three …" share most and do.
    Counted from the sets' number terms (:func:`number_terms`), so that the screen and
    verification apply one rule.
    """
    query_numbers, other_numbers = number_terms(query.features), number_terms(other.features)
    query_counts = np.bincount(query.owners[query_numbers], minlength=query.count)[query_sets]
    other_counts = np.bincount(other.owners[other_numbers], minlength=other.count)[other_sets]
    changed = np.zeros(query_sets.size, dtype=np.int64)
    both = (query_counts > 0) & (other_counts > 0)
    if not both.any():
        return changed
    figures, owners = other.features[other_numbers], other.owners[other_numbers]
    by_value = np.argsort(figures, kind="stable")
    figures, owners = figures[by_value], owners[by_value]
    wanted, wanted_owners = query.features[query_numbers], query.owners[query_numbers]
    low = np.searchsorted(figures, wanted, side="left")
    hits = np.searchsorted(figures, wanted, side="right") - low
    pairs_sharing = np.repeat(wanted_owners, hits) * other.count + owners[_expand(low, hits)]
    keys, counts = np.unique(pairs_sharing, return_counts=True)
    pair_keys = query_sets.astype(np.int64) * other.count + other_sets
    at = np.minimum(np.searchsorted(keys, pair_keys), max(keys.size - 1, 0))
    shared = np.where(keys[at] == pair_keys, counts[at], 0) if keys.size else np.zeros(pair_keys.size, dtype=np.int64)
    disagree = both & (query_counts > shared) & (other_counts > shared)
    changed[disagree] = (query_counts + other_counts - 2 * shared)[disagree]
    return changed


def _one_template(chosen: list[_PassagePair], query: TextFeatures, matched: TextFeatures) -> bool:
    """Whether aligned sentences make two reports on one template, not a copy: two or more, and
    most of them, disagree on their figures (numbers are anchors).

    Two companies' earnings tables share every word but their figures ("Shr loss 22 cts vs loss
    18 cts" ~ "Shr loss 51 cts vs loss 3 cts"), two weekly tender notices their dates and amounts.
    A story update changes a figure or two among sentences that agree; one edited sentence may
    change its figure, and paraphrase corpora count "killed at least 22" ~ "killed at least three"
    as one statement, so a single pair is never judged by its figures.
    """
    if len(chosen) < 2:
        return False
    own, other = query.sentence_figures(), matched.sentence_figures()
    disagree = 0
    for pair in chosen:
        first = own[pair.query_index]
        if first and not pair.verbatim and _figures_disagree(first, other[pair.matched_index]):
            disagree += 1
    return disagree >= 2 and disagree > len(chosen) - disagree


def on_demand(query: TextFeatures, matched: TextFeatures, settings: IndexSettings) -> bool:
    """Whether sentence pairs that words leave undecided are weighed by meaning on demand."""
    return not settings.semantic and query.meanings is not None and matched.meanings is not None


def _without_chance_meanings(
    chosen: list[_PassagePair], query: TextFeatures, matched: TextFeatures, settings: IndexSettings
) -> list[_PassagePair]:
    """Drop pairs decided by meaning alone that two texts on one topic would have by chance.

    A pair at a very high cosine stands, and so does one in a run of aligned pairs (consecutive
    on both sides) that words anchor (one of its pairs aligns by shared words) or of three
    pairs or more; a run of two only where the pairs that stand cover a near-duplicate's share of
    the shorter text: two neighbouring sentences of like meaning are what two texts written on
    one topic may have (Clough-Stevenson "non": 0.66 and 0.79), and between two versions of one
    text they are the text. The others must stand out from their texts' background: the median,
    over one text's other passages, of their best cosine with the other text (the larger of the
    two medians); and lead their sentences' other counterparts on both sides (the margin
    criterion of bitext mining). A quote planted in an unrelated story has a background near
    0.16 (WMT21 is-en in BBC stories); an answer written independently on the same topic
    (Clough-Stevenson "non") near 0.44, with single sentences at 0.67. At most
    ``max_background_passages`` passages of each text are weighed.
    """
    runs = _runs(chosen)
    weak = [p for p in chosen if not p.lexical and p.similarity < settings.meaning_single_min_cosine]
    weak_ids = {id(p) for p in weak}
    standing = sum(1 for p in chosen if runs[id(p)] >= 2 or id(p) not in weak_ids)
    shorter = min(len(query.passages), len(matched.passages))
    shortest = 2 if standing >= settings.near_duplicate_coverage * shorter else 3
    isolated = [p for p in weak if runs[id(p)] < shortest]
    if not isolated:
        return chosen
    assert query.meanings is not None and matched.meanings is not None
    limit = settings.max_background_passages
    rows = sorted(set(range(min(len(query.passages), limit))) | {p.query_index for p in isolated})
    columns = sorted(set(range(min(len(matched.passages), limit))) | {p.matched_index for p in isolated})
    dropped = _rivalled(isolated, query.meanings, matched.meanings, rows, columns, settings.meaning_min_lead)
    remaining = [p for p in isolated if id(p) not in dropped]
    if remaining:
        encode_together([(query.meanings, rows), (matched.meanings, columns)])
        cosine = query.meanings.of(rows) @ matched.meanings.of(columns).T
        lonely_rows = np.isin(rows, [p.query_index for p in isolated])
        lonely_columns = np.isin(columns, [p.matched_index for p in isolated])
        # Symmetric, as verification is: from either text, its other passages' best cosines with
        # the other text's other passages.
        rest = cosine[~lonely_rows][:, ~lonely_columns]
        backgrounds = [float(np.median(rest.max(axis=axis))) if rest.size else 0.0 for axis in (0, 1)]
        background = max(backgrounds)
        for pair in remaining:
            row, column = rows.index(pair.query_index), columns.index(pair.matched_index)
            lead = _lead(pair, cosine, row, column)
            if pair.similarity - background < settings.meaning_min_margin or lead < settings.meaning_min_lead:
                dropped.add(id(pair))
    return [p for p in chosen if id(p) not in dropped]


def _lead(pair: _PassagePair, cosine: npt.NDArray[np.float32], row: int, column: int) -> float:
    """How far ``pair`` leads its sentences' other counterparts in ``cosine`` (both sides)."""
    rivals = [np.delete(cosine[row], column), np.delete(cosine[:, column], row)]
    return min((pair.similarity - float(r.max()) for r in rivals if r.size), default=1.0)


def _rivalled(
    isolated: list[_PassagePair],
    meanings: Meanings,
    other_meanings: Meanings,
    rows: list[int],
    columns: list[int],
    min_lead: float,
) -> set[int]:
    """The isolated pairs (by ``id``) that a counterpart already encoded rivals too closely.

    A rival can only lower a pair's lead, so one at hand fails the pair whatever the
    sentences not yet encoded would say: the texts' other sentences are encoded only for
    the pairs this leaves.
    """
    known_rows, known_columns = meanings.known(rows), other_meanings.known(columns)
    if len(known_rows) < 2 and len(known_columns) < 2:
        return set()
    cosine = meanings.of(known_rows) @ other_meanings.of(known_columns).T
    row_at = {sentence: at for at, sentence in enumerate(known_rows)}
    column_at = {sentence: at for at, sentence in enumerate(known_columns)}
    return {
        id(pair)
        for pair in isolated
        if pair.query_index in row_at
        and pair.matched_index in column_at
        and _lead(pair, cosine, row_at[pair.query_index], column_at[pair.matched_index]) < min_lead
    }


_ANCHORED_RUN = sys.maxsize


def _runs(chosen: list[_PassagePair]) -> dict[int, int]:
    """Per pair (by ``id``), the length of its run of pairs consecutive on both sides (passage
    order); a run of two or more with a pair aligned by shared words counts as long as any."""
    at = {(p.query_index, p.matched_index): p for p in chosen}
    lengths: dict[int, int] = {}
    for first in chosen:
        if (first.query_index - 1, first.matched_index - 1) in at:
            continue  # not the start of its run
        run = [first]
        while (run[-1].query_index + 1, run[-1].matched_index + 1) in at:
            run.append(at[(run[-1].query_index + 1, run[-1].matched_index + 1)])
        length = _ANCHORED_RUN if any(p.lexical for p in run) and len(run) > 1 else len(run)
        lengths.update((id(p), length) for p in run)
    return lengths


def _extend(
    chosen: list[_PassagePair],
    query: TextFeatures,
    matched: TextFeatures,
    settings: IndexSettings,
    boilerplate: Collection[int],
    use_meaning: bool,
) -> list[_PassagePair]:
    """Whole statements: from each aligned pair, the sentences next to it on both sides align
    too at a lower bar, short ones (fragments) included, as passim and TextPAIR extend a seed
    alignment. A statement quoted in two translations is several sentences, some too short
    or too freely rendered to align on their own ("The security forces are working hard" ~
    "Law and order forces are working hard")."""
    own, other = query.sentence_order(), matched.sentence_order()
    own_size, other_size = len(own.order), len(other.order)
    used_query = {p.query_index for p in chosen}
    used_matched = {p.matched_index for p in chosen}
    if len(used_query) == own_size or len(used_matched) == other_size:
        return chosen  # every neighbour on one side is aligned already (a near-duplicate)
    added: list[_PassagePair] = []
    for pair in sorted(chosen, key=lambda p: own.position[p.query_index]):
        for step in (-1, 1):
            query_at, matched_at = own.position[pair.query_index], other.position[pair.matched_index]
            for _ in range(settings.max_extension):
                query_at, matched_at = query_at + step, matched_at + step
                if not (0 <= query_at < own_size and 0 <= matched_at < other_size):
                    break
                first, second = own.order[query_at], other.order[matched_at]
                if first in used_query or second in used_matched:
                    break
                extended = _neighbours_align(query, matched, first, second, settings, boilerplate, use_meaning)
                if extended is None:
                    break
                used_query.add(first)
                used_matched.add(second)
                added.append(extended)
    return chosen + added


def _neighbours_align(
    query: TextFeatures,
    matched: TextFeatures,
    first: int,
    second: int,
    settings: IndexSettings,
    boilerplate: Collection[int],
    use_meaning: bool,
) -> _PassagePair | None:
    """The pair of two neighbouring sentences if they align at the extension bar."""
    one, two = query.sentence_order().sentences[first], matched.sentence_order().sentences[second]
    if one.fingerprint in boilerplate or two.fingerprint in boilerplate:
        return None
    if one.fingerprint == two.fingerprint:
        return _PassagePair(first, second, 1.0, int(one.features.size), True, True)
    shared = _overlap(one.features, two.features)
    jaccard = shared / (one.features.size + two.features.size - shared)
    if shared >= settings.extension_min_shared and jaccard >= settings.extension_min_jaccard:
        return _PassagePair(first, second, jaccard, shared, False, True)
    meanings, other_meanings = query.meanings, matched.meanings
    if not use_meaning or meanings is None or other_meanings is None or shared == 0:
        return None
    if _figures_disagree(query.sentence_figures()[first], matched.sentence_figures()[second]):
        return None  # no encoder reads figures
    cosine = float(meanings.of([first])[0] @ other_meanings.of([second])[0])
    if cosine >= settings.extension_min_cosine:
        return _PassagePair(first, second, cosine, shared, False, True)
    return None


def _merge_runs(pairs: list[_PassagePair], query: SentenceOrder, matched: SentenceOrder) -> list[SharedPassage]:
    """Sentence pairs consecutive on both sides (in text order) become one maximal passage, one
    of verbatim pairs or one of variant pairs: a sentence quoted word for word inside a statement
    otherwise rendered is a verbatim passage of its own."""
    query_at, matched_at = query.position, matched.position
    runs: list[list[_PassagePair]] = []
    last: _PassagePair | None = None
    for pair in pairs:
        if (
            last is not None
            and query_at[pair.query_index] == query_at[last.query_index] + 1
            and matched_at[pair.matched_index] == matched_at[last.matched_index] + 1
            and pair.verbatim == last.verbatim
        ):
            runs[-1].append(pair)
        else:
            runs.append([pair])
        last = pair
    passages = []
    for run in runs:
        weighted = total = 0.0
        for pair in run:
            weight = pair.shared if pair.shared > 1 else 1
            weighted += pair.similarity * weight
            total += weight
        passages.append(
            SharedPassage(
                query_start=query.sentences[run[0].query_index].span.start,
                query_end=query.sentences[run[-1].query_index].span.end,
                matched_start=matched.sentences[run[0].matched_index].span.start,
                matched_end=matched.sentences[run[-1].matched_index].span.end,
                kind=PassageKind.VERBATIM if run[0].verbatim else PassageKind.VARIANT,
                score=round(weighted / total, 4),
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
    by_meaning: bool = True,
) -> Match | None:
    """The match between two texts if the exact evidence is strong enough, else None.

    ``best_cosine``: see :func:`_sentence_pairs` (semantic layer only); ``by_meaning=False``
    decides by words alone even with meanings on demand.
    """
    shared = _overlap(query.shingles, matched.shingles)
    union = query.shingles.size + matched.shingles.size - shared
    jaccard = shared / union if union else 0.0
    query_containment = shared / query.shingles.size if query.shingles.size else 0.0
    matched_containment = shared / matched.shingles.size if matched.shingles.size else 0.0
    # A near-duplicate by its shingles needs no sentence weighed by meaning.
    by_meaning = by_meaning and jaccard < settings.near_duplicate_jaccard
    passages, _, aligned = align_passages(query, matched, settings, boilerplate, best_cosine, by_meaning)
    # Share of each side's sentences aligned with the other: a story re-published in other
    # words (re-translated, rewritten sentence by sentence) covers both sides.
    coverage = min(aligned / len(query.passages), aligned / len(matched.passages)) if aligned else 0.0
    if aligned == 1 and min(len(query.passages), len(matched.passages)) > 1:
        coverage = 0.0  # one sentence of several is a passage, not the story (a line of a short table)
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
