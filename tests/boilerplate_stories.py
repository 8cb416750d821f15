"""Stories for the boilerplate tests: a wire story with many copies and a story quoting it, and
unrelated stories that all end with one funding note (tests/core/test_boilerplate.py and the
contract suite)."""

from __future__ import annotations

import random

from wiretrace.core.model import ArticleDraft, Match, MatchKind

from seeds import seed_drafts, syndicated_copy

# The boilerplate limit (IndexSettings.boilerplate_stories) the tests use: small, so they stay fast.
LIMIT = 4
COPIES = 9
QUOTED = (
    "The Kazakh Interior Ministry said in a separate statement that 26 “armed criminals” had been "
    "“liquidated” and more than 3,000 of them arrested, while 18 police officers and soldiers of the "
    "National Guard had been killed since the protests began."
)
FUNDING_NOTE = (
    "This report was produced with support from the Northfield Foundation, which had no editorial "
    "control over its content."
)


def invented_story(number: int, sentences: int = 8) -> str:
    """An article of invented words: it shares no wording with another number's."""
    rng = random.Random(number)

    def word() -> str:
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))

    lines = [" ".join(word() for _ in range(rng.randint(12, 18))).capitalize() + "." for _ in range(sentences)]
    return "\n\n".join(lines)


def wire_story() -> list[ArticleDraft]:
    """A Reuters story and COPIES copies of it, each with a few words edited, from as many outlets."""
    text = seed_drafts()[3].text
    assert QUOTED in text
    return [ArticleDraft("wire", text, source="Reuters")] + [
        ArticleDraft(f"copy{n}", syndicated_copy(n, text), source=f"Outlet {n}") for n in range(1, COPIES + 1)
    ]


def quoting_story() -> ArticleDraft:
    """A longer story of its own that quotes the wire story's paragraph."""
    text = invented_story(100, 6) + "\n\n" + QUOTED + "\n\n" + invented_story(101, 6)
    return ArticleDraft("quoting", text, source="Daily Quote")


def with_funding_note(number: int) -> ArticleDraft:
    """An unrelated story of its own outlet that ends with the funding note."""
    return ArticleDraft(f"funded{number}", invented_story(number) + "\n\n" + FUNDING_NOTE, source=f"Site {number}")


def sharing(matches: tuple[Match, ...] | list[Match], text: str, wording: str) -> list[Match]:
    """The reused-passage matches whose passages cover ``wording`` in the query ``text``."""
    start = text.index(wording)
    return [
        m
        for m in matches
        if m.kind is MatchKind.REUSED_PASSAGE and any(p.query_start <= start < p.query_end for p in m.passages)
    ]
