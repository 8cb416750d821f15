"""The gRPC servicer: request -> domain call -> response, nothing else.

Domain errors become canonical status codes (see :mod:`wiretrace.api.errors`);
an unexpected exception becomes INTERNAL with a log line, and the server goes on.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from wiretrace.api import convert, metrics
from wiretrace.api.errors import abort, status_code_of
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


@dataclass(frozen=True, slots=True)
class _PreparedBatch:
    """Stream messages with their requests (or the error that rejected each) and the pending analysis."""

    messages: list[pb.IngestArticlesRequest]
    first_index: int
    requests: list[IngestRequest | WiretraceError]
    analysed: Future[list[IngestRequest | WiretraceError]]


class WiretraceServicer(pb_grpc.WiretraceServiceServicer):
    def __init__(
        self,
        engine: Wiretrace,
        *,
        stream_batch: int = STREAM_BATCH,
        max_stream_rate: float = 0.0,
        max_streams: int = 8,
        stream_idle_seconds: float = 120.0,
        max_message_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.engine = engine
        self.stream_batch = stream_batch
        self.max_stream_rate = max_stream_rate
        self.max_streams = max_streams
        self.stream_idle_seconds = stream_idle_seconds
        self.max_message_bytes = max_message_bytes
        # Each open stream holds a server thread: capped below the pool, so that health checks and
        # unary calls always find one whatever clients do.
        self._streams = threading.BoundedSemaphore(max_streams)

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
        try:
            result = self.engine.ingest(convert.draft_from_request(request), replace_existing=request.replace_existing)
        except WiretraceError as error:
            self._count([error])
            raise
        self._count([result])
        return convert.ingest_response(result)

    def IngestArticles(
        self, request_iterator: Iterator[pb.IngestArticlesRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.IngestArticlesResponse]:
        if not self._streams.acquire(blocking=False):
            abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "TOO_MANY_STREAMS",
                f"this server takes {self.max_streams} ingest streams at once; retry later or use another replica",
            )
        try:
            yield from self._ingest_stream(request_iterator, context)
        finally:
            self._streams.release()

    def _ingest_stream(
        self, request_iterator: Iterator[pb.IngestArticlesRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.IngestArticlesResponse]:
        """Reads ahead on a thread so that whatever has arrived is ingested as one batch."""
        pending: queue.Queue[pb.IngestArticlesRequest | BaseException | None] = queue.Queue(self.stream_batch * 2)

        interval = 1.0 / self.max_stream_rate if self.max_stream_rate > 0 else 0.0

        def read() -> None:
            next_allowed = time.monotonic()
            try:
                for message in request_iterator:
                    if interval:  # a sender over the rate limit is slowed down, not failed
                        now = time.monotonic()
                        if next_allowed > now:
                            time.sleep(next_allowed - now)
                        next_allowed = max(next_allowed, now) + interval
                    pending.put(message)
            except BaseException as error:  # the client went away or cancelled
                pending.put(error)
                return
            pending.put(None)

        threading.Thread(target=read, name="ingest-stream-reader", daemon=True).start()
        # Two-stage pipeline: while one batch is being stored, the next is analysed (in the
        # engine's analysis workers, when it has them).
        in_flight: deque[_PreparedBatch] = deque()
        index = 0
        finished = False
        while not finished or in_flight:
            if not finished:
                batch, finished = self._next_batch(pending, wait=not in_flight, context=context)
                if batch:
                    in_flight.append(self._prepare(batch, index))
                    index += len(batch)
            if in_flight and (finished or len(in_flight) > 1 or pending.empty()):
                yield from self._ingest_prepared(in_flight.popleft(), context)

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
            try:
                item = pending.get(timeout=self.stream_idle_seconds) if wait and not batch else pending.get_nowait()
            except queue.Empty:
                if wait and not batch:
                    abort(
                        context,
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        "STREAM_IDLE",
                        f"the stream sent nothing for {self.stream_idle_seconds:g} s and was ended",
                    )
                break
            if item is None or isinstance(item, BaseException):
                return batch, True
            batch.append(item)
        return batch, False

    def _prepare(self, batch: list[pb.IngestArticlesRequest], first_index: int) -> _PreparedBatch:
        requests: list[IngestRequest | WiretraceError] = []
        for message in batch:
            try:
                requests.append(
                    IngestRequest(convert.draft_from_request(message.article), message.article.replace_existing)
                )
            except WiretraceError as error:
                requests.append(error)
        analysed = self.engine.prepare([r for r in requests if isinstance(r, IngestRequest)])
        return _PreparedBatch(batch, first_index, requests, analysed)

    def _ingest_prepared(
        self, prepared: _PreparedBatch, context: grpc.ServicerContext
    ) -> Iterator[pb.IngestArticlesResponse]:
        try:
            analysed = iter(prepared.analysed.result())
            requests = [r if isinstance(r, WiretraceError) else next(analysed) for r in prepared.requests]
            valid = [r for r in requests if isinstance(r, IngestRequest)]
            outcomes = iter(self.engine.ingest_batch(valid))
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
        article = self.engine.get(convert.parse_name(request.name, convert.ARTICLES))
        return pb.GetArticleResponse(article=convert.article_message(article))

    @_rpc
    def ListArticles(self, request: pb.ListArticlesRequest, context: grpc.ServicerContext) -> pb.ListArticlesResponse:
        # Texts take up to 4 bytes a character: a page with texts stays within a quarter of the limit.
        budget = None if request.omit_text else self.max_message_bytes // 16
        page = self.engine.list_articles(request.page_size, request.page_token, text_budget=budget)
        return pb.ListArticlesResponse(
            articles=[convert.article_message(a, with_text=not request.omit_text) for a in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    @_rpc
    def DeleteArticle(
        self, request: pb.DeleteArticleRequest, context: grpc.ServicerContext
    ) -> pb.DeleteArticleResponse:
        self.engine.delete(convert.parse_name(request.name, convert.ARTICLES))
        return pb.DeleteArticleResponse()

    @_rpc
    def FindMatches(self, request: pb.FindMatchesRequest, context: grpc.ServicerContext) -> pb.FindMatchesResponse:
        query = request.WhichOneof("query")
        if query is None:
            raise InvalidArgument("set either article or text")
        metrics.QUERIES.labels(query).inc()
        if query == "article":
            article_id = convert.parse_name(request.article, convert.ARTICLES, "article")
            report = self.engine.find_matches(article_id=article_id, max_matches=request.max_matches)
        else:
            report = self.engine.find_matches(text=request.text, max_matches=request.max_matches)
        return convert.find_matches_response(report)

    @_rpc
    def GetCluster(self, request: pb.GetClusterRequest, context: grpc.ServicerContext) -> pb.GetClusterResponse:
        if request.name.startswith(convert.ARTICLES):
            article_id = convert.parse_name(request.name, convert.ARTICLES)
            cluster = self.engine.cluster_of(article_id, request.page_size, request.page_token)
        else:
            cluster_id = convert.parse_name(request.name, convert.CLUSTERS)
            cluster = self.engine.cluster(cluster_id, request.page_size, request.page_token)
        return pb.GetClusterResponse(cluster=convert.cluster_message(cluster), next_page_token=cluster.next_page_token)

    @_rpc
    def ListClusters(self, request: pb.ListClustersRequest, context: grpc.ServicerContext) -> pb.ListClustersResponse:
        if request.article:
            summaries = self.engine.clusters_of(convert.parse_name(request.article, convert.ARTICLES, "article"))
            return pb.ListClustersResponse(clusters=[convert.summary_message(s) for s in summaries])
        page = self.engine.list_clusters(request.page_size, request.page_token)
        return pb.ListClustersResponse(
            clusters=[convert.summary_message(s) for s in page.items], next_page_token=page.next_page_token
        )

    @_rpc
    def GetStats(self, request: pb.GetStatsRequest, context: grpc.ServicerContext) -> pb.GetStatsResponse:
        return convert.stats_message(self.engine.stats())
