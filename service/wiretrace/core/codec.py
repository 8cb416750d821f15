"""JSON-ready dicts for domain objects, for snapshots (``wiretrace export``; field names are
stable, a documented format), and the stored time stamps. Stores keep the binary
:mod:`wiretrace.core.record_codec` instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wiretrace.core.model import ClusterKind, Match, MatchKind, Membership, PassageKind, SharedPassage


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


def membership_to_dict(m: Membership) -> dict[str, Any]:
    return {
        "cluster_id": m.cluster_id,
        "article_id": m.article_id,
        "kind": m.kind.value,
        "appeared_us": m.order[0],
        "ingested_us": m.order[1],
        "parent_id": m.parent_id,
        "evidence": match_to_dict(m.evidence) if m.evidence is not None else None,
        "reason": m.reason,
        "span": list(m.span),
    }


def membership_from_dict(data: dict[str, Any]) -> Membership:
    article_id = str(data["article_id"])
    return Membership(
        cluster_id=str(data["cluster_id"]),
        article_id=article_id,
        kind=ClusterKind(data["kind"]),
        order=(int(data["appeared_us"]), int(data["ingested_us"]), article_id),
        parent_id=str(data["parent_id"]),
        evidence=match_from_dict(data["evidence"]) if data["evidence"] else None,
        reason=str(data["reason"]),
        span=(int(data["span"][0]), int(data["span"][1])),
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
