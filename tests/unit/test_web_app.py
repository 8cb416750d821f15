"""The web view without a network: routing, the error table, wording, and escaping of every field."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from wiretrace.web import pages, wording
from wiretrace.web.app import _status
from wiretrace.web.routing import HttpError, Request, Response, Router
from wiretrace.web.settings import WebSettings
from wiretrace_client import (
    Article,
    Cluster,
    ClusterMember,
    DeadlineExceeded,
    Internal,
    InvalidArgument,
    LineageEdge,
    Match,
    NotFound,
    SharedPassage,
    Unavailable,
)

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="alert(1)">'


def article(article_id: str = "a1", text: str = "Some text.", **fields: object) -> Article:
    values: dict[str, object] = {
        "title": "", "source": "", "url": "", "publish_time": None, "language": "", "create_time": None,
        "cluster_id": "c1", "content_sha256": "0" * 64,
    }  # fmt: skip
    values.update(fields)
    return Article(article_id=article_id, text=text, **values)  # type: ignore[arg-type]


def test_router_passes_decoded_segments_and_tells_405_from_404() -> None:
    router = Router()
    router.add("GET", "/articles/{article_id}", lambda request, article_id: Response(200, article_id))
    router.add("GET POST", "/matches", lambda request: Response(200, request.method))
    assert router.dispatch(Request("GET", "/articles/a%3A1")).body == "a:1"
    assert router.dispatch(Request("POST", "/matches")).body == "POST"
    with pytest.raises(HttpError) as not_allowed:
        router.dispatch(Request("POST", "/articles/a1"))
    assert not_allowed.value.status == 405
    with pytest.raises(HttpError) as missing:
        router.dispatch(Request("GET", "/articles/a1/nothing"))
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound(grpc.StatusCode.NOT_FOUND, "article 'x' does not exist", "ARTICLE_NOT_FOUND"), 404),
        (InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, "article_id 'a b' is invalid", "INVALID_ARTICLE_ID"), 404),
        (InvalidArgument(grpc.StatusCode.INVALID_ARGUMENT, "page_token is invalid", "INVALID_ARGUMENT"), 400),
        (Unavailable(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"), 503),
        (DeadlineExceeded(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), 503),
        (Internal(grpc.StatusCode.INTERNAL, "boom"), 502),
        (HttpError(413, "too large"), 413),
        (RuntimeError("a bug\nwith two lines"), 500),
    ],
)
def test_one_table_from_failures_to_statuses(error: Exception, status: int) -> None:
    code, message = _status(error, Request("GET", "/articles/x"))
    assert code == status
    assert "\n" not in message and "Traceback" not in message
    if status == 500:
        assert "a bug" not in message  # internals stay in the log


def test_settings_validate() -> None:
    assert WebSettings(listen="127.0.0.1:0").port == 0
    assert WebSettings(listen="[::1]:8080").host == "::1"
    for bad in ({"listen": "8080"}, {"page_size": 0}, {"page_size": 5000}, {"max_matches": 0}):
        with pytest.raises(ValueError):
            WebSettings(**bad)  # type: ignore[arg-type]


def test_scores_in_words() -> None:
    near = Match("b", "near_duplicate", 0.93, 0.9, 0.93, 0.95, 0.94, [])
    assert wording.match_headline(near) == "near-duplicate, 93 % of shingles shared"
    rewritten = Match("b", "near_duplicate", 0.4, 0.02, 0.03, 0.05, 0.05, [])
    assert wording.match_headline(rewritten) == "near-duplicate, 40 % of sentences aligned (3 % of shingles shared)"
    passage = SharedPassage(0, 5, 0, 5, "variant", 0.64, "x", "y")
    reused = Match("b", "reused_passage", 0.12, 0.01, 0.004, 0.02, 0.02, [passage])
    assert wording.match_headline(reused) == "reused passage, 1 shared passage (<1 % of shingles shared)"
    assert wording.passage_summary(passage) == "other wording (a translation or a paraphrase), similarity 64 %"
    assert wording.moment(datetime(2022, 1, 7, tzinfo=UTC)) == "2022-01-07"
    assert wording.moment(datetime(2022, 1, 7, 13, 45, tzinfo=UTC)) == "2022-01-07 13:45 UTC"
    assert wording.moment(None) == "unknown"


def test_article_page_escapes_every_field() -> None:
    text = f"Intro {EVIL} and the copied passage."
    start = text.index("the copied")
    passage = SharedPassage(start, len(text), 0, 10, "verbatim", 1.0, text[start:], "0123456789")
    match = Match(EVIL, "reused_passage", 0.2, 0.1, 0.1, 0.2, 0.3, [passage])
    other = article(EVIL, "0123456789 rest", title=EVIL, source=EVIL, url="javascript:alert(1)")
    html = pages.article_page(
        article("a1", text, title=EVIL, source=EVIL, language="en"), [pages.MatchView(match, other)], EVIL
    )
    assert "<script>window" not in html and "<img" not in html
    assert 'href="javascript' not in html
    assert html.count("<script>") == 1  # the view's own
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html


def test_lineage_page_escapes_and_links_the_next_page() -> None:
    passage = SharedPassage(0, 3, 4, 7, "verbatim", 1.0, EVIL, EVIL, texts_cut=True)
    edge = LineageEdge("p1", "c1", "near_duplicate", 0.9, [passage], f"because {EVIL}")
    members = [ClusterMember("p1", EVIL, EVIL, None), ClusterMember("c1", "", "", None)]
    cluster = Cluster("k1", "p1", members, [edge], member_count=5, kind="story")
    html = pages.lineage_page(article("c1"), [pages.ClusterPage(cluster, 0, "tok/en+=")], 2, "srv", focused=False)
    assert "<script>window" not in html and "<img" not in html
    assert 'href="/articles/c1/lineage?cluster=k1&amp;page_token=tok%2Fen%2B%3D&amp;start=2"' in html
    assert "next page (members 3–4)" in html
    assert 'data-depth="1"' in html  # the child under its parent
