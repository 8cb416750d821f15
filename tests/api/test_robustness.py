"""Fuzzed bad input, concurrent writers, a client that vanishes mid-stream."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wiretrace.core.maintenance import check_consistency
from wiretrace.server import RunningServer
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from seeds import seed_drafts

ALLOWED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ALREADY_EXISTS}

ids = st.one_of(
    st.just(""),
    st.text(max_size=3),
    st.text(min_size=120, max_size=200),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True),
    st.sampled_from(["a/b", "../x", "ünïcode", "sp ace", "x" * 129, "-lead", "ok\n"]),
)
texts = st.one_of(
    st.just(""),
    st.sampled_from([" ", "\n\t ", "word", "\x00", "a\x07b", "\ufeff", "\u200b"]),
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60),
)
seconds = st.one_of(st.just(0), st.integers(min_value=-62_135_596_800 - 10, max_value=253_402_300_799 + 10))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(article_id=ids, text=texts, second=seconds, nanos=st.integers(min_value=0, max_value=999_999_999))
def test_fuzzed_create_gets_a_canonical_answer(
    stub: pb_grpc.WiretraceServiceStub, article_id: str, text: str, second: int, nanos: int
) -> None:
    article = pb.Article(text=text, publish_time=timestamp_pb2.Timestamp(seconds=second, nanos=nanos))
    try:
        response = stub.CreateArticle(pb.CreateArticleRequest(article_id=article_id, article=article), timeout=10)
    except grpc.RpcError as error:
        assert error.code() in ALLOWED, (error.code(), error.details())
        assert error.details()
    else:
        assert response.article.name == f"articles/{article_id}"
        assert datetime(1800, 1, 1, tzinfo=UTC) <= response.article.publish_time.ToDatetime(tzinfo=UTC)
    assert stub.GetStats(pb.GetStatsRequest(), timeout=10).articles >= 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=50), page_size=st.integers(min_value=-5, max_value=5000), token=st.text(max_size=20))
def test_fuzzed_reads(stub: pb_grpc.WiretraceServiceStub, name: str, page_size: int, token: str) -> None:
    for call in (
        lambda: stub.GetArticle(pb.GetArticleRequest(name=name)),
        lambda: stub.GetCluster(pb.GetClusterRequest(name=name)),
        lambda: stub.ListArticles(pb.ListArticlesRequest(page_size=page_size, page_token=token)),
        lambda: stub.ListClusters(pb.ListClustersRequest(page_size=page_size, page_token=token)),
        lambda: stub.FindMatches(pb.FindMatchesRequest(article=name, max_matches=page_size)),
    ):
        try:
            call()
        except grpc.RpcError as error:
            assert error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), error.details()


def test_concurrent_writers_on_the_same_ids(server: RunningServer, address: str) -> None:
    drafts = seed_drafts()
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with grpc.insecure_channel(address) as channel:
                stub = pb_grpc.WiretraceServiceStub(channel)
                for _ in range(25):
                    draft = rng.choice(drafts)
                    article_id = f"{draft.article_id}-{rng.randrange(3)}"
                    try:
                        if rng.random() < 0.3:
                            stub.DeleteArticle(pb.DeleteArticleRequest(name=f"articles/{article_id}"))
                        else:
                            stub.CreateArticle(
                                pb.CreateArticleRequest(article_id=article_id, article=pb.Article(text=draft.text))
                            )
                    except grpc.RpcError as error:
                        if error.code() is not grpc.StatusCode.NOT_FOUND:
                            raise
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    engine = server.engine
    stored = [a.article_id for a in engine.storage.iter_articles()]
    assert len(stored) == len(set(stored))
    assert check_consistency(engine) == []
    for article_id in stored:  # every copy of a seed sits with its twins
        twins = {m.article_id for m in engine.cluster_of(article_id).members}
        assert {i for i in stored if i.split("-")[0] == article_id.split("-")[0]} <= twins


def test_client_vanishing_mid_stream_keeps_acknowledged_and_server_up(
    server: RunningServer, address: str, stub: pb_grpc.WiretraceServiceStub
) -> None:
    drafts = seed_drafts()
    gate = threading.Event()

    def requests() -> Iterator[pb.IngestArticlesRequest]:
        for draft in drafts[:3]:
            yield pb.IngestArticlesRequest(
                article=pb.CreateArticleRequest(article_id=draft.article_id, article=pb.Article(text=draft.text))
            )
        gate.wait(5)  # never sends the rest; the call is cancelled meanwhile

    channel = grpc.insecure_channel(address)
    call = pb_grpc.WiretraceServiceStub(channel).IngestArticles(requests())
    received = [next(call) for _ in range(3)]
    call.cancel()
    gate.set()
    channel.close()
    assert [r.article_id for r in received] == ["000", "001", "002"]
    with pytest.raises(grpc.RpcError) as raised:
        next(call)
    assert raised.value.code() is grpc.StatusCode.CANCELLED
    assert stub.GetStats(pb.GetStatsRequest()).articles == 3
    assert check_consistency(server.engine) == []
