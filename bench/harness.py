"""What the end-to-end benchmarks share: a real server on a temporary data directory, the
streaming ingest through the client, and the naive datasketch baseline they are compared with."""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from datasketch import MinHash, MinHashLSH

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "service", ROOT / "client", ROOT / "bench", ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from processes import ServerProcess  # noqa: E402
from wiretrace_client import ArticleInput, Client  # noqa: E402
from wiretrace_client.client import IngestItem  # noqa: E402

WORD = re.compile(r"\w+")
SHINGLE = 5


def naive_minhash(text: str) -> MinHash:
    """How datasketch's README signs a document: one update() per word 5-shingle."""
    words = WORD.findall(text.lower())
    minhash = MinHash(num_perm=128)
    for start in range(max(1, len(words) - SHINGLE + 1)):
        minhash.update(" ".join(words[start : start + SHINGLE]).encode("utf-8"))
    return minhash


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def naive_ingest_rate(rows: Sequence[tuple[str, str]]) -> float:
    """Articles/s of datasketch used naively: text -> MinHash.update per shingle -> MinHashLSH(0.5).insert,
    in memory, nothing durable, no matching."""

    def ingest() -> None:
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        for article_id, text in rows:
            lsh.insert(article_id, naive_minhash(text))

    return rate(len(rows), timed(ingest))


@contextmanager
def served(*server_args: str, timeout: float = 600) -> Iterator[tuple[ServerProcess, Client]]:
    """`wiretrace serve` (durable SQLite, matching and lineage on) on a free loopback port and a
    temporary data directory, with a client connected to it; both go away afterwards."""
    with (
        tempfile.TemporaryDirectory() as directory,
        ServerProcess(Path(directory) / "data", *server_args) as server,
        Client(server.address, timeout=timeout) as client,
    ):
        yield server, client


def stream_ingest(client: Client, articles: Iterable[ArticleInput], *, window: int) -> tuple[list[IngestItem], float]:
    """Everything through one IngestArticles stream (at most ``window`` in flight): the answers and the seconds."""
    started = time.perf_counter()
    items = list(client.ingest_many(articles, window=window))
    return items, time.perf_counter() - started
