"""Index and matching parameters: one typed object, validated at construction."""

from __future__ import annotations

from dataclasses import dataclass

from wiretrace.core.features import FEATURE_VERSION, FeatureConfig
from wiretrace.core.lsh import LshParams
from wiretrace.core.rarity import RARITY_VERSION
from wiretrace.core.semantic import EMBEDDING_DIMENSIONS, ENCODER_NAME

PASSAGE_INDEXES = ("rare-words", "minhash")


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How articles are signed, indexed and matched."""

    num_perm: int = 128
    # How sentences become passage candidates: "rare-words" (pairs of a sentence's rarest words,
    # see wiretrace.core.passage_keys) or "minhash" (MinHash LSH of its word set, the first index).
    passage_index: str = "rare-words"
    # rare-words: a sentence is stored under pairs of its this many rarest words ...
    passage_stored_words: int = 6
    # ... and looks up pairs of this many of its own.
    passage_query_words: int = 8
    # minhash: permutations of the per-sentence signatures; 0 = num_perm. Fewer mean fewer LSH bands per
    # sentence (index size, ingest cost) and a softer S-curve around the threshold. 64 (14 bands
    # of 4) measured as good as 128 (25 of 5) on the eval corpora at 58 % of the index memory.
    passage_num_perm: int = 64
    seed: int = 1
    shingle_size: int = 5
    # Content words a sentence needs to be a passage; 0 = 5, or 3 with the semantic layer, which
    # can verify short sentences (headlines, one-line quotes) by meaning where words are too few.
    min_passage_features: int = 0
    # ... but in a text with no such sentence (a headline, a one-line quote), its sentences of this
    # many: with fewer, the text could be neither found nor aligned (0 = never).
    short_text_min_features: int = 3
    # LSH thresholds (estimated Jaccard) for candidate generation.
    document_threshold: float = 0.5
    passage_threshold: float = 0.5
    # Verification: exact-set thresholds a candidate must pass to become a match.
    near_duplicate_jaccard: float = 0.5
    # ... or when this share of both sides' sentences align (same story in other words).
    near_duplicate_coverage: float = 0.3
    passage_min_similarity: float = 0.5
    passage_min_shared: int = 4
    # Sentence pairs below that bar but sharing this many words at this Jaccard are decided by
    # meaning: a sentence encoder's cosine (computed for such pairs only, see core/meaning.py).
    # On WMT21 human translation pairs, 0.65 links 0.95 (de-en) / 0.84 (cs-en) of them at 0.98
    # precision against sentences of other articles (bench/translation_pairs.py).
    verify_meaning: bool = True
    meaning_min_shared: int = 2
    meaning_min_jaccard: float = 0.15
    meaning_min_cosine: float = 0.65
    # ... and a pair decided by meaning with no aligned neighbour needs this cosine: texts on one
    # topic written independently have single sentences of like meaning (Clough-Stevenson's "non").
    meaning_single_min_cosine: float = 0.85
    # ... or this much above its texts' background (see matching._without_chance_meanings),
    # computed from at most this many passages of each text.
    meaning_min_margin: float = 0.45
    # ... and lead the query sentence's next best counterpart in the matched text by this much.
    meaning_min_lead: float = 0.1
    max_background_passages: int = 16
    # Sentence pairs decided by meaning per verification at most, and candidates of one query
    # weighed by meaning at most (in rank order; the rest by words): the encoder's work is bounded.
    max_meaning_pairs: int = 64
    max_meaning_candidates: int = 64
    # Candidates whose sentences words align with none of the query's, weighed by meaning at most
    # (those with the closest undecided sentence pair first): the translated quotes' sources.
    max_meaning_only_candidates: int = 16
    # Across languages: every article keeps its gist (the meaning of its opening, core/gist.py);
    # a text's nearest gists in other languages, this many at most and at this cosine, are
    # verified sentence by sentence by meaning alone (core/translation.py): mutual best pairs at
    # this cosine and this far ahead of their next best; a pair standing alone needs the higher one.
    cross_language: bool = True
    cross_language_candidates: int = 4
    gist_min_cosine: float = 0.3
    translation_min_cosine: float = 0.5
    translation_min_lead: float = 0.05
    translation_single_min_cosine: float = 0.75
    # Whole statements: next to an aligned pair, up to this many sentences on each side align
    # at this lower bar (short sentences included), or by meaning at this cosine.
    max_extension: int = 4
    extension_min_shared: int = 2
    extension_min_jaccard: float = 0.3
    extension_min_cosine: float = 0.7
    # A passage whose exact wording is in articles of this many distinct stories is boilerplate
    # (stories, not copies: a wire story run by thousands of outlets is one).
    boilerplate_stories: int = 200
    # ... or is in this many earlier articles of the same outlet (site furniture, author bios).
    outlet_boilerplate_articles: int = 3
    max_text_chars: int = 1_000_000
    # LSH candidates verified per query at most: those sharing the most buckets, earliest first. A
    # story with thousands of stored copies then costs a bounded handful of verifications.
    max_candidates: int = 64
    # ... and verification stops once this many near-duplicates are found among them.
    max_near_duplicates: int = 16
    # Matches kept per article as stored evidence (FindMatches verifies on demand beyond them).
    max_stored_matches: int = 20
    # Reused-passage matches of one article that place it in statement clusters, best first.
    max_statements: int = 10
    # Work limit of sentence-pair comparison, per query and candidate (and per candidate screen):
    # at most this many sentence pairs sharing a word are examined, and this many word checks
    # done on them (or, semantic layer, sentence cosines computed). Bounds the time and memory of
    # a request whatever the text: sentences repeated are compared once, and beyond the limit
    # (thousands of sentences that all share common words) pairs that share only the most common
    # words are left out. News articles stay far below it (the seeds, 16-34 sentences: under 10^3).
    max_pair_work: int = 2_000_000
    # Optional semantic layer (``wiretrace[semantic]``, see wiretrace.core.semantic): sentence
    # embeddings as a second candidate generator and as the verifier of sentence pairs.
    semantic: bool = False
    # Strongest (dimension, sign) pairs of an embedding that make its MinHash set, and that set's LSH threshold.
    semantic_top_dims: int = 64
    semantic_threshold: float = 0.15
    # Two sentences align on meaning alone at this cosine, or at the lower one with some shared words.
    semantic_min_cosine: float = 0.6
    semantic_supported_cosine: float = 0.55
    semantic_support_jaccard: float = 0.2
    # A meaning-only pair must be within this cosine of the query sentence's best counterpart
    # among all candidates (margin criterion of bitext mining).
    semantic_margin: float = 0.03
    # Sentences aligned on meaning alone must cover this share of the shorter text: texts on one
    # topic written independently have a few sentences of similar meaning, translations have most.
    semantic_min_coverage: float = 0.6

    def __post_init__(self) -> None:
        for name in (
            "document_threshold",
            "passage_threshold",
            "near_duplicate_jaccard",
            "near_duplicate_coverage",
            "passage_min_similarity",
            "semantic_threshold",
            "semantic_min_cosine",
            "semantic_supported_cosine",
            "semantic_support_jaccard",
            "semantic_min_coverage",
            "meaning_min_jaccard",
            "meaning_min_cosine",
            "meaning_single_min_cosine",
            "meaning_min_margin",
            "meaning_min_lead",
            "extension_min_jaccard",
            "extension_min_cosine",
            "gist_min_cosine",
            "translation_min_cosine",
            "translation_min_lead",
            "translation_single_min_cosine",
        ):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value}")
        if self.passage_min_shared < 1:
            raise ValueError(f"passage_min_shared must be at least 1, got {self.passage_min_shared}")
        if self.outlet_boilerplate_articles < 2:
            raise ValueError(f"outlet_boilerplate_articles must be at least 2, got {self.outlet_boilerplate_articles}")
        if self.boilerplate_stories < 2:
            raise ValueError(f"boilerplate_stories must be at least 2, got {self.boilerplate_stories}")
        if not 0.0 <= self.semantic_margin < 1.0:
            raise ValueError(f"semantic_margin must be in [0, 1), got {self.semantic_margin}")
        if not 1 <= self.semantic_top_dims <= EMBEDDING_DIMENSIONS:
            raise ValueError(
                f"semantic_top_dims must be between 1 and {EMBEDDING_DIMENSIONS}, got {self.semantic_top_dims}"
            )
        if self.passage_index not in PASSAGE_INDEXES:
            raise ValueError(f"passage_index must be one of {', '.join(PASSAGE_INDEXES)}, got {self.passage_index!r}")
        if not 2 <= self.passage_stored_words <= self.passage_query_words <= 16:
            raise ValueError(
                "passage words must satisfy 2 <= stored <= queried <= 16, got "
                f"{self.passage_stored_words} and {self.passage_query_words}"
            )
        if self.max_pair_work < 1:
            raise ValueError(f"max_pair_work must be positive, got {self.max_pair_work}")
        for name in (
            "max_candidates",
            "max_near_duplicates",
            "max_stored_matches",
            "max_statements",
            "meaning_min_shared",
            "max_meaning_pairs",
            "max_meaning_candidates",
            "max_meaning_only_candidates",
            "extension_min_shared",
            "max_background_passages",
            "cross_language_candidates",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_text_chars < 1:
            raise ValueError(f"max_text_chars must be positive, got {self.max_text_chars}")
        if self.passage_num_perm < 0:
            raise ValueError(f"passage_num_perm must not be negative, got {self.passage_num_perm}")
        if self.min_passage_features < 0:
            raise ValueError(f"min_passage_features must not be negative, got {self.min_passage_features}")
        if self.short_text_min_features < 0:
            raise ValueError(f"short_text_min_features must not be negative, got {self.short_text_min_features}")
        FeatureConfig(self.shingle_size, self.passage_min_features)  # validates; the short-text floor is clamped to it

    @property
    def gists(self) -> bool:
        """Whether articles get gists (core/gist.py): across languages, with meanings on demand."""
        return self.cross_language and self.verify_meaning and not self.semantic

    @property
    def passage_perms(self) -> int:
        """``passage_num_perm`` with 0 resolved."""
        return self.passage_num_perm or self.num_perm

    @property
    def passage_min_features(self) -> int:
        """``min_passage_features`` with 0 resolved for the mode."""
        return self.min_passage_features or (3 if self.semantic else 5)

    @property
    def features(self) -> FeatureConfig:
        short = self.short_text_min_features if self.short_text_min_features < self.passage_min_features else 0
        return FeatureConfig(self.shingle_size, self.passage_min_features, short)

    @property
    def document_lsh(self) -> LshParams:
        return LshParams.for_threshold(self.document_threshold, self.num_perm)

    @property
    def passage_lsh(self) -> LshParams:
        return LshParams.for_threshold(self.passage_threshold, self.passage_perms)

    @property
    def semantic_lsh(self) -> LshParams:
        return LshParams.for_threshold(self.semantic_threshold, self.num_perm)

    @property
    def feature_version(self) -> str:
        version = f"{FEATURE_VERSION}/min{self.passage_min_features}"
        if short := self.features.short_text_min_features:
            version += f"/short{short}"
        if self.passage_index == "rare-words":
            version += f"/rare{self.passage_stored_words}-{self.passage_query_words}:{RARITY_VERSION}"
        if self.semantic:
            version += f"+{ENCODER_NAME}/top{self.semantic_top_dims}/t{self.semantic_threshold:g}"
        return version
