"""Prometheus metrics of the service (served on ``--metrics-listen``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import WiretraceError
from wiretrace.core.model import StorageStats

# Most seconds the store gauges lag behind the store.
REFRESH_SECONDS = 5.0

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
    """Articles, clusters and index bytes of each namespace the server holds open, as gauges
    labelled with the namespace. Read on scrape, at most once every ``refresh`` seconds, so that
    a scraper that polls often costs each store one stats read per ``refresh``."""

    def __init__(self, refresh: float = REFRESH_SECONDS) -> None:
        self.refresh = refresh
        self._lock = threading.Lock()
        self._engines: Callable[[], Mapping[str, Wiretrace]] | None = None
        self._read: tuple[float, dict[str, StorageStats]] | None = None

    def serve(self, engines: Callable[[], Mapping[str, Wiretrace]]) -> None:
        """``engines``: the open engines by namespace, asked at each read."""
        with self._lock:
            self._engines, self._read = engines, None

    def release(self, engines: Callable[[], Mapping[str, Wiretrace]]) -> None:
        with self._lock:
            if self._engines == engines:
                self._engines, self._read = None, None

    def describe(self) -> Iterable[Metric]:
        return []  # registration then does not read the store

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        for name, help_text, field in (
            ("wiretrace_articles", "Articles stored", "articles"),
            ("wiretrace_clusters", "Lineage clusters of two or more articles", "clusters"),
            ("wiretrace_index_bytes", "Bytes the index takes (see GetStats)", "index_bytes"),
        ):
            if not counts:
                continue
            gauge = GaugeMetricFamily(name, help_text, labels=["namespace"])
            for namespace, stats in sorted(counts.items()):
                gauge.add_metric([namespace], getattr(stats, field))
            yield gauge

    def _counts(self) -> dict[str, StorageStats]:
        with self._lock:
            if self._engines is None:
                return {}
            now = time.monotonic()
            if self._read is None or now - self._read[0] >= self.refresh:
                counts = {}
                for namespace, engine in self._engines().items():
                    try:
                        counts[namespace] = engine.stats().counts
                    except WiretraceError:  # this store cannot be read now: no gauges rather than stale ones
                        continue
                self._read = (now, counts)
            return self._read[1]


STORE_GAUGES = StoreGauges()
REGISTRY.register(STORE_GAUGES)
