"""What a configuration costs at ingest, in process, against others in the same run.

    python bench/configuration_cost.py [--articles 400] [--rounds 3]

Ingests the first N articles of the WMT21 real-text corpus (bench/realnews.py: 25-line
articles, every story in 10-21 versions) in batches of 50 through the engine's batch use case on
a new SQLite store, once per configuration and round, the configurations interleaved so that a
busy machine slows them alike, each with an empty embedding cache. Prints articles/s per round,
then the medians and each one's ratio to the default. Configurations: the default, without
cross-language matching (no gists), and words only (no meaning on demand, no gists).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "client"), str(ROOT / "bench")]

from realnews import wmt_articles  # noqa: E402
from wiretrace.core import meaning  # noqa: E402
from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.model import ArticleDraft  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

CONFIGURATIONS = {
    "default": IndexSettings(),
    "no cross-language": IndexSettings(cross_language=False),
    "words only": IndexSettings(verify_meaning=False, cross_language=False),
}
BATCH = 50


def ingest_rate(drafts: list[ArticleDraft], settings: IndexSettings) -> float:
    meaning._CACHE = meaning.EmbeddingCache()  # every configuration starts cold
    with tempfile.TemporaryDirectory() as directory:
        engine = Wiretrace(SqliteStorage(directory), settings)
        started = time.perf_counter()
        for start in range(0, len(drafts), BATCH):
            engine.ingest_batch([IngestRequest(d) for d in drafts[start : start + BATCH]])
        rate = len(drafts) / (time.perf_counter() - started)
        engine.close()
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    drafts = [
        ArticleDraft(a.article_id, a.text, source=a.source, publish_time=a.publish_time)
        for a in wmt_articles()[: options.articles]
    ]
    rates: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
    for round_number in range(1, options.rounds + 1):
        for name, settings in CONFIGURATIONS.items():
            rates[name].append(ingest_rate(drafts, settings))
        print(f"round {round_number}: " + ", ".join(f"{n} {r[-1]:.1f}/s" for n, r in rates.items()), flush=True)
    default = statistics.median(rates["default"])
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:20} median {median:7.1f} articles/s  {median / default:5.2f}x the default")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
