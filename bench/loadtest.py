"""Bounded load test: concurrent ingest + query traffic against a real server on loopback.

    python bench/loadtest.py [--seconds 60] [--writers 4] [--readers 4]

Starts `wiretrace serve` on a free 127.0.0.1 port with a temporary data directory, runs
writer threads (streaming ingest of generated articles, some re-sent, some near-copies) and
reader threads (FindMatches by id and by text, GetCluster, GetStats) for a fixed time, then
stops by itself and prints throughput, latency p50/p99 per call and the error count. Exit
status 1 if any call failed. Traffic goes only to the loopback server it started.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "client"), str(ROOT / "bench"), str(ROOT / "tests")]

from corpus import generate  # noqa: E402
from processes import ServerProcess  # noqa: E402
from wiretrace_client import ArticleInput, Client, WiretraceError  # noqa: E402


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: defaultdict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def record(self, name: str, seconds: float) -> None:
        with self.lock:
            self.latencies[name].append(seconds)

    def fail(self, name: str, error: Exception) -> None:
        with self.lock:
            self.errors.append(f"{name}: {error}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def writer(address: str, texts: list[str], number: int, stop: float, recorder: Recorder) -> None:
    rng = random.Random(number)
    with Client(address, timeout=60) as client:
        batch = 0
        while time.monotonic() < stop:
            inputs = []
            for position in range(32):
                text = rng.choice(texts)
                if rng.random() < 0.2:  # a re-send of an earlier article: must be idempotent
                    inputs.append(ArticleInput(f"w{number}-{max(0, batch - 1)}-{position}", text))
                else:
                    inputs.append(ArticleInput(f"w{number}-{batch}-{position}", text + f"\nUpdated {batch}."))
            started = time.monotonic()
            try:
                for item in client.ingest_many(inputs, window=32):
                    if item.error is not None and item.error.reason != "ARTICLE_ALREADY_EXISTS":
                        recorder.fail("ingest", item.error)
                recorder.record("ingest_batch_of_32", time.monotonic() - started)
            except WiretraceError as error:
                recorder.fail("ingest", error)
            batch += 1


def reader(address: str, texts: list[str], number: int, stop: float, recorder: Recorder) -> None:
    rng = random.Random(1000 + number)
    with Client(address, timeout=60) as client:
        while time.monotonic() < stop:
            calls = {
                "find_matches_text": lambda: client.find_matches(text=rng.choice(texts)),
                "get_stats": client.get_stats,
            }
            known = f"w{rng.randrange(4)}-{rng.randrange(3)}-{rng.randrange(32)}"
            calls["find_matches_id"] = lambda known=known: client.find_matches(article_id=known)  # type: ignore[misc]
            calls["get_lineage"] = lambda known=known: client.get_lineage(known)  # type: ignore[misc]
            for name, call in calls.items():
                started = time.monotonic()
                try:
                    call()
                    recorder.record(name, time.monotonic() - started)
                except WiretraceError as error:
                    if error.code.name == "NOT_FOUND":  # not ingested yet: an expected answer
                        recorder.record(name, time.monotonic() - started)
                    else:
                        recorder.fail(name, error)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    options = parser.parse_args()
    texts = [d.text for d in generate(300)]
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as directory, ServerProcess(Path(directory) / "data") as server:
        stop = time.monotonic() + options.seconds
        threads = [
            threading.Thread(target=writer, args=(server.address, texts, n, stop, recorder))
            for n in range(options.writers)
        ] + [
            threading.Thread(target=reader, args=(server.address, texts, n, stop, recorder))
            for n in range(options.readers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        with Client(server.address) as client:
            stats = client.get_stats()
        if recorder.errors:
            print("server log (tail):\n" + "\n".join(server.log.read_text().splitlines()[-40:]))
    print(f"load test: {elapsed:.0f} s, {options.writers} writers (streams of 32), {options.readers} readers")
    print(f"stored {stats.articles} articles, {stats.clusters} clusters, {stats.edges} edges")
    for name, values in sorted(recorder.latencies.items()):
        print(
            f"  {name:22} {len(values):6d} calls  {len(values) / elapsed:8.1f}/s  "
            f"p50 {percentile(values, 0.5) * 1000:8.1f} ms  p99 {percentile(values, 0.99) * 1000:8.1f} ms"
        )
    ingested = 32 * len(recorder.latencies.get("ingest_batch_of_32", []))
    print(f"  articles sent through the stream: {ingested} ({ingested / elapsed:.1f}/s)")
    print(f"errors: {len(recorder.errors)}")
    for error in recorder.errors[:20]:
        print(f"  {error}")
    return 1 if recorder.errors else 0


if __name__ == "__main__":
    sys.exit(main())
