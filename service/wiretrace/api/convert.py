"""All protobuf <-> domain conversion, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from wiretrace.core import model
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.filters import MatchFilter
from wiretrace.v1 import wiretrace_service_pb2 as pb

ARTICLES = "articles/"
CLUSTERS = "clusters/"

_MATCH_KINDS = {
    model.MatchKind.NEAR_DUPLICATE: pb.MATCH_KIND_NEAR_DUPLICATE,
    model.MatchKind.REUSED_PASSAGE: pb.MATCH_KIND_REUSED_PASSAGE,
}
_PASSAGE_KINDS = {
    model.PassageKind.VERBATIM: pb.PASSAGE_KIND_VERBATIM,
    model.PassageKind.VARIANT: pb.PASSAGE_KIND_VARIANT,
    model.PassageKind.TRANSLATED: pb.PASSAGE_KIND_TRANSLATED,
}
_OUTCOMES = {
    model.IngestOutcome.CREATED: pb.INGEST_OUTCOME_CREATED,
    model.IngestOutcome.UNCHANGED: pb.INGEST_OUTCOME_UNCHANGED,
    model.IngestOutcome.REPLACED: pb.INGEST_OUTCOME_REPLACED,
}


def article_name(article_id: str) -> str:
    return ARTICLES + article_id


def cluster_name(cluster_id: str) -> str:
    return CLUSTERS + cluster_id


def parse_name(name: str, prefix: str, field: str = "name") -> str:
    """The id in a resource name such as ``articles/abc``; INVALID_ARGUMENT otherwise."""
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise InvalidArgument(f"{field} must look like '{prefix}{{id}}', got {name[:80]!r}")
    return name[len(prefix) :]


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment)
    return message


def from_timestamp(message: timestamp_pb2.Timestamp, field: str) -> datetime:
    try:
        return message.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidArgument(f"{field} is not a valid timestamp: {error}", reason="INVALID_FIELD") from error


def draft_from_request(request: pb.CreateArticleRequest) -> model.ArticleDraft:
    article = request.article
    return model.ArticleDraft(
        article_id=request.article_id,
        text=article.text,
        title=article.title,
        source=article.source,
        url=article.url,
        publish_time=from_timestamp(article.publish_time, "article.publish_time")
        if article.HasField("publish_time")
        else None,
        language=article.language,
    )


def article_message(article: model.Article, *, with_text: bool = True) -> pb.Article:
    return pb.Article(
        name=article_name(article.article_id),
        text=article.text if with_text else "",
        title=article.title,
        source=article.source,
        url=article.url,
        publish_time=timestamp(article.publish_time),
        language=article.language,
        create_time=timestamp(article.create_time),
        cluster=cluster_name(article.cluster_id),
        content_sha256=article.content_sha256,
    )


# Characters of a passage's text a response carries on each side: a near-duplicate of a long
# article is one passage of the whole text, and a response must stay far below the message limit.
PASSAGE_TEXT_CHARS = 2000


def passage_message(passage: model.SharedPassage, query_text: str, matched_text: str) -> pb.SharedPassage:
    query_end = min(passage.query_end, passage.query_start + PASSAGE_TEXT_CHARS)
    matched_end = min(passage.matched_end, passage.matched_start + PASSAGE_TEXT_CHARS)
    return pb.SharedPassage(
        query_start=passage.query_start,
        query_end=passage.query_end,
        matched_start=passage.matched_start,
        matched_end=passage.matched_end,
        kind=_PASSAGE_KINDS[passage.kind],
        score=passage.score,
        query_text=query_text[passage.query_start : query_end],
        matched_text=matched_text[passage.matched_start : matched_end],
        texts_cut=query_end < passage.query_end or matched_end < passage.matched_end,
    )


def match_message(match: model.Match, query_text: str, texts: Mapping[str, str]) -> pb.Match:
    matched_text = texts.get(match.article_id, "")
    return pb.Match(
        article=article_name(match.article_id),
        kind=_MATCH_KINDS[match.kind],
        score=match.score,
        estimated_jaccard=match.estimated_jaccard,
        jaccard=match.jaccard,
        query_containment=match.query_containment,
        matched_containment=match.matched_containment,
        passages=[passage_message(p, query_text, matched_text) for p in match.passages],
    )


_CLUSTER_KINDS = {
    model.ClusterKind.STORY: pb.CLUSTER_KIND_STORY,
    model.ClusterKind.STATEMENT: pb.CLUSTER_KIND_STATEMENT,
}


def cluster_message(cluster: model.Cluster) -> pb.Cluster:
    texts = cluster.texts
    return pb.Cluster(
        name=cluster_name(cluster.cluster_id),
        member_count=cluster.member_count,
        root=article_name(cluster.root_id),
        kind=_CLUSTER_KINDS[cluster.kind],
        members=[
            pb.ClusterMember(
                article=article_name(a.article_id),
                title=a.title,
                source=a.source,
                publish_time=timestamp(a.lineage_time),
            )
            for a in cluster.members
        ],
        edges=[
            pb.LineageEdge(
                parent=article_name(edge.parent_id),
                child=article_name(edge.child_id),
                kind=_MATCH_KINDS[edge.evidence.kind],
                score=edge.evidence.score,
                passages=[
                    passage_message(p, texts.get(edge.child_id, ""), texts.get(edge.parent_id, ""))
                    for p in edge.evidence.passages
                ],
                reason=edge.reason,
            )
            for edge in cluster.edges
        ],
    )


def summary_message(summary: model.ClusterSummary) -> pb.Cluster:
    return pb.Cluster(
        name=cluster_name(summary.cluster_id),
        member_count=summary.member_count,
        root=article_name(summary.root_id),
        kind=_CLUSTER_KINDS[summary.kind],
    )


def ingest_response(result: model.IngestResult) -> pb.CreateArticleResponse:
    return pb.CreateArticleResponse(
        article=article_message(result.article),
        outcome=_OUTCOMES[result.outcome],
        matches=[match_message(m, result.article.text, result.matched_texts) for m in result.matches],
        cluster=cluster_message(result.cluster),
        statements=[cluster_message(c) for c in result.statements],
    )


def find_matches_response(report: model.MatchReport) -> pb.FindMatchesResponse:
    return pb.FindMatchesResponse(
        matches=[match_message(m, report.query_text, report.matched_texts) for m in report.matches]
    )


def stats_message(stats: model.Stats) -> pb.GetStatsResponse:
    p = stats.parameters
    return pb.GetStatsResponse(
        articles=stats.counts.articles,
        clusters=stats.counts.clusters,
        passages=stats.counts.passages,
        edges=stats.counts.edges,
        storage=stats.storage,
        index_bytes=stats.counts.index_bytes,
        index=pb.IndexParameters(
            num_perm=int(p["num_perm"]),
            seed=int(p["seed"]),
            shingle_size=int(p["shingle_size"]),
            document_threshold=float(p["document_threshold"]),
            passage_threshold=float(p["passage_threshold"]),
            document_bands=int(p["document_bands"]),
            document_rows=int(p["document_rows"]),
            passage_bands=int(p["passage_bands"]),
            passage_rows=int(p["passage_rows"]),
            feature_version=str(p["feature_version"]),
        ),
    )


def match_filter(message: pb.MatchFilter) -> MatchFilter | None:
    """The request's filter (validated by the domain), None when it sets nothing."""

    def moment(field: str) -> datetime | None:
        return from_timestamp(getattr(message, field), f"filter.{field}") if message.HasField(field) else None  # type: ignore[arg-type]

    found = MatchFilter(
        since=moment("start_time"),
        until=moment("end_time"),
        window_days=message.window_days,
        sources=frozenset(message.sources),
        excluded_sources=frozenset(message.excluded_sources),
        other_outlets=message.other_outlets,
    )
    return found or None
