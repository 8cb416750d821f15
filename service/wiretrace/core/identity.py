"""What stored signatures and bucket keys depend on, so that a store never mixes two."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wiretrace.core.settings import IndexSettings

# The settings an index is built with: a store remembers them and commands reuse them.
INDEX_PARAMETERS = (
    "num_perm",
    "passage_index",
    "passage_stored_words",
    "passage_query_words",
    "passage_num_perm",
    "seed",
    "shingle_size",
    "min_passage_features",
    "short_text_min_features",
    "document_threshold",
    "passage_threshold",
    "semantic",
    "semantic_top_dims",
    "semantic_threshold",
)


# What a store that saved its parameters before one existed was built with.
PARAMETERS_BEFORE = {"short_text_min_features": 0}

LINEAGE_VERSION = "story+statement-clusters/1"
# How records and evidence are stored (wiretrace.core.record_codec): another layout needs a reindex.
RECORDS_VERSION = "binary/1"
# What boilerplate counts are kept of (Storage.story_counts): another layout needs a reindex.
BOILERPLATE_VERSION = "stories/1"
# What a stored identity from before a field existed had instead.
_BEFORE = {
    "lineage": "connected components (before 2026-12)",
    "records": "columns and JSON evidence (before 2026-12)",
    "boilerplate": "articles (before 2026-12)",
}


@dataclass(frozen=True, slots=True)
class IndexIdentity:
    """The derived form of the parameters that stored data depends on."""

    feature_version: str
    num_perm: int
    seed: int
    shingle_size: int
    document_bands: int
    document_rows: int
    passage_bands: int
    passage_rows: int
    # How lineage clusters are stored: a store of an older layout needs a reindex.
    lineage: str = LINEAGE_VERSION
    records: str = RECORDS_VERSION
    boilerplate: str = BOILERPLATE_VERSION

    @classmethod
    def of(cls, settings: IndexSettings) -> IndexIdentity:
        document_lsh = settings.document_lsh
        # rare-words: keys per sentence, of two words each.
        passage_bands, passage_rows = settings.passage_lsh.bands, settings.passage_lsh.rows
        if settings.passage_index == "rare-words":
            passage_bands, passage_rows = settings.passage_stored_words * (settings.passage_stored_words - 1) // 2, 2
        return cls(
            feature_version=settings.feature_version,
            num_perm=settings.num_perm,
            seed=settings.seed,
            shingle_size=settings.shingle_size,
            document_bands=document_lsh.bands,
            document_rows=document_lsh.rows,
            passage_bands=passage_bands,
            passage_rows=passage_rows,
        )

    @classmethod
    def stored(cls, fields: Mapping[str, Any]) -> IndexIdentity:
        """The identity a store recorded (as ``asdict``), with the layouts of before a field existed."""
        return cls(**{**_BEFORE, **fields})

    def describe(self) -> str:
        return (
            f"features={self.feature_version} num_perm={self.num_perm} seed={self.seed} "
            f"shingle_size={self.shingle_size} document_lsh={self.document_bands}x{self.document_rows} "
            f"passage_lsh={self.passage_bands}x{self.passage_rows} lineage={self.lineage} records={self.records} "
            f"boilerplate={self.boilerplate}"
        )


def index_parameters(settings: IndexSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in INDEX_PARAMETERS}
