"""Issue 12 item 7: a committed ingest is never reported as failed because its answer is too
large, and a page of long articles fits in a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.settings import IndexSettings
from wiretrace.server import RunningServer, create_server
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

LIMIT = 1024 * 1024  # the server's message limit in this test
LONG = " ".join(f"Sentence {n} of a long report on the harbour, its cranes and its {n} workers." for n in range(4000))


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[RunningServer]:
    settings = ServerSettings(
        listen="127.0.0.1:0",
        storage=StorageSettings(data_dir=tmp_path / "d"),
        max_message_bytes=LIMIT,
        index=IndexSettings(max_text_chars=400_000),
    )
    running = create_server(settings)
    yield running
    running.stop(0)


def test_near_duplicates_of_a_long_text_get_small_answers(small_limit: RunningServer) -> None:
    assert len(LONG) > 300_000
    options = [("grpc.max_receive_message_length", 64 * LIMIT), ("grpc.max_send_message_length", 64 * LIMIT)]
    with grpc.insecure_channel(f"127.0.0.1:{small_limit.port}", options=options) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        for number in range(5):
            text = LONG.replace("harbour", f"harbour number {number}", 1)
            request = pb.CreateArticleRequest(article_id=f"copy{number}", article=pb.Article(text=text))
            response = stub.CreateArticle(request, timeout=120)  # the fifth carries four near-duplicates
            # The answer is the article itself (as sent) plus a bounded rest, whatever it matched.
            assert response.ByteSize() < len(text.encode()) + 64 * 1024
        (match, *_) = response.matches
        passage = max(match.passages, key=lambda p: p.query_end - p.query_start)
        assert passage.texts_cut and len(passage.query_text) == 2000
        assert passage.query_end - passage.query_start > 2000  # the offsets cover the whole passage
        page = stub.ListArticles(pb.ListArticlesRequest(page_size=20))
        assert 1 <= len(page.articles) < 5 and page.next_page_token and page.ByteSize() < LIMIT
        names = [a.name for a in page.articles]
        while page.next_page_token:
            page = stub.ListArticles(pb.ListArticlesRequest(page_size=20, page_token=page.next_page_token))
            names += [a.name for a in page.articles]
        assert names == [f"articles/copy{n}" for n in range(5)]
