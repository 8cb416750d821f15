"""Where find_matches spends its time on a store that bench/scaling.py built (issue 14's p99).

    python bench/query_phases.py --data DIR [--after N] [--queries 600] [--slowest 10]

Opens the store ``bench/scaling.py --corpus realistic --words-only --data DIR`` left (as it was
built: words only, the parameters it saved), renders ``--queries`` fresh articles of the same
stream from article ``--after`` on (default: the stored count plus the bench's own 300 fresh
texts, so none is stored), and times each find_matches and, inside it, each phase: the port's
record reads, candidate look-ups and stored matches, the screen, verification, analysis,
language detection, boilerplate counts and feature decoding, and the garbage collector's pauses.
Prints p50 / p99, the slowest queries with their phases, and the mean of each phase.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench")]

import realistic_corpus  # noqa: E402
from wiretrace.bootstrap import stored_index_settings  # noqa: E402
from wiretrace.core import engine as engine_module  # noqa: E402
from wiretrace.core import matcher as matcher_module  # noqa: E402
from wiretrace.core.engine import Wiretrace  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

# The fresh texts bench/scaling.py takes after its last size.
SCALING_QUERIES = 300


class PhaseClock:
    """Seconds spent in each wrapped call during the current query, and the collector's pauses."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.pauses = 0.0
        self._began = 0.0
        gc.callbacks.append(self._on_collection)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        inner: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - begun

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.spent, self.pauses = {}, 0.0

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses += time.perf_counter() - self._began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the store bench/scaling.py --data kept")
    parser.add_argument("--after", type=int, help="first article number of the fresh texts")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--seed", type=int, default=14, help="the corpus seed the store was built with")
    options = parser.parse_args()
    storage = SqliteStorage(options.data)
    settings = stored_index_settings(storage, IndexSettings(verify_meaning=False, cross_language=False))
    began = time.perf_counter()
    engine = Wiretrace(storage, settings)
    stored = engine.stats().counts.articles
    first = options.after if options.after is not None else stored + SCALING_QUERIES
    plan = realistic_corpus.plan(first + options.queries, options.seed)
    renderer = realistic_corpus.Renderer(plan, realistic_corpus.source_pool())
    texts = [renderer.article(number).text for number in range(first, first + options.queries)]
    engine.find_matches(text=texts[0])
    print(f"{stored:,} articles stored; opened and first query in {time.perf_counter() - began:.1f} s")

    clock = PhaseClock()
    for owner, name, label in (
        (SqliteStorage, "get_records", "records"),
        (SqliteStorage, "candidates", "candidates"),
        (SqliteStorage, "matches_of", "stored matches"),
        (matcher_module, "screen", "screen"),
        (matcher_module, "verify", "verify"),
        (matcher_module.Matcher, "_boilerplate", "boilerplate"),
        (matcher_module.Matcher, "_features_of", "features"),
        (engine_module, "analyse_text", "analysis"),
        (engine_module, "detect_language", "language"),
    ):
        clock.wrap(owner, name, label)
    rows: list[tuple[float, float, dict[str, float], int]] = []
    for text in texts[1:]:
        clock.reset()
        begun = time.perf_counter()
        engine.find_matches(text=text)
        rows.append((time.perf_counter() - begun, clock.pauses, dict(clock.spent), len(text.split())))
    engine.close()

    latencies = sorted(row[0] for row in rows)
    count = len(latencies)
    print(f"find_matches p50 {latencies[count // 2] * 1e3:.1f} ms, p99 {latencies[int(count * 0.99)] * 1e3:.1f} ms")
    for seconds, pauses, spent, words in sorted(rows, key=lambda row: -row[0])[: options.slowest]:
        ordered = sorted(spent.items(), key=lambda kv: -kv[1])
        phases = ", ".join(f"{label} {value * 1e3:.1f}" for label, value in ordered)
        print(f"  {seconds * 1e3:6.1f} ms (collector {pauses * 1e3:.1f}), {words} words: {phases}")
    totals: dict[str, float] = {}
    for _, _, spent, _ in rows:
        for label, value in spent.items():
            totals[label] = totals.get(label, 0.0) + value
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    means = ", ".join(f"{label} {value / count * 1e3:.2f}" for label, value in ordered)
    print(f"mean per query {sum(row[0] for row in rows) / count * 1e3:.2f} ms: {means}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
