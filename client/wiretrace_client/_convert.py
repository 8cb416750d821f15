"""Protobuf -> client dataclasses, in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from wiretrace.v1 import wiretrace_service_pb2 as pb

from wiretrace_client import models

ARTICLES = "articles/"
CLUSTERS = "clusters/"

_MATCH_KINDS = {pb.MATCH_KIND_NEAR_DUPLICATE: "near_duplicate", pb.MATCH_KIND_REUSED_PASSAGE: "reused_passage"}
_PASSAGE_KINDS = {
    pb.PASSAGE_KIND_VERBATIM: "verbatim",
    pb.PASSAGE_KIND_VARIANT: "variant",
    pb.PASSAGE_KIND_TRANSLATED: "translated",
}
_OUTCOMES = {
    pb.INGEST_OUTCOME_CREATED: "created",
    pb.INGEST_OUTCOME_UNCHANGED: "unchanged",
    pb.INGEST_OUTCOME_REPLACED: "replaced",
}


def resource_id(name: str, prefix: str) -> str:
    """``articles/abc`` -> ``abc``."""
    return name[len(prefix) :] if name.startswith(prefix) else name


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return message


def moment(message: pb.Article | pb.ClusterMember, field: str) -> datetime | None:
    if not message.HasField(field):  # type: ignore[arg-type]
        return None
    value: timestamp_pb2.Timestamp = getattr(message, field)
    return value.ToDatetime(tzinfo=UTC)


def create_request(article: models.ArticleInput) -> pb.CreateArticleRequest:
    return pb.CreateArticleRequest(
        article_id=article.article_id,
        article=pb.Article(
            text=article.text,
            title=article.title,
            source=article.source,
            url=article.url,
            publish_time=timestamp(article.publish_time),
            language=article.language,
        ),
        replace_existing=article.replace_existing,
        filter=match_filter(article.report_filter),
    )


def article(message: pb.Article) -> models.Article:
    return models.Article(
        article_id=resource_id(message.name, ARTICLES),
        text=message.text,
        title=message.title,
        source=message.source,
        url=message.url,
        publish_time=moment(message, "publish_time"),
        language=message.language,
        create_time=moment(message, "create_time"),
        cluster_id=resource_id(message.cluster, CLUSTERS),
        content_sha256=message.content_sha256,
    )


def passage(message: pb.SharedPassage) -> models.SharedPassage:
    return models.SharedPassage(
        query_start=message.query_start,
        query_end=message.query_end,
        matched_start=message.matched_start,
        matched_end=message.matched_end,
        kind=_PASSAGE_KINDS.get(message.kind, "unspecified"),
        score=message.score,
        query_text=message.query_text,
        matched_text=message.matched_text,
        texts_cut=message.texts_cut,
    )


def match(message: pb.Match) -> models.Match:
    return models.Match(
        article_id=resource_id(message.article, ARTICLES),
        kind=_MATCH_KINDS.get(message.kind, "unspecified"),
        score=message.score,
        estimated_jaccard=message.estimated_jaccard,
        jaccard=message.jaccard,
        query_containment=message.query_containment,
        matched_containment=message.matched_containment,
        passages=[passage(p) for p in message.passages],
    )


def cluster(message: pb.Cluster) -> models.Cluster:
    return models.Cluster(
        cluster_id=resource_id(message.name, CLUSTERS),
        root_id=resource_id(message.root, ARTICLES),
        members=[
            models.ClusterMember(
                article_id=resource_id(m.article, ARTICLES),
                title=m.title,
                source=m.source,
                publish_time=moment(m, "publish_time"),
            )
            for m in message.members
        ],
        edges=[
            models.LineageEdge(
                parent_id=resource_id(e.parent, ARTICLES),
                child_id=resource_id(e.child, ARTICLES),
                kind=_MATCH_KINDS.get(e.kind, "unspecified"),
                score=e.score,
                passages=[passage(p) for p in e.passages],
                reason=e.reason,
            )
            for e in message.edges
        ],
        member_count=message.member_count,
        kind=_CLUSTER_KINDS.get(message.kind, "unspecified"),
    )


_CLUSTER_KINDS = {pb.CLUSTER_KIND_STORY: "story", pb.CLUSTER_KIND_STATEMENT: "statement"}


def ingest_result(message: pb.CreateArticleResponse) -> models.IngestResult:
    return models.IngestResult(
        article=article(message.article),
        outcome=_OUTCOMES.get(message.outcome, "unspecified"),
        matches=[match(m) for m in message.matches],
        cluster=cluster(message.cluster),
        statements=[cluster(c) for c in message.statements],
    )


def stats(message: pb.GetStatsResponse) -> models.Stats:
    index = message.index
    return models.Stats(
        articles=message.articles,
        clusters=message.clusters,
        passages=message.passages,
        edges=message.edges,
        storage=message.storage,
        index_bytes=message.index_bytes,
        index={
            "num_perm": index.num_perm,
            "seed": index.seed,
            "shingle_size": index.shingle_size,
            "document_threshold": index.document_threshold,
            "passage_threshold": index.passage_threshold,
            "document_bands": index.document_bands,
            "document_rows": index.document_rows,
            "passage_bands": index.passage_bands,
            "passage_rows": index.passage_rows,
            "feature_version": index.feature_version,
        },
    )


def match_filter(wanted: models.MatchFilter | None) -> pb.MatchFilter | None:
    if wanted is None:
        return None
    return pb.MatchFilter(
        start_time=timestamp(wanted.since),
        end_time=timestamp(wanted.until),
        window_days=wanted.window_days,
        sources=wanted.sources,
        excluded_sources=wanted.excluded_sources,
        other_outlets=wanted.other_outlets,
    )
