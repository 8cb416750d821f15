"""Hardening, issue item 11: every field bounded (language too), error messages that quote at
most a short prefix of the input (a 1 MB id no longer overflows the trailer), texts without a
single word refused like empty ones."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.model import ArticleDraft
from wiretrace.core.validation import LANGUAGE_MAX, validate_draft, validate_text
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc


def _reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    return str(info.reason)


def _create(stub: pb_grpc.WiretraceServiceStub, **article: str) -> grpc.RpcError:
    text = article.pop("text", "Some words to index here.")
    request = pb.CreateArticleRequest(article_id="x1", article=pb.Article(text=text, **article))
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateArticle(request, timeout=20)
    return raised.value


def test_language_is_bounded_and_not_echoed(stub: pb_grpc.WiretraceServiceStub) -> None:
    for language in ("en" + "-abcdefgh" * 200_000, "x" * 1_000_000, "en-" + "a" * 40, "e\u0301n"):
        error = _create(stub, language=language)
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert _reason(error) == "INVALID_FIELD"
        details = error.details() or ""
        assert "language" in details and "BCP-47" in details
        assert len(details) < 400, details


def test_language_length_limit() -> None:
    longest = "en-" + "-".join(["abcdefgh"] * 4)[: LANGUAGE_MAX - 3]
    assert len(longest) == LANGUAGE_MAX
    validate_draft(ArticleDraft("a1", "Some words.", language=longest), 1000)
    validate_draft(ArticleDraft("a1", "Some words.", language="pt-BR"), 1000)
    with pytest.raises(InvalidArgument, match="at most 35"):
        validate_draft(ArticleDraft("a1", "Some words.", language=longest + "a"), 1000)


@pytest.mark.parametrize(("field", "limit"), [("title", 2_000), ("source", 256), ("url", 4_096)])
def test_long_fields_are_refused_without_echo(stub: pb_grpc.WiretraceServiceStub, field: str, limit: int) -> None:
    error = _create(stub, **{field: "Q" * 1_000_000})
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"{field} has 1000000 characters; the maximum is {limit}"


def test_huge_names_give_short_messages(stub: pb_grpc.WiretraceServiceStub) -> None:
    """A 1 MB id used to come back whole in the status message: over gRPC's metadata limit, so the
    client got RESOURCE_EXHAUSTED 'metadata size exceeds hard limit' instead of the error."""
    huge = "x" * 1_000_000
    calls: list[Callable[[], object]] = [
        lambda: stub.GetCluster(pb.GetClusterRequest(name="clusters/" + huge), timeout=20),
        lambda: stub.GetCluster(pb.GetClusterRequest(name="clusters/" + "é" * 500_000), timeout=20),
        lambda: stub.GetArticle(pb.GetArticleRequest(name="articles/" + huge), timeout=20),
        lambda: stub.GetArticle(pb.GetArticleRequest(name="nope/" + huge), timeout=20),
        lambda: stub.DeleteArticle(pb.DeleteArticleRequest(name="articles/" + huge), timeout=20),
        lambda: stub.CreateArticle(pb.CreateArticleRequest(article_id=huge, article=pb.Article(text="w")), timeout=20),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert raised.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), (
            raised.value.details()
        )
        assert len((raised.value.details() or "").encode()) <= 1_000


@pytest.mark.parametrize(
    "text",
    ["\u200b\u200b\u200b", "!!! ... ???", "— – … «» ¶ §", "\u200b.\u200b,\n\t!", "😀🎉", "_ __ ___"],
    ids=["zwsp", "punctuation", "typography", "mixed", "emoji", "underscores"],
)
def test_texts_without_words_are_refused(stub: pb_grpc.WiretraceServiceStub, text: str) -> None:
    error = _create(stub, text=text)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert _reason(error) == "EMPTY_TEXT"
    with pytest.raises(grpc.RpcError) as raised:
        stub.FindMatches(pb.FindMatchesRequest(text=text), timeout=20)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert _reason(raised.value) == "EMPTY_TEXT"


def test_texts_with_one_word_pass_validation() -> None:
    for text in ("word", "\u200b東京\u200b", "!!! 3,000 ???", "Ünïcödé."):
        validate_text(text, 1000)
    with pytest.raises(InvalidArgument) as raised:
        validate_text("." * 5000, 10_000)
    assert raised.value.reason == "EMPTY_TEXT"
