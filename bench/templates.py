"""Reports on one template are not copies: real earnings tables of different companies, each from
its own outlet, through the engine (in process, durable SQLite).

    python bench/templates.py [--tables 1500] [--words-only]

Reuters-21578 (../shared/news) carries thousands of quarterly results tables ("Shr loss 22 cts vs
loss 18 cts / Net loss 3,035,000 vs loss 2,516,000 / Revs ..."): every company's has the same
lines and other figures. Given one outlet each (so no same-outlet furniture rule applies), they
should match only where the texts are the same. Prints the matches reported at ingest between
different texts and between equal ones, by kind, and the largest story clusters.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service")]

from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.model import ArticleDraft, IngestResult  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

NEWS = ROOT.parent / "shared" / "news" / "reuters21578.jsonl"


def results_tables(count: int) -> list[dict[str, str]]:
    """The first ``count`` Reuters texts that are results tables (they open with the share line)."""
    tables = []
    with open(NEWS, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["text"].startswith("Shr") and len(record["text"]) > 80:
                tables.append(record)
                if len(tables) == count:
                    break
    return tables


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=1500)
    parser.add_argument("--words-only", action="store_true", help="verify_meaning and cross_language off")
    options = parser.parse_args()
    tables = results_tables(options.tables)
    texts = {t["id"]: t["text"] for t in tables}
    settings = IndexSettings(verify_meaning=not options.words_only, cross_language=not options.words_only)
    kinds: Counter[str] = Counter()
    largest: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as directory:
        engine = Wiretrace(SqliteStorage(directory), settings)
        for start in range(0, len(tables), 100):
            chunk = tables[start : start + 100]
            drafts = [ArticleDraft(t["id"], t["text"], source=f"outlet-{start + i}") for i, t in enumerate(chunk)]
            for result in engine.ingest_batch([IngestRequest(d) for d in drafts]):
                assert isinstance(result, IngestResult), result
                own = texts[result.article.article_id]
                for match in result.matches:
                    same = "equal" if texts[match.article_id] == own else "different"
                    kinds[f"{match.kind.value} between {same} texts"] += 1
                root = result.cluster.root_id
                largest[root] = max(largest.get(root, 0), result.cluster.member_count)
        engine.close()
    print(f"{len(tables)} results tables, {'words only' if options.words_only else 'default IndexSettings()'}")
    for kind, count in sorted(kinds.items()):
        print(f"  {kind:45} {count:,}")
    print(f"  largest story clusters: {sorted(largest.values(), reverse=True)[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
