"""The seed articles, as tests use them."""

from __future__ import annotations

import random
from pathlib import Path

from wiretrace.core.engine import Wiretrace
from wiretrace.core.model import ArticleDraft, Cluster, ClusterKind
from wiretrace.inputs import read_articles

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MANIFEST = SEEDS / "seeds.jsonl"
TOKAYEV_VERBATIM = "The constitutional order has been mostly restored in all regions of the country"
BOILERPLATE = ("Leave a Reply", "Leave A Reply", "Your email address will not be published", "You might also like")


def seed_drafts() -> list[ArticleDraft]:
    return list(read_articles([MANIFEST]))


def statement_of(engine: Wiretrace, article_id: str) -> Cluster:
    """The (largest) statement cluster an article carries (in the seeds: Tokayev's statement), all of it."""
    statements = [c for c in engine.clusters_of(article_id) if c.kind is ClusterKind.STATEMENT]
    largest = max(statements, key=lambda c: c.member_count)
    return engine.cluster(largest.cluster_id)


def syndicated_copy(number: int, text: str, edits: int = 3) -> str:
    """A copy of ``text`` as an outlet would re-publish it: a few words changed (deterministic)."""
    words = text.split(" ")
    rng = random.Random(number)
    for _ in range(edits):
        words[rng.randrange(len(words))] = f"edit{number}"
    return " ".join(words)
