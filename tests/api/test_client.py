"""The Python client against an in-process server: dataclasses, typed errors, streaming, retries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from processes import free_port
from wiretrace_client import AlreadyExists, ArticleInput, Client, InvalidArgument, NotFound, Unavailable
from wiretrace_client.errors import from_ingest_error

from seeds import TOKAYEV_VERBATIM, seed_drafts


def _inputs() -> list[ArticleInput]:
    return [
        ArticleInput(d.article_id, d.text, title=d.title, source=d.source, publish_time=d.publish_time)
        for d in seed_drafts()
    ]


def test_round_trip(address: str) -> None:
    with Client(address) as client:
        items = list(client.ingest_many(_inputs(), window=2))
        assert [i.article_id for i in items] == ["000", "001", "002", "003", "004"]
        assert all(i.error is None and i.result is not None for i in items)
        article = client.get_article("000")
        assert article.publish_time == datetime(2022, 1, 7, tzinfo=UTC) and article.cluster_id
        matches = client.find_matches(article_id="001")
        assert {m.article_id for m in matches} == {"000", "003"}
        assert any(TOKAYEV_VERBATIM in p.matched_text for m in matches for p in m.passages)
        by_text = client.find_matches(text=TOKAYEV_VERBATIM + ".")
        assert by_text and by_text[0].kind == "reused_passage"
        story = client.get_lineage("003")
        assert story.kind == "story" and [m.article_id for m in story.members] == ["003"]
        own = client.clusters_of("003")
        assert [c.kind for c in own] == ["story", "statement"] and own[0].cluster_id == story.cluster_id
        statement = client.get_cluster(own[1].cluster_id, page_size=1)  # read page by page
        assert statement.root_id == "000" and [m.article_id for m in statement.members] == ["000", "003", "001"]
        assert statement.member_count == 3 and {e.child_id for e in statement.edges} == {"001", "003"}
        assert client.get_cluster(own[1].cluster_id, max_members=2).members == statement.members[:2]
        assert [c.cluster_id for c in client.list_clusters(page_size=1)] == [statement.cluster_id]
        assert [a.article_id for a in client.list_articles(page_size=2, omit_text=True)] == [
            "000",
            "001",
            "002",
            "003",
            "004",
        ]
        assert client.get_stats().articles == 5
        assert client.health() == "SERVING"
        result = client.create_article(
            "000",
            seed_drafts()[0].text,
            publish_time=seed_drafts()[0].publish_time,
            title=seed_drafts()[0].title,
            source=seed_drafts()[0].source,
        )
        assert result.outcome == "unchanged"
        client.delete_article("004")
        with pytest.raises(NotFound):
            client.get_article("004")


def test_typed_errors(address: str) -> None:
    with Client(address) as client:
        with pytest.raises(InvalidArgument) as invalid:
            client.create_article("bad id", "text")
        assert invalid.value.reason == "INVALID_ARTICLE_ID"
        client.create_article("x", "Some text about ships in the harbour at dawn.")
        with pytest.raises(AlreadyExists) as exists:
            client.create_article("x", "Other text.")
        assert exists.value.reason == "ARTICLE_ALREADY_EXISTS"
        assert client.create_article("x", "Other text.", replace_existing=True).outcome == "replaced"
        items = list(client.ingest_many([ArticleInput("y", ""), ArticleInput("z", "Fine text here.")]))
        assert isinstance(items[0].error, InvalidArgument) and items[1].result is not None
        with pytest.raises(ValueError):
            client.find_matches()


def test_stream_consumer_can_stop_early(address: str) -> None:
    with Client(address) as client:
        for item in client.ingest_many(_inputs(), window=1):
            assert item.article_id == "000"
            break
        assert client.get_stats().articles >= 1


def test_unavailable_is_retried_then_raised() -> None:
    with Client(f"127.0.0.1:{free_port()}", timeout=2, max_retries=2) as client, pytest.raises(Unavailable):
        client.get_stats()


def test_ingest_error_mapping() -> None:
    error = from_ingest_error(6, "ARTICLE_ALREADY_EXISTS", "exists")
    assert isinstance(error, AlreadyExists) and error.reason == "ARTICLE_ALREADY_EXISTS"


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wiretrace.config import ServerSettings, StorageSettings
    from wiretrace.server import create_server

    (tmp_path / "tokens").write_text("tok\n")
    running = create_server(
        ServerSettings(
            listen="127.0.0.1:0", storage=StorageSettings(data_dir=tmp_path / "d"), auth_token_file=tmp_path / "tokens"
        )
    )
    try:
        monkeypatch.setenv("WIRETRACE_TOKEN", "tok")
        with Client(f"127.0.0.1:{running.port}") as client:
            assert client.get_stats().articles == 0
        monkeypatch.delenv("WIRETRACE_TOKEN")
        with Client(f"127.0.0.1:{running.port}") as client, pytest.raises(Exception) as denied:
            client.get_stats()
        assert type(denied.value).__name__ == "Unauthenticated"
    finally:
        running.stop(0)
