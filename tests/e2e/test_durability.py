"""Restart and crash: what the server acknowledged is there after a restart, even after kill -9."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from processes import ServerProcess
from wiretrace.api.convert import timestamp
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from seeds import seed_drafts


def _request(article_id: str, text: str) -> pb.CreateArticleRequest:
    return pb.CreateArticleRequest(article_id=article_id, article=pb.Article(text=text))


def _snapshot(stub: pb_grpc.WiretraceServiceStub) -> dict[str, tuple[str, tuple[str, ...]]]:
    """article -> (content hash, sorted matched articles)."""
    state = {}
    token = ""
    while True:
        page = stub.ListArticles(pb.ListArticlesRequest(page_size=500, page_token=token, omit_text=True))
        for article in page.articles:
            matches = stub.FindMatches(pb.FindMatchesRequest(article=article.name, max_matches=1000)).matches
            state[article.name] = (article.content_sha256, tuple(sorted(m.article for m in matches)))
        token = page.next_page_token
        if not token:
            return state


def test_restart_keeps_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server, grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        for draft in seed_drafts():
            stub.CreateArticle(
                pb.CreateArticleRequest(
                    article_id=draft.article_id,
                    article=pb.Article(text=draft.text, publish_time=timestamp(draft.publish_time)),
                )
            )
        before = _snapshot(stub)
        cluster_before = stub.GetCluster(pb.GetClusterRequest(name="articles/003")).cluster
        assert server.terminate() == 0
    with ServerProcess(data) as server, grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        assert _snapshot(stub) == before
        assert stub.GetCluster(pb.GetClusterRequest(name="articles/003")).cluster == cluster_before


def test_kill_9_loses_no_acknowledged_ingest(tmp_path: Path) -> None:
    """Stream articles, kill -9 while the stream is busy: every acknowledged article survives whole."""
    data = tmp_path / "data"
    seeds = seed_drafts()
    acknowledged: list[str] = []
    ready = threading.Event()

    def requests() -> Iterator[pb.IngestArticlesRequest]:
        for number in range(100_000):
            seed = seeds[number % len(seeds)]
            yield pb.IngestArticlesRequest(article=_request(f"a{number}", f"Copy {number}. {seed.text}"))

    with ServerProcess(data) as server, grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        try:
            for response in stub.IngestArticles(requests()):
                assert not response.HasField("error"), response.error
                acknowledged.append(response.article_id)
                if len(acknowledged) == 40:
                    ready.set()
                    server.kill()
        except grpc.RpcError as error:
            assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN)
    assert ready.is_set() and len(acknowledged) >= 40
    with ServerProcess(data) as server, grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        for article_id in acknowledged:
            article = stub.GetArticle(pb.GetArticleRequest(name=f"articles/{article_id}")).article
            assert article.text.startswith(f"Copy {article_id[1:]}.")
        stored = _snapshot(stub)
        # Nothing half-indexed: every stored article (acknowledged or not) matches its copies.
        for name, (_, matched) in stored.items():
            assert matched, f"{name} is stored but not indexed"
        assert stub.GetStats(pb.GetStatsRequest()).articles == len(stored) >= len(acknowledged)


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_analysis_workers_leave_with_a_killed_server(tmp_path: Path) -> None:
    """kill -9 runs no shutdown: the worker processes must notice on their own, or they wait forever."""
    with ServerProcess(tmp_path / "data", "--analysis-workers", "1") as server:
        with grpc.insecure_channel(server.address) as channel:  # the pool starts its worker on first use
            stub = pb_grpc.WiretraceServiceStub(channel)
            request = pb.IngestArticlesRequest(article=_request("w", seed_drafts()[0].text))
            assert not next(iter(stub.IngestArticles(iter([request])))).HasField("error")
        helpers = [
            pid
            for pid in _children(server.process.pid)
            if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert any(b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in helpers)
        server.kill()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in helpers)
