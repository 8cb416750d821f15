"""One real story syndicated N times: how ingest and GetCluster scale with the size of its cluster.

    python bench/syndication.py [--copies 5000] [--batch 10] [--max-seconds 1800] [--json out.json]

Starts `wiretrace serve` (durable SQLite, matching and lineage on) on a free loopback port and a
temporary data directory, streams a few hundred unrelated real articles into it (BBC News,
../shared/news/bbc.jsonl), then one real story (25 lines of a WMT21 reference, ../shared/eval)
and N copies of it, each with 3-5 random word substitutions or deletions (deterministic seed), its
own outlet (`source`) and a later publish time, in IngestArticles streams of --batch copies each
(a stream's copies are all acknowledged before the next stream starts). Every copy is a
near-duplicate of the story and of every earlier copy, so they all join one lineage cluster.

Prints, at cluster sizes 10, 100, 1,000 and 5,000 (those reached) and at the last size reached:
- the per-copy ingest time: each stream's seconds / its copies, median over the --samples
  streams nearest that size, and its ratio to the time at size 10;
- the latency of GetCluster for `articles/<story>` through the raw gRPC stub, median of
  --lookups calls made while no ingest runs, its ratio to the latency at size 10, and the
  members and bytes of the response. When GetClusterRequest has a `page_size` field (AIP-158
  paging) the request asks for the first page of --page-size members; otherwise it is the plain
  request, which returns every member.
Stops sending after --max-seconds and reports what it reached.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "client"), str(ROOT / "bench"), str(ROOT / "tests")]

from harness import WORD, served, stream_ingest  # noqa: E402
from realnews import EPOCH, bbc_articles, wmt_story  # noqa: E402
from wiretrace.v1 import wiretrace_service_pb2 as pb  # noqa: E402
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc  # noqa: E402
from wiretrace_client import ArticleInput  # noqa: E402

SIZES = (10, 100, 1_000, 5_000)
STORY_ID = "story"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
LOOKUP_BUDGET_SECONDS = 120.0


def edited(story: str, vocabulary: list[str], rng: random.Random) -> str:
    """The story with 3-5 words substituted (two in three) or deleted, line structure kept."""
    lines = [line.split(" ") for line in story.split("\n")]
    for _ in range(rng.randint(3, 5)):
        words = rng.choice([w for w in lines if w != [""]])
        position = rng.randrange(len(words))
        if len(words) > 1 and rng.random() < 1 / 3:
            del words[position]
        else:
            words[position] = rng.choice(vocabulary)
    return "\n".join(" ".join(words) for words in lines)


def copies_of(story: str, vocabulary: list[str], first: int, last: int, seed: int) -> list[ArticleInput]:
    """Copies ``first``..``last`` (inclusive); copy k: its own seed and outlet, published k minutes after the story."""
    return [
        ArticleInput(
            f"copy-{k:05d}",
            edited(story, vocabulary, random.Random(seed * 1_000_003 + k)),
            title="syndicated story",
            source=f"outlet-{k:05d}",
            publish_time=EPOCH + timedelta(minutes=k),
            language="en",
        )
        for k in range(first, last + 1)
    ]


def cluster_request(name: str, page_size: int) -> tuple[pb.GetClusterRequest, str]:
    """GetCluster's request, paged (first page) when the API has AIP-158 paging; and which it is."""
    if "page_size" in pb.GetClusterRequest.DESCRIPTOR.fields_by_name:
        paged: dict[str, Any] = {"name": name, "page_size": page_size}  # not in the stubs of an unpaged API
        return pb.GetClusterRequest(**paged), f"paged, page_size={page_size} (first page)"
    return pb.GetClusterRequest(name=name), "unpaged (GetClusterRequest has no page_size: every member)"


@dataclass
class Lookup:
    size: int
    seconds: list[float]
    members: int
    member_count: int
    response_bytes: int
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def look_up(stub: pb_grpc.WiretraceServiceStub, request: pb.GetClusterRequest, size: int, calls: int) -> Lookup:
    """``calls`` GetCluster calls (fewer when they take more than LOOKUP_BUDGET_SECONDS together)."""
    lookup = Lookup(size, [], 0, 0, 0)
    for _ in range(calls):
        started = time.perf_counter()
        try:
            response = stub.GetCluster(request, timeout=600)
        except grpc.RpcError as error:
            lookup.error = f"{error.code().name}: {error.details()}"
            return lookup
        lookup.seconds.append(time.perf_counter() - started)
        lookup.members = len(response.cluster.members)
        lookup.member_count = response.cluster.member_count
        lookup.response_bytes = response.ByteSize()
        if sum(lookup.seconds) > LOOKUP_BUDGET_SECONDS:
            break
    return lookup


@dataclass(frozen=True)
class Window:
    """One stream of copies: the cluster size before and after it, and its seconds."""

    size_before: int
    size_after: int
    copies: int
    seconds: float

    @property
    def middle(self) -> float:
        return (self.size_before + self.size_after) / 2

    @property
    def per_copy(self) -> float:
        return self.seconds / self.copies


def per_copy_at(windows: list[Window], size: int, samples: int) -> float:
    """Median per-copy time of the ``samples`` windows nearest ``size``."""
    nearest = sorted(windows, key=lambda w: (abs(w.middle - size), w.size_before))[:samples]
    return statistics.median(w.per_copy for w in nearest)


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:8.2f}x" if base and value == value else "        -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=10, help="copies per IngestArticles stream (window)")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop sending copies after this")
    parser.add_argument("--background", type=int, default=300, help="unrelated BBC articles ingested first")
    parser.add_argument("--samples", type=int, default=5, help="streams whose per-copy times give each median")
    parser.add_argument("--lookups", type=int, default=5, help="GetCluster calls at each size")
    parser.add_argument("--page-size", type=int, default=100, help="GetCluster page size, if the API pages")
    parser.add_argument("--pair", default="de-en", help="WMT21 pair of the story")
    parser.add_argument("--version", default="ref.A", help="WMT21 reference or system of the story")
    parser.add_argument("--start", type=int, default=0, help="first line of the story in that file")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--passage-num-perm", type=int, help="as `wiretrace serve --passage-num-perm`")
    parser.add_argument("--json", help="also write the figures here")
    options = parser.parse_args()
    if options.batch < 1 or options.copies < 1:
        parser.error("--batch and --copies must be at least 1")

    story = wmt_story(options.pair, options.version, options.start)
    background = list(bbc_articles(options.background))
    vocabulary = sorted({w for a in background for w in WORD.findall(a.text) if w.isalpha()})
    request, request_kind = cluster_request(f"articles/{STORY_ID}", options.page_size)
    print(
        f"story: {options.pair} {options.version} lines {options.start}-{options.start + 24} "
        f"({len(story.split())} words); {options.copies} copies of 3-5 word edits, {options.batch} per stream; "
        f"{len(background)} BBC articles first; GetCluster {request_kind}"
    )
    server_args = ["--passage-num-perm", str(options.passage_num_perm)] if options.passage_num_perm else []
    started = time.perf_counter()
    windows: list[Window] = []
    lookups: dict[int, Lookup] = {}
    errors: list[str] = []
    strays = 0
    with (
        served(*server_args) as (server, client),
        grpc.insecure_channel(
            server.address,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        ) as channel,
    ):
        stub = pb_grpc.WiretraceServiceStub(channel)
        items, seconds = stream_ingest(client, background, window=64)
        errors += [f"{i.article_id}: {i.error}" for i in items if i.error is not None]
        print(f"background: {len(items)} articles in {seconds:.1f} s ({len(items) / seconds:.1f}/s)")
        items, _ = stream_ingest(
            client,
            [ArticleInput(STORY_ID, story, title="the story", source=f"wire ({options.version})", publish_time=EPOCH)],
            window=1,
        )
        errors += [f"{i.article_id}: {i.error}" for i in items if i.error is not None]
        size = 1
        deadline = time.monotonic() + options.max_seconds
        sent = 0
        while sent < options.copies and time.monotonic() < deadline:
            batch = copies_of(story, vocabulary, sent + 1, min(options.copies, sent + options.batch), options.seed)
            items, seconds = stream_ingest(client, batch, window=len(batch))
            sent += len(batch)
            errors += [f"{i.article_id}: {i.error}" for i in items if i.error is not None]
            results = [i.result for i in items if i.result is not None]
            strays += sum(1 for r in results if not r.matches)
            before, size = size, max([size, *(r.cluster.member_count for r in results)])
            windows.append(Window(before, size, len(batch), seconds))
            for target in SIZES:
                if before < target <= size:
                    lookups[target] = look_up(stub, request, size, options.lookups)
            if len(windows) % max(1, 200 // options.batch) == 0:
                print(
                    f"  {sent} copies sent, cluster {size}, last stream {seconds / len(batch) * 1000:.1f} ms/copy, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        if size not in lookups and size not in SIZES:
            lookups[size] = look_up(stub, request, size, options.lookups)
        stats = client.get_stats()
        if errors:
            print("server log (tail):\n" + "\n".join(server.log.read_text().splitlines()[-20:]))
    elapsed = time.perf_counter() - started
    stopped = "" if sent >= options.copies else f" (stopped by --max-seconds {options.max_seconds:g})"
    print(
        f"sent {sent} of {options.copies} copies{stopped}; cluster size {size}; {strays} copies matched nothing; "
        f"stored {stats.articles} articles, {stats.clusters} clusters, {stats.edges} edges; errors {len(errors)}; "
        f"total {elapsed:.0f} s"
    )
    for error in errors[:10]:
        print(f"  {error}")
    rows = [s for s in SIZES if s <= size] + ([size] if size not in SIZES else [])
    ingest = {s: per_copy_at(windows, s, options.samples) for s in rows} if windows else {}
    base_ingest = ingest.get(10)
    base_lookup = lookups[10].median if 10 in lookups else None
    print(
        f"{'cluster size':>12} | {'ingest ms/copy':>14} {'vs @10':>9} | {'GetCluster ms':>13} {'vs @10':>9} "
        f"| {'at size':>7} {'members':>7} {'of':>6} {'bytes':>10}"
    )
    by_size: dict[str, dict[str, object]] = {}
    figures = {"copies_sent": sent, "cluster_size": size, "request": request_kind, "sizes": by_size}
    for s in rows:
        lookup = lookups.get(s)
        lookup_ms = lookup.median * 1000 if lookup else float("nan")
        tail = (
            f"| {lookup.size:7d} {lookup.members:7d} {lookup.member_count:6d} {lookup.response_bytes:10,d}"
            if lookup and not lookup.error
            else f"| {lookup.error if lookup else ''}"
        )
        print(
            f"{s:12,d} | {ingest[s] * 1000:14.1f} {ratio(ingest[s], base_ingest)} "
            f"| {lookup_ms:13.1f} {ratio(lookup_ms / 1000, base_lookup)} {tail}"
        )
        by_size[str(s)] = {
            "ingest_ms_per_copy": ingest[s] * 1000,
            "ingest_ratio_vs_10": ingest[s] / base_ingest if base_ingest else None,
            "get_cluster_ms": lookup_ms,
            "get_cluster_ratio_vs_10": lookup.median / base_lookup if lookup and base_lookup else None,
            "get_cluster_calls": len(lookup.seconds) if lookup else 0,
            "get_cluster_measured_at": lookup.size if lookup else None,
            "members_returned": lookup.members if lookup else None,
            "response_bytes": lookup.response_bytes if lookup else None,
            "error": lookup.error if lookup else "",
        }
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
