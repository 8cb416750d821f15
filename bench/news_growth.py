"""How ingest and find-matches hold up as a real news index grows (issue 14's real-news criterion).

    python bench/news_growth.py [--block 2000] [--queries 200] [--batch 250] [--limit N] [--no-verify-meaning]

Ingests Reuters-21578 and then the BBC stories of ../shared/news (about 22,000 real articles, in
that order, with their own texts: syndicated Reuters notices, templated earnings tables, BBC
stories) in process through the engine's batch use case on durable SQLite, and prints per block
of ``--block`` articles the ingest rate (articles and words a second) and find-matches latency
(p50 / p99 of ``--queries`` texts of articles already stored, each query its own call), then the
ratios the issue asks for: the rate of the last block against the first, and the p99 at the end
against the p99 after the first block.

The stored texts sampled change with the index (the last block is the BBC's stories, about four
times as long as Reuters' notices), so the same ratios are also given for what the index's growth
alone does: words a second, and the p99 of one fixed sample of the first block's texts, timed
again after every block. Last, the store is opened again and one find_matches timed: what the
first request after a restart waits for (buckets and gists rebuilt from the store).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench")]

from realnews import SHARED  # noqa: E402
from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.model import ArticleDraft  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

NEWS = SHARED / "news"
FILES = ("reuters21578.jsonl", "bbc.jsonl")


def news_drafts(limit: int | None) -> Iterator[ArticleDraft]:
    """Every Reuters then BBC article with a text, in file order."""
    count = 0
    for name in FILES:
        path = NEWS / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the benchmark reads real text from ../shared (see its README)")
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if not record.get("text", "").strip():
                    continue
                if limit is not None and count >= limit:
                    return
                count += 1
                # Ids as the service takes them ("bbc:business/001" -> "bbc:business-001").
                article_id = str(record["id"]).replace("/", "-")
                yield ArticleDraft(article_id, record["text"], title=record.get("title") or "")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--block", type=int, default=2000, help="articles per measured block")
    parser.add_argument("--queries", type=int, default=200, help="find-matches calls after each block")
    parser.add_argument("--batch", type=int, default=250, help="articles per ingest_batch call")
    parser.add_argument("--limit", type=int, help="stop after this many articles")
    parser.add_argument("--no-verify-meaning", action="store_true", help="words only, as the server flag")
    options = parser.parse_args()
    settings = IndexSettings(verify_meaning=not options.no_verify_meaning)
    rng = random.Random(14)
    stored: list[str] = []
    rows: list[tuple[int, float, float, float]] = []
    # Per block: (words a second, p50, p99 of the fixed sample).
    same: list[tuple[float, float, float]] = []
    fixed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        engine = Wiretrace(SqliteStorage(directory), settings)
        pending: list[ArticleDraft] = []
        block_start, block_seconds, block_words = 0, 0.0, 0

        def flush() -> None:
            nonlocal block_seconds, block_words
            begun = time.perf_counter()
            results = engine.ingest_batch([IngestRequest(d) for d in pending])
            block_seconds += time.perf_counter() - begun
            block_words += sum(len(d.text.split()) for d in pending)
            refused = [r for r in results if isinstance(r, Exception)]
            if refused:
                raise SystemExit(f"{len(refused)} article(s) refused, the first: {refused[0]}")
            stored.extend(d.text for d in pending)
            pending.clear()

        def timed(texts: list[str]) -> tuple[float, float]:
            latencies = []
            for text in texts:
                begun = time.perf_counter()
                engine.find_matches(text=text)
                latencies.append(time.perf_counter() - begun)
            return percentile(latencies, 0.5), percentile(latencies, 0.99)

        def measure() -> None:
            nonlocal block_start, block_seconds, block_words
            if not fixed:
                fixed.extend(rng.sample(stored, min(options.queries, len(stored))))
            p50, p99 = timed(rng.sample(stored, min(options.queries, len(stored))))
            articles = len(stored) - block_start
            rows.append((len(stored), articles / block_seconds, p50, p99))
            same.append((block_words / block_seconds, *timed(fixed)))
            print(
                f"{len(stored):>7,} articles  ingest {rows[-1][1]:7.1f}/s ({same[-1][0]:7,.0f} words/s)  "
                f"find_matches p50 {p50 * 1e3:6.1f} ms  p99 {p99 * 1e3:6.1f} ms; "
                f"the first block's sample p50 {same[-1][1] * 1e3:6.1f} ms  p99 {same[-1][2] * 1e3:6.1f} ms"
            )
            sys.stdout.flush()
            block_start, block_seconds, block_words = len(stored), 0.0, 0

        drafts = list(news_drafts(options.limit))
        # Block ends every ``block`` articles; a remainder under half a block joins the last block.
        ends = list(range(options.block, len(drafts) + 1, options.block)) or [len(drafts)]
        if len(drafts) - ends[-1] >= options.block // 2:
            ends.append(len(drafts))
        else:
            ends[-1] = len(drafts)
        for end in ends:
            while len(stored) < end:
                pending.extend(drafts[len(stored) : min(end, len(stored) + options.batch)])
                flush()
            measure()
        engine.close()
        begun = time.perf_counter()
        engine = Wiretrace(SqliteStorage(directory), settings)
        engine.find_matches(text=stored[-1])
        restart = time.perf_counter() - begun
        engine.close()
    first, last = rows[0], rows[-1]
    print(f"last block's ingest rate / first block's: {last[1] / first[1]:.2f} (issue 14: >= 0.5)")
    print(f"find_matches p99 at the end / after the first block: {last[3] / first[3]:.2f} (issue 14: <= 1.5)")
    print(
        f"the index's growth alone: words a second, last block / first {same[-1][0] / same[0][0]:.2f}; "
        f"p99 of the first block's sample at the end / after the first block {same[-1][2] / same[0][2]:.2f}"
    )
    print(f"after a restart, opening the store and the first find_matches: {restart:.1f} s")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
