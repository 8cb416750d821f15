"""What a text is compared by: word shingles for the whole article, and per
sentence a set of stemmed content words for passages.

Word shingles catch copies and light edits. They miss the same statement in
another translation, where hardly five words in a row survive; the stemmed
content words of a sentence mostly do ("restored", "regions", "authorities",
numbers), so passages are compared as sets of those.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
import Stemmer

from wiretrace.core import tokenhash
from wiretrace.core.gist import decode_gist, encode_gist
from wiretrace.core.text import Span, normalise_token, split_sentences, words

HashArray = npt.NDArray[np.uint32]

# Bumped whenever the features of a text change: signatures stored under another
# version must be rebuilt (`wiretrace reindex`).
FEATURE_VERSION = "words5+stems-v2"

_GOLDEN = np.uint32(0x9E3779B1)
_MIX = np.uint32(0x85EBCA77)

# English function words (the Snowball project's English stop list, plus
# contractions' remnants); they carry no statement of their own.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other ought our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves also s t d ll m re ve said says say
    told according mr mrs ms
    """.split()
)

# A Snowball stemmer keeps its working state on the object: one per thread, or concurrent
# analyses (parallel ingest streams, queries) corrupt each other's stems.
_stemmers = threading.local()


def _stem_word(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return str(stemmer.stemWord(word))


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """How texts are turned into feature sets. Part of the index's identity."""

    shingle_size: int = 5
    min_passage_features: int = 5
    # A text with no passage (each sentence under ``min_passage_features`` content words: a
    # headline, a one-line quote) has its sentences of at least this many as passages, so that
    # it can be found and aligned at all; 0 = never.
    short_text_min_features: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.shingle_size <= 16:
            raise ValueError(f"shingle_size must be between 1 and 16, got {self.shingle_size}")
        if self.min_passage_features < 1:
            raise ValueError(f"min_passage_features must be at least 1, got {self.min_passage_features}")
        if not 0 <= self.short_text_min_features <= self.min_passage_features:
            raise ValueError(
                f"short_text_min_features must be between 0 and min_passage_features ({self.min_passage_features}), "
                f"got {self.short_text_min_features}"
            )

    def passages_among(self, counts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which sentences, of these content-word counts, are passages."""
        chosen: npt.NDArray[np.bool_] = counts >= self.min_passage_features
        if self.short_text_min_features and not chosen.any():
            chosen = counts >= self.short_text_min_features
        return chosen


class Meanings(Protocol):
    """Embeddings of a text's passages, on demand (see :mod:`wiretrace.core.meaning`)."""

    @property
    def text(self) -> str: ...

    def known(self, indices: Sequence[int]) -> list[int]: ...

    def missing(self, indices: Sequence[int]) -> dict[int, str]: ...

    def encoded(self) -> tuple[list[int], npt.NDArray[np.float16]]: ...

    def of(self, indices: Sequence[int]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class PassageFeatures:
    """One sentence: where it is, its content-word set and an exact-wording fingerprint."""

    span: Span
    features: HashArray
    # xxh64 of the normalised token sequence: equal fingerprints = verbatim.
    fingerprint: int


@dataclass(frozen=True, slots=True)
class SentenceOrder:
    """A text's sentences (passages, then fragments) with their order in the text: ``order``
    lists sentence numbers by position, ``position`` gives each number's place."""

    sentences: tuple[PassageFeatures, ...]
    order: tuple[int, ...]
    position: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """Everything matching needs from one text."""

    shingles: HashArray
    passages: tuple[PassageFeatures, ...]
    token_count: int
    # All passage features, sorted, with the index of the passage each belongs to:
    # lets two texts' passages be compared in a few vectorised steps.
    flat_features: HashArray = field(default_factory=lambda: np.empty(0, dtype=np.uint32))
    flat_owners: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    # One L2-normalised sentence embedding per passage, when the semantic layer is on.
    embeddings: npt.NDArray[np.float32] | None = None
    # Otherwise, embeddings computed only for the passages verification asks about.
    meanings: Meanings | None = field(default=None, compare=False)
    # Sentences with some content words but too few to be passages ("Police are working
    # hard."): never indexed, but a passage extends over them (whole statements).
    fragments: tuple[PassageFeatures, ...] = ()
    # The meaning of the text's opening, to find its translations (:mod:`wiretrace.core.gist`).
    gist: npt.NDArray[np.float32] | None = None
    # :meth:`distinct` and :meth:`sentence_order`, computed on first use (not copied by
    # ``dataclasses.replace``): a stored copy is aligned with every later copy of its story.
    _distinct: DistinctSets | None = field(default=None, init=False, repr=False, compare=False)
    _order: SentenceOrder | None = field(default=None, init=False, repr=False, compare=False)
    _figures: tuple[frozenset[int], ...] | None = field(default=None, init=False, repr=False, compare=False)

    def sentence_sets(self) -> SentenceSets:
        sizes = np.bincount(self.flat_owners, minlength=len(self.passages)).astype(np.int64)
        return SentenceSets(self.flat_features, self.flat_owners, sizes)

    def distinct(self) -> DistinctSets:
        """The passages' distinct content-word sets (what pair work is done on), computed once.

        With embeddings (semantic layer) sentences also need the same wording to be one: two
        sentences with one word set may still differ in meaning, which the embedding tells.
        """
        if self._distinct is None:
            tags = None
            if self.embeddings is not None:
                tags = np.array([p.fingerprint for p in self.passages], dtype=np.uint64)
            computed = distinct_sets(self.flat_features, self.flat_owners, len(self.passages), tags)
            object.__setattr__(self, "_distinct", computed)
            return computed
        return self._distinct

    @property
    def sentences(self) -> tuple[PassageFeatures, ...]:
        """Passages, then fragments: the numbering :class:`Meanings` and alignment use."""
        return self.passages + self.fragments

    def sentence_order(self) -> SentenceOrder:
        """:attr:`sentences` in text order, computed once."""
        if self._order is None:
            sentences = self.sentences
            order = tuple(sorted(range(len(sentences)), key=lambda i: sentences[i].span.start))
            position = [0] * len(sentences)
            for at, sentence in enumerate(order):
                position[sentence] = at
            computed = SentenceOrder(sentences, order, tuple(position))
            object.__setattr__(self, "_order", computed)
            return computed
        return self._order

    def sentence_figures(self) -> tuple[frozenset[int], ...]:
        """Each of :attr:`sentences`' numbers (:func:`number_terms`), computed once."""
        if self._figures is None:
            sentences = self.sentences
            none: frozenset[int] = frozenset()
            computed = tuple(
                frozenset(s.features[numbers].tolist()) if (numbers := number_terms(s.features)).any() else none
                for s in sentences
            )
            object.__setattr__(self, "_figures", computed)
            return computed
        return self._figures

    @classmethod
    def build(
        cls,
        shingles: HashArray,
        passages: tuple[PassageFeatures, ...],
        token_count: int,
        fragments: tuple[PassageFeatures, ...] = (),
        gist: npt.NDArray[np.float32] | None = None,
    ) -> TextFeatures:
        if not passages:
            return cls(shingles, passages, token_count, fragments=fragments, gist=gist)
        features = np.concatenate([p.features for p in passages])
        owners = np.repeat(np.arange(len(passages), dtype=np.int32), [p.features.size for p in passages])
        order = np.argsort(features, kind="stable")
        return cls(shingles, passages, token_count, features[order], owners[order], fragments=fragments, gist=gist)


@dataclass(frozen=True, slots=True)
class SentenceSets:
    """A text's sentence content-word sets alone, flattened: what a first cheap test of a
    candidate needs, readable from stored features without building the whole text's."""

    # Every sentence's features (any order) and the index of the sentence each belongs to.
    features: HashArray
    owners: npt.NDArray[np.int32]
    # Features per sentence.
    sizes: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class DistinctSets:
    """The distinct sentence sets of a text (or of several texts' sentences pooled): a text
    that repeats one sentence 1,000 times has one, so pair work is done once per set."""

    # The distinct sets, each sorted, one after the other: set ``d`` is
    # ``features[bounds[d] : bounds[d + 1]]``, and ``owners`` gives each entry's set.
    features: HashArray
    bounds: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    owners: npt.NDArray[np.int64]
    # Per sentence, the index of its distinct set; distinct sets are numbered in order of
    # their first sentence, which ``first`` gives.
    of: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    # ``features`` sorted, with the set of each: for looking up words by value (a screen's pool holds
    # only the words it looks up, :func:`pooled_sets`).
    sorted_features: HashArray
    sorted_owners: npt.NDArray[np.int64]
    # :meth:`members`, computed on first use.
    _members: tuple[list[int], list[int], list[int]] | None = field(default=None, init=False, repr=False)

    @property
    def count(self) -> int:
        return int(self.first.size)

    def members(self) -> tuple[list[int], list[int], list[int]]:
        """Each set's sentences in text order, set after set: (sentences, starts, ends), set ``d``
        holding ``sentences[starts[d] : ends[d]]``; computed once (do not change the lists)."""
        if self._members is None:
            order = np.lexsort((np.arange(self.of.size), self.of))
            counts = np.bincount(self.of, minlength=self.count)
            ends = np.cumsum(counts)
            computed = (order.tolist(), (ends - counts).tolist(), ends.tolist())
            object.__setattr__(self, "_members", computed)
            return computed
        return self._members


def _mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, elementwise (wrapping uint64 arithmetic)."""
    x = values + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return mixed


def distinct_sets(
    features: HashArray,
    owners: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    count: int,
    tags: npt.NDArray[np.uint64] | None = None,
) -> DistinctSets:
    """Collapse equal sentence sets: ``features`` (any order, no feature twice in one sentence)
    belong to sentences ``owners`` < ``count``; with ``tags``, sentences must also have equal
    tags to be one. Exact: sets are grouped by an order-free hash, then compared element-wise
    (a sentence whose hash collides without being equal stays a set of its own). Linear work."""
    owner = owners.astype(np.int64)
    order = np.lexsort((features, owner))
    flat, owner = features[order], owner[order]
    sizes = np.bincount(owner, minlength=count).astype(np.int64)
    bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    with np.errstate(over="ignore"):
        running = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(_mix64(flat.astype(np.uint64)))))
        digest = running[bounds[1:]] - running[bounds[:-1]]
        if tags is not None:
            digest = digest ^ _mix64(tags ^ np.uint64(0x5851F42D4C957F2D))
    index = np.arange(count, dtype=np.int64)
    grouped = np.lexsort((index, digest, sizes))
    if count:
        starts = np.ones(count, dtype=bool)
        starts[1:] = (digest[grouped][1:] != digest[grouped][:-1]) | (sizes[grouped][1:] != sizes[grouped][:-1])
        representative = np.empty(count, dtype=np.int64)
        representative[grouped] = grouped[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    else:
        representative = index
    # Equal hash and size: compare the sets themselves (and tags), entry by entry.
    entry = np.arange(flat.size, dtype=np.int64)
    counterpart = entry - bounds[owner] + bounds[representative[owner]]
    differs = np.zeros(count, dtype=bool)
    differs[owner[flat != flat[counterpart]]] = True
    if tags is not None:
        differs |= tags != tags[representative]
    representative[differs] = index[differs]
    first, of = np.unique(representative, return_inverse=True)
    keep = np.zeros(count, dtype=bool)
    keep[first] = True
    distinct_features = flat[keep[owner]]
    distinct_sizes = sizes[first]
    distinct_owners = np.repeat(np.arange(first.size, dtype=np.int64), distinct_sizes)
    by_value = np.argsort(distinct_features, kind="stable")
    return DistinctSets(
        features=distinct_features,
        bounds=np.concatenate(([0], np.cumsum(distinct_sizes))).astype(np.int64),
        sizes=distinct_sizes,
        owners=distinct_owners,
        of=of.astype(np.int64).reshape(-1),
        first=first.astype(np.int64),
        sorted_features=distinct_features[by_value],
        sorted_owners=distinct_owners[by_value],
    )


def pooled_sets(features: HashArray, owners: npt.NDArray[np.int64], count: int, words: HashArray) -> DistinctSets:
    """The sentence sets of several texts pooled for one screen, each its own set (equal sets
    are not collapsed: :func:`distinct_sets` would compare them once, at three times the cost
    of building the pool, for the same answers). Only the entries of ``words`` (sorted: the
    query's) are in ``sorted_features``, all a screen looks up there."""
    with np.errstate(over="ignore"):
        keys = np.sort((owners.astype(np.uint64) << np.uint64(32)) | features.astype(np.uint64))
    flat = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    owner = (keys >> np.uint64(32)).astype(np.int64)
    sizes = np.bincount(owner, minlength=count).astype(np.int64)
    found = np.minimum(np.searchsorted(words, flat), max(words.size - 1, 0))
    wanted = np.flatnonzero(words[found] == flat) if words.size else np.empty(0, dtype=np.int64)
    by_value = wanted[np.argsort(flat[wanted], kind="stable")]
    index = np.arange(count, dtype=np.int64)
    return DistinctSets(
        features=flat,
        bounds=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
        sizes=sizes,
        owners=owner,
        of=index,
        first=index,
        sorted_features=flat[by_value],
        sorted_owners=owner[by_value],
    )


_HASH_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 500_000


def word_hash(word: str) -> int:
    """:func:`wiretrace.core.tokenhash.word_hash`, memoised (word frequencies are Zipfian)."""
    cached = _HASH_CACHE.get(word)
    if cached is None:
        if len(_HASH_CACHE) >= _CACHE_LIMIT:
            _HASH_CACHE.clear()
        cached = _HASH_CACHE[word] = tokenhash.word_hash(word)
    return cached


def word_hashes(word_list: list[str]) -> HashArray:
    """The hash of each word."""
    return np.fromiter(map(word_hash, word_list), dtype=np.uint32, count=len(word_list))


def document_hashes(text: str) -> HashArray:
    """Hashes of all tokens of a text, in order: vectorised when it can be, else word by word."""
    fast = tokenhash.ascii_token_hashes(text)
    return fast if fast is not None else word_hashes(words(text))


def shingle_hashes(hashes: HashArray, size: int, *, unique: bool = True) -> HashArray:
    """Distinct hashes of all word ``size``-shingles, from per-token hashes.

    Vectorised over positions; equal to :func:`shingle_hash` of each window. A
    text shorter than ``size`` tokens is one shingle of all its tokens.
    """
    if hashes.size == 0:
        return np.empty(0, dtype=np.uint32)
    size = min(size, int(hashes.size))
    count = hashes.size - size + 1
    acc = np.full(count, np.uint32(size), dtype=np.uint32)
    for offset in range(size):
        acc ^= hashes[offset : offset + count]
        acc *= _GOLDEN
        acc = (acc << np.uint32(13)) | (acc >> np.uint32(19))
        acc *= _MIX
    return np.unique(acc) if unique else acc


def shingle_hash(words: list[str]) -> int:
    """Reference (scalar) hash of one shingle; usable as a datasketch ``hashfunc`` input."""
    acc = len(words)
    for word in words:
        acc = ((acc ^ word_hash(word)) * 0x9E3779B1) & 0xFFFFFFFF
        acc = ((acc << 13) | (acc >> 19)) & 0xFFFFFFFF
        acc = (acc * 0x85EBCA77) & 0xFFFFFFFF
    return acc


_STEM_CACHE: dict[str, str] = {}


def stem(word: str) -> str:
    """Snowball English stem, memoised: word frequencies are Zipfian, so nearly every call is a hit."""
    cached = _STEM_CACHE.get(word)
    if cached is None:
        if len(_STEM_CACHE) >= _CACHE_LIMIT:
            _STEM_CACHE.clear()
        cached = _STEM_CACHE[word] = _stem_word(word)
    return cached


def is_content_word(word: str) -> bool:
    """Not a function word; single characters only when they are digits."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


# Numbers are anchors: a figure changed between two sentences makes another report, not an
# edit of one (two companies' earnings tables share every word but their figures). Their
# term hashes lie in a range of their own (top byte 0xFF), so a stored set tells its numbers.
_NUMBER_RANGE = 0xFF000000
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Spelled-out numbers a rewrite may give as digits ("three cts" ~ "3 cts", "nil" ~ "0").
NUMBER_WORDS = (
    {"nil": "0"}
    | {
        word: str(value)
        for value, word in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
            " sixteen seventeen eighteen nineteen twenty".split()
        )
    }
    | {word: str(10 * tens) for tens, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
)


def term_hash(word: str) -> int:
    """Hash of a content word's term: its stem's, or a number's (digits) in the numbers' range."""
    number = NUMBER_WORDS.get(word, word)
    if _NUMBER.fullmatch(number):
        return word_hash(number) | _NUMBER_RANGE
    hashed = word_hash(stem(word))
    return hashed & ~(1 << 24) if hashed >= _NUMBER_RANGE else hashed


def number_terms(features: HashArray) -> npt.NDArray[np.bool_]:
    """Which of these term hashes are numbers."""
    numbers: npt.NDArray[np.bool_] = features >= np.uint32(_NUMBER_RANGE)
    return numbers


def content_terms(word_list: list[str]) -> list[str]:
    """Stemmed content words; numbers are kept as written after normalisation."""
    return [stem(w) for w in word_list if is_content_word(w)]


def document_shingles(text: str, config: FeatureConfig, *, unique: bool = True) -> HashArray:
    """The whole-text shingle set alone (what a document signature needs), equal to ``extract``'s.

    ``unique=False`` skips de-duplication, which a MinHash does not need.
    """
    return shingle_hashes(document_hashes(text), config.shingle_size, unique=unique)


def extract(text: str, config: FeatureConfig) -> TextFeatures:
    """Features of a whole text: its shingles and its sentences' content-word sets.

    Vectorised over all tokens when the text allows (see :mod:`wiretrace.core.tokenhash`);
    :func:`extract_word_by_word` is the reference it must equal.
    """
    spans = split_sentences(text)
    tokens = tokenhash.ascii_tokens(text)
    if tokens is None:
        return extract_word_by_word(text, config, spans)
    shingles = shingle_hashes(tokens.hashes, config.shingle_size)
    if not spans or tokens.hashes.size == 0:
        return TextFeatures.build(shingles, (), int(tokens.hashes.size))
    sentence = np.searchsorted(np.array([span.start for span in spans]), tokens.starts, side="right") - 1
    fingerprints = tokenhash.sequence_fingerprints(tokens.hashes, sentence, len(spans))
    terms = _TERMS.lookup(text, tokens)
    content = terms >= 0
    keys = np.unique((sentence[content].astype(np.uint64) << np.uint64(32)) | terms[content].astype(np.uint64))
    owner = (keys >> np.uint64(32)).astype(np.int64)
    features = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    counts = np.bincount(owner, minlength=len(spans))
    bounds = np.concatenate(([0], np.cumsum(counts)))
    chosen = config.passages_among(counts)
    passages, fragments = (
        tuple(
            PassageFeatures(spans[i], features[bounds[i] : bounds[i + 1]], int(fingerprints[i]))
            for i in np.flatnonzero(kept).tolist()
        )
        for kept in (chosen, (counts > 0) & ~chosen)
    )
    return TextFeatures.build(shingles, passages, int(tokens.hashes.size), fragments)


def _term(word: str) -> int:
    """:func:`term_hash` of the word, or -1 for a function word."""
    return term_hash(word) if is_content_word(word) else -1


class _TermTable:
    """Token hash -> hash of its stemmed content word, or -1 for a function word (memoised).

    Known tokens are looked up for a whole text at once in sorted arrays; only tokens not
    seen before are normalised and stemmed in Python, and join the arrays in batches.
    """

    _MERGE_EVERY = 256

    def __init__(self) -> None:
        # (sorted token hashes, their terms): replaced whole, so readers never see a torn pair.
        self._table = (np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64))
        self._new: dict[int, int] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._table = (np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int64))
            self._new = {}

    def lookup(self, text: str, tokens: tokenhash.TokenHashes) -> npt.NDArray[np.int64]:
        keys, values = self._table
        hashes = tokens.hashes
        if keys.size:
            position = np.minimum(np.searchsorted(keys, hashes), keys.size - 1)
            known = keys[position] == hashes
            found = np.where(known, values[position], -1)
        else:
            known = np.zeros(hashes.size, dtype=bool)
            found = np.full(hashes.size, -1, dtype=np.int64)
        missing = np.flatnonzero(~known)
        if missing.size:
            new = self._new
            for index in missing.tolist():
                key = int(hashes[index])
                value = new.get(key)
                if value is None:
                    value = new[key] = _term(normalise_token(text[tokens.starts[index] : tokens.ends[index]]))
                found[index] = value
            if len(new) >= self._MERGE_EVERY + keys.size // 16:
                self._merge()
        return found

    def _merge(self) -> None:
        with self._lock:
            new, self._new = self._new, {}
            # One C-level copy: a thread that took the old dict may still be adding to it.
            items = list(new.items())
            if not items:
                return
            old_keys, old_values = self._table
            added = np.array(items, dtype=np.int64).reshape(-1, 2)
            keys = np.concatenate((old_keys, added[:, 0].astype(np.uint32)))
            values = np.concatenate((old_values, added[:, 1]))
            if keys.size > _CACHE_LIMIT:
                keys, values = keys[-_CACHE_LIMIT:], values[-_CACHE_LIMIT:]
            keys, first = np.unique(keys, return_index=True)
            self._table = (keys, values[first])


_TERMS = _TermTable()


def extract_word_by_word(text: str, config: FeatureConfig, spans: list[Span] | None = None) -> TextFeatures:
    """The reference implementation of :func:`extract`, one word at a time (any script)."""
    all_hashes: list[int] = []
    sentences: list[PassageFeatures] = []
    for span in split_sentences(text) if spans is None else spans:
        sentence = words(text, span.start, span.end)
        hashes = [word_hash(w) for w in sentence]
        all_hashes.extend(hashes)
        terms = {t for t in map(_term, sentence) if t >= 0}
        if terms:
            features = np.unique(np.array(sorted(terms), dtype=np.uint32))
            sentences.append(PassageFeatures(span, features, tokenhash.sequence_fingerprint(hashes)))
    chosen = config.passages_among(np.array([s.features.size for s in sentences], dtype=np.int64)).tolist()
    passages = tuple(s for s, kept in zip(sentences, chosen, strict=True) if kept)
    fragments = tuple(s for s, kept in zip(sentences, chosen, strict=True) if not kept)
    shingles = shingle_hashes(np.array(all_hashes, dtype=np.uint32), config.shingle_size)
    return TextFeatures.build(shingles, passages, len(all_hashes), fragments)


# Stored features: a later article is verified against this one without re-reading its text.
# Format 2 adds the fragments after the passages, format 3 the gist after them; formats 1 (no
# fragments) and 2 (no gist) are still read.
_FEATURES_FORMAT = 3
_HEADER = np.dtype("<u4")


def _encode_sentences(sentences: tuple[PassageFeatures, ...]) -> bytes:
    """Spans, fingerprints, set sizes, then every set, of these sentences."""
    spans = np.array([(p.span.start, p.span.end) for p in sentences], dtype="<u4").reshape(-1)
    return b"".join(
        (
            spans.tobytes(),
            np.array([p.fingerprint for p in sentences], dtype="<u8").tobytes(),
            np.array([p.features.size for p in sentences], dtype="<u4").tobytes(),
            np.concatenate([p.features for p in sentences]).astype("<u4").tobytes() if sentences else b"",
        )
    )


def _decode_sentences(data: bytes, offset: int, count: int) -> tuple[tuple[PassageFeatures, ...], int]:
    """Inverse of :func:`_encode_sentences` at ``offset``, and the offset after them."""
    spans = np.frombuffer(data, "<u4", 2 * count, offset).tolist()
    offset += 8 * count
    fingerprints = np.frombuffer(data, "<u8", count, offset).tolist()
    offset += 8 * count
    sizes = np.frombuffer(data, "<u4", count, offset)
    offset += 4 * count
    total = int(sizes.sum(dtype=np.int64))
    flat = np.frombuffer(data, "<u4", total, offset).astype(np.uint32)
    bounds = [0, *np.cumsum(sizes, dtype=np.int64).tolist()]
    sentences = tuple(
        PassageFeatures(Span(spans[2 * i], spans[2 * i + 1]), flat[bounds[i] : bounds[i + 1]], fingerprints[i])
        for i in range(count)
    )
    return sentences, offset + 4 * total


def encode_features(features: TextFeatures) -> bytes:
    """The lexical features and the gist as bytes (embeddings are not stored: they are recomputed)."""
    passages = features.passages
    gist = b"" if features.gist is None else encode_gist(features.gist)
    header = np.array(
        [_FEATURES_FORMAT, features.token_count, features.shingles.size, len(passages), features.flat_features.size],
        dtype=_HEADER,
    )
    return b"".join(
        (
            header.tobytes(),
            features.shingles.astype("<u4").tobytes(),
            _encode_sentences(passages),
            np.array([len(features.fragments)], dtype=_HEADER).tobytes(),
            _encode_sentences(features.fragments),
            np.array([len(gist)], dtype=_HEADER).tobytes(),
            gist,
        )
    )


def _stored_header(data: bytes) -> tuple[int, int, int, int, int]:
    """(format, token count, shingles, passages, passage features) of stored features."""
    version, token_count, shingle_count, passage_count, feature_count = np.frombuffer(data, _HEADER, 5).tolist()
    if version not in (1, 2, _FEATURES_FORMAT):
        raise ValueError(f"stored features have format {version}, expected {_FEATURES_FORMAT}")
    return version, token_count, shingle_count, passage_count, feature_count


def decode_sentence_sets(data: bytes) -> SentenceSets:
    """The sentence sets of stored features (:func:`encode_features`), without decoding the rest."""
    _, _, shingle_count, passage_count, feature_count = _stored_header(data)
    offset = 5 * 4 + 4 * shingle_count + 16 * passage_count
    sizes = np.frombuffer(data, "<u4", passage_count, offset).astype(np.int64)
    features = np.frombuffer(data, "<u4", feature_count, offset + 4 * passage_count).astype(np.uint32)
    owners = np.repeat(np.arange(passage_count, dtype=np.int32), sizes)
    return SentenceSets(features, owners, sizes)


def decode_stored_gist(data: bytes) -> npt.NDArray[np.float32] | None:
    """The gist of stored features (:func:`encode_features`), without decoding the rest."""
    version, _, shingle_count, passage_count, feature_count = _stored_header(data)
    if version < 3:
        return None
    offset = 5 * 4 + 4 * shingle_count + 20 * passage_count + 4 * feature_count
    fragment_count = int(np.frombuffer(data, _HEADER, 1, offset)[0])
    offset += 4 + 16 * fragment_count
    fragment_features = int(np.frombuffer(data, "<u4", fragment_count, offset).sum(dtype=np.int64))
    offset += 4 * fragment_count + 4 * fragment_features
    gist_size = int(np.frombuffer(data, _HEADER, 1, offset)[0])
    return decode_gist(data[offset + 4 : offset + 4 + gist_size]) if gist_size else None


def decode_features(data: bytes) -> TextFeatures:
    """Inverse of :func:`encode_features`."""
    version, token_count, shingle_count, passage_count, _ = _stored_header(data)
    offset = 5 * 4
    shingles = np.frombuffer(data, "<u4", shingle_count, offset).astype(np.uint32)
    passages, offset = _decode_sentences(data, offset + 4 * shingle_count, passage_count)
    fragments: tuple[PassageFeatures, ...] = ()
    gist = None
    if version >= 2:
        fragment_count = int(np.frombuffer(data, _HEADER, 1, offset)[0])
        fragments, offset = _decode_sentences(data, offset + 4, fragment_count)
    if version >= 3:
        gist_size = int(np.frombuffer(data, _HEADER, 1, offset)[0])
        if gist_size:
            gist = decode_gist(data[offset + 4 : offset + 4 + gist_size])
    return TextFeatures.build(shingles, passages, token_count, fragments, gist)
