"""Issue 12 item 2 against a real server process: ingest streams whose client never reads its
answers, or holds a slot and sends nothing, cannot keep the stream slots from the others.

A stream whose responses gRPC cannot hand over for ``--stream-write-timeout`` seconds (HTTP/2 flow
control holds them back) is ended with RESOURCE_EXHAUSTED; while streams are being refused, one
that sends nothing that long is ended with DEADLINE_EXCEEDED. Health answers throughout.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from processes import ServerProcess
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc
from wiretrace_client import ArticleInput, Client, WiretraceError

SLOTS = 2
WRITE_TIMEOUT = 2.0
# A good stream gets a slot within the timeout plus this (filling the client's flow-control window
# with unread answers takes about a second; the machine is shared).
MARGIN = 15.0
WORDS = "council budget bridge river harbour minister police capital market grain harvest".split()


def _text(stream: int, i: int) -> str:
    """Near-copies of one 40-sentence text: each answer carries 20 matches, about 130 KB."""
    sentences = [
        f"The {WORDS[j % 11]} report number {j} said the {WORDS[j * 3 % 11]} committee approved the "
        f"{WORDS[j * 7 % 11]} plan on Monday."
        for j in range(40)
    ]
    sentences[i % 40] = f"Edition {stream} {i} changed this one sentence about nothing in particular today."
    return " ".join(sentences)


def _own_connection(address: str) -> grpc.Channel:
    """A channel on a TCP connection of its own (channels of one process share them by default)."""
    return grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])


class _Watch:
    """Health checks and a unary call every 200 ms on a connection of their own."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.answers: list[int] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with _own_connection(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            stub = pb_grpc.WiretraceServiceStub(channel)
            while not self._stop.wait(0.2):
                try:
                    self.answers.append(health.Check(health_pb2.HealthCheckRequest(), timeout=2).status)
                    stub.GetStats(pb.GetStatsRequest(), timeout=5)
                except grpc.RpcError as error:
                    self.failures.append(f"{error.code().name}: {error.details()}")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def _good_ingest(address: str, article_id: str, started: float) -> float:
    """One article over a stream, retried while the server refuses with TOO_MANY_STREAMS; the
    seconds it took to get a slot and the answer."""
    with Client(address, timeout=30) as client:
        while time.monotonic() - started < WRITE_TIMEOUT + MARGIN:
            try:
                (item,) = client.ingest_many([ArticleInput(article_id, "A good writer's own short text. " * 8)])
            except WiretraceError as error:
                assert error.reason == "TOO_MANY_STREAMS", error
                time.sleep(0.2)
                continue
            assert item.error is None and item.result is not None
            return time.monotonic() - started
    raise AssertionError(f"no stream slot for a good writer in {WRITE_TIMEOUT + MARGIN:g} s")


def _wait_logged(server: ServerProcess, text: str, count: int, timeout: float = 30) -> None:
    """Until the server's log says ``text`` ``count`` times: a client that does not read cannot
    tell that its stream was ended, and one that reads a stream still open keeps it going."""
    deadline = time.monotonic() + timeout
    while server.log.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged {count} times in {timeout:g} s:\n{server.log.read_text()}")
        time.sleep(0.2)


def _drain(call: grpc.Call) -> tuple[list[pb.IngestArticlesResponse], grpc.RpcError | None]:
    """What a stream's client finally reads: the answers gRPC holds for it, then the status."""
    answers: list[pb.IngestArticlesResponse] = []
    try:
        for response in call:  # type: ignore[attr-defined]
            answers.append(response)
    except grpc.RpcError as error:
        return answers, error
    return answers, None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("fairness") / "data"
    with ServerProcess(
        data,
        "--workers",
        "4",
        "--max-streams",
        str(SLOTS),
        "--stream-write-timeout",
        str(WRITE_TIMEOUT),
        "--stream-idle-seconds",
        "120",
        "--analysis-workers",
        "0",
    ) as running:
        yield running


@pytest.mark.e2e
def test_streams_that_never_read_are_ended_and_a_good_stream_gets_a_slot(server: ServerProcess) -> None:
    stop = threading.Event()
    sent: dict[int, list[str]] = {k: [] for k in range(SLOTS + 1)}

    def sending(k: int) -> Iterator[pb.IngestArticlesRequest]:
        for i in itertools.count():
            if stop.is_set():
                return
            article_id = f"unread-{k}-{i}"
            sent[k].append(article_id)
            yield pb.IngestArticlesRequest(
                article=pb.CreateArticleRequest(article_id=article_id, article=pb.Article(text=_text(k, i)))
            )
            time.sleep(0.01)

    channels = [_own_connection(server.address) for _ in range(SLOTS + 1)]
    watch = _Watch(server.address)
    try:
        started = time.monotonic()
        calls = [pb_grpc.WiretraceServiceStub(c).IngestArticles(sending(k)) for k, c in enumerate(channels)]
        time.sleep(0.5)
        took = _good_ingest(server.address, "good-1", started)
        assert took < WRITE_TIMEOUT + MARGIN
        watch.stop()
        assert not watch.failures
        assert watch.answers and set(watch.answers) == {health_pb2.HealthCheckResponse.SERVING}
        _wait_logged(server, "its responses were not read", SLOTS)
        stop.set()  # a stream that was not ended would now end normally once read

        ended = 0
        with Client(server.address) as client:
            for k, call in enumerate(calls):
                answers, error = _drain(call)
                assert error is not None
                if error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and "not read" in (error.details() or ""):
                    ended += 1
                    assert f"responses were not read for {WRITE_TIMEOUT:g} s" in (error.details() or "")
                    assert answers, "a stalled stream had its first answers handed over before it stalled"
                    # Every answered article is stored; one that was sent but not answered, re-sent,
                    # is stored now (CREATED or UNCHANGED), never refused.
                    for answer in answers:
                        assert answer.result.article.name == f"articles/{answer.article_id}"
                        assert client.get_article(answer.article_id).article_id == answer.article_id
                    unanswered = sent[k][len(answers)]
                    again = client.create_article(unanswered, _text(k, len(answers)))
                    assert again.outcome in ("created", "unchanged")
                else:
                    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, error
                    assert "ingest streams at once" in (error.details() or "")
        assert ended == SLOTS  # both admitted streams were ended; the third was refused at once
    finally:
        stop.set()
        watch.stop()
        for channel in channels:
            channel.close()


@pytest.mark.e2e
def test_idle_streams_give_up_their_slots_while_others_are_refused(server: ServerProcess) -> None:
    stop = threading.Event()

    def one_then_silent(k: int) -> Iterator[pb.IngestArticlesRequest]:
        yield pb.IngestArticlesRequest(
            article=pb.CreateArticleRequest(article_id=f"silent-{k}", article=pb.Article(text=_text(100 + k, 0)))
        )
        stop.wait(60)  # then nothing, and the stream stays open

    channels = [_own_connection(server.address) for _ in range(SLOTS)]
    watch = _Watch(server.address)
    try:
        started = time.monotonic()
        calls = [pb_grpc.WiretraceServiceStub(c).IngestArticles(one_then_silent(k)) for k, c in enumerate(channels)]
        time.sleep(0.5)
        took = _good_ingest(server.address, "good-2", started)
        assert took < WRITE_TIMEOUT + MARGIN  # not the 120 s of --stream-idle-seconds
        watch.stop()
        assert not watch.failures
        _wait_logged(server, "idle for 2 s while streams were refused", SLOTS)
        stop.set()
        for call in calls:
            answers, error = _drain(call)
            assert [a.article_id for a in answers] == [answers[0].article_id] and answers[0].HasField("result")
            assert error is not None and error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "while other streams were refused a slot" in (error.details() or "")
    finally:
        stop.set()
        watch.stop()
        for channel in channels:
            channel.close()
