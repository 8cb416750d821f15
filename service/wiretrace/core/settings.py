"""Index and matching parameters: one typed object, validated at construction."""

from __future__ import annotations

from dataclasses import dataclass

from wiretrace.core.features import FEATURE_VERSION, FeatureConfig
from wiretrace.core.lsh import LshParams


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How articles are signed, indexed and matched."""

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 5
    min_passage_features: int = 5
    # LSH thresholds (estimated Jaccard) for candidate generation.
    document_threshold: float = 0.5
    passage_threshold: float = 0.5
    # Verification: exact-set thresholds a candidate must pass to become a match.
    near_duplicate_jaccard: float = 0.5
    # ... or when this share of both sides' sentences align (same story in other words).
    near_duplicate_coverage: float = 0.3
    passage_min_similarity: float = 0.5
    passage_min_shared: int = 4
    # A passage whose exact wording is in this many stored articles is boilerplate.
    boilerplate_max_articles: int = 200
    # ... or is in this many earlier articles of the same outlet (site furniture, author bios).
    outlet_boilerplate_articles: int = 3
    max_text_chars: int = 1_000_000

    def __post_init__(self) -> None:
        for name in (
            "document_threshold",
            "passage_threshold",
            "near_duplicate_jaccard",
            "near_duplicate_coverage",
            "passage_min_similarity",
        ):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value}")
        if self.passage_min_shared < 1:
            raise ValueError(f"passage_min_shared must be at least 1, got {self.passage_min_shared}")
        if self.outlet_boilerplate_articles < 2:
            raise ValueError(f"outlet_boilerplate_articles must be at least 2, got {self.outlet_boilerplate_articles}")
        if self.boilerplate_max_articles < 2:
            raise ValueError(f"boilerplate_max_articles must be at least 2, got {self.boilerplate_max_articles}")
        if self.max_text_chars < 1:
            raise ValueError(f"max_text_chars must be positive, got {self.max_text_chars}")
        FeatureConfig(self.shingle_size, self.min_passage_features)  # validates

    @property
    def features(self) -> FeatureConfig:
        return FeatureConfig(self.shingle_size, self.min_passage_features)

    @property
    def document_lsh(self) -> LshParams:
        return LshParams.for_threshold(self.document_threshold, self.num_perm)

    @property
    def passage_lsh(self) -> LshParams:
        return LshParams.for_threshold(self.passage_threshold, self.num_perm)

    @property
    def feature_version(self) -> str:
        return f"{FEATURE_VERSION}/min{self.min_passage_features}"
