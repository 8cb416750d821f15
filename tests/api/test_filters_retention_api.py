"""Filters, prune and the store gauges through the API and the Python client (in-process server)."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime

import grpc
import pytest
from wire_copies import COPIES, wire_copies, wire_story
from wiretrace.api import metrics
from wiretrace.server import RunningServer, start_metrics
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc
from wiretrace_client import ArticleInput, Client, InvalidArgument, MatchFilter

from seeds import syndicated_copy


def _ingest_copies(client: Client) -> None:
    inputs = [ArticleInput(d.article_id, d.text, source=d.source, publish_time=d.publish_time) for d in wire_copies()]
    assert all(item.error is None for item in client.ingest_many(inputs))


def _matched(client: Client, match_filter: MatchFilter) -> set[str]:
    return {m.article_id for m in client.find_matches(article_id="reuters-orig", match_filter=match_filter)}


def test_find_matches_filters(address: str) -> None:
    with Client(address) as client:
        _ingest_copies(client)
        window = MatchFilter(since=datetime(2026, 10, 15, tzinfo=UTC), until=datetime(2026, 11, 3, tzinfo=UTC))
        assert _matched(client, window) == {"reuters-update", "ap-next-day"}
        assert _matched(client, MatchFilter(window_days=2)) == {"reuters-update", "ap-next-day"}
        assert "reuters-update" not in _matched(client, MatchFilter(other_outlets=True))
        assert _matched(client, MatchFilter(sources=("AP",))) == {"ap-next-day", "ap-last-month"}
        assert _matched(client, MatchFilter(excluded_sources=("AP", "Reuters"), other_outlets=True)) == {
            "bbc-later",
            "undated",
        }
        (best,) = client.find_matches(
            article_id="reuters-orig", max_matches=1, match_filter=MatchFilter(sources=("BBC",))
        )
        assert best.article_id == "bbc-later"
        by_text = client.find_matches(text=wire_story(), match_filter=MatchFilter(sources=("bbc",)))
        assert [m.article_id for m in by_text] == ["bbc-later"]


@pytest.mark.parametrize(
    ("match_filter", "message"),
    [
        (MatchFilter(window_days=-3), "window_days must not be negative"),
        (
            MatchFilter(since=datetime(2026, 11, 2, tzinfo=UTC), until=datetime(2026, 11, 1, tzinfo=UTC)),
            "must be after",
        ),
    ],
)
def test_invalid_filters_are_invalid_argument(address: str, match_filter: MatchFilter, message: str) -> None:
    with Client(address) as client:
        client.create_article("one", wire_story())
        with pytest.raises(InvalidArgument, match=message) as raised:
            client.find_matches(article_id="one", match_filter=match_filter)
        assert "\n" not in raised.value.message
        with pytest.raises(InvalidArgument, match=message):
            client.create_article("two", syndicated_copy(2, wire_story()), report_filter=match_filter)
        assert client.get_stats().articles == 1  # a refused filter stores nothing


def test_ingest_reports_what_the_filter_keeps_and_stores_every_match(address: str) -> None:
    with Client(address) as client:
        _ingest_copies(client)
        only_bbc = MatchFilter(sources=("BBC",))
        result = client.create_article("afp", syndicated_copy(70, wire_story()), source="AFP", report_filter=only_bbc)
        assert [m.article_id for m in result.matches] == ["bbc-later"]
        assert {m.article_id for m in client.find_matches(article_id="afp")} == set(COPIES)
        streamed = ArticleInput("dpa", syndicated_copy(71, wire_story()), source="DPA", report_filter=only_bbc)
        (item,) = client.ingest_many([streamed])
        assert item.result is not None and [m.article_id for m in item.result.matches] == ["bbc-later"]


def test_prune_articles_through_the_api(address: str, stub: pb_grpc.WiretraceServiceStub) -> None:
    with Client(address) as client:
        _ingest_copies(client)
        assert client.prune_articles(datetime(2026, 11, 1, 12, tzinfo=UTC), page_size=1) == 2
        left = {a.article_id for a in client.list_articles(omit_text=True)}
        assert left == set(COPIES) - {"reuters-orig", "ap-last-month"}
        assert client.get_lineage("bbc-later").root_id == "reuters-update"
    with pytest.raises(grpc.RpcError) as missing:
        stub.PruneArticles(pb.PruneArticlesRequest(page_size=10))
    assert missing.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "before_time is required" in str(missing.value.details())
    cut = pb.PruneArticlesRequest(page_token="not-a-token")
    cut.before_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(grpc.RpcError) as bad_token:
        stub.PruneArticles(cut)
    assert bad_token.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def _gauges(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition('{namespace="default"} ')
        if value and name in ("wiretrace_articles", "wiretrace_clusters", "wiretrace_index_bytes"):
            found[name] = float(value)
    return found


def test_store_gauges_on_the_metrics_endpoint(address: str, server: RunningServer) -> None:
    port = start_metrics("127.0.0.1:0")
    with Client(address) as client:
        _ingest_copies(client)
        client.create_article("alone", "An unrelated note about the weather in a small town, with nothing copied.")
        stats = client.get_stats()
        gauges = _gauges(port)
        assert gauges == {
            "wiretrace_articles": len(COPIES) + 1,
            "wiretrace_clusters": stats.clusters,
            "wiretrace_index_bytes": stats.index_bytes,
        }
        assert stats.clusters == 1 and stats.index_bytes > 0
        client.delete_article("alone")
        assert _gauges(port)["wiretrace_articles"] == len(COPIES) + 1  # read at most every few seconds
        metrics.STORE_GAUGES.refresh = 0.0
        try:
            assert _gauges(port)["wiretrace_articles"] == len(COPIES)
        finally:
            metrics.STORE_GAUGES.refresh = metrics.REFRESH_SECONDS
