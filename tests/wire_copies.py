"""A wire story and its copies across outlets and days: the corpus of the filter and retention tests."""

from __future__ import annotations

from datetime import UTC, datetime

from wiretrace.core.model import ArticleDraft

from seeds import seed_drafts, syndicated_copy

# When an article without a publish time is ingested (the engine's clock in these tests).
INGEST_TIME = datetime(2026, 11, 20, 12, tzinfo=UTC)

# article id -> (outlet, publish time or None)
COPIES: dict[str, tuple[str, datetime | None]] = {
    "reuters-orig": ("Reuters", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    "reuters-update": ("reuters", datetime(2026, 11, 1, 14, tzinfo=UTC)),
    "ap-next-day": ("AP", datetime(2026, 11, 2, 9, tzinfo=UTC)),
    "ap-last-month": ("AP", datetime(2026, 10, 1, 9, tzinfo=UTC)),
    "bbc-later": ("BBC", datetime(2026, 11, 4, 9, tzinfo=UTC)),
    "undated": ("Guardian", None),
}


def wire_story() -> str:
    return seed_drafts()[3].text  # a Reuters story of some 400 words


def wire_copies() -> list[ArticleDraft]:
    """The story as each outlet ran it, in the order of ``COPIES`` (a few words edited in each)."""
    text = wire_story()
    return [
        ArticleDraft(
            article_id, text if number == 0 else syndicated_copy(number, text), source=outlet, publish_time=when
        )
        for number, (article_id, (outlet, when)) in enumerate(COPIES.items())
    ]


def clock() -> datetime:
    return INGEST_TIME
