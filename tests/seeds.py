"""The seed articles, as tests use them."""

from __future__ import annotations

from pathlib import Path

from wiretrace.core.model import ArticleDraft
from wiretrace.inputs import read_articles

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MANIFEST = SEEDS / "seeds.jsonl"
TOKAYEV_VERBATIM = "The constitutional order has been mostly restored in all regions of the country"
BOILERPLATE = ("Leave a Reply", "Leave A Reply", "Your email address will not be published", "You might also like")


def seed_drafts() -> list[ArticleDraft]:
    return list(read_articles([MANIFEST]))
