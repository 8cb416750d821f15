"""How find-matches latency and index memory grow with the number of articles (embedded backend).

    python bench/scaling.py [--sizes 2500 5000 10000 20000] [--queries 300] [--passage-num-perm 64]

Ingests the generated corpus (bench/corpus.py) in process through the engine's batch use case,
and at each size reopens the index (rebuilding the in-memory LSH buckets from SQLite) to measure
its memory with tracemalloc, then times `find_matches` for texts of stored articles. Prints each
size and the log-log slope between the first and last size (1 = linear growth, 0 = flat).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench")]

from corpus import generate  # noqa: E402
from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.model import ArticleDraft  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--passage-threshold", type=float, default=IndexSettings().passage_threshold)
    parser.add_argument("--passage-num-perm", type=int, default=IndexSettings().passage_num_perm)
    parser.add_argument("--analysis-workers", type=int, default=os.cpu_count() or 1, help="processes analysing texts")
    options = parser.parse_args()
    sizes = sorted(options.sizes)
    corpus = generate(sizes[-1])
    settings = IndexSettings(passage_threshold=options.passage_threshold, passage_num_perm=options.passage_num_perm)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        engine = Wiretrace(SqliteStorage(directory), settings, analysis_workers=options.analysis_workers)
        stored: list[str] = []
        for size in sizes:
            # Generated before the clock starts: the generator is slower than the ingest.
            drafts = [ArticleDraft(doc.article_id, doc.text) for doc in itertools.islice(corpus, size - len(stored))]
            started = time.perf_counter()
            for start in range(0, len(drafts), 256):
                engine.ingest_batch([IngestRequest(draft) for draft in drafts[start : start + 256]])
            stored += [draft.text for draft in drafts]
            ingest_rate = len(drafts) / (time.perf_counter() - started)
            engine.close()
            gc.collect()
            tracemalloc.start()
            engine = Wiretrace(SqliteStorage(directory), settings, analysis_workers=options.analysis_workers)
            memory = tracemalloc.get_traced_memory()[0] / size
            tracemalloc.stop()
            step = max(1, len(stored) // options.queries)
            latencies = []
            for text in stored[::step][: options.queries]:
                begun = time.perf_counter()
                engine.find_matches(text=text)
                latencies.append(time.perf_counter() - begun)
            rows.append((size, memory, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000))
            print(
                f"{size:8d} articles  index {memory:9.0f} B/article  find_matches p50 {rows[-1][2]:7.2f} ms "
                f"p99 {rows[-1][3]:7.2f} ms  (ingest {ingest_rate:.0f}/s in process)",
                flush=True,
            )
        engine.close()
    first, last = rows[0], rows[-1]
    scale = math.log(last[0] / first[0])
    for label, index in (("total index memory", 1), ("p50 latency", 2), ("p99 latency", 3)):
        value_first = first[index] * (first[0] if index == 1 else 1)
        value_last = last[index] * (last[0] if index == 1 else 1)
        print(f"log-log slope of {label}: {math.log(value_last / value_first) / scale:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
