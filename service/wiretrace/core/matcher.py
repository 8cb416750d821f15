"""From LSH candidates to verified matches: screen, boilerplate, exact verification.

The :class:`Matcher` keeps recently seen articles' features (a later article is
verified against them without decoding them again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wiretrace.core.analysis import Analysis, text_features
from wiretrace.core.features import SentenceSets, TextFeatures, decode_sentence_sets
from wiretrace.core.filters import Admits
from wiretrace.core.gist import gist_of
from wiretrace.core.matching import screen, verify
from wiretrace.core.model import Article, Match, MatchKind, SharedPassage
from wiretrace.core.ports import ArticleRecord
from wiretrace.core.semantic import ENCODER_LANGUAGES
from wiretrace.core.settings import IndexSettings
from wiretrace.core.staging import Overlay
from wiretrace.core.through import ImpliedPassage, verify_through
from wiretrace.core.translation import verify_translation


def _best_cosine(query: TextFeatures, candidates: Iterable[TextFeatures]) -> npt.NDArray[np.float32] | None:
    """Per query sentence, its highest cosine with any candidate's sentence (semantic layer only)."""
    if query.embeddings is None or not query.passages:
        return None
    others = [c.embeddings for c in candidates if c.embeddings is not None and c.embeddings.size]
    if not others:
        return None
    best: npt.NDArray[np.float32] = (query.embeddings @ np.vstack(others).T).max(axis=1)
    return best


# Candidates verified in groups of this many, in rank order, until enough near-duplicates are found.
_CHUNK = 16
# The longest gap between a near-duplicate's aligned passages that a passage is placed in
# (a few sentences: further apart, the order of the two texts says too little).
_GAP_CHARS = 600
# A filtered query looks at this many times the candidates, so that the ones its filter drops
# leave room for the ones it keeps.
_FILTERED_CANDIDATES = 4


def _one_language(language: str, other: str) -> bool:
    """Whether words can compare texts in these languages (an unknown one counts as the same)."""
    return not language or not other or other == language


def _own_or_original(candidate: Article, stories: set[str], language: str) -> bool:
    """Whether a candidate is a version of one of ``stories``, or in another language than ``language``."""
    return candidate.cluster_id in stories or not _one_language(language, candidate.language)


def _near_duplicates(matches: list[Match]) -> int:
    return sum(m.kind is MatchKind.NEAR_DUPLICATE for m in matches)


class _RecordReads:
    """The candidates' records one query reads, each from the store once (a filter reads them
    before verification does)."""

    def __init__(self, view: Overlay) -> None:
        self.view = view
        self._read: dict[str, ArticleRecord] = {}

    def of(self, ids: Iterable[str]) -> dict[str, ArticleRecord]:
        wanted = list(ids)
        self._read.update(self.view.records(i for i in wanted if i not in self._read))
        return {i: self._read[i] for i in wanted if i in self._read}


def _admitted(reads: _RecordReads, ids: list[str], admits: Admits | None) -> list[str]:
    if admits is None or not ids:
        return ids
    records = reads.of(ids)
    return [i for i in ids if i in records and admits(records[i].article)]


def _implied(shared: SharedPassage, onward: Match) -> list[ImpliedPassage]:
    """Where the passage the query shares with a story stands in the story's own match
    ``onward``: the passages of ``onward`` overlapping it; or, when ``onward`` aligns the whole
    story (a near-duplicate) but not that passage, the gap between its passages around it (a
    translation keeps the order of what it translates), a few sentences at most."""
    start, end = shared.matched_start, shared.matched_end
    overlapping = [p for p in onward.passages if p.query_start < end and start < p.query_end]
    if overlapping:
        return [
            ImpliedPassage(shared.query_start, shared.query_end, p.matched_start, p.matched_end) for p in overlapping
        ]
    if onward.kind is not MatchKind.NEAR_DUPLICATE or not onward.passages:
        return []
    before = [p for p in onward.passages if p.query_end <= start]
    after = [p for p in onward.passages if p.query_start >= end]
    gap_start = max((p.matched_end for p in before), default=0)
    gap_end = min((p.matched_start for p in after), default=gap_start + _GAP_CHARS)
    if not 0 < gap_end - gap_start <= _GAP_CHARS:
        return []
    return [ImpliedPassage(shared.query_start, shared.query_end, gap_start, gap_end)]


@dataclass(frozen=True, slots=True)
class _Deferred:
    """A candidate only meaning may align, kept for after those words align."""

    closeness: float
    rank: int
    article_id: str
    record: ArticleRecord


class _MeaningBudget:
    """How many more candidates of one query may have sentence pairs weighed by meaning (the
    encoder's work per query is bounded; later candidates are decided by words alone)."""

    def __init__(self, left: int) -> None:
        self.left = left

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


@dataclass(slots=True)
class _Remembered:
    """A recently seen article's features, and their sentence sets once a screen has read them
    (a stored copy of a story is screened against every later copy)."""

    features: TextFeatures
    sets: SentenceSets | None = None

    def sentence_sets(self) -> SentenceSets:
        if self.sets is None:
            self.sets = self.features.sentence_sets()
        return self.sets


class Matcher:
    def __init__(self, settings: IndexSettings, feature_cache_size: int = 4096) -> None:
        self.settings = settings
        self._cache: OrderedDict[tuple[str, str], _Remembered] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_size = feature_cache_size

    def match(
        self,
        view: Overlay,
        analysis: Analysis,
        exclude: set[str],
        source: str = "",
        admits: Admits | None = None,
        language: str = "",
    ) -> tuple[list[Match], dict[str, ArticleRecord]]:
        """Verified matches, best first, and the records of the matched articles.

        Candidates come ranked (most shared buckets first) and are verified in that order, a
        chunk at a time, until ``max_near_duplicates`` near-duplicates are found: a copy of a
        story with thousands of stored copies verifies a handful of them, as the second copy did.
        Only candidates ``admits`` accepts (a :class:`~wiretrace.core.filters.MatchFilter`) are
        verified, so the ones it drops take no place among them. Articles of other languages
        than ``language`` come from their gists (:meth:`_translations`).
        """
        limit = self.settings.max_candidates + len(exclude)
        if admits is not None:
            limit *= _FILTERED_CANDIDATES
        ranked = [
            i for i in view.candidates(analysis.document_keys, analysis.passage_query_keys, limit) if i not in exclude
        ]
        reads = _RecordReads(view)
        ranked = _admitted(reads, ranked, admits)[: self.settings.max_candidates]
        matches, records = self._lexical(view, reads, analysis, ranked, exclude, source, admits, language)
        self._translations(view, reads, analysis, language, exclude, admits, matches, records)
        matches.sort(key=lambda m: (-m.score, m.article_id))
        return matches, {m.article_id: records[m.article_id] for m in matches}

    def _lexical(
        self,
        view: Overlay,
        reads: _RecordReads,
        analysis: Analysis,
        ranked: list[str],
        exclude: set[str],
        source: str,
        admits: Admits | None,
        language: str,
    ) -> tuple[list[Match], dict[str, ArticleRecord]]:
        """The matches among the LSH candidates (and the sources of what they share)."""
        if not ranked:
            return [], {}
        boilerplate: set[int] | None = None
        if self.settings.semantic:
            # Sentences also align by meaning, against the best counterpart among all candidates:
            # every candidate is verified at once.
            records = reads.of(ranked)
            boilerplate = self._boilerplate(view, analysis, source)
            candidates = {i: self._features_of(r) for i, r in records.items()}
            best_cosine = _best_cosine(analysis.features, candidates.values())
            found = [self._verify(analysis, i, candidates[i], records[i], boilerplate, best_cosine) for i in candidates]
            matches = [m for m in found if m is not None]
        else:
            matches, records = [], {}
            near = 0
            budget = _MeaningBudget(self.settings.max_meaning_candidates)
            by_meaning_only: list[_Deferred] = []
            # The best few screened first (a copy of a much-copied story stops there), the rest in one pass.
            for chunk in (ranked[:_CHUNK], ranked[_CHUNK:]):
                if not chunk:
                    break
                boilerplate = self._verify_chunk(
                    reads, analysis, source, chunk, boilerplate, matches, records, budget, by_meaning_only
                )
                near = _near_duplicates(matches)
                if near >= self.settings.max_near_duplicates:
                    break
            if near < self.settings.max_near_duplicates:
                # Candidates that only meaning can align, those with the closest undecided pair first;
                # for a copy of a stored story, only the story's own (its other versions) and those
                # of other languages (its originals): what the story quotes from others, its earlier
                # copies' stored matches give (below).
                by_meaning_only.sort(key=lambda d: (-d.closeness, d.rank))
                copied = [m for m in matches if m.kind is MatchKind.NEAR_DUPLICATE]
                stories = {records[m.article_id].article.cluster_id for m in copied}
                if stories:
                    by_meaning_only = [
                        d for d in by_meaning_only if _own_or_original(d.record.article, stories, language)
                    ]
                closest = by_meaning_only[: self.settings.max_meaning_only_candidates]
                self._verify_deferred(analysis, closest, boilerplate, matches, records)
                implied = self._sources_of_passages(view, matches, exclude | set(ranked))
                admitted = _admitted(reads, list(implied), admits)
                sources = [i for i in admitted if self._same_language(reads, i, language)]
                if sources:
                    # The sources of what the query shares: each weighed by meaning (at most _CHUNK).
                    budget = _MeaningBudget(len(sources))
                    also: list[_Deferred] = []
                    self._verify_chunk(reads, analysis, source, sources, boilerplate, matches, records, budget, also)
                    self._verify_deferred(analysis, also, boilerplate, matches, records)
                chosen = {i: implied[i] for i in admitted}
                self._through_third_texts(reads, analysis, language, chosen, matches, records)
        return matches, records

    @staticmethod
    def _same_language(reads: _RecordReads, article_id: str, language: str) -> bool:
        """Whether words can verify the article against a query in ``language`` (an unknown
        language on either side counts as the same)."""
        record = reads.of([article_id]).get(article_id)
        return _one_language(language, record.article.language if record is not None else "")

    def _translations(
        self,
        view: Overlay,
        reads: _RecordReads,
        analysis: Analysis,
        language: str,
        seen: set[str],
        admits: Admits | None,
        matches: list[Match],
        records: dict[str, ArticleRecord],
    ) -> None:
        """Add the matches of the articles in other languages whose gists are nearest the query's:
        translations share no words for the LSH index to find them by."""
        settings = self.settings
        if not settings.gists or language not in ENCODER_LANGUAGES or not view.holds_other_languages(language):
            return
        gist = analysis.features.gist if analysis.features.gist is not None else gist_of(analysis.features)
        if gist is None:
            return
        nearest = view.nearest_gists(gist, language, settings.cross_language_candidates, settings.gist_min_cosine)
        matched = {m.article_id for m in matches}
        found = reads.of(i for i in nearest if i not in seen and i not in matched)
        for article_id in _admitted(reads, [i for i in nearest if i in found], admits):
            record = found[article_id]
            match = verify_translation(
                article_id,
                analysis.features,
                analysis.document_signature,
                self._features_of(record),
                record.document_signature,
                settings,
            )
            if match is not None:
                matches.append(match)
                records[article_id] = record

    def _verify_chunk(
        self,
        reads: _RecordReads,
        analysis: Analysis,
        source: str,
        chunk: list[str],
        boilerplate: set[int] | None,
        matches: list[Match],
        records: dict[str, ArticleRecord],
        budget: _MeaningBudget,
        by_meaning_only: list[_Deferred],
    ) -> set[int] | None:
        """Screen ``chunk`` and verify, in order, the candidates words may align, adding to
        ``matches`` and ``records``; those only meaning may align go to ``by_meaning_only``.
        Returns the query's boilerplate, read at the first plausible candidate."""
        chunk_records = reads.of(chunk)
        by_words, closeness = self._screen(analysis, chunk_records)
        if (by_words or closeness) and boilerplate is None:
            boilerplate = self._boilerplate(reads.view, analysis, source)
        for position, article_id in enumerate(chunk):
            if position and not position % _CHUNK and _near_duplicates(matches) >= self.settings.max_near_duplicates:
                break  # verification stops after the group of candidates that found enough copies
            if article_id in by_words:
                by_meaning = budget.take()
                record = by_words[article_id]
                self._verify_into(analysis, article_id, record, boilerplate or set(), matches, records, by_meaning)
            elif article_id in closeness:
                by_meaning_only.append(
                    _Deferred(closeness[article_id], len(by_meaning_only), article_id, chunk_records[article_id])
                )
        return boilerplate

    def _verify_deferred(
        self,
        analysis: Analysis,
        deferred: list[_Deferred],
        boilerplate: set[int] | None,
        matches: list[Match],
        records: dict[str, ArticleRecord],
    ) -> None:
        for candidate in deferred:
            self._verify_into(analysis, candidate.article_id, candidate.record, boilerplate, matches, records)

    def _verify_into(
        self,
        analysis: Analysis,
        article_id: str,
        record: ArticleRecord,
        boilerplate: set[int] | None,
        matches: list[Match],
        records: dict[str, ArticleRecord],
        by_meaning: bool = True,
    ) -> None:
        features = self._features_of(record)
        match = self._verify(analysis, article_id, features, record, boilerplate or set(), None, by_meaning)
        if match is not None:
            matches.append(match)
            records[article_id] = record

    def _sources_of_passages(
        self, view: Overlay, matches: list[Match], seen: set[str]
    ) -> dict[str, list[ImpliedPassage]]:
        """Articles that the passages the query shares are themselves stored as reused from, with
        where each passage stands in the query and in them (:mod:`wiretrace.core.through`).

        A quote is often found first in a story that repeats it (a verbatim copy or a
        close translation) rather than in its source, whose wording is further away: the
        stories it matches already know their own sources, and those are verified too
        (as passim follows alignments transitively). Bounded: the best ``_CHUNK`` passage
        matches, their stored matches whose passages overlap the shared text, ``_CHUNK`` at most.
        """
        found: dict[str, list[ImpliedPassage]] = {}
        reused = [m for m in matches if m.kind is MatchKind.REUSED_PASSAGE]
        for match in sorted(reused, key=lambda m: -m.score)[:_CHUNK]:
            for edge in view.matches_of(match.article_id):
                other = edge.matched_id
                if other in seen or (other not in found and len(found) >= _CHUNK):
                    continue
                implied = [where for shared in match.passages for where in _implied(shared, edge.evidence)]
                if implied:
                    found.setdefault(other, []).extend(implied)
        return found

    def _through_third_texts(
        self,
        reads: _RecordReads,
        analysis: Analysis,
        language: str,
        implied: dict[str, list[ImpliedPassage]],
        matches: list[Match],
        records: dict[str, ArticleRecord],
    ) -> None:
        """Match the sources of passages that verification did not, by meaning where the third
        text's alignments place the shared statement in each (:func:`verify_through`)."""
        matched = {m.article_id for m in matches}
        wanted = [i for i in implied if i not in matched]
        found = reads.of(wanted)
        for article_id in wanted:
            record = found.get(article_id)
            if record is None:
                continue
            other = record.article.language
            translated = not self._same_language(reads, article_id, language)
            if translated and not (self.settings.cross_language and {language, other} <= ENCODER_LANGUAGES):
                continue
            match = verify_through(
                article_id,
                analysis.features,
                analysis.document_signature,
                self._features_of(record),
                record.document_signature,
                implied[article_id],
                self.settings,
                translated,
            )
            if match is not None:
                matches.append(match)
                records[article_id] = record

    def _boilerplate(self, view: Overlay, analysis: Analysis, source: str) -> set[int]:
        """The query's sentences that are boilerplate: wording that recurs verbatim in many different
        stories (a disclaimer, a newsletter pitch; a wire story's own sentences are one story's,
        however many outlets run it), or in several of the same outlet's articles (site furniture, bios)."""
        own = {p.fingerprint for p in analysis.features.passages}
        limit = self.settings.boilerplate_stories
        boilerplate = {fp for fp, count in view.story_counts(own, limit).items() if count >= limit}
        if source:
            outlet_limit = self.settings.outlet_boilerplate_articles
            by_outlet = view.fingerprint_counts(own, outlet_limit, source)
            boilerplate |= {fp for fp, count in by_outlet.items() if count >= outlet_limit}
        return boilerplate

    def _verify(
        self,
        analysis: Analysis,
        article_id: str,
        features: TextFeatures,
        record: ArticleRecord,
        boilerplate: set[int],
        best_cosine: npt.NDArray[np.float32] | None,
        by_meaning: bool = True,
    ) -> Match | None:
        return verify(
            article_id,
            analysis.features,
            analysis.document_signature,
            features,
            record.document_signature,
            self.settings,
            boilerplate,
            best_cosine,
            by_meaning,
        )

    def remember(self, article_id: str, content_sha256: str, features: TextFeatures) -> None:
        """Keep a just-stored article's features: later articles are verified against it."""
        key = (article_id, content_sha256)
        with self._cache_lock:
            self._cache[key] = _Remembered(features)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _cached(self, record: ArticleRecord) -> _Remembered | None:
        key = (record.article.article_id, record.article.content_sha256)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
            return cached

    def _features_of(self, record: ArticleRecord) -> TextFeatures:
        cached = self._cached(record)
        if cached is not None:
            return cached.features
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

    def _screen(
        self, analysis: Analysis, records: dict[str, ArticleRecord]
    ) -> tuple[dict[str, ArticleRecord], dict[str, float]]:
        """(candidates verification could accept by words: with a sentence that aligns by shared
        words (:func:`screen`), or a near-duplicate by their document signatures; the others'
        closest undecided sentence pair, for those that have one).

        Near-duplicates need an exact shingle Jaccard of ``near_duplicate_jaccard``; half of it as
        the MinHash estimate's floor misses one with odds of about 1e-8 at 128 permutations.
        """
        ids = sorted(records)
        if not ids:
            return {}, {}
        signatures = np.vstack([records[i].document_signature for i in ids])
        estimated = (signatures == analysis.document_signature).mean(axis=1)
        near = estimated >= self.settings.near_duplicate_jaccard / 2
        if near.all():  # verbatim copies of a story: every one is verified, the screen decides nothing
            return {i: records[i] for i in ids}, {}
        found = screen(analysis.features, [self._sentence_sets(records[i]) for i in ids], self.settings)
        by_words = found.by_words | near
        return (
            {i: records[i] for i, keep in zip(ids, by_words.tolist(), strict=True) if keep},
            {
                i: score
                for i, keep, score in zip(ids, by_words.tolist(), found.undecided.tolist(), strict=True)
                if not keep and score > 0
            },
        )
