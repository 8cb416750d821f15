"""Prometheus metrics of the service (served on ``--metrics-listen``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import WiretraceError
from wiretrace.core.model import StorageStats

# Most seconds the store gauges lag behind the store.
REFRESH_SECONDS = 5.0
# The namespace label of the gauges until the store holds several namespaces.
DEFAULT_NAMESPACE = "default"

REQUESTS = Counter("wiretrace_rpc_requests_total", "RPCs handled, by method and status code", ["method", "code"])
LATENCY = Histogram(
    "wiretrace_rpc_latency_seconds",
    "RPC latency by method",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INGESTS = Counter("wiretrace_ingests_total", "Articles acknowledged, by outcome", ["outcome"])
REJECTIONS = Counter("wiretrace_ingest_rejections_total", "Articles rejected, by reason", ["reason"])
MATCHES = Counter("wiretrace_matches_total", "Matches reported at ingest, by kind", ["kind"])
QUERIES = Counter("wiretrace_find_matches_total", "FindMatches calls, by query type", ["query"])
STREAM_LIMITS = Counter(
    "wiretrace_ingest_stream_limits_total",
    "Ingest streams refused (TOO_MANY_STREAMS) or ended (STREAM_NOT_READ, STREAM_IDLE) by a stream limit",
    ["reason"],
)


class StoreGauges(Collector):
    """Articles, clusters and index bytes of the store the server serves, as gauges labelled with
    their namespace (``default`` for now). Read on scrape, at most once every ``refresh`` seconds,
    so that a scraper that polls often costs the store one stats read per ``refresh``."""

    def __init__(self, refresh: float = REFRESH_SECONDS) -> None:
        self.refresh = refresh
        self._lock = threading.Lock()
        self._engine: Wiretrace | None = None
        self._read: tuple[float, StorageStats] | None = None

    def serve(self, engine: Wiretrace) -> None:
        with self._lock:
            self._engine, self._read = engine, None

    def release(self, engine: Wiretrace) -> None:
        with self._lock:
            if self._engine is engine:
                self._engine, self._read = None, None

    def describe(self) -> Iterable[Metric]:
        return []  # registration then does not read the store

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        if counts is None:
            return
        for name, help_text, value in (
            ("wiretrace_articles", "Articles stored", counts.articles),
            ("wiretrace_clusters", "Lineage clusters of two or more articles", counts.clusters),
            ("wiretrace_index_bytes", "Bytes the index takes (see GetStats)", counts.index_bytes),
        ):
            gauge = GaugeMetricFamily(name, help_text, labels=["namespace"])
            gauge.add_metric([DEFAULT_NAMESPACE], value)
            yield gauge

    def _counts(self) -> StorageStats | None:
        with self._lock:
            if self._engine is None:
                return None
            now = time.monotonic()
            if self._read is None or now - self._read[0] >= self.refresh:
                try:
                    self._read = (now, self._engine.stats().counts)
                except WiretraceError:  # the store cannot be read now: no gauges rather than stale ones
                    self._read = None
                    return None
            return self._read[1]


STORE_GAUGES = StoreGauges()
REGISTRY.register(STORE_GAUGES)
