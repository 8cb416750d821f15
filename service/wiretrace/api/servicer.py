"""The gRPC servicer: request -> domain call -> response, nothing else.

Domain errors become canonical status codes (see :mod:`wiretrace.api.errors`);
an unexpected exception becomes INTERNAL with a log line, and the server goes on.
"""

from __future__ import annotations

import functools
import logging
import math
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc

from wiretrace.api import convert, metrics
from wiretrace.api.errors import abort, status_code_of
from wiretrace.api.namespaces import call_namespace, relative_name
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.errors import InvalidArgument, WiretraceError
from wiretrace.core.model import IngestResult
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")
Handler = Callable[[Any, Request, grpc.ServicerContext], Response]

# Requests of one stream ingested (and committed) together at most.
STREAM_BATCH = 64
# Longest time between two looks at the open streams (stalled writes, idle streams, a closed
# stream's reader), in seconds.
WATCH_INTERVAL = 0.5


def _rpc(handler: Handler[Request, Response]) -> Handler[Request, Response]:
    """Maps domain errors to statuses and keeps the server up on anything else."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, context: grpc.ServicerContext) -> Response:
        try:
            return handler(self, request, context)
        except WiretraceError as error:
            abort(context, status_code_of(error), error.reason, error.message)
        except Exception:
            log.exception("unexpected error in %s", handler.__name__)
            abort(context, grpc.StatusCode.INTERNAL, "INTERNAL", "internal error; see the server log")
        raise AssertionError("unreachable: abort raises")

    return wrapper


@dataclass(eq=False, slots=True)
class _Slot:
    """One admitted ingest stream: its call, its client connection, and since when gRPC has not
    taken its last response (None while the stream is not handing one over)."""

    context: grpc.ServicerContext
    connection: str
    waiting_since: float | None = None
    ended: bool = False


def _cancel_with_status(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> None:
    """Ends a call whose handler is blocked in gRPC's send, from another thread, with ``code``.

    ``abort`` cannot: it raises in the calling thread, and a status sent the normal way waits behind
    the response that flow control holds back. Cancelling the call with a status writes the
    trailers and RST_STREAM at once (they are not flow-controlled); the client reads the responses
    it already holds, then the status. It carries no ErrorInfo (core takes a code and a message only).
    """
    context.set_code(code)  # for the access log and metrics
    context.set_details(message)
    call: Any = getattr(getattr(context, "_rpc_event", None), "call", None)
    try:
        call.cancel(code.value[0], message)
    except (AttributeError, TypeError):  # not grpc's own context: a plain cancel (CANCELLED) still frees it
        context.cancel()  # type: ignore[no-untyped-call]


class _StreamSlots:
    """Admission of ingest streams: at most ``limit`` open, at most ``per_connection`` of them from
    one client connection (gRPC peer), so that one client cannot take every slot. Each open stream
    holds a server thread: capped below the pool, health checks and unary calls always find one.

    A watchdog thread (running while streams are open) ends a stream whose last response gRPC has
    not taken for ``write_timeout`` seconds: its client does not read, HTTP/2 flow control holds
    the response back and the stream's thread would wait for it forever.
    """

    def __init__(self, limit: int, per_connection: int, write_timeout: float) -> None:
        self.limit = limit
        self.per_connection = max(1, min(per_connection or limit, limit))
        self.write_timeout = write_timeout
        self._lock = threading.Lock()
        self._open: set[_Slot] = set()
        self._by_connection: Counter[str] = Counter()
        self._last_refused = -math.inf
        self._watching = False

    def admit(self, context: grpc.ServicerContext) -> _Slot | str:
        """A slot for the stream, or why it is refused."""
        connection = context.peer()
        with self._lock:
            if len(self._open) >= self.limit:
                self._last_refused = time.monotonic()
                return f"this server takes {self.limit} ingest streams at once; retry later or use another replica"
            held = self._by_connection[connection]
            if held >= self.per_connection:
                return (
                    f"this connection already holds {held} ingest streams, the most one connection may hold "
                    f"({self.per_connection} of the server's {self.limit}); retry once one has ended"
                )
            slot = _Slot(context, connection)
            self._open.add(slot)
            self._by_connection[connection] += 1
            if not self._watching:
                self._watching = True
                threading.Thread(target=self._watch, name="ingest-stream-watchdog", daemon=True).start()
            return slot

    def release(self, slot: _Slot) -> None:
        with self._lock:
            if slot in self._open:
                self._open.remove(slot)
                self._by_connection[slot.connection] -= 1
                if not self._by_connection[slot.connection]:
                    del self._by_connection[slot.connection]

    def contended(self, now: float) -> bool:
        """Whether a stream was refused for want of a slot in the last ``write_timeout`` seconds."""
        return now - self._last_refused < self.write_timeout

    def _watch(self) -> None:
        interval = min(WATCH_INTERVAL, self.write_timeout / 4)
        while True:
            time.sleep(interval)
            now = time.monotonic()
            with self._lock:
                if not self._open:
                    self._watching = False
                    return
                stalled = [
                    slot
                    for slot in self._open
                    if not slot.ended
                    and slot.waiting_since is not None
                    and now - slot.waiting_since >= self.write_timeout
                ]
                for slot in stalled:
                    slot.ended = True
            for slot in stalled:
                self._end_unread(slot)

    def _end_unread(self, slot: _Slot) -> None:
        message = (
            f"responses were not read for {self.write_timeout:g} s (STREAM_NOT_READ): the stream was ended to free "
            "its slot; every article answered is stored, and an article without an answer may be stored too: "
            "re-send those (a stored one comes back UNCHANGED)"
        )
        log.warning(
            "ingest stream from %s ended: its responses were not read for %g s", slot.connection, self.write_timeout
        )
        metrics.STREAM_LIMITS.labels("STREAM_NOT_READ").inc()
        _cancel_with_status(slot.context, grpc.StatusCode.RESOURCE_EXHAUSTED, message)


@dataclass(frozen=True, slots=True)
class _PreparedBatch:
    """Stream messages with their requests (or the error that rejected each) and the pending analysis."""

    messages: list[pb.IngestArticlesRequest]
    first_index: int
    requests: list[IngestRequest | WiretraceError]
    analysed: Future[list[IngestRequest | WiretraceError]]


class Engines(Protocol):
    """The engine of each namespace (``wiretrace.bootstrap.NamespaceEngines``)."""

    def engine(self, namespace: str, *, create: bool = False) -> Wiretrace: ...


class WiretraceServicer(pb_grpc.WiretraceServiceServicer):
    def __init__(
        self,
        engines: Engines,
        *,
        stream_batch: int = STREAM_BATCH,
        max_stream_rate: float = 0.0,
        max_streams: int = 8,
        stream_idle_seconds: float = 120.0,
        stream_write_timeout: float = 10.0,
        max_streams_per_connection: int = 0,
        max_message_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        """``max_streams_per_connection``: 0 = no limit per connection beyond ``max_streams``."""
        self.engines = engines
        self.stream_batch = stream_batch
        self.max_stream_rate = max_stream_rate
        self.max_streams = max_streams
        self.stream_idle_seconds = stream_idle_seconds
        self.stream_write_timeout = stream_write_timeout
        self.max_message_bytes = max_message_bytes
        self._streams = _StreamSlots(max_streams, max_streams_per_connection, stream_write_timeout)

    def _engine_of(self, context: grpc.ServicerContext, *, create: bool = False) -> tuple[Wiretrace, str]:
        """The engine of the call's namespace, and that namespace (see wiretrace.api.namespaces);
        only a call that ingests (``create``) brings a new namespace into being."""
        namespace = call_namespace(context.invocation_metadata())
        return self.engines.engine(namespace, create=create), namespace

    def _count(self, results: Iterable[IngestResult | Exception]) -> None:
        for result in results:
            if isinstance(result, IngestResult):
                metrics.INGESTS.labels(result.outcome.value).inc()
                for match in result.matches:
                    metrics.MATCHES.labels(match.kind.value).inc()
            else:
                metrics.REJECTIONS.labels(getattr(result, "reason", "UNKNOWN")).inc()

    @_rpc
    def CreateArticle(
        self, request: pb.CreateArticleRequest, context: grpc.ServicerContext
    ) -> pb.CreateArticleResponse:
        engine, _ = self._engine_of(context, create=True)
        try:
            result = engine.ingest(
                convert.draft_from_request(request),
                replace_existing=request.replace_existing,
                report_filter=convert.match_filter(request.filter),
            )
        except WiretraceError as error:
            self._count([error])
            raise
        self._count([result])
        return convert.ingest_response(result)

    def IngestArticles(
        self, request_iterator: Iterator[pb.IngestArticlesRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.IngestArticlesResponse]:
        admitted = self._streams.admit(context)
        if isinstance(admitted, str):
            metrics.STREAM_LIMITS.labels("TOO_MANY_STREAMS").inc()
            abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS", admitted)
            return
        slot = admitted
        try:
            try:
                engine, _ = self._engine_of(context, create=True)
            except WiretraceError as error:
                abort(context, status_code_of(error), error.reason, error.message)
                return
            for response in self._ingest_stream(engine, request_iterator, context):
                # gRPC advances this generator only once it has taken the response: until then the
                # watchdog counts the stream as waiting on its client.
                slot.waiting_since = time.monotonic()
                yield response
                slot.waiting_since = None
        finally:
            self._streams.release(slot)

    def _ingest_stream(
        self,
        engine: Wiretrace,
        request_iterator: Iterator[pb.IngestArticlesRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[pb.IngestArticlesResponse]:
        """Reads ahead on a thread so that whatever has arrived is ingested as one batch."""
        pending: queue.Queue[pb.IngestArticlesRequest | BaseException | None] = queue.Queue(self.stream_batch * 2)
        closed = threading.Event()

        interval = 1.0 / self.max_stream_rate if self.max_stream_rate > 0 else 0.0

        def put(item: pb.IngestArticlesRequest | BaseException | None) -> bool:
            """Waits for room in the read-ahead queue, unless the stream has ended (nobody reads it then)."""
            while not closed.is_set():
                try:
                    pending.put(item, timeout=WATCH_INTERVAL)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            next_allowed = time.monotonic()
            try:
                for message in request_iterator:
                    if interval:  # a sender over the rate limit is slowed down, not failed
                        now = time.monotonic()
                        if next_allowed > now:
                            time.sleep(next_allowed - now)
                        next_allowed = max(next_allowed, now) + interval
                    if not put(message):
                        return
            except BaseException as error:  # the client went away or cancelled, or the stream was ended
                put(error)
                return
            put(None)

        threading.Thread(target=read, name="ingest-stream-reader", daemon=True).start()
        # Two-stage pipeline: while one batch is being stored, the next is analysed (in the
        # engine's analysis workers, when it has them).
        in_flight: deque[_PreparedBatch] = deque()
        index = 0
        finished = False
        try:
            while not finished or in_flight:
                if not finished:
                    batch, finished = self._next_batch(pending, wait=not in_flight, context=context)
                    if batch:
                        in_flight.append(self._prepare(engine, batch, index))
                        index += len(batch)
                if in_flight and (finished or len(in_flight) > 1 or pending.empty()):
                    yield from self._ingest_prepared(engine, in_flight.popleft(), context)
        finally:
            closed.set()  # however the stream ends, its reader stops (a batch read ahead is never stored)

    def _next_batch(
        self,
        pending: queue.Queue[pb.IngestArticlesRequest | BaseException | None],
        *,
        wait: bool,
        context: grpc.ServicerContext,
    ) -> tuple[list[pb.IngestArticlesRequest], bool]:
        """What has arrived, up to a batch (waiting for a first message if ``wait``), and whether the stream ended."""
        batch: list[pb.IngestArticlesRequest] = []
        while len(batch) < self.stream_batch:
            if wait and not batch:
                item = self._first_message(pending, context)
            else:
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    break
            if item is None or isinstance(item, BaseException):
                return batch, True
            batch.append(item)
        return batch, False

    def _first_message(
        self, pending: queue.Queue[pb.IngestArticlesRequest | BaseException | None], context: grpc.ServicerContext
    ) -> pb.IngestArticlesRequest | BaseException | None:
        """The next message, once every response so far was handed to gRPC. A stream that sends
        nothing for ``stream_idle_seconds`` is ended; while other streams are refused a slot, one that
        sends nothing for ``stream_write_timeout`` is ended too (an idle stream keeps its slot for
        long only while nobody else needs it)."""
        since = time.monotonic()
        while True:
            now = time.monotonic()
            contended = self._streams.contended(now) and self.stream_write_timeout < self.stream_idle_seconds
            limit = self.stream_write_timeout if contended else self.stream_idle_seconds
            left = since + limit - now
            if left <= 0:
                if contended:
                    message = (
                        f"the stream sent nothing for {limit:g} s while other streams were refused a slot, and was "
                        "ended to free its slot; every article answered is stored"
                    )
                    log.warning(
                        "ingest stream from %s ended: idle for %g s while streams were refused", context.peer(), limit
                    )
                else:
                    message = f"the stream sent nothing for {self.stream_idle_seconds:g} s and was ended"
                metrics.STREAM_LIMITS.labels("STREAM_IDLE").inc()
                abort(context, grpc.StatusCode.DEADLINE_EXCEEDED, "STREAM_IDLE", message)
                raise AssertionError("unreachable: abort raises")
            try:
                return pending.get(timeout=min(left, WATCH_INTERVAL))
            except queue.Empty:
                continue

    def _prepare(self, engine: Wiretrace, batch: list[pb.IngestArticlesRequest], first_index: int) -> _PreparedBatch:
        requests: list[IngestRequest | WiretraceError] = []
        for message in batch:
            try:
                requests.append(
                    IngestRequest(
                        convert.draft_from_request(message.article),
                        message.article.replace_existing,
                        report_filter=convert.match_filter(message.article.filter),
                    )
                )
            except WiretraceError as error:
                requests.append(error)
        analysed = engine.prepare([r for r in requests if isinstance(r, IngestRequest)])
        return _PreparedBatch(batch, first_index, requests, analysed)

    def _ingest_prepared(
        self, engine: Wiretrace, prepared: _PreparedBatch, context: grpc.ServicerContext
    ) -> Iterator[pb.IngestArticlesResponse]:
        try:
            analysed = iter(prepared.analysed.result())
            requests = [r if isinstance(r, WiretraceError) else next(analysed) for r in prepared.requests]
            valid = [r for r in requests if isinstance(r, IngestRequest)]
            outcomes = iter(engine.ingest_batch(valid))
        except WiretraceError as error:
            abort(context, status_code_of(error), error.reason, error.message)
            return
        except Exception:
            log.exception("unexpected error in IngestArticles")
            abort(context, grpc.StatusCode.INTERNAL, "INTERNAL", "internal error; see the server log")
            return
        results = [r if isinstance(r, WiretraceError) else next(outcomes) for r in requests]
        self._count(results)
        for offset, (message, result) in enumerate(zip(prepared.messages, results, strict=True)):
            response = pb.IngestArticlesResponse(
                index=prepared.first_index + offset, article_id=message.article.article_id
            )
            if isinstance(result, IngestResult):
                response.result.CopyFrom(convert.ingest_response(result))
            else:
                rejection = result if isinstance(result, WiretraceError) else WiretraceError(str(result))
                response.error.CopyFrom(
                    pb.IngestError(
                        code=status_code_of(rejection).value[0], reason=rejection.reason, message=rejection.message
                    )
                )
            yield response

    @_rpc
    def GetArticle(self, request: pb.GetArticleRequest, context: grpc.ServicerContext) -> pb.GetArticleResponse:
        engine, namespace = self._engine_of(context)
        article = engine.get(convert.parse_name(relative_name(request.name, namespace), convert.ARTICLES))
        return pb.GetArticleResponse(article=convert.article_message(article))

    @_rpc
    def ListArticles(self, request: pb.ListArticlesRequest, context: grpc.ServicerContext) -> pb.ListArticlesResponse:
        # Texts take up to 4 bytes a character: a page with texts stays within a quarter of the limit.
        budget = None if request.omit_text else self.max_message_bytes // 16
        engine, _ = self._engine_of(context)
        page = engine.list_articles(request.page_size, request.page_token, text_budget=budget)
        return pb.ListArticlesResponse(
            articles=[convert.article_message(a, with_text=not request.omit_text) for a in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    @_rpc
    def DeleteArticle(
        self, request: pb.DeleteArticleRequest, context: grpc.ServicerContext
    ) -> pb.DeleteArticleResponse:
        engine, namespace = self._engine_of(context)
        engine.delete(convert.parse_name(relative_name(request.name, namespace), convert.ARTICLES))
        return pb.DeleteArticleResponse()

    @_rpc
    def FindMatches(self, request: pb.FindMatchesRequest, context: grpc.ServicerContext) -> pb.FindMatchesResponse:
        engine, namespace = self._engine_of(context)
        query = request.WhichOneof("query")
        if query is None:
            raise InvalidArgument("set either article or text")
        metrics.QUERIES.labels(query).inc()
        match_filter = convert.match_filter(request.filter)
        if query == "article":
            article = relative_name(request.article, namespace, "article")
            article_id = convert.parse_name(article, convert.ARTICLES, "article")
            report = engine.find_matches(
                article_id=article_id, max_matches=request.max_matches, match_filter=match_filter
            )
        else:
            report = engine.find_matches(text=request.text, max_matches=request.max_matches, match_filter=match_filter)
        return convert.find_matches_response(report)

    @_rpc
    def GetCluster(self, request: pb.GetClusterRequest, context: grpc.ServicerContext) -> pb.GetClusterResponse:
        engine, namespace = self._engine_of(context)
        name = relative_name(request.name, namespace)
        if name.startswith(convert.ARTICLES):
            article_id = convert.parse_name(name, convert.ARTICLES)
            cluster = engine.cluster_of(article_id, request.page_size, request.page_token)
        else:
            cluster_id = convert.parse_name(name, convert.CLUSTERS)
            cluster = engine.cluster(cluster_id, request.page_size, request.page_token)
        return pb.GetClusterResponse(cluster=convert.cluster_message(cluster), next_page_token=cluster.next_page_token)

    @_rpc
    def ListClusters(self, request: pb.ListClustersRequest, context: grpc.ServicerContext) -> pb.ListClustersResponse:
        engine, namespace = self._engine_of(context)
        if request.article:
            article = relative_name(request.article, namespace, "article")
            summaries = engine.clusters_of(convert.parse_name(article, convert.ARTICLES, "article"))
            return pb.ListClustersResponse(clusters=[convert.summary_message(s) for s in summaries])
        page = engine.list_clusters(request.page_size, request.page_token)
        return pb.ListClustersResponse(
            clusters=[convert.summary_message(s) for s in page.items], next_page_token=page.next_page_token
        )

    @_rpc
    def GetStats(self, request: pb.GetStatsRequest, context: grpc.ServicerContext) -> pb.GetStatsResponse:
        engine, _ = self._engine_of(context)
        return convert.stats_message(engine.stats())

    @_rpc
    def PruneArticles(
        self, request: pb.PruneArticlesRequest, context: grpc.ServicerContext
    ) -> pb.PruneArticlesResponse:
        if not request.HasField("before_time"):
            raise InvalidArgument("before_time is required: articles that appeared before it are deleted")
        before = convert.from_timestamp(request.before_time, "before_time")
        engine, _ = self._engine_of(context)
        result = engine.prune(before, request.page_size, request.page_token)
        return pb.PruneArticlesResponse(deleted_count=len(result.deleted), next_page_token=result.next_page_token)
