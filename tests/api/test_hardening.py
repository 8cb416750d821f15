"""Hardening, issue item 10: bytes that are not the method's request message (invalid UTF-8 in a
string field, a truncated message, groups nested too deep) are INVALID_ARGUMENT, not INTERNAL
with an ERROR log line."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.server import create_server
from wiretrace.v1 import wiretrace_service_pb2 as pb

SERVICE = "/wiretrace.v1.WiretraceService/"
GOOD = pb.CreateArticleRequest(article_id="a1", article=pb.Article(text="A few words of text.")).SerializeToString()
# Bytes that are no request message: an invalid UTF-8 string field, a message cut short, and
# groups (of an unknown field) nested deeper than protobuf parses.
MALFORMED = {
    "invalid utf-8": b"\x0a\x02\xff\xfe",
    "truncated": GOOD[:-3],
    "nested groups": b"\x7b" * 500 + b"\x7c" * 500,
}


def _reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return str(info.reason)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("method", ["CreateArticle", "FindMatches", "GetArticle"])
@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_undecodable_unary_request_is_invalid_argument(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture, method: str, payload: bytes
) -> None:
    caplog.set_level(logging.WARNING)
    call = channel.unary_unary(SERVICE + method)  # no serializers: the bytes go out as they are
    with pytest.raises(grpc.RpcError) as raised:
        call(payload, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert _reason(raised.value) == "MALFORMED_REQUEST"
    assert "Exception deserializing" not in (raised.value.details() or "")
    assert not _errors(caplog)


def test_undecodable_stream_message_ends_the_stream_with_invalid_argument(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rejected = pb.IngestArticlesRequest(
        article=pb.CreateArticleRequest(article_id="bad id!", article=pb.Article(text="words"))
    ).SerializeToString()
    call = channel.stream_stream(SERVICE + "IngestArticles")
    responses = call(iter([rejected, MALFORMED["invalid utf-8"], rejected]), timeout=20)
    received = []
    with pytest.raises(grpc.RpcError) as raised:
        for response in responses:
            received.append(pb.IngestArticlesResponse.FromString(response))
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert "message 1 of the stream" in (raised.value.details() or "")
    # The message before the bad one was answered (rejected for its id); nothing after it.
    assert [r.error.reason for r in received] == ["INVALID_ARTICLE_ID"]
    assert not _errors(caplog)


def test_undecodable_health_check_is_invalid_argument(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        channel.unary_unary("/grpc.health.v1.Health/Check")(MALFORMED["truncated"] + b"\x0a\x05ab", timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_undecodable_request_without_token_is_unauthenticated(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret\n")
    running = create_server(
        ServerSettings(listen="127.0.0.1:0", storage=StorageSettings(data_dir=tmp_path / "d"), auth_token_file=tokens)
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = channel.unary_unary(SERVICE + "CreateArticle")
            with pytest.raises(grpc.RpcError) as raised:
                call(MALFORMED["invalid utf-8"], timeout=10)
            assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as raised:
                call(MALFORMED["invalid utf-8"], timeout=10, metadata=(("authorization", "Bearer s3cret"),))
            assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    finally:
        running.stop(0)
