"""Configured limits: message size, stream rate, deadlines, out-of-range timestamps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import timestamp_pb2
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.settings import IndexSettings
from wiretrace.server import create_server
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc


def test_message_size_limit_and_rate_limit(tmp_path: Path) -> None:
    running = create_server(
        ServerSettings(
            listen="127.0.0.1:0",
            storage=StorageSettings(data_dir=tmp_path / "d"),
            max_message_bytes=64 * 1024,
            max_stream_rate=20,
            index=IndexSettings(max_text_chars=1_000_000),
        )
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.WiretraceServiceStub(channel)
            big = pb.CreateArticleRequest(article_id="big", article=pb.Article(text="word " * 20_000))
            with pytest.raises(grpc.RpcError) as raised:
                stub.CreateArticle(big)
            assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

            def requests() -> Iterator[pb.IngestArticlesRequest]:
                for number in range(21):
                    text = f"Article number {number} about harbour cranes and shipping schedules."
                    yield pb.IngestArticlesRequest(
                        article=pb.CreateArticleRequest(article_id=f"r{number}", article=pb.Article(text=text))
                    )

            started = time.monotonic()
            responses = list(stub.IngestArticles(requests()))
            elapsed = time.monotonic() - started
            assert len(responses) == 21 and all(r.HasField("result") for r in responses)
            assert elapsed >= 0.9  # 21 articles at 20/s take at least one second: slowed, not failed
            assert stub.GetStats(pb.GetStatsRequest()).articles == 21
    finally:
        running.stop(0)


def test_deadline_is_honoured_and_server_stays_up(stub: pb_grpc.WiretraceServiceStub) -> None:
    text = "A long story about the port authority and its new cranes. " * 800  # under the 50k limit
    with pytest.raises(grpc.RpcError) as raised:
        stub.FindMatches(pb.FindMatchesRequest(text=text), timeout=0.0001)
    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert stub.GetStats(pb.GetStatsRequest(), timeout=10).articles == 0


@pytest.mark.parametrize("seconds", [-62_135_596_801, 253_402_300_800, -7_000_000_000, 8_000_000_000])
def test_out_of_range_publish_time(stub: pb_grpc.WiretraceServiceStub, seconds: int) -> None:
    request = pb.CreateArticleRequest(
        article_id="t", article=pb.Article(text="Some text.", publish_time=timestamp_pb2.Timestamp(seconds=seconds))
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateArticle(request)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "publish_time" in (raised.value.details() or "")
