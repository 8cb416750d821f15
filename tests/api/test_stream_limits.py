"""Issue 12 item 2: no number of open ingest streams can freeze the server.

Each open stream holds a server thread; they are capped below the pool, and a silent stream is
ended, so health checks and unary calls always answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.server import create_server
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

IDLE_SECONDS = 2.0


def _silent(stop: threading.Event) -> Iterator[pb.IngestArticlesRequest]:
    stop.wait(60)
    return
    yield  # a generator that sends nothing


def test_idle_streams_never_starve_health_or_unary_calls(tmp_path: Path) -> None:
    settings = ServerSettings(
        listen="127.0.0.1:0",
        storage=StorageSettings(data_dir=tmp_path / "d"),
        workers=4,
        max_streams=2,
        max_streams_per_connection=2,  # the twelve streams share one connection
        stream_idle_seconds=IDLE_SECONDS,
    )
    running = create_server(settings)
    stop = threading.Event()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.WiretraceServiceStub(channel)
            streams = [stub.IngestArticles(_silent(stop)) for _ in range(12)]  # never send, never read
            time.sleep(0.5)
            health = health_pb2_grpc.HealthStub(channel)
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == 1
            created = stub.CreateArticle(
                pb.CreateArticleRequest(article_id="a1", article=pb.Article(text="A text about harvests. " * 5)),
                timeout=10,
            )
            assert created.outcome == pb.INGEST_OUTCOME_CREATED
            codes = []
            for stream in streams:
                with pytest.raises(grpc.RpcError) as ended:
                    list(stream)
                codes.append(ended.value.code())
            # The two admitted streams are ended for silence, the others refused at once.
            assert codes.count(grpc.StatusCode.DEADLINE_EXCEEDED) == 2
            assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 10
            # Their threads are free again: a real stream goes through.
            article = pb.Article(text="Another text about the grain harvest in the north. " * 3)
            request = pb.IngestArticlesRequest(article=pb.CreateArticleRequest(article_id="a2", article=article))
            (response,) = list(stub.IngestArticles(iter([request]), timeout=20))
            assert response.result.outcome == pb.INGEST_OUTCOME_CREATED
    finally:
        stop.set()
        running.stop(0)


def test_one_connection_holds_at_most_half_the_slots(tmp_path: Path) -> None:
    settings = ServerSettings(
        listen="127.0.0.1:0", storage=StorageSettings(data_dir=tmp_path / "d"), workers=6, max_streams=4
    )
    assert settings.stream_connection_limit == 2
    running = create_server(settings)
    stop = threading.Event()
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel,
            grpc.insecure_channel(
                f"127.0.0.1:{running.port}", options=[("grpc.use_local_subchannel_pool", 1)]
            ) as other,
        ):
            stub = pb_grpc.WiretraceServiceStub(channel)
            held = [stub.IngestArticles(_silent(stop)) for _ in range(2)]
            time.sleep(0.5)
            with pytest.raises(grpc.RpcError) as refused:
                list(stub.IngestArticles(_silent(stop), timeout=10))
            assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "this connection already holds 2 ingest streams" in (refused.value.details() or "")
            # Another connection still finds a slot.
            article = pb.Article(text="A text from another client about the grain harvest. " * 3)
            request = pb.IngestArticlesRequest(article=pb.CreateArticleRequest(article_id="b1", article=article))
            (response,) = list(pb_grpc.WiretraceServiceStub(other).IngestArticles(iter([request]), timeout=20))
            assert response.result.outcome == pb.INGEST_OUTCOME_CREATED
            stop.set()
            for stream in held:  # their clients close them: they end normally and free their slots
                assert list(stream) == []
    finally:
        stop.set()
        running.stop(0)
