"""Passage candidate schemes measured offline on human translation pairs (issue 14).

    python bench/passage_candidates.py            # everything, about 1 minute on one core
    python bench/passage_candidates.py --sizes 0 20000 --growth wordfreq:6:8:2   # quicker

No server: sentences become stem-hash sets through the service's own feature extraction
(wiretrace.core.features with IndexSettings().features), and candidate generation is simulated
with numpy over all sentences at once. Needs ``pip install wordfreq`` (3.1, its word lists ship
inside the package) for the ``wordfreq`` rarity table.

Test set: WMT21 de-en and cs-en (../shared/eval/wmt21/references), the two independent human
English translations ref.A and ref.B, every line one sentence (one span, so a line holding two
sentences is still one set). Per pair, every line of both references with >= 5 content words
(a passage: shorter lines are never indexed by the service) is indexed and queries the index; a
true pair is (ref.A line i, ref.B line i) with both lines passages. The later of two sentences
queries the earlier, so each true pair is tried in both directions and recall is the share of
those directed look-ups that return the partner. Features carry no case (tokens are case-folded
before hashing), so capitalised names cannot be told apart; numbers are content words already.

Schemes:
- ``lsh14x4``: today's MinHash LSH, 64 permutations (MinHasher, seed 1), bands from
  LshParams.for_threshold(0.5, 64) = 14 x 4; a candidate shares >= 1 band key.
- ``SOURCE kK mM tT``: rarity-ordered bottom-k. Each sentence is indexed under its K rarest stem
  hashes, queries with its M rarest, and a stored sentence is a candidate when it shares >= T.
  Rarity is a global table (lower frequency = rarer; unknown = rarest; ties broken by a mixed
  hash of the key, so among equals the order is a MinHash one):
  ``wordfreq``  wordfreq's English "large" list, every word normalised, stop-word-filtered and
                Snowball-stemmed as the service does, frequencies summed per stem hash; numbers
                by wordfreq's own estimate for the digit string (stable: shipped in a package);
  ``newsdf``    sentence document frequencies over all Reuters-21578 + BBC passages of
                ../shared/news (stable once learned; in-sample for the news background);
  ``indexdf``   document frequencies over the very sentences indexed (a reference only: not
                stable, it changes with every article).
  `` wW``: weighted count filter, the shared keys' weights (-log10 wordfreq frequency, unknown
  1e-9) must also add up to >= W.
- ``SOURCE pairs kK mM [wW]``: every 2-subset of the K rarest keys (query: of the M rarest) is one
  key (with wW only pairs whose two weights add up to >= W); a candidate shares one. Without W it
  finds exactly the candidates of ``kK mM t2``, reading about one posting per candidate.
- cap: a query key whose posting list (projected to 1M articles) is longer than the cap is
  skipped, and the query takes its next rarest instead.

Printed: a grid of schemes on the two references alone (recall, false candidates per sentence
pair = candidates that are neither the query nor its partner over all such ordered pairs,
candidates per query); growth with N news passages of ../shared/news (articles shuffled with a
fixed seed) added to the index; a projection to 1M articles (25M sentences) at the largest N,
where each news entry stands for 25M / N entries (false candidates, postings read, the effect of
caps), with the false-candidate rate against other 2021 stories (the other WMT21 pairs' first
reference) beside it; index bytes per article; the ingest cost of each scheme's keys.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench")]

from newscorpus import Passages, news_passages, news_texts, wmt_line_passages, wmt_reference_paths  # noqa: E402
from wiretrace.core import features as F  # noqa: E402
from wiretrace.core.lsh import LshParams, bucket_keys  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.core.signatures import MinHasher  # noqa: E402
from wiretrace.core.text import words  # noqa: E402
from wiretrace.core.tokenhash import fmix32  # noqa: E402

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
PAIRS = ("de-en", "cs-en")
SENTENCES_AT_1M = 25_000_000
ARTICLE_SENTENCES = 25
BYTES_PER_ENTRY = 8
WEIGHT_FLOOR = 1e-9


# ---------------------------------------------------------------- rarity tables


@dataclass(frozen=True, slots=True)
class Rarity:
    """Stem hash -> frequency (lower = rarer), sorted for vectorised look-up; unknown = 0."""

    name: str
    keys: U32
    values: npt.NDArray[np.float64]

    @classmethod
    def from_dict(cls, name: str, table: dict[int, float]) -> Rarity:
        keys = np.fromiter(table.keys(), dtype=np.uint32, count=len(table))
        values = np.fromiter(table.values(), dtype=np.float64, count=len(table))
        order = np.argsort(keys)
        return cls(name, keys[order], values[order])

    @classmethod
    def from_counts(cls, name: str, features: U32) -> Rarity:
        keys, counts = np.unique(features, return_counts=True)
        return cls(name, keys.astype(np.uint32), counts.astype(np.float64))

    def lookup(self, hashes: U32) -> npt.NDArray[np.float64]:
        if self.keys.size == 0:
            return np.zeros(hashes.size)
        position = np.minimum(np.searchsorted(self.keys, hashes), self.keys.size - 1)
        return np.where(self.keys[position] == hashes, self.values[position], 0.0)


def wordfreq_rarity(numbers: set[str]) -> Rarity:
    """wordfreq's English frequencies mapped through the service's normalising and stemming."""
    import wordfreq

    table: dict[int, float] = {}
    for word, frequency in wordfreq.get_frequency_dict("en", wordlist="large").items():
        if any(ch.isdigit() for ch in word):  # wordfreq keeps digits smashed to 0: rated below
            continue
        tokens = words(word)
        if len(tokens) != 1 or not F.is_content_word(tokens[0]):
            continue
        key = F.term_hash(tokens[0])
        table[key] = table.get(key, 0.0) + frequency
    for number in numbers:
        if F.is_content_word(number):
            table[F.term_hash(number)] = wordfreq.word_frequency(number, "en")
    return Rarity.from_dict("wordfreq", table)


# ---------------------------------------------------------------- sentence sets and sketches


@dataclass(frozen=True, slots=True)
class Flat:
    """Sentence sets flattened: ``owners`` sorted, ``count`` sentences."""

    features: U32
    owners: I64
    count: int

    @classmethod
    def of(cls, sets: Sequence[U32]) -> Flat:
        sizes = np.fromiter((s.size for s in sets), dtype=np.int64, count=len(sets))
        features = np.concatenate(list(sets)).astype(np.uint32) if sets else np.empty(0, np.uint32)
        return cls(features, np.repeat(np.arange(len(sets), dtype=np.int64), sizes), len(sets))

    def sizes(self) -> I64:
        return np.bincount(self.owners, minlength=self.count).astype(np.int64)

    def sets(self) -> list[U32]:
        bounds = np.concatenate(([0], np.cumsum(self.sizes())))
        return [self.features[bounds[i] : bounds[i + 1]] for i in range(self.count)]


def concat(*parts: Flat) -> Flat:
    offsets = np.cumsum([0] + [p.count for p in parts])
    return Flat(
        np.concatenate([p.features for p in parts]),
        np.concatenate([p.owners + offset for p, offset in zip(parts, offsets, strict=False)]),
        int(offsets[-1]),
    )


def head(flat: Flat, count: int) -> Flat:
    """The first ``count`` sentences."""
    end = int(np.searchsorted(flat.owners, count))
    return Flat(flat.features[:end], flat.owners[:end], count)


@dataclass(frozen=True, slots=True)
class Sketch:
    """Each sentence's stem hashes in rarity order: key, its sentence, its rank in the sentence."""

    keys: U32
    owners: I64
    rank: I64

    def top(self, depth: int) -> tuple[U32, I64]:
        keep = self.rank < depth
        return self.keys[keep], self.owners[keep]


def rarity_order(flat: Flat, rarity: Rarity) -> Sketch:
    """All of each sentence's keys, rarest first (ties: mixed hash order). ``owners`` need not be sorted."""
    frequency = rarity.lookup(flat.features)
    tiebreak = fmix32(flat.features ^ np.uint32(0x5BD1E995))
    order = np.lexsort((tiebreak, frequency, flat.owners))
    owners = flat.owners[order]
    starts = np.searchsorted(owners, np.arange(flat.count))
    rank = np.arange(owners.size, dtype=np.int64) - starts[owners]
    return Sketch(flat.features[order], owners, rank)


def lsh_keys(flat: Flat, hasher: MinHasher, params: LshParams, chunk: int = 5000) -> tuple[npt.NDArray[np.uint64], I64]:
    """Every sentence's band keys (``bands`` per sentence) with their sentence."""
    sets = flat.sets()
    keys = np.concatenate(
        [bucket_keys(hasher.signatures(sets[start : start + chunk]), params) for start in range(0, len(sets), chunk)]
    )
    return keys.reshape(-1), np.repeat(np.arange(flat.count, dtype=np.int64), params.bands)


# ---------------------------------------------------------------- the index and candidate generation


@dataclass(frozen=True, slots=True)
class Layout:
    """How the index's sentence ids split into parts, and what each part's entries stand for at 1M:
    part ``p`` holds ids ``[bounds[p], bounds[p + 1])`` and one of its entries counts ``scales[p]``."""

    names: tuple[str, ...]
    bounds: I64
    scales: npt.NDArray[np.float64]

    @property
    def count(self) -> int:
        return int(self.bounds[-1])

    def part(self, ids: I64) -> I64:
        return np.searchsorted(self.bounds, ids, "right") - 1


@dataclass(frozen=True, slots=True)
class Index:
    """Postings sorted by key; per distinct key its projected posting length (entries x scale)."""

    keys: npt.NDArray[np.uint64]
    ids: I64
    distinct: npt.NDArray[np.uint64]
    projected: npt.NDArray[np.float64]

    @classmethod
    def build(cls, keys: npt.NDArray[np.generic], ids: I64, layout: Layout) -> Index:
        wide = keys.astype(np.uint64)
        order = np.argsort(wide, kind="stable")
        wide, ids = wide[order], ids[order]
        distinct, first = np.unique(wide, return_index=True)
        weight = layout.scales[layout.part(ids)]
        projected = np.add.reduceat(weight, first) if first.size else np.empty(0)
        return cls(wide, ids, distinct, projected)

    def postings(self, keys: npt.NDArray[np.generic]) -> tuple[I64, I64, npt.NDArray[np.float64]]:
        """Start, length and projected length of each key's posting list."""
        wide = keys.astype(np.uint64)
        low = np.searchsorted(self.keys, wide, "left")
        length = np.searchsorted(self.keys, wide, "right") - low
        where = np.minimum(np.searchsorted(self.distinct, wide), max(self.distinct.size - 1, 0))
        projected = np.where(length > 0, self.projected[where] if self.projected.size else 0.0, 0.0)
        return low, length, projected


def pair_keys(
    sketch: Sketch, weights: npt.NDArray[np.float64], depth: int, min_weight: float
) -> tuple[npt.NDArray[np.uint64], I64]:
    """Every 2-subset of each sentence's ``depth`` rarest keys whose weights add up to ``min_weight``,
    as one order-free 64-bit key (the two stem hashes side by side)."""
    keep = sketch.rank < depth
    keys, owners, weight = sketch.keys[keep].astype(np.uint64), sketch.owners[keep], weights[keep]
    found_keys, found_owners = [], []
    for distance in range(1, depth):
        same = owners[:-distance] == owners[distance:]
        first, second = keys[:-distance][same], keys[distance:][same]
        heavy = weight[:-distance][same] + weight[distance:][same] >= min_weight - 1e-9
        low, high = np.minimum(first, second)[heavy], np.maximum(first, second)[heavy]
        found_keys.append((low << np.uint64(32)) | high)
        found_owners.append(owners[:-distance][same][heavy])
    return np.concatenate(found_keys), np.concatenate(found_owners)


def projected_query(index: Index, keys: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    return index.postings(keys)[2]


def query_keys(sketch: Sketch, m: int, index: Index, cap: float | None) -> tuple[U32, I64]:
    """The m rarest keys of each query sentence; with a cap, the m rarest of those whose projected
    posting list is within it (capped keys are skipped, the next rarer-ranked ones taken)."""
    if cap is None:
        return sketch.top(m)
    _, _, projected = index.postings(sketch.keys)
    usable = projected <= cap
    running = np.cumsum(usable) - usable
    first = np.searchsorted(sketch.owners, sketch.owners, "left")
    keep = usable & (running - running[first] < m)
    return sketch.keys[keep], sketch.owners[keep]


@dataclass(frozen=True, slots=True)
class Score:
    recall: float
    false_rate: float  # false candidates per ordered sentence pair, as measured
    false_mean: float  # false candidates per query, as measured
    false_p99: float
    part_false: tuple[float, ...]  # false candidates per query in each part of the index
    cand_mean: float  # candidates per query (partner included, query excluded), as measured
    cand_p99: float
    scan_mean: float  # postings read per query, as measured
    scan_p99: float
    proj_false_mean: float  # the same at 1M articles (each part's figures x its scale)
    proj_false_p99: float
    proj_scan_mean: float
    proj_scan_p99: float
    proj_pair_scan_mean: float  # postings a pair-key index would read, at 1M
    proj_pair_scan_p99: float
    entries: float  # index entries per indexed sentence
    keys_per_sentence: float  # distinct keys of the index per indexed sentence
    proj_prefix_scan_mean: float = 0.0  # postings a prefix index (k - t + 1 rarest per sentence) reads, at 1M
    proj_prefix_scan_p99: float = 0.0
    prefix_entries: float = 0.0
    pair_entries: float = 0.0  # index entries per sentence if keyed by 2-subsets of the k rarest
    proj_wprefix_scan_mean: float = 0.0  # postings read with the weighted query-side prefix, at 1M
    proj_wprefix_scan_p99: float = 0.0


def evaluate(
    index: Index,
    qkeys: npt.NDArray[np.generic],
    qids: I64,
    test: PairSet,
    threshold: int,
    layout: Layout,
    weights: npt.NDArray[np.float64] | None = None,
    min_weight: float = 0.0,
) -> Score:
    """Stored sentences sharing >= ``threshold`` keys with each query (and, with ``weights`` per query
    key, whose shared keys weigh >= ``min_weight`` together), scored against the true pairs."""
    queries, n_index = test.flat.count, layout.count
    low, length, _ = index.postings(qkeys)
    total = int(length.sum())
    offsets = np.cumsum(length) - length
    position = np.repeat(low - offsets, length) + np.arange(total, dtype=np.int64)
    query = np.repeat(qids, length)
    scanned_ids = index.ids[position]
    scan = np.bincount(query, minlength=queries).astype(np.float64)
    proj_scan = np.bincount(query, weights=layout.scales[layout.part(scanned_ids)], minlength=queries)
    code = query * np.int64(n_index) + scanned_ids
    code, inverse, count = np.unique(code, return_inverse=True, return_counts=True)
    enough = count >= threshold
    if weights is not None:
        enough &= np.bincount(inverse, weights=np.repeat(weights, length), minlength=code.size) >= min_weight - 1e-9
    # Postings a pair-key index (every 2-subset of the k rarest keys one key) would read for the
    # same candidates: C(s, 2) for every stored sentence sharing s keys.
    pair_query, pair_target = code // n_index, code % n_index
    weight = (count * (count - 1) // 2) * layout.scales[layout.part(pair_target)] * (pair_query != pair_target)
    proj_pair_scan = np.bincount(pair_query, weights=weight, minlength=queries)
    code = code[enough]
    query, target = code // n_index, code % n_index
    keep = query != target
    query, target = query[keep], target[keep]
    true = target == test.partner[query]
    per_query = np.bincount(query, minlength=queries)
    false_query, false_part = query[~true], layout.part(target[~true])
    parts = len(layout.names)
    part_counts = np.zeros((parts, queries))
    for p in range(parts):
        part_counts[p] = np.bincount(false_query[false_part == p], minlength=queries)
    false_per_query = part_counts.sum(axis=0)
    projected = (part_counts * layout.scales[:, None]).sum(axis=0)
    possible = queries * (n_index - 1) - 2 * test.true_pairs
    return Score(
        recall=float(true.sum()) / (2 * test.true_pairs),
        false_rate=float(false_per_query.sum()) / possible,
        false_mean=float(false_per_query.mean()),
        false_p99=float(np.percentile(false_per_query, 99)),
        part_false=tuple(float(v) for v in part_counts.mean(axis=1)),
        cand_mean=float(per_query.mean()),
        cand_p99=float(np.percentile(per_query, 99)),
        scan_mean=float(scan.mean()),
        scan_p99=float(np.percentile(scan, 99)),
        proj_false_mean=float(projected.mean()),
        proj_false_p99=float(np.percentile(projected, 99)),
        proj_scan_mean=float(proj_scan.mean()),
        proj_scan_p99=float(np.percentile(proj_scan, 99)),
        proj_pair_scan_mean=float(proj_pair_scan.mean()),
        proj_pair_scan_p99=float(np.percentile(proj_pair_scan, 99)),
        entries=float(index.keys.size) / n_index,
        keys_per_sentence=float(index.distinct.size) / n_index,
    )


@dataclass(frozen=True, slots=True)
class Scheme:
    """``lsh`` or a bottom-k scheme: index the k rarest keys, query the m rarest, >= t shared."""

    source: str
    k: int = 0
    m: int = 0
    t: int = 1
    # Weighted count filter: the shared keys' rarity weights (-log10 frequency) must add up to this.
    w: float = 0.0
    # Pair keys: every 2-subset of the k rarest (query: of the m rarest) whose weights add up to >= w
    # is one key; a candidate shares one.
    pairs: bool = False

    @classmethod
    def parse(cls, text: str) -> Scheme:
        """``lsh``, ``SOURCE:k:m:t[:w]`` or ``pairs:SOURCE:k:m[:w]``."""
        if text == "lsh":
            return cls("lsh")
        if text.startswith("pairs:"):
            _, source, k, m, *w = text.split(":")
            return cls(source, int(k), int(m), 1, float(w[0]) if w else 0.0, pairs=True)
        source, k, m, t, *w = text.split(":")
        return cls(source, int(k), int(m), int(t), float(w[0]) if w else 0.0)

    def label(self, params: LshParams) -> str:
        if self.source == "lsh":
            return f"lsh{params.bands}x{params.rows}"
        if self.pairs:
            return f"{self.source} pairs k{self.k} m{self.m}" + (f" w{self.w:g}" if self.w else "")
        return f"{self.source} k{self.k} m{self.m} t{self.t}" + (f" w{self.w:g}" if self.w else "")


class Runner:
    """Builds each scheme's keys for an index (the test's sentences first) and scores look-ups."""

    def __init__(self, hasher: MinHasher, params: LshParams, rarities: dict[str, Rarity]) -> None:
        self.hasher, self.params, self.rarities = hasher, params, rarities
        self.sentences: dict[str, int] = {}  # sentences behind each document-frequency table
        # Keys of the last index seen (the flat object is kept, so identity is a safe cache key).
        self._flat: Flat | None = None
        self._orders: dict[str, Sketch] = {}
        self._lsh: tuple[npt.NDArray[np.uint64], I64] | None = None

    def _for(self, flat: Flat) -> None:
        if flat is not self._flat:
            self._flat, self._orders, self._lsh = flat, {}, None

    def order(self, source: str, flat: Flat) -> Sketch:
        self._for(flat)
        if source not in self._orders:
            rarity = self.rarities.get(source) or Rarity.from_counts(source, flat.features)  # indexdf
            self._orders[source] = rarity_order(flat, rarity)
        return self._orders[source]

    def weights(self, source: str, flat: Flat, keys: U32) -> npt.NDArray[np.float64]:
        """-log10 of each key's frequency in the source table (unknown keys: the floor, 1e-9)."""
        rarity = self.rarities.get(source) or Rarity.from_counts(source, flat.features)
        frequency = rarity.lookup(keys)
        if source != "wordfreq":  # document frequencies: as a share of the table's sentences
            frequency = frequency / self.sentences.get(source, flat.count)
        return -np.log10(np.maximum(frequency, WEIGHT_FLOOR))

    def lsh(self, flat: Flat) -> tuple[npt.NDArray[np.uint64], I64]:
        self._for(flat)
        if self._lsh is None:
            self._lsh = lsh_keys(flat, self.hasher, self.params)
        return self._lsh

    def run(self, scheme: Scheme, test: PairSet, flat: Flat, layout: Layout, cap_1m: float | None = None) -> Score:
        """``cap_1m``: skip query keys whose posting list at 1M (projected) is longer."""
        if scheme.source == "lsh":
            keys, owners = self.lsh(flat)
            index = Index.build(keys, owners, layout)
            queried = owners < test.flat.count
            return evaluate(index, keys[queried], owners[queried], test, 1, layout)
        sketch = self.order(scheme.source, flat)
        if scheme.pairs:
            weights_all = self.weights(scheme.source, flat, sketch.keys)
            index = Index.build(*pair_keys(sketch, weights_all, scheme.k, scheme.w), layout)
            queried = sketch.owners < test.flat.count
            own = Sketch(sketch.keys[queried], sketch.owners[queried], sketch.rank[queried])
            qkeys, qids = pair_keys(own, weights_all[queried], scheme.m, scheme.w)
            return evaluate(index, qkeys, qids, test, 1, layout)
        index = Index.build(*sketch.top(scheme.k), layout)
        queried = sketch.owners < test.flat.count
        own = Sketch(sketch.keys[queried], sketch.owners[queried], sketch.rank[queried])
        qkeys, qids = query_keys(own, scheme.m, index, cap_1m)
        weights = None
        if scheme.w:
            weights = self.weights(scheme.source, flat, qkeys)
        score = evaluate(index, qkeys, qids, test, scheme.t, layout, weights, scheme.w)
        # Prefix index: only the k - t + 1 rarest keys of each sentence in posting lists finds the
        # same candidates (one sharing >= t of k keys shares one of those), each then counted on its
        # stored sentence set; what it reads per query.
        prefix = Index.build(*sketch.top(scheme.k - scheme.t + 1), layout)
        _, _, projected = prefix.postings(qkeys)
        read = np.bincount(qids, weights=projected, minlength=test.flat.count)
        stored = np.minimum(flat.sizes(), scheme.k)
        if weights is not None:
            # Weighted prefix on the query side: skip the query's commonest keys while the weights of
            # the skipped ones add up to less than w (a candidate sharing only those cannot reach w),
            # scan the rest; exact, each candidate then weighed on its stored set.
            running = np.cumsum(weights)
            last = np.searchsorted(qids, qids, "right") - 1
            suffix = running[last] - running + weights
            scanned = np.where(suffix >= scheme.w - 1e-9, projected_query(index, qkeys), 0.0)
            read_w = np.bincount(qids, weights=scanned, minlength=test.flat.count)
            score = replace(
                score,
                proj_wprefix_scan_mean=float(read_w.mean()),
                proj_wprefix_scan_p99=float(np.percentile(read_w, 99)),
            )
        return replace(
            score,
            pair_entries=float((stored * (stored - 1) // 2).mean()),
            proj_prefix_scan_mean=float(read.mean()),
            proj_prefix_scan_p99=float(np.percentile(read, 99)),
            prefix_entries=float(prefix.keys.size) / layout.count,
        )


# ---------------------------------------------------------------- test set


@dataclass(frozen=True, slots=True)
class PairSet:
    """One WMT pair's passages: ids 0..count-1, partner id of each (or -1)."""

    name: str
    flat: Flat
    partner: I64
    true_pairs: int
    lines: int


def pair_set(pair: str, config: F.FeatureConfig) -> tuple[PairSet, set[str]]:
    paths = wmt_reference_paths(pair)[:2]
    (first, numbers_a), (second, numbers_b) = (wmt_line_passages(p, config) for p in paths)
    sets: list[U32] = []
    ids_a: dict[int, int] = {}
    ids_b: dict[int, int] = {}
    for line, features in enumerate(first):
        if features is not None:
            ids_a[line] = len(sets)
            sets.append(features)
    for line, features in enumerate(second):
        if features is not None:
            ids_b[line] = len(sets)
            sets.append(features)
    partner = np.full(len(sets), -1, dtype=np.int64)
    pairs = 0
    for line, a in ids_a.items():
        b = ids_b.get(line)
        if b is not None:
            partner[a], partner[b] = b, a
            pairs += 1
    return PairSet(pair, Flat.of(sets), partner, pairs, len(first)), numbers_a | numbers_b


def contemporary(pair: str, config: F.FeatureConfig) -> tuple[Flat, set[str]]:
    """Other 2021 news: the first reference of every other WMT21 pair (other stories, same months)."""
    sets: list[U32] = []
    numbers: set[str] = set()
    for other in ("de-en", "cs-en", "ja-en", "is-en"):
        if other != pair:
            found, more = wmt_line_passages(wmt_reference_paths(other)[0], config)
            sets.extend(s for s in found if s is not None)
            numbers |= more
    return Flat.of(sets), numbers


def shuffled(news: Passages, seed: int) -> Flat:
    """The news passages with whole articles in a random (seeded) order."""
    articles = int(news.articles.max()) + 1
    article_rank = np.argsort(np.random.default_rng(seed).permutation(articles))
    sentence_order = np.lexsort((np.arange(news.count), article_rank[news.articles]))
    rank = np.empty(news.count, dtype=np.int64)
    rank[sentence_order] = np.arange(news.count)
    owners = rank[news.owners]
    order = np.argsort(owners, kind="stable")
    return Flat(news.features[order], owners[order], news.count)


# ---------------------------------------------------------------- printing


def rate(value: float) -> str:
    return f"{value:.1e}" if value else "0"


def big(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table (columns right-aligned to their widest cell)."""
    print(f"\n{title}\n")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("| " + " | ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |", flush=True)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[0, 20_000, 100_000, -1], help="news passages added (-1 = all)"
    )
    parser.add_argument(
        "--growth",
        nargs="*",
        default=[
            "wordfreq:6:8:2",
            "wordfreq:7:10:2",
            "newsdf:6:8:2",
            "wordfreq:8:12:3",
            "wordfreq:8:12:2:11",
            "pairs:wordfreq:6:8:9",
        ],
        help="bottom-k schemes (source:k:m:t) for the growth and cap runs, besides lsh",
    )
    parser.add_argument(
        "--caps-1m",
        type=float,
        nargs="*",
        default=[5_000, 20_000, 100_000],
        help="posting caps at 1M articles (projected posting list length), tried at the largest size",
    )
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 5, 6, 7, 8])
    parser.add_argument("--ms", type=int, nargs="+", default=[6, 8, 10, 12])
    parser.add_argument("--ts", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--sources", nargs="+", default=["wordfreq", "newsdf", "indexdf"])
    parser.add_argument(
        "--weighted",
        nargs="*",
        default=["6:8", "7:10", "8:12", "10:14"],
        help="k:m of the weighted grid (wordfreq, t=2, shared weight >= each of --weights)",
    )
    parser.add_argument("--weights", type=float, nargs="*", default=[9, 10, 11, 12])
    parser.add_argument(
        "--pair-schemes",
        nargs="*",
        default=[
            f"pairs:wordfreq:{km}{w}" for km in ("5:8", "6:8", "6:10", "7:10", "8:12") for w in ("", ":9", ":10", ":11")
        ],
        help="pair-key schemes (pairs:SOURCE:k:m[:w]) for the grid",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timing-articles", type=int, default=2000)
    args = parser.parse_args()

    started = time.perf_counter()
    settings = IndexSettings()
    config = settings.features
    params = LshParams.for_threshold(settings.passage_threshold, settings.passage_perms)
    hasher = MinHasher(settings.passage_perms, settings.seed)

    tests: list[PairSet] = []
    others: list[Flat] = []
    numbers: set[str] = set()
    for pair in PAIRS:
        test, found = pair_set(pair, config)
        other, more = contemporary(pair, config)
        tests.append(test)
        others.append(other)
        numbers |= found | more
    news = news_passages(config)
    numbers |= set(news.numbers)
    clock = time.perf_counter()
    rarities = {"wordfreq": wordfreq_rarity(numbers)}
    wordfreq_seconds = time.perf_counter() - clock
    rarities["newsdf"] = Rarity.from_counts("newsdf", news.features)
    runner = Runner(hasher, params, rarities)
    runner.sentences["newsdf"] = news.count

    print(
        f"# passage candidates (issue 14): features {settings.feature_version}, passage LSH "
        f"{params.bands}x{params.rows} on {params.num_perm} permutations (threshold {settings.passage_threshold})"
    )
    for test, other in zip(tests, others, strict=True):
        known = {name: float((r.lookup(test.flat.features) > 0).mean()) for name, r in rarities.items()}
        print(
            f"# {test.name}: {test.lines} lines per reference, {test.flat.count} passages of both references "
            f"(>= {config.min_passage_features} content words, mean {test.flat.sizes().mean():.1f}), "
            f"{test.true_pairs} true pairs with both lines passages; words known to wordfreq "
            f"{known['wordfreq']:.3f}, to newsdf {known['newsdf']:.3f}; contemporary set {other.count} passages"
        )
    print(
        f"# news background: {news.count} passages of {int(news.articles.max()) + 1} Reuters-21578 + BBC articles; "
        f"wordfreq table {rarities['wordfreq'].keys.size:,} stem hashes (built in {wordfreq_seconds:.1f} s), "
        f"newsdf table {rarities['newsdf'].keys.size:,}"
    )

    # ---- grid on the two references alone
    rows = []
    schemes = [Scheme("lsh")] + [
        Scheme(source, k, m, t) for source in args.sources for t in args.ts for k in args.ks for m in args.ms if m >= k
    ]
    schemes += [
        Scheme.parse(f"wordfreq:{km.split(':')[0]}:{km.split(':')[1]}:2:{w:g}")
        for km in args.weighted
        for w in args.weights
    ]
    for scheme in schemes:
        cells = [scheme.label(params)]
        for position, test in enumerate(tests):
            layout = Layout(("own",), np.array([0, test.flat.count]), np.ones(1))
            s = runner.run(scheme, test, test.flat, layout)
            if position == 0:
                cells += [f"{s.entries:.2f}", f"{s.entries * BYTES_PER_ENTRY:.0f}"]
            cells += [f"{s.recall:.3f}", rate(s.false_rate), f"{s.cand_mean:.2f}", f"{s.cand_p99:.0f}"]
        rows.append(cells)
    table(
        "## Grid: index = all passages of both references of the pair, each one queries it",
        ["scheme", "entries/sent", "B/sent"]
        + [f"{p} {c}" for p in PAIRS for c in ("recall", "false/pair", "cand/q", "p99")],
        rows,
    )
    print(f"\n# grid done at {time.perf_counter() - started:.0f} s")

    # ---- growth with news background
    background = shuffled(news, args.seed)
    sizes = sorted({background.count if size < 0 else min(size, background.count) for size in args.sizes})
    growth = [Scheme("lsh")] + [Scheme.parse(s) for s in args.growth]
    results: dict[tuple[int, int, int], Score] = {}
    for size in sizes:
        for t_index, test in enumerate(tests):
            flat = concat(test.flat, head(background, size))
            layout = Layout(("own", "news"), np.array([0, test.flat.count, flat.count]), np.ones(2))
            for s_index, scheme in enumerate(growth):
                results[s_index, size, t_index] = runner.run(scheme, test, flat, layout)
    rows = []
    for s_index, scheme in enumerate(growth):
        for size in sizes:
            cells = [scheme.label(params), f"{size:,}"]
            for t_index in range(len(tests)):
                s = results[s_index, size, t_index]
                cells += [
                    f"{s.recall:.3f}",
                    f"{s.part_false[0]:.2f}",
                    f"{s.part_false[1]:.2f}",
                    rate(s.part_false[1] / size) if size else "-",
                    f"{s.false_p99:.0f}",
                    big(s.scan_mean),
                    big(s.scan_p99),
                ]
            rows.append(cells)
    table(
        "## Growth: index = the pair's passages + N news passages (no cap); queries = the pair's passages\n\n"
        "own/q, news/q: false candidates per query among the pair's own passages and among the news ones; "
        "news/pair = news/q / N; p99 of all false candidates per query; scan = postings read per query",
        ["scheme", "N"]
        + [f"{p} {c}" for p in PAIRS for c in ("recall", "own/q", "news/q", "news/pair", "p99", "scan/q", "p99")],
        rows,
    )
    print(f"\n# growth done at {time.perf_counter() - started:.0f} s")

    # ---- caps at the largest size, projected to 1M articles
    size = sizes[-1]
    capped: dict[tuple[int, float | None, int], Score] = {}
    for t_index, (test, other) in enumerate(zip(tests, others, strict=True)):
        flat = concat(test.flat, other, head(background, size))
        scale = (SENTENCES_AT_1M - test.flat.count - other.count) / size
        layout = Layout(
            ("own", "contemporary", "news"),
            np.array([0, test.flat.count, test.flat.count + other.count, flat.count]),
            np.array([1.0, 1.0, scale]),
        )
        for s_index, scheme in enumerate(growth):
            for cap in [None] if scheme.source == "lsh" or scheme.pairs else [None, *args.caps_1m]:
                capped[s_index, cap, t_index] = runner.run(scheme, test, flat, layout, cap)
    rows = []
    memory = []
    for s_index, scheme in enumerate(growth):
        base = capped[s_index, None, 0]
        lists = ARTICLE_SENTENCES * (4 * base.entries + 8 * base.keys_per_sentence)
        prefix_lists = ARTICLE_SENTENCES * 4 * base.prefix_entries * (1 + 2 * base.keys_per_sentence / base.entries)
        memory.append(
            [
                scheme.label(params),
                f"{base.entries:.2f}",
                f"{ARTICLE_SENTENCES * base.entries * BYTES_PER_ENTRY:,.0f}",
                f"{lists:,.0f}",
                f"{base.prefix_entries:.2f}" if not (scheme.source == "lsh" or scheme.pairs) else "-",
                f"{prefix_lists:,.0f}" if not (scheme.source == "lsh" or scheme.pairs) else "-",
                f"{base.pair_entries:.1f}" if not (scheme.source == "lsh" or scheme.pairs) else "-",
                f"{ARTICLE_SENTENCES * base.pair_entries * BYTES_PER_ENTRY:,.0f}"
                if not (scheme.source == "lsh" or scheme.pairs)
                else "-",
            ]
        )
        for cap in [None] if scheme.source == "lsh" or scheme.pairs else [None, *args.caps_1m]:
            for t_index, (test, other) in enumerate(zip(tests, others, strict=True)):
                s = capped[s_index, cap, t_index]
                lsh = scheme.source == "lsh" or scheme.pairs
                rows.append(
                    [
                        scheme.label(params),
                        big(cap) if cap else "-",
                        test.name,
                        f"{s.recall:.3f}",
                        rate(s.part_false[1] / other.count),
                        big(s.proj_false_mean),
                        big(s.proj_false_p99),
                        big(s.proj_scan_mean),
                        big(s.proj_scan_p99),
                        "-" if lsh else big(s.proj_prefix_scan_mean),
                        "-" if lsh else big(s.proj_prefix_scan_p99),
                        "-" if lsh else big(s.proj_pair_scan_mean),
                        "-" if lsh else big(s.proj_pair_scan_p99),
                        big(s.proj_wprefix_scan_mean) if scheme.w and not scheme.pairs else "-",
                        big(s.proj_wprefix_scan_p99) if scheme.w and not scheme.pairs else "-",
                    ]
                )
    table(
        f"## Projected to 1M articles ({SENTENCES_AT_1M:,} sentences): index = the pair's passages + the "
        f"contemporary set + {size:,} news passages\n\n"
        f"Each news entry stands for {SENTENCES_AT_1M:,} / {size:,} entries at 1M. cap@1M: a query key is skipped "
        "when its projected posting list is longer (the query then takes its next rarest). contemp/pair = false "
        "candidates per sentence pair among other 2021 stories (the other WMT21 pairs' first reference; at 1M "
        "articles of such news, x 25M). false@1M = projected false candidates per query sentence (x 25 per "
        "article). Postings read per query sentence at 1M: scan = single-key posting lists of the k rarest; "
        "prefix = only the k-t+1 rarest of each sentence in posting lists (same candidates, each counted on its "
        "stored set); pairs = posting lists keyed by 2-subsets of the k rarest (same candidates for t=2; for "
        "t=3, a stored sentence needs 3 hits); wprefix (weighted schemes) = the query skips its commonest keys "
        "while their weights add up to less than w (same candidates, each weighed on its stored set)",
        [
            "scheme",
            "cap@1M",
            "pair",
            "recall",
            "contemp/pair",
            "false@1M",
            "p99",
            "scan@1M",
            "p99",
            "prefix@1M",
            "p99",
            "pairs@1M",
            "p99",
            "wprefix@1M",
            "p99",
        ],
        rows,
    )
    table(
        "## Index size per article (25 passages): entries x 8 B as (key, id) pairs; as posting lists "
        "(4 B an id + 8 B per distinct key, distinct keys as at this size: an overestimate at 1M)",
        [
            "scheme",
            "entries/sent",
            "B/art pairs",
            "B/art lists",
            "prefix entries",
            "B/art prefix lists",
            "pair-key entries",
            "B/art pair keys",
        ],
        memory,
    )

    timing(args.timing_articles, config, rarities["wordfreq"], params, hasher)
    print(f"\n# total {time.perf_counter() - started:.0f} s")
    return 0


def timing(articles: int, config: F.FeatureConfig, rarity: Rarity, params: LshParams, hasher: MinHasher) -> None:
    """Ingest cost per 1,000 sentences (extraction, the bottom-k sketch, LSH band keys) and counting cost."""
    texts = news_texts()[:articles]
    clock = time.perf_counter()
    extracted = [F.extract(text, config) for text in texts]
    extract_seconds = time.perf_counter() - clock
    extracted = [e for e in extracted if e.passages]
    sentences = sum(len(e.passages) for e in extracted)
    clock = time.perf_counter()
    for e in extracted:
        sketch = rarity_order(Flat(e.flat_features, e.flat_owners.astype(np.int64), len(e.passages)), rarity)
        sketch.top(12)
    sketch_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    for e in extracted:
        flat = Flat(e.flat_features, e.flat_owners.astype(np.int64), len(e.passages))
        sketch = rarity_order(flat, rarity)
        weights = -np.log10(np.maximum(rarity.lookup(sketch.keys), WEIGHT_FLOOR))
        pair_keys(sketch, weights, 6, 0.0)
        pair_keys(sketch, weights, 8, 0.0)
    pair_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    for e in extracted:
        bucket_keys(hasher.signatures([p.features for p in e.passages]), params)
    lsh_seconds = time.perf_counter() - clock
    per = 1e6 / sentences  # seconds -> ms per 1,000 sentences
    print(f"\n## Ingest cost, one core, article by article ({len(extracted)} news articles, {sentences} passages)\n")
    print(f"- extract (tokens, stems, sets; for reference): {extract_seconds * per:.1f} ms per 1,000 sentences")
    print(
        f"- bottom-k rarity order (table look-up + sort, all keys): {sketch_seconds * per:.1f} ms per 1,000 sentences"
    )
    print(
        "- pair keys (rarity order, weights, 2-subsets of the 6 and of the 8 rarest): "
        f"{pair_seconds * per:.1f} ms per 1,000 sentences"
    )
    print(
        f"- LSH {params.bands}x{params.rows} (64-permutation MinHash + band keys): "
        f"{lsh_seconds * per:.1f} ms per 1,000 sentences"
    )
    rng = np.random.default_rng(1)
    for size in (10_000, 100_000, 1_000_000):
        codes = rng.integers(0, 1 << 40, size)
        clock = time.perf_counter()
        for _ in range(3):
            np.unique(codes, return_counts=True)
        seconds = (time.perf_counter() - clock) / 3
        print(f"- counting {size:,} postings (np.unique with counts): {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
