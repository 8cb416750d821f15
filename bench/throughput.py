"""Speed of wiretrace against datasketch used directly, measured in one run on one corpus.

    python bench/throughput.py [--corpus synthetic|wmt] [--docs N] [--queries 500] [--json out.json]

Corpora: `synthetic` (default; bench/corpus.py, generated news-like text, --docs 2000 unless
given) or `wmt` (real news: the English side of the WMT21 test sets in ../shared/eval/wmt21 cut
into 25-line articles, every story in 10-21 versions from human and machine translators, about
2,360 articles, see bench/realnews.py; --docs N keeps the first N, story by story).

Prints, for the same corpus:
- signatures/s from raw text: datasketch naive (MinHash() + update() per shingle, its default
  SHA-1 hash), datasketch MinHash.bulk with xxhash, wiretrace on one core, wiretrace on all cores;
- end-to-end ingest articles/s: datasketch naive (text -> MinHash.update per shingle ->
  MinHashLSH.insert, in memory, nothing durable, no matching) vs wiretrace through the gRPC
  streaming API into the embedded backend (a real server process: durable SQLite commits,
  matching and lineage on), both on every article of the corpus;
- find-matches latency p50/p99 in process (wiretrace engine vs datasketch MinHashLSH.query);
- index memory per article.
Every ratio is against the datasketch baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "client"), str(ROOT / "bench"), str(ROOT / "tests")]

from corpus import generate  # noqa: E402
from harness import SHINGLE, WORD, naive_ingest_rate, naive_minhash, rate, served, stream_ingest, timed  # noqa: E402
from realnews import wmt_articles  # noqa: E402
from wiretrace.core.engine import Wiretrace  # noqa: E402
from wiretrace.core.features import FeatureConfig, document_shingles  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.core.signatures import MinHasher  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402
from wiretrace_client import ArticleInput  # noqa: E402

CORPORA = ("synthetic", "wmt")


def bulk_minhashes(texts: Sequence[str]) -> list[MinHash]:
    """datasketch's fast path: MinHash.bulk with a cheap hash."""
    sets = []
    for text in texts:
        words = WORD.findall(text.lower())
        sets.append([" ".join(words[i : i + SHINGLE]).encode() for i in range(max(1, len(words) - SHINGLE + 1))])
    return MinHash.bulk(sets, num_perm=128, hashfunc=xxhash.xxh32_intdigest)


_HASHER = MinHasher(128, 1)
_CONFIG = FeatureConfig()


def our_signature(text: str) -> np.ndarray:
    return _HASHER.signature(document_shingles(text, _CONFIG, unique=False))


def _sign_chunk(texts: list[str]) -> int:
    for text in texts:
        our_signature(text)
    return len(texts)


def bench_signatures(texts: list[str]) -> dict[str, float]:
    sample = texts[: min(len(texts), 1000)]
    for text in sample[:50]:  # warm caches and the permutation tables
        our_signature(text)
    naive = rate(len(sample), timed(lambda: [naive_minhash(t) for t in sample]))
    bulk = rate(len(sample), timed(lambda: bulk_minhashes(sample)))
    ours = rate(len(texts), timed(lambda: [our_signature(t) for t in texts]))
    workers = os.cpu_count() or 1
    chunks = [texts[i : i + 200] for i in range(0, len(texts), 200)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_sign_chunk, chunks[:workers]))  # start and warm the workers
        parallel = rate(len(texts), timed(lambda: sum(pool.map(_sign_chunk, chunks))))
    return {
        "datasketch_naive_per_s": naive,
        "datasketch_bulk_xxhash_per_s": bulk,
        "wiretrace_one_core_per_s": ours,
        f"wiretrace_{workers}_processes_per_s": parallel,
        "ratio_one_core_vs_naive": ours / naive,
        "ratio_all_cores_vs_naive": parallel / naive,
        "ratio_one_core_vs_bulk": ours / bulk,
    }


def bench_ingest(articles: list[ArticleInput], settings: IndexSettings, baseline: list[str]) -> dict[str, float]:
    """Every article through datasketch naively, then through a real server's gRPC stream (and,
    with ``baseline`` server flags, through a second server configured so, in the same run)."""
    naive_rate = naive_ingest_rate([(a.article_id, a.text) for a in articles])
    figures: dict[str, float] = {}
    if baseline:
        with served(*baseline) as (_, client):
            items, seconds = stream_ingest(client, articles, window=512)
        figures["baseline_flags"] = " ".join(baseline)  # type: ignore[assignment]
        figures["baseline_grpc_stream_ingest_per_s"] = rate(sum(1 for i in items if i.error is None), seconds)
    with served("--passage-num-perm", str(settings.passage_num_perm)) as (_, client):
        items, seconds = stream_ingest(client, articles, window=512)
        stats = client.get_stats()
    acknowledged = sum(1 for item in items if item.error is None)
    ours = rate(acknowledged, seconds)
    if baseline:
        figures["ratio_vs_baseline_flags"] = ours / figures["baseline_grpc_stream_ingest_per_s"]
    return {
        **figures,
        "datasketch_naive_ingest_per_s": naive_rate,
        "wiretrace_grpc_stream_ingest_per_s": ours,
        "ratio_vs_naive": ours / naive_rate,
        "wiretrace_grpc_stream_seconds": seconds,
        "articles": acknowledged,
        "rejected": len(items) - acknowledged,
        "matches_reported": sum(len(item.result.matches) for item in items if item.result is not None),
        "edges_found": stats.edges,
        "clusters": stats.clusters,
    }


def load_corpus(name: str, docs: int | None) -> tuple[list[ArticleInput], str]:
    """The articles of a corpus (the first ``docs`` of them) and a line describing where they come from."""
    if name == "wmt":
        articles = wmt_articles()[:docs]
        return articles, f"WMT21 *-en references and system outputs in 25-line articles ({len(articles)} of them)"
    return [ArticleInput(d.article_id, d.text) for d in generate(docs or 2000)], "bench/corpus.py"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_queries_and_memory(docs: list[tuple[str, str]], queries: int, settings: IndexSettings) -> dict[str, float]:
    texts = [t for _, t in docs]
    # datasketch: index of naive signatures at 0.5 and 0.8; memory by tracemalloc.
    signatures = [naive_minhash(t) for t in texts]
    results: dict[str, float] = {}
    for threshold in (0.5, 0.8):
        gc.collect()
        tracemalloc.start()
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        for (article_id, _), minhash in zip(docs, signatures, strict=True):
            lsh.insert(article_id, minhash)
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[f"datasketch_lsh_{threshold}_bytes_per_article"] = current / len(docs)
        if threshold == 0.5:
            latencies = []
            for text in texts[:queries]:
                started = time.perf_counter()
                lsh.query(naive_minhash(text))
                latencies.append(time.perf_counter() - started)
            results["datasketch_query_p50_ms"] = percentile(latencies, 0.5) * 1000
            results["datasketch_query_p99_ms"] = percentile(latencies, 0.99) * 1000
        del lsh
    with tempfile.TemporaryDirectory() as directory:
        engine = Wiretrace(SqliteStorage(directory), settings)
        from wiretrace.core.engine import IngestRequest
        from wiretrace.core.model import ArticleDraft

        for start in range(0, len(docs), 500):
            engine.ingest_batch([IngestRequest(ArticleDraft(i, t)) for i, t in docs[start : start + 500]])
        engine.close()
        gc.collect()
        tracemalloc.start()
        engine = Wiretrace(SqliteStorage(directory), settings)  # rebuilds the in-memory index
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results["wiretrace_index_bytes_per_article"] = current / len(docs)
        latencies = []
        for text in texts[:queries]:
            started = time.perf_counter()
            engine.find_matches(text=text)
            latencies.append(time.perf_counter() - started)
        engine.close()
    results["wiretrace_find_matches_p50_ms"] = percentile(latencies, 0.5) * 1000
    results["wiretrace_find_matches_p99_ms"] = percentile(latencies, 0.99) * 1000
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=CORPORA, default="synthetic")
    parser.add_argument("--docs", type=int, help="articles (synthetic: 2000 unless given; wmt: all unless given)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument(
        "--passage-num-perm",
        type=int,
        default=IndexSettings().passage_num_perm,
        help="as `wiretrace serve --passage-num-perm`",
    )
    parser.add_argument(
        "--baseline",
        default="",
        help="server flags of a second configuration ingested in the same run, e.g. "
        "'--passage-index minhash --no-verify-meaning --max-extension 0'",
    )
    options = parser.parse_args()
    settings = IndexSettings(passage_num_perm=options.passage_num_perm)
    started = time.perf_counter()
    articles, origin = load_corpus(options.corpus, options.docs)
    docs = [(a.article_id, a.text) for a in articles]
    words = statistics.mean(len(t.split()) for _, t in docs)
    print(f"corpus {options.corpus}: {len(docs)} articles, {words:.0f} words each on average ({origin})")
    figures = {
        "signatures": bench_signatures([t for _, t in docs]),
        "ingest": bench_ingest(articles, settings, options.baseline.split()),
        "queries_and_memory": bench_queries_and_memory(docs, options.queries, settings),
    }
    for section, values in figures.items():
        print(section)
        for name, value in values.items():
            print(f"  {name:42} {value:,.3f}" if isinstance(value, float) else f"  {name:42} {value}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
