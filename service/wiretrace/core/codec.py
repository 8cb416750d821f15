"""JSON-ready dicts for domain objects: used by storage adapters for edge
evidence and by snapshot export. Field names are stable (documented format)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wiretrace.core.model import Match, MatchKind, PassageKind, SharedPassage


def match_to_dict(match: Match) -> dict[str, Any]:
    return {
        "article_id": match.article_id,
        "kind": match.kind.value,
        "score": match.score,
        "estimated_jaccard": match.estimated_jaccard,
        "jaccard": match.jaccard,
        "query_containment": match.query_containment,
        "matched_containment": match.matched_containment,
        "passages": [
            [p.query_start, p.query_end, p.matched_start, p.matched_end, p.kind.value, p.score] for p in match.passages
        ],
    }


def match_from_dict(data: dict[str, Any]) -> Match:
    return Match(
        article_id=str(data["article_id"]),
        kind=MatchKind(data["kind"]),
        score=float(data["score"]),
        estimated_jaccard=float(data["estimated_jaccard"]),
        jaccard=float(data["jaccard"]),
        query_containment=float(data["query_containment"]),
        matched_containment=float(data["matched_containment"]),
        passages=tuple(
            SharedPassage(int(qs), int(qe), int(ms), int(me), PassageKind(kind), float(score))
            for qs, qe, ms, me, kind, score in data["passages"]
        ),
    )


def to_micros(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def from_micros(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    seconds, micro = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
