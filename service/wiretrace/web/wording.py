"""Scores and kinds in words, as an editor reads them ("near-duplicate, 93 % of shingles shared")."""

from __future__ import annotations

from datetime import datetime

from wiretrace_client import LineageEdge, Match, SharedPassage

MATCH_KINDS = {"near_duplicate": "near-duplicate", "reused_passage": "reused passage"}
# After the kind's own word (a label beside it): what it means.
PASSAGE_KINDS = {
    "verbatim": "the same wording",
    "variant": "other wording (a translation or a paraphrase)",
    "translated": "the same statement in another language",
}


def percent(fraction: float) -> str:
    """0.934 -> "93 %"; a share above zero never reads as "0 %"."""
    value = round(fraction * 100)
    return "<1 %" if value == 0 and fraction > 0 else f"{value} %"


def match_kind(kind: str) -> str:
    return MATCH_KINDS.get(kind, kind.replace("_", " "))


def passage_kind(kind: str) -> str:
    return PASSAGE_KINDS.get(kind, kind)


def match_headline(match: Match) -> str:
    """What the match is, and the number that made it so."""
    kind = match_kind(match.kind)
    shingles = f"{percent(match.jaccard)} of shingles shared"
    if match.kind == "near_duplicate" and match.score > match.jaccard:
        # A near-duplicate by sentence alignment: the same story in other words.
        return f"{kind}, {percent(match.score)} of sentences aligned ({shingles})"
    if match.kind == "near_duplicate":
        return f"{kind}, {shingles}"
    count = len(match.passages)
    return f"{kind}, {count} shared passage{'s' if count != 1 else ''} ({shingles})"


def match_details(match: Match) -> list[tuple[str, str]]:
    """Every score of a match, each with what it measures."""
    return [
        ("match score", f"{match.score:.2f}"),
        ("word 5-shingles shared (exact Jaccard)", percent(match.jaccard)),
        ("the same, estimated by MinHash", percent(match.estimated_jaccard)),
        ("of this text's shingles found in the other", percent(match.query_containment)),
        ("of the other text's shingles found in this one", percent(match.matched_containment)),
    ]


def passage_summary(passage: SharedPassage) -> str:
    return f"{passage_kind(passage.kind)}, similarity {percent(passage.score)}"


def edge_summary(edge: LineageEdge) -> str:
    count = len(edge.passages)
    return (
        f"{match_kind(edge.kind)}, score {edge.score:.2f}, "
        f"{count} shared passage{'s' if count != 1 else ''} as evidence"
    )


def moment(value: datetime | None) -> str:
    """A publication time as a person reads it; midnight UTC (a date without a time) as the date."""
    if value is None:
        return "unknown"
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()
