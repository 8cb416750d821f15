"""Prometheus metrics of the service (served on ``--metrics-listen``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
