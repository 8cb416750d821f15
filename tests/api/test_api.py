"""The gRPC API against an in-process server: shapes, status codes, the stream."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from conftest import MAX_TEXT_CHARS
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from wiretrace.api.convert import timestamp
from wiretrace.core.model import ArticleDraft
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from seeds import TOKAYEV_VERBATIM, seed_drafts


def _create(draft: ArticleDraft, replace: bool = False) -> pb.CreateArticleRequest:
    return pb.CreateArticleRequest(
        article_id=draft.article_id,
        article=pb.Article(
            text=draft.text, title=draft.title, source=draft.source, publish_time=timestamp(draft.publish_time)
        ),
        replace_existing=replace,
    )


def _error(call: grpc.RpcError) -> tuple[grpc.StatusCode, str, str]:
    status = rpc_status.from_call(call)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.domain == "wiretrace.v1"
    return call.code(), info.reason, status.message


@pytest.fixture
def seeded(stub: pb_grpc.WiretraceServiceStub) -> pb_grpc.WiretraceServiceStub:
    for draft in seed_drafts():
        stub.CreateArticle(_create(draft))
    return stub


def test_create_returns_matches_and_cluster(stub: pb_grpc.WiretraceServiceStub) -> None:
    drafts = {d.article_id: d for d in seed_drafts()}
    first = stub.CreateArticle(_create(drafts["000"]))
    assert first.outcome == pb.INGEST_OUTCOME_CREATED and not first.matches
    assert first.article.name == "articles/000" and first.article.cluster.startswith("clusters/")
    second = stub.CreateArticle(_create(drafts["001"]))
    (match,) = second.matches
    assert match.article == "articles/000" and match.kind == pb.MATCH_KIND_REUSED_PASSAGE
    verbatim = [p for p in match.passages if p.kind == pb.PASSAGE_KIND_VERBATIM]
    assert TOKAYEV_VERBATIM in verbatim[0].query_text and TOKAYEV_VERBATIM in verbatim[0].matched_text
    assert drafts["001"].text[verbatim[0].query_start : verbatim[0].query_end] == verbatim[0].query_text
    assert drafts["000"].text[verbatim[0].matched_start : verbatim[0].matched_end] == verbatim[0].matched_text
    assert second.cluster.root == "articles/001" and second.cluster.kind == pb.CLUSTER_KIND_STORY  # no copy
    (statement,) = second.statements
    assert statement.root == "articles/000" and statement.kind == pb.CLUSTER_KIND_STATEMENT
    assert [m.article for m in statement.members] == ["articles/000", "articles/001"]
    (edge,) = statement.edges
    assert (edge.parent, edge.child) == ("articles/000", "articles/001") and edge.passages
    assert TOKAYEV_VERBATIM in " ".join(p.query_text for p in edge.passages)


def test_idempotent_create_and_conflict(seeded: pb_grpc.WiretraceServiceStub) -> None:
    draft = seed_drafts()[1]
    again = seeded.CreateArticle(_create(draft))
    assert again.outcome == pb.INGEST_OUTCOME_UNCHANGED and len(again.matches) == 1  # as when it was ingested
    changed = ArticleDraft(draft.article_id, "Different text about the weather in Almaty today, cold and clear.")
    with pytest.raises(grpc.RpcError) as raised:
        seeded.CreateArticle(_create(changed))
    code, reason, message = _error(raised.value)
    assert code is grpc.StatusCode.ALREADY_EXISTS and reason == "ARTICLE_ALREADY_EXISTS" and "replace" in message
    replaced = seeded.CreateArticle(_create(changed, replace=True))
    assert replaced.outcome == pb.INGEST_OUTCOME_REPLACED


@pytest.mark.parametrize(
    ("request_", "code", "reason"),
    [
        (
            pb.CreateArticleRequest(article_id="", article=pb.Article(text="x y")),
            "INVALID_ARGUMENT",
            "INVALID_ARTICLE_ID",
        ),
        (
            pb.CreateArticleRequest(article_id="a/b", article=pb.Article(text="x")),
            "INVALID_ARGUMENT",
            "INVALID_ARTICLE_ID",
        ),
        (pb.CreateArticleRequest(article_id="ok", article=pb.Article(text="  ")), "INVALID_ARGUMENT", "EMPTY_TEXT"),
        (pb.CreateArticleRequest(article_id="ok"), "INVALID_ARGUMENT", "EMPTY_TEXT"),
        (
            pb.CreateArticleRequest(article_id="ok", article=pb.Article(text="x" * (MAX_TEXT_CHARS + 1))),
            "RESOURCE_EXHAUSTED",
            "ARTICLE_TOO_LARGE",
        ),
        (
            pb.CreateArticleRequest(article_id="ok", article=pb.Article(text="nul \x00 here")),
            "INVALID_ARGUMENT",
            "INVALID_TEXT",
        ),
    ],
)
def test_bad_input_gets_a_canonical_status(
    stub: pb_grpc.WiretraceServiceStub, request_: pb.CreateArticleRequest, code: str, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateArticle(request_)
    got_code, got_reason, message = _error(raised.value)
    assert (got_code.name, got_reason) == (code, reason) and message
    assert stub.GetStats(pb.GetStatsRequest()).articles == 0  # nothing stored, server still serving


def test_not_found_and_bad_names(seeded: pb_grpc.WiretraceServiceStub) -> None:
    for call, request in (
        (seeded.GetArticle, pb.GetArticleRequest(name="articles/missing")),
        (seeded.DeleteArticle, pb.DeleteArticleRequest(name="articles/missing")),
        (seeded.GetCluster, pb.GetClusterRequest(name="clusters/missing")),
        (seeded.FindMatches, pb.FindMatchesRequest(article="articles/missing")),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            call(request)  # type: ignore[operator]
        assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    for bad in (pb.GetArticleRequest(name="000"), pb.GetArticleRequest(name="articles/")):
        with pytest.raises(grpc.RpcError) as raised:
            seeded.GetArticle(bad)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as raised:
        seeded.FindMatches(pb.FindMatchesRequest())
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as raised:
        seeded.ListArticles(pb.ListArticlesRequest(page_token="nonsense"))
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_get_list_delete_and_clusters(seeded: pb_grpc.WiretraceServiceStub) -> None:
    article = seeded.GetArticle(pb.GetArticleRequest(name="articles/003")).article
    assert article.text.startswith("Kazakh president") and article.publish_time.ToDatetime().year == 2022
    names: list[str] = []
    token = ""
    while True:
        page = seeded.ListArticles(pb.ListArticlesRequest(page_size=2, page_token=token, omit_text=True))
        names += [a.name for a in page.articles]
        assert all(a.text == "" for a in page.articles) and page.total_size == 5
        token = page.next_page_token
        if not token:
            break
    assert names == [f"articles/00{i}" for i in range(5)]
    story = seeded.GetCluster(pb.GetClusterRequest(name="articles/001")).cluster
    assert [m.article for m in story.members] == ["articles/001"] and story.kind == pb.CLUSTER_KIND_STORY
    (listed,) = seeded.ListClusters(pb.ListClustersRequest()).clusters  # clusters of two or more
    assert listed.kind == pb.CLUSTER_KIND_STATEMENT and listed.member_count == 3 and not listed.members
    own = seeded.ListClusters(pb.ListClustersRequest(article="articles/001")).clusters
    assert [c.name for c in own] == [story.name, listed.name]
    cluster = seeded.GetCluster(pb.GetClusterRequest(name=listed.name)).cluster
    assert {m.article for m in cluster.members} == {"articles/000", "articles/001", "articles/003"}
    seeded.DeleteArticle(pb.DeleteArticleRequest(name="articles/001"))
    stats = seeded.GetStats(pb.GetStatsRequest())
    assert (stats.articles, stats.storage, stats.index.num_perm) == (4, "sqlite", 128)


def test_find_matches_for_text(seeded: pb_grpc.WiretraceServiceStub) -> None:
    response = seeded.FindMatches(pb.FindMatchesRequest(text=TOKAYEV_VERBATIM + ".", max_matches=1))
    assert len(response.matches) == 1 and response.matches[0].article in ("articles/000", "articles/001")
    by_id = seeded.FindMatches(pb.FindMatchesRequest(article="articles/003"))
    assert {m.article for m in by_id.matches} == {"articles/000", "articles/001"}
    assert [m.score for m in by_id.matches] == sorted((m.score for m in by_id.matches), reverse=True)


def test_stream_answers_every_request_in_order(stub: pb_grpc.WiretraceServiceStub) -> None:
    drafts = seed_drafts()

    def requests() -> Iterator[pb.IngestArticlesRequest]:
        for position, draft in enumerate(drafts):
            yield pb.IngestArticlesRequest(article=_create(draft))
            if position == 1:
                yield pb.IngestArticlesRequest(article=pb.CreateArticleRequest(article_id="bad id"))
        yield pb.IngestArticlesRequest(article=_create(drafts[0]))

    responses = list(stub.IngestArticles(requests()))
    assert [r.index for r in responses] == list(range(7))
    assert [r.article_id for r in responses] == ["000", "001", "bad id", "002", "003", "004", "000"]
    assert responses[2].HasField("error") and responses[2].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert responses[6].result.outcome == pb.INGEST_OUTCOME_UNCHANGED
    assert {m.article for m in responses[4].result.matches} == {"articles/000", "articles/001"}
    assert stub.GetStats(pb.GetStatsRequest()).articles == 5


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "wiretrace.v1.WiretraceService"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    (answer,) = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for s in answer.list_services_response.service}
    assert "wiretrace.v1.WiretraceService" in names


def test_ingest_response_carries_a_cluster_summary_and_get_cluster_pages(stub: pb_grpc.WiretraceServiceStub) -> None:
    text = "The harbour authority said on Monday that the new cranes would double the port's capacity by 2030."

    def requests() -> Iterator[pb.IngestArticlesRequest]:
        for number in range(105):
            yield pb.IngestArticlesRequest(
                article=pb.CreateArticleRequest(
                    article_id=f"s{number}", article=pb.Article(text=f"{text} Copy {number}.")
                )
            )

    last = list(stub.IngestArticles(requests()))[-1].result
    # A summary, never the member list: the article and its parent, and the article's own edge.
    assert last.cluster.member_count == 105 and last.cluster.root == "articles/s0"
    assert [m.article for m in last.cluster.members][-1] == "articles/s104" and len(last.cluster.members) == 2
    (edge,) = last.cluster.edges
    assert edge.child == "articles/s104"
    first = stub.GetCluster(pb.GetClusterRequest(name="articles/s104"))
    assert first.cluster.member_count == 105 and len(first.cluster.members) == 100 and first.next_page_token
    rest = stub.GetCluster(pb.GetClusterRequest(name="articles/s104", page_token=first.next_page_token))
    names = [m.article for m in first.cluster.members] + [m.article for m in rest.cluster.members]
    assert names == [f"articles/s{n}" for n in range(105)] and not rest.next_page_token
