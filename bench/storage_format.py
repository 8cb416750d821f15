"""What the stored format costs: bytes per article and per edge on disk (SQLite), and how long the
first page of a 1,000-member cluster takes to read back (the evidence of every member is decoded).

    .venv/bin/python bench/storage_format.py                    # this checkout
    .venv/bin/python bench/storage_format.py --baseline DIR     # also DIR/service (e.g. `git archive main
                                                                 # service | tar -x -C DIR`), same run

Articles: the first ``--articles`` of :func:`realnews.wmt_articles` (each story in 10-21 versions, so
they carry edges and lineage). Cluster: one WMT story and ``--copies`` near copies of it (a few words
edited each, by the contract suite's ``tests/seeds.syndicated_copy``), then ``engine.cluster`` pages of
``--page-size``, as GetCluster calls it (engine level: no gRPC conversion in the figure). Per-edge
encode and decode times compare the JSON dicts of ``wiretrace.core.codec`` with the binary
``wiretrace.core.record_codec`` when the checkout has it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The service measured: this checkout's, or the baseline's (``--baseline`` runs this script again with it).
SERVICE = os.environ.get("WIRETRACE_SERVICE") or str(ROOT / "service")
sys.path[:0] = [SERVICE, str(ROOT / "bench"), str(ROOT / "tests")]

from realnews import wmt_articles, wmt_story  # noqa: E402
from wiretrace.core.codec import match_from_dict, match_to_dict  # noqa: E402
from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.model import ArticleDraft, MatchEdge  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402
from wiretrace_client import ArticleInput  # noqa: E402

from seeds import syndicated_copy  # noqa: E402

MINUTE = timedelta(minutes=1)


def draft(article: ArticleInput) -> ArticleDraft:
    """The client's article as the engine takes it (its fields are a superset)."""
    return ArticleDraft(**{f.name: getattr(article, f.name) for f in fields(ArticleDraft)})


def ingest(engine: Wiretrace, drafts: list[ArticleDraft], batch: int = 100) -> None:
    for start in range(0, len(drafts), batch):
        results = engine.ingest_batch([IngestRequest(d) for d in drafts[start : start + batch]])
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes of each table and index on disk, as SQLite's dbstat counts its pages."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())


def per_edge_micros(edges: list[MatchEdge]) -> dict[str, float]:
    """Median over ``edges`` of one encode and one decode, JSON and (if present) binary."""
    figures: dict[str, float] = {}

    def timed(name: str, encode: Any, decode: Any) -> None:
        payloads = [encode(e.evidence) for e in edges]
        for label, run, items in (("encode", encode, [e.evidence for e in edges]), ("decode", decode, payloads)):
            started = time.perf_counter()
            for _ in range(5):
                for item in items:
                    run(item)
            figures[f"{name}_{label}_us"] = (time.perf_counter() - started) / (5 * len(items)) * 1e6
        figures[f"{name}_bytes_per_edge"] = statistics.mean(len(p) for p in payloads)

    timed("json", lambda m: json.dumps(match_to_dict(m)), lambda p: match_from_dict(json.loads(p)))
    try:
        from wiretrace.core.record_codec import decode_match, encode_match
    except ImportError:
        return figures
    timed("binary", encode_match, decode_match)
    return figures


def measure(options: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wiretrace-format-") as scratch:
        data = Path(scratch) / "articles"
        engine = Wiretrace(SqliteStorage(data))
        articles = [draft(a) for a in wmt_articles()[: options.articles]]
        started = time.perf_counter()
        ingest(engine, articles)
        figures["ingest_s"] = time.perf_counter() - started
        stats = engine.storage.stats()
        edges = engine.storage.edges_of(a.article_id for a in articles)
        engine.close()
        sizes = table_bytes(data / "wiretrace.sqlite3")
        memberships = sum(v for k, v in sizes.items() if k.startswith(("memberships", "sqlite_autoindex_memberships")))
        figures.update(
            articles=stats.articles,
            edges=stats.edges,
            file_bytes_per_article=(data / "wiretrace.sqlite3").stat().st_size / stats.articles,
            articles_table_bytes_per_article=sizes.get("articles", 0) / stats.articles,
            edges_bytes_per_edge=sum(v for k, v in sizes.items() if k.startswith("edges")) / max(stats.edges, 1),
            memberships_bytes_per_article=memberships / stats.articles,
        )
        started = time.perf_counter()
        engine = Wiretrace(SqliteStorage(data))
        figures["open_s"] = time.perf_counter() - started
        engine.close()
        figures.update(per_edge_micros(edges))

        engine = Wiretrace(SqliteStorage(Path(scratch) / "cluster"))
        story, start = wmt_story(), datetime(2022, 1, 7, tzinfo=UTC)
        copies = [
            ArticleDraft(
                f"copy{n:04d}", syndicated_copy(n, story), source=f"Outlet {n}", publish_time=start + n * MINUTE
            )
            for n in range(1, options.copies + 1)
        ]
        ingest(engine, [ArticleDraft("story", story, source="Wire", publish_time=start), *copies])
        cluster = engine.cluster_of("story", page_size=options.page_size)
        figures["cluster_members"] = cluster.member_count
        calls = []
        for _ in range(options.lookups):
            started = time.perf_counter()
            engine.cluster(cluster.cluster_id, page_size=options.page_size)
            calls.append(time.perf_counter() - started)
        figures["cluster_first_page_ms"] = statistics.median(calls) * 1000
        engine.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=999, help="copies of the story (cluster of copies + 1)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--lookups", type=int, default=20, help="first-page reads whose median is reported")
    parser.add_argument("--baseline", help="a directory with another checkout's service/ to measure first")
    parser.add_argument("--json", help="print the figures of this checkout only, as JSON (used for --baseline)")
    options = parser.parse_args()
    if options.json:
        print(json.dumps(measure(options)))
        return 0
    runs: dict[str, dict[str, Any]] = {}
    checkouts = {"baseline": Path(options.baseline) / "service"} if options.baseline else {}
    checkouts["this"] = Path(__file__).resolve().parents[1] / "service"
    for name, service in checkouts.items():
        environment = {**os.environ, "WIRETRACE_SERVICE": str(service)}
        argv = [sys.argv[0], "--json", "-", "--articles", str(options.articles), "--copies", str(options.copies)]
        argv += ["--page-size", str(options.page_size), "--lookups", str(options.lookups)]
        done = subprocess.run([sys.executable, *argv], env=environment, check=True, capture_output=True, text=True)
        runs[name] = json.loads(done.stdout.splitlines()[-1])
    keys = list(dict.fromkeys(k for run in runs.values() for k in run))
    print(f"{'figure':<36}" + "".join(f"{name:>14}" for name in runs))
    for key in keys:
        cells = "".join(f"{run[key]:>14.2f}" if key in run else f"{'-':>14}" for run in runs.values())
        print(f"{key:<36}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
