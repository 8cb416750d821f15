"""Namespaces through the API on every backend: isolated stores, names, token binding, the limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.model import ArticleDraft
from wiretrace.server import RunningServer, create_server
from wiretrace.storage.sqlite import SqliteStorage
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc
from wiretrace_client import Client, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted

from seeds import TOKAYEV_VERBATIM, seed_drafts


def _storage(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    if backend == "redis":
        return StorageSettings(backend="redis", redis_url=request.getfixturevalue("redis_url"), redis_prefix=prefix)
    if backend == "redis-cluster":
        url = request.getfixturevalue("redis_cluster_url")
        return StorageSettings(backend="redis", redis_url=url, redis_cluster=True, redis_prefix=prefix)
    return StorageSettings(data_dir=tmp_path / "data")


def _start(storage: StorageSettings, **settings: object) -> RunningServer:
    return create_server(ServerSettings(listen="127.0.0.1:0", storage=storage, health_interval=0, **settings))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    server = _start(_storage(request.param, request, tmp_path))
    yield server
    server.stop(0)


def _ingest_seeds(client: Client) -> None:
    for draft in seed_drafts():
        client.create_article(
            draft.article_id, draft.text, title=draft.title, source=draft.source, publish_time=draft.publish_time
        )


def test_namespaces_are_isolated(running: RunningServer) -> None:
    address = f"127.0.0.1:{running.port}"
    with Client(address, namespace="newsroom-a") as a, Client(address, namespace="newsroom-b") as b:
        _ingest_seeds(a)
        seed = seed_drafts()[0]
        # The same article id, other content, in another namespace: created there, not ALREADY_EXISTS.
        created = b.create_article(seed.article_id, "A different story about the harbour in Tallinn, told twice.")
        assert created.outcome == "created" and created.matches == []
        assert b.find_matches(text=seed.text) == []  # nothing matches across namespaces
        assert b.find_matches(text=TOKAYEV_VERBATIM + ".") == []
        assert [x.article_id for x in b.list_articles()] == [seed.article_id]
        assert b.get_article(seed.article_id).text.startswith("A different story")
        assert list(b.list_clusters()) == []
        with pytest.raises(NotFound):
            b.get_article("001")
        stats_b = b.get_stats()
        assert (stats_b.articles, stats_b.clusters, stats_b.edges) == (1, 0, 0)

        assert a.get_stats().articles == 5
        assert a.get_article(seed.article_id).text == seed.text
        assert {m.article_id for m in a.find_matches(article_id="001")} == {"000", "003"}
        assert [c.kind for c in a.clusters_of("003")] == ["story", "statement"]
        assert len(list(a.list_clusters())) >= 1
    with Client(address) as default:  # a client from before namespaces: the default one, empty here
        assert default.get_stats().articles == 0
        assert default.find_matches(text=seed.text) == []


def test_full_names_must_name_the_call_namespace(running: RunningServer) -> None:
    address = f"127.0.0.1:{running.port}"
    with Client(address, namespace="a") as a:
        a.create_article("x1", seed_drafts()[0].text)
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        in_a = (("x-wiretrace-namespace", "a"),)
        got = stub.GetArticle(pb.GetArticleRequest(name="namespaces/a/articles/x1"), metadata=in_a)
        assert got.article.name == "articles/x1"  # names in answers stay relative to the call's namespace
        assert stub.GetArticle(pb.GetArticleRequest(name="articles/x1"), metadata=in_a).article.text
        with pytest.raises(grpc.RpcError) as other:
            stub.GetArticle(pb.GetArticleRequest(name="namespaces/b/articles/x1"), metadata=in_a)
        assert other.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as missing:  # no header: the default namespace, which lacks x1
            stub.GetArticle(pb.GetArticleRequest(name="articles/x1"))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("name", ["Upper", "under_score", "-edge", "a" * 64, "a/b", ""])
def test_a_bad_namespace_is_invalid_argument(server: RunningServer, name: str) -> None:
    with Client(f"127.0.0.1:{server.port}") as client, grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetStats(pb.GetStatsRequest(), metadata=(("x-wiretrace-namespace", name),))
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        stream = stub.IngestArticles(iter([]), metadata=(("x-wiretrace-namespace", name),))
        with pytest.raises(grpc.RpcError) as streamed:
            list(stream)
        assert streamed.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert client.health() == "SERVING"  # the server stays up


def test_open_namespaces_are_bounded(tmp_path: Path) -> None:
    running = _start(StorageSettings(data_dir=tmp_path / "data"), max_namespaces=1)
    address = f"127.0.0.1:{running.port}"
    try:
        with Client(address, namespace="one") as one, Client(address, namespace="two") as two:
            one.create_article("x1", seed_drafts()[0].text)
            with pytest.raises(ResourceExhausted) as refused:
                two.create_article("x1", seed_drafts()[0].text)
            assert refused.value.reason == "TOO_MANY_NAMESPACES"
            assert one.get_stats().articles == 1  # the open ones go on answering
        with Client(address) as default:
            assert default.get_stats().articles == 0
    finally:
        running.stop(0)


def test_a_read_never_creates_a_namespace(tmp_path: Path) -> None:
    data = tmp_path / "data"
    running = _start(StorageSettings(data_dir=data), max_namespaces=1)
    address = f"127.0.0.1:{running.port}"
    try:
        with Client(address, namespace="typo") as typo:
            for read in (typo.get_stats, lambda: typo.get_article("x1"), lambda: typo.find_matches(text="Some text.")):
                with pytest.raises(NotFound) as missing:
                    read()
                assert missing.value.reason == "NAMESPACE_NOT_FOUND"
        assert not (data / "namespaces" / "typo").exists()
        with Client(address, namespace="new") as new:  # the reads took no place under the limit
            new.create_article("x1", seed_drafts()[0].text)
            assert new.get_stats().articles == 1
    finally:
        running.stop(0)


def test_a_token_bound_to_namespaces_is_denied_elsewhere(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# newsroom A's ingest job\nbound-a  a\nroot\nbound-b-default b default\n")
    running = _start(StorageSettings(data_dir=tmp_path / "data"), auth_token_file=tokens)
    address = f"127.0.0.1:{running.port}"
    try:
        with Client(address, namespace="a", token="bound-a") as a:
            a.create_article("x1", seed_drafts()[0].text)
            assert a.get_stats().articles == 1
        for namespace in ("b", None):
            with Client(address, namespace=namespace, token="bound-a") as elsewhere:
                with pytest.raises(PermissionDenied) as denied:
                    elsewhere.get_stats()
                assert denied.value.reason == "NAMESPACE_DENIED"
                with pytest.raises(PermissionDenied):
                    list(elsewhere.ingest_many([]))
        with Client(address, namespace="a", token="root") as root:  # a token alone: every namespace
            assert root.get_article("x1").article_id == "x1"
        with Client(address, token="bound-b-default") as default:
            assert default.get_stats().articles == 0
        with Client(address, namespace="a", token="bound-b-default") as other, pytest.raises(PermissionDenied):
            other.get_article("x1")
        with Client(address, namespace="Bad", token="bound-a") as bad, pytest.raises(InvalidArgument):
            bad.get_stats()
    finally:
        running.stop(0)


def test_a_data_directory_from_before_namespaces_is_the_default_namespace(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = Wiretrace(SqliteStorage(data))
    old.ingest(ArticleDraft("old-1", seed_drafts()[0].text))
    old.close()
    running = _start(StorageSettings(data_dir=data))
    address = f"127.0.0.1:{running.port}"
    try:
        with Client(address) as default, Client(address, namespace="default") as named:
            assert default.get_article("old-1").text == named.get_article("old-1").text
        with Client(address, namespace="n1") as n1:
            n1.create_article("new-1", seed_drafts()[1].text)
        assert (data / "namespaces" / "n1" / "wiretrace.sqlite3").is_file()
    finally:
        running.stop(0)


def test_namespaces_share_the_analysis_workers(tmp_path: Path) -> None:
    running = _start(StorageSettings(data_dir=tmp_path / "data"), analysis_workers=1)
    try:
        pool = running.engine.analysis_pool
        assert pool is not None and running.engines.engine("n1", create=True).analysis_pool is pool
        with Client(f"127.0.0.1:{running.port}", namespace="n1") as n1:
            items = list(n1.ingest_many([]))
            assert items == []
            assert n1.create_article("x1", seed_drafts()[0].text).outcome == "created"
    finally:
        running.stop(0)
