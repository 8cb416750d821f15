"""JSON-ready dicts for domain objects: used by storage adapters for edge
evidence and by snapshot export. Field names are stable (documented format)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime | None) -> int | None:
    """Microseconds since the Unix epoch, exactly (integer arithmetic, also before 1970).

    A naive datetime is taken as local time, as :meth:`datetime.timestamp` does.
    """
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.astimezone()
    # timedelta // timedelta is exact integer floor division; float timestamps are not exact
    # beyond 2**53 microseconds and int(timestamp()) truncates toward zero before 1970.
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int | None) -> datetime | None:
    """Inverse of :func:`to_micros`, in UTC."""
    if micros is None:
        return None
    return _EPOCH + timedelta(microseconds=micros)
