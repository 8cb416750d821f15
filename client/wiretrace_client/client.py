"""The wiretrace client: typed methods over the gRPC API.

Example:
    >>> with Client("127.0.0.1:50051") as client:  # doctest: +SKIP
    ...     result = client.create_article("a1", "Some text ...", source="Reuters")
    ...     for match in result.matches:
    ...         print(match.article_id, match.kind, match.score)
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from wiretrace_client import _convert as convert
from wiretrace_client.errors import NotFound, WiretraceError, from_ingest_error, from_rpc_error
from wiretrace_client.models import (
    Article,
    ArticleInput,
    Cluster,
    ClusterMember,
    IngestResult,
    LineageEdge,
    Match,
    MatchFilter,
    Stats,
)

T = TypeVar("T")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 2.0


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One answer of :meth:`Client.ingest_many`: a result or the error that rejected the article."""

    index: int
    article_id: str
    result: IngestResult | None
    error: WiretraceError | None


class Client:
    """A connection to a wiretrace server.

    ``token`` (default: ``$WIRETRACE_TOKEN``) is sent as a bearer token; ``timeout`` is
    the deadline of each call in seconds; idempotent calls are retried up to
    ``max_retries`` times on UNAVAILABLE with jittered exponential back-off.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: float = 30.0,
        token: str | None = None,
        max_retries: int = 4,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # A target naming several replicas ("ipv4:10.0.0.1:50051,10.0.0.2:50051") spreads calls over them.
            ("grpc.lb_policy_name", "round_robin"),
        ]
        if credentials is not None:
            self._channel = grpc.secure_channel(address, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(address, options=options)
        self._stub = pb_grpc.WiretraceServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self.timeout = timeout
        self.max_retries = max_retries
        token = os.environ.get("WIRETRACE_TOKEN") if token is None else token
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    # -- plumbing ---------------------------------------------------------------------------------------

    def _call(self, method: Callable[..., T], request: Any, *, retry: bool = True) -> T:
        attempt = 0
        while True:
            try:
                return method(request, timeout=self.timeout, metadata=self._metadata)
            except grpc.RpcError as error:
                if not retry or error.code() is not grpc.StatusCode.UNAVAILABLE or attempt >= self.max_retries:
                    raise from_rpc_error(error) from None
            delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt)
            time.sleep(random.uniform(delay / 2, delay))
            attempt += 1

    # -- articles ---------------------------------------------------------------------------------------

    def create_article(
        self,
        article_id: str,
        text: str,
        *,
        title: str = "",
        source: str = "",
        url: str = "",
        publish_time: datetime | None = None,
        language: str = "",
        replace_existing: bool = False,
        report_filter: MatchFilter | None = None,
    ) -> IngestResult:
        """Ingest one article. Safe to retry: the same id and content returns the stored result.
        ``report_filter`` narrows the matches the answer reports, never what is stored."""
        request = convert.create_request(
            ArticleInput(article_id, text, title, source, url, publish_time, language, replace_existing, report_filter)
        )
        return convert.ingest_result(self._call(self._stub.CreateArticle, request))

    def ingest_many(self, articles: Iterable[ArticleInput], *, window: int = 64) -> Iterator[IngestItem]:
        """Stream many articles; yields one item per article, in order, as acknowledgements arrive.

        At most ``window`` articles are in flight: the stream never outruns the server.
        A rejected article yields an item with ``error`` set and the stream goes on.
        """
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        slots = threading.Semaphore(window)
        stopped = threading.Event()

        def requests() -> Iterator[pb.IngestArticlesRequest]:
            for article in articles:
                while not slots.acquire(timeout=0.1):
                    if stopped.is_set():
                        return
                if stopped.is_set():
                    return
                yield pb.IngestArticlesRequest(article=convert.create_request(article))

        call = self._stub.IngestArticles(requests(), metadata=self._metadata)
        try:
            for response in call:
                slots.release()
                if response.HasField("error"):
                    error = from_ingest_error(response.error.code, response.error.reason, response.error.message)
                    yield IngestItem(response.index, response.article_id, None, error)
                else:
                    yield IngestItem(response.index, response.article_id, convert.ingest_result(response.result), None)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            stopped.set()
            call.cancel()  # type: ignore[no-untyped-call]

    def get_article(self, article_id: str) -> Article:
        response = self._call(self._stub.GetArticle, pb.GetArticleRequest(name=convert.ARTICLES + article_id))
        return convert.article(response.article)

    def list_articles(self, *, page_size: int = 100, omit_text: bool = False) -> Iterator[Article]:
        """Every stored article in ingest order (pages are fetched as needed)."""
        token = ""
        while True:
            request = pb.ListArticlesRequest(page_size=page_size, page_token=token, omit_text=omit_text)
            page = self._call(self._stub.ListArticles, request)
            yield from (convert.article(a) for a in page.articles)
            token = page.next_page_token
            if not token:
                return

    def delete_article(self, article_id: str) -> None:
        request = pb.DeleteArticleRequest(name=convert.ARTICLES + article_id)
        try:
            self._call(self._stub.DeleteArticle, request, retry=False)
            return
        except WiretraceError as error:
            if error.code is not grpc.StatusCode.UNAVAILABLE:
                raise
        # The first attempt may have been applied before the connection broke: NOT_FOUND now means done.
        try:
            self._call(self._stub.DeleteArticle, request)
        except NotFound:
            return

    def find_matches(
        self,
        *,
        article_id: str | None = None,
        text: str | None = None,
        max_matches: int = 0,
        match_filter: MatchFilter | None = None,
    ) -> list[Match]:
        """Ranked matches for a stored article or for raw text (exactly one of them); with
        ``match_filter``, only matched articles that pass it (filtered before the cut)."""
        if (article_id is None) == (text is None):
            raise ValueError("give exactly one of article_id or text")
        wanted = convert.match_filter(match_filter)
        if article_id is not None:
            request = pb.FindMatchesRequest(
                article=convert.ARTICLES + article_id, max_matches=max_matches, filter=wanted
            )
        else:
            request = pb.FindMatchesRequest(text=text or "", max_matches=max_matches, filter=wanted)
        return [convert.match(m) for m in self._call(self._stub.FindMatches, request).matches]

    def prune_articles(self, before: datetime, *, page_size: int = 100) -> int:
        """Delete every article that appeared before ``before``, ``page_size`` a call; returns
        how many were deleted. Each call is safe to retry (what it deleted stays deleted)."""
        deleted, token = 0, ""
        while True:
            request = pb.PruneArticlesRequest(
                before_time=convert.timestamp(before), page_size=page_size, page_token=token
            )
            response = self._call(self._stub.PruneArticles, request)
            deleted += response.deleted_count
            token = response.next_page_token
            if not token:
                return deleted

    # -- lineage ----------------------------------------------------------------------------------------

    def get_cluster(self, cluster_id: str, *, max_members: int | None = None, page_size: int = 500) -> Cluster:
        """A lineage cluster with its members (earliest first) and their parent edges, read page by
        page; ``max_members`` stops early (``member_count`` still says how many there are)."""
        return self._paged_cluster(convert.CLUSTERS + cluster_id, max_members, page_size)

    def get_lineage(self, article_id: str, *, max_members: int | None = None, page_size: int = 500) -> Cluster:
        """The story cluster the article belongs to (see :meth:`clusters_of` for the statements it carries)."""
        return self._paged_cluster(convert.ARTICLES + article_id, max_members, page_size)

    def _paged_cluster(self, name: str, max_members: int | None, page_size: int) -> Cluster:
        members: list[ClusterMember] = []
        edges: list[LineageEdge] = []
        token = ""
        while True:
            size = page_size if max_members is None else max(1, min(page_size, max_members - len(members)))
            request = pb.GetClusterRequest(name=name, page_size=size, page_token=token)
            response = self._call(self._stub.GetCluster, request)
            page = convert.cluster(response.cluster)
            members += page.members
            edges += page.edges
            token = response.next_page_token
            if not token or (max_members is not None and len(members) >= max_members):
                return replace(page, members=members, edges=edges)

    def cluster_page(self, cluster_id: str, *, page_size: int = 100, page_token: str = "") -> tuple[Cluster, str]:
        """One page of a cluster's members (earliest first) with their parent edges, and the token of
        the next page ("" after the last): for callers that page on demand, such as a "next page" link."""
        request = pb.GetClusterRequest(name=convert.CLUSTERS + cluster_id, page_size=page_size, page_token=page_token)
        response = self._call(self._stub.GetCluster, request)
        return convert.cluster(response.cluster), response.next_page_token

    def clusters_of(self, article_id: str) -> list[Cluster]:
        """Every cluster the article belongs to, as summaries (no members): its story first, then
        the statements it carries."""
        request = pb.ListClustersRequest(article=convert.ARTICLES + article_id)
        return [convert.cluster(c) for c in self._call(self._stub.ListClusters, request).clusters]

    def list_clusters(self, *, page_size: int = 100) -> Iterator[Cluster]:
        """Every cluster of two or more articles, as summaries (no members; see :meth:`get_cluster`)."""
        token = ""
        while True:
            page = self._call(self._stub.ListClusters, pb.ListClustersRequest(page_size=page_size, page_token=token))
            yield from (convert.cluster(c) for c in page.clusters)
            token = page.next_page_token
            if not token:
                return

    # -- service ----------------------------------------------------------------------------------------

    def get_stats(self) -> Stats:
        return convert.stats(self._call(self._stub.GetStats, pb.GetStatsRequest()))

    def health(self, service: str = "") -> str:
        """The standard health check: "SERVING", "NOT_SERVING", ..."""
        response = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))
