"""Bounded soak: good and hostile clients at once against one real server on loopback (issue 12).

    python bench/soak.py [--seconds 60] [--baseline-seconds 10] [--writers 2] [--readers 2]

Starts `wiretrace serve` (defaults, durable SQLite) on a free 127.0.0.1 port and a temporary
data directory. Good clients first run alone for ``--baseline-seconds``: writers stream real
news (Reuters-21578 and BBC from ../shared/news, the WMT21 human references from
../shared/eval cut into 25-line articles) and readers query what was acknowledged (GetArticle,
FindMatches by id and by text, the lineage, an article's clusters, GetStats, a ListArticles
page). Then for ``--seconds`` the same good clients go on while hostile clients, in a process
of their own, replay the repros of issue 12: the 1,430x repeated sentence pair, ingest streams
that send and then never read (silent ones and ones that keep sending), undecodable protobuf
bytes on a raw channel, a 1 MB id / language / name, page tokens such as ``a:²``, an oversize
message and a text over the size limit. A health checker polls every 200 ms and the server's RSS
(its process and its analysis workers, /proc/PID/status VmRSS) is sampled every second.

It prints requests by kind and status code, server crashes (must be 0), health answered % and
latency, RSS, whether every acknowledged article is still there, and the good writers' ingest
rate during the soak as a ratio of their rate alone (the machine is shared: compare ratios).
Exit status 1 on a crash, an unanswered health check, an INTERNAL or UNKNOWN status, or a lost
acknowledged article. Traffic goes only to the loopback server it started.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "client"), str(ROOT / "bench"), str(ROOT / "tests")]

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from processes import ServerProcess  # noqa: E402
from realnews import BBC, SHARED, wmt_versions  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.v1 import wiretrace_service_pb2 as pb  # noqa: E402
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc  # noqa: E402
from wiretrace_client import ArticleInput, Client, WiretraceError  # noqa: E402

REUTERS = SHARED / "news" / "reuters21578.jsonl"
SENTENCE = "The minister said police officers were deployed in the capital today. "
HEALTH_EVERY = 0.2
HEALTH_TIMEOUT = 2.0
BATCH = 16
UNEXPECTED = {"INTERNAL", "UNKNOWN"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass
class Tally:
    """Calls by (kind, status code), latencies by kind; plain data, so it crosses processes."""

    codes: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, code: str, seconds: float | None = None, count: int = 1) -> None:
        with self.lock:
            self.codes[(kind, code)] += count
            if seconds is not None:
                self.latencies[kind].append(seconds)

    def timed(self, kind: str, call: Callable[[], object]) -> object:
        started = time.monotonic()
        try:
            result = call()
        except WiretraceError as error:
            self.add(kind, error.code.name, time.monotonic() - started)
            return None
        except grpc.RpcError as error:
            self.add(kind, error.code().name, time.monotonic() - started)
            return None
        self.add(kind, "OK", time.monotonic() - started)
        return result

    def plain(self) -> dict[str, Any]:
        with self.lock:
            return {"codes": list(self.codes.items()), "latencies": dict(self.latencies)}

    def merge(self, plain: dict[str, Any]) -> None:
        for (kind, code), count in plain["codes"]:
            self.codes[(kind, code)] += count
        for kind, values in plain["latencies"].items():
            self.latencies[kind].extend(values)


# -- real news ------------------------------------------------------------------------------------


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _jsonl(path: Path, prefix: str, source: str | None) -> list[ArticleInput]:
    articles = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            record = json.loads(line)
            articles.append(
                ArticleInput(
                    f"{prefix}-{number:05d}",
                    record["text"],
                    title=record.get("title") or "",
                    source=source or record.get("source") or "",
                    publish_time=_published(record.get("published_at")),
                    language="en",
                )
            )
    return articles


def _wmt_references(lines_per_article: int = 25) -> list[ArticleInput]:
    articles = []
    for pair in ("cs-en", "de-en", "ja-en", "is-en"):
        for version, path in wmt_versions(pair).items():
            if not version.startswith("ref."):
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for start in range(0, len(lines) - lines_per_article + 1, lines_per_article):
                text = "\n".join(lines[start : start + lines_per_article])
                articles.append(ArticleInput(f"wmt-{pair}-{version}-{start:05d}", text, source=version, language="en"))
    return articles


def good_articles() -> list[ArticleInput]:
    """Reuters, BBC and WMT21 references, interleaved (so every stretch of the run mixes them)."""
    for path in (REUTERS, BBC):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the soak reads real text from ../shared (see its README)")
    sources = [_jsonl(REUTERS, "reuters", "Reuters"), _jsonl(BBC, "bbc", "BBC"), _wmt_references()]
    mixed = [a for group in itertools.zip_longest(*sources) for a in group if a is not None]
    return mixed


# -- good clients ---------------------------------------------------------------------------------


class Feed:
    """The articles, handed out in batches to every writer; re-sent from the start once all were."""

    def __init__(self, articles: list[ArticleInput]) -> None:
        self.articles = articles
        self._position = itertools.count()
        self._lock = threading.Lock()

    def batch(self) -> list[ArticleInput]:
        with self._lock:
            start = next(self._position) * BATCH
        return [self.articles[(start + i) % len(self.articles)] for i in range(BATCH)]


def good_writer(address: str, feed: Feed, until: float, tally: Tally, acked: list[tuple[float, str]]) -> None:
    with Client(address, timeout=120) as client:
        while time.monotonic() < until:
            batch = feed.batch()
            while time.monotonic() < until:
                started = time.monotonic()
                try:
                    for item in client.ingest_many(batch, window=BATCH):
                        now = time.monotonic()
                        if item.error is not None:
                            tally.add("good ingest (article)", item.error.reason)
                        else:
                            tally.add("good ingest (article)", "OK")
                            acked.append((now, item.article_id))
                    tally.add("good ingest (stream)", "OK", time.monotonic() - started)
                    break
                except WiretraceError as error:
                    tally.add("good ingest (stream)", f"{error.code.name} {error.reason}", time.monotonic() - started)
                    time.sleep(0.1)  # TOO_MANY_STREAMS says "retry later": the same batch again


def good_reader(address: str, feed: Feed, until: float, tally: Tally, acked: list[tuple[float, str]], n: int) -> None:
    rng = random.Random(n)
    with Client(address, timeout=60) as client:
        while time.monotonic() < until:
            if not acked:
                time.sleep(0.05)
                continue
            known = acked[rng.randrange(len(acked))][1]
            text = feed.articles[rng.randrange(len(feed.articles))].text
            calls: list[tuple[str, Callable[[], object]]] = [
                ("GetArticle", lambda known=known: client.get_article(known)),
                ("FindMatches(id)", lambda known=known: client.find_matches(article_id=known)),
                ("FindMatches(text)", lambda text=text: client.find_matches(text=text)),
                ("GetCluster(lineage)", lambda known=known: client.get_lineage(known, max_members=100)),
                ("ListClusters(article)", lambda known=known: client.clusters_of(known)),
                ("GetStats", client.get_stats),
                ("ListArticles(page)", lambda: list(itertools.islice(client.list_articles(page_size=50), 50))),
            ]
            for kind, call in calls:
                if time.monotonic() >= until:
                    return
                tally.timed(kind, call)


def run_good(address: str, writers: int, readers: int, clock: Any, ready: Any, go: Any, results: Any) -> None:
    """The good clients, in a process of their own (so client-side work does not share a GIL with
    the hostile clients): alone from ``clock[0]``, until ``clock[2]``; reports its tally and the
    acknowledgements."""
    feed = Feed(good_articles())
    ready.set()
    go.wait()
    time.sleep(max(0.0, clock[0] - time.monotonic()))
    until = clock[2]
    tally = Tally()
    acked: list[tuple[float, str]] = []
    threads = [threading.Thread(target=good_writer, args=(address, feed, until, tally, acked)) for _ in range(writers)]
    threads += [
        threading.Thread(target=good_reader, args=(address, feed, until, tally, acked, n)) for n in range(readers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({"tally": tally.plain(), "acked": acked})


# -- hostile clients ------------------------------------------------------------------------------


def _raw(channel: grpc.Channel, method: str) -> Callable[..., Any]:
    return channel.unary_unary(f"/wiretrace.v1.WiretraceService/{method}")  # bytes as they are


def hostile_repeated_pair(address: str, until: float, tally: Tally) -> None:
    """Issue 12 item 1: one sentence 1,430 times, then the same behind a headline; and a query with it."""
    first = SENTENCE * 1430
    second = "Breaking. " + first
    with Client(address, timeout=120) as client:
        for k in itertools.count():
            if time.monotonic() >= until:
                return
            for name in (f"rep-{k}-a", f"rep-{k}-b"):
                text = first if name.endswith("a") else second
                tally.timed("hostile repeated pair: CreateArticle", lambda n=name, t=text: client.create_article(n, t))
            tally.timed("hostile repeated pair: FindMatches(text)", lambda: client.find_matches(text=second))


def _stream_messages(stop: threading.Event, k: int, keep_sending: bool) -> Iterator[pb.IngestArticlesRequest]:
    for i in itertools.count():
        text = f"Stream {k} message {i}: the council approved the budget for the new bridge on Monday."
        yield pb.IngestArticlesRequest(
            article=pb.CreateArticleRequest(article_id=f"stream-{k}-{i}", article=pb.Article(text=text * 20))
        )
        if not keep_sending:
            break
        if stop.wait(0.2):
            return
    stop.wait()  # then silent, never closing the stream


# What a stream status says, from its message (a stream ended for unread answers carries no ErrorInfo).
_STREAM_ENDS = (
    ("responses were not read", "STREAM_NOT_READ"),
    ("while other streams were refused", "STREAM_IDLE (contended)"),
    ("sent nothing for", "STREAM_IDLE"),
    ("this connection already holds", "TOO_MANY_STREAMS (connection)"),
    ("ingest streams at once", "TOO_MANY_STREAMS"),
)


def _stream_status(code: grpc.StatusCode, details: str | None) -> str:
    tag = next((tag for text, tag in _STREAM_ENDS if text in (details or "")), "")
    return f"{code.name} {tag}".strip()


def _drain(call: Any) -> None:
    """Reads what a stream holds, up to its status (the client learns a stream was ended only so)."""
    try:
        for _ in call:
            pass
    except grpc.RpcError:
        pass


def hostile_streams(address: str, until: float, tally: Tally, open_at_once: int, connections: int) -> None:
    """Issue 12 item 2: ingest streams whose responses are never read; half go silent after one
    message, half keep sending. Ended ones are replaced, so ``open_at_once`` stay open as far as
    this client can tell: a stream the server ended after answers it never read looks open until
    they are read, so at the end every stream still open is read to its status for 5 s (one that
    gets none is reported as still open). The streams take turns over ``connections`` TCP
    connections (one by default: the server lets one connection hold half its stream slots)."""
    stop = threading.Event()
    # Channels of one process share their TCP connection unless each keeps its own subchannels.
    channels = [
        grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)] if connections > 1 else [])
        for _ in range(connections)
    ]
    try:
        stubs = [pb_grpc.WiretraceServiceStub(channel) for channel in channels]
        open_calls: list[tuple[str, Any]] = []
        counter = itertools.count()
        while time.monotonic() < until:
            still = []
            for kind, call in open_calls:
                if call.done():
                    tally.add(kind, _stream_status(call.code(), call.details()))
                else:
                    still.append((kind, call))
            open_calls = still
            while len(open_calls) < open_at_once:
                k = next(counter)
                keep = k % 2 == 1
                kind = "hostile stream: sends, never reads" if keep else "hostile stream: one message, then silent"
                open_calls.append((kind, stubs[k % connections].IngestArticles(_stream_messages(stop, k, keep))))
            time.sleep(0.25)
        readers = [threading.Thread(target=_drain, args=(call,), daemon=True) for _, call in open_calls]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 5.0
        for reader in readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        stop.set()
        for kind, call in open_calls:
            if call.done():
                tally.add(kind, f"{_stream_status(call.code(), call.details())} (read at the end)")
            else:
                call.cancel()
                tally.add(kind, "still open at the end (cancelled by the client)")
    finally:
        stop.set()
        for channel in channels:
            channel.close()


def hostile_malformed(address: str, until: float, tally: Tally) -> None:
    """Issue 12 item 10: bytes that are no request message, unary and in a stream."""
    good = pb.CreateArticleRequest(article_id="m1", article=pb.Article(text="A few words of text.")).SerializeToString()
    # Invalid UTF-8 in a string field, a message cut short, groups nested too deep, wire type 7.
    payloads = [b"\x0a\x02\xff\xfe", good[:-3], b"\x7b" * 500 + b"\x7c" * 500, b"\x0f" + b"\x00" * 8]
    rng = random.Random(7)
    with grpc.insecure_channel(address) as channel:
        stream = channel.stream_stream("/wiretrace.v1.WiretraceService/IngestArticles")
        while time.monotonic() < until:
            payload = rng.choice(payloads)
            method = rng.choice(["CreateArticle", "FindMatches", "GetArticle"])
            unary = _raw(channel, method)
            tally.timed(f"hostile malformed bytes: {method}", lambda p=payload, u=unary: u(p, timeout=10))
            tally.timed(
                "hostile malformed bytes: IngestArticles", lambda p=payload: list(stream(iter([p]), timeout=10))
            )
            time.sleep(0.02)


def hostile_fields(address: str, until: float, tally: Tally) -> None:
    """Issue 12 items 7, 10, 11: huge ids, language and names, bad page tokens, oversize messages."""
    huge = "x" * 1_000_000
    too_long = ("Words of a long article. " * (IndexSettings().max_text_chars // 25 + 10))[
        : IndexSettings().max_text_chars + 100
    ]
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(address, options=options) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        text = pb.Article(text="An ordinary sentence about the weather in the north today.")
        calls: list[tuple[str, Callable[[], object]]] = [
            ("1 MB id", lambda: stub.CreateArticle(pb.CreateArticleRequest(article_id=huge, article=text), timeout=30)),
            (
                "1 MB language",
                lambda: stub.CreateArticle(
                    pb.CreateArticleRequest(article_id="lang", article=pb.Article(text=text.text, language=huge)),
                    timeout=30,
                ),
            ),
            ("1 MB name", lambda: stub.GetArticle(pb.GetArticleRequest(name="articles/" + huge), timeout=30)),
            ("1 MB cluster", lambda: stub.GetCluster(pb.GetClusterRequest(name="clusters/" + huge), timeout=30)),
            ("token a:²", lambda: stub.ListArticles(pb.ListArticlesRequest(page_token="a:²"), timeout=30)),
            ("token a:2^64", lambda: stub.ListArticles(pb.ListArticlesRequest(page_token=f"a:{2**64}"), timeout=30)),
            ("token garbage", lambda: stub.ListClusters(pb.ListClustersRequest(page_token="\u202e%%"), timeout=30)),
            (
                "cluster token a:²",
                lambda: stub.GetCluster(pb.GetClusterRequest(name="articles/rep-0-a", page_token="a:²"), timeout=30),
            ),
            (
                "only ZWSP",
                lambda: stub.CreateArticle(
                    pb.CreateArticleRequest(article_id="zwsp", article=pb.Article(text="\u200b" * 100)), timeout=30
                ),
            ),
            (
                "text over the limit",
                lambda: stub.CreateArticle(
                    pb.CreateArticleRequest(article_id="long", article=pb.Article(text=too_long)), timeout=60
                ),
            ),
        ]
        oversize = pb.CreateArticleRequest(article_id="big", article=pb.Article(text="y" * (17 * 1024 * 1024)))
        last_oversize = 0.0
        while time.monotonic() < until:
            for name, call in calls:
                if time.monotonic() >= until:
                    return
                tally.timed(f"hostile field: {name}", call)
            if time.monotonic() - last_oversize > 3.0:  # 17 MB over a 16 MB limit, every 3 s
                last_oversize = time.monotonic()
                tally.timed("hostile field: 17 MB message", lambda: stub.CreateArticle(oversize, timeout=60))
            time.sleep(0.05)


def run_hostile(
    address: str, kinds: list[str], streams: int, connections: int, clock: Any, go: Any, results: Any
) -> None:
    """The hostile clients named in ``kinds``, from ``clock[1]`` until ``clock[2]``."""
    go.wait()
    time.sleep(max(0.0, clock[1] - time.monotonic()))
    until = clock[2]
    tally = Tally()
    targets: dict[str, tuple[Callable[..., None], tuple[Any, ...]]] = {
        "repeated": (hostile_repeated_pair, (address, until, tally)),
        "streams": (hostile_streams, (address, until, tally, streams, connections)),
        "malformed": (hostile_malformed, (address, until, tally)),
        "fields": (hostile_fields, (address, until, tally)),
    }
    threads = [threading.Thread(target=targets[kind][0], args=targets[kind][1]) for kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({"tally": tally.plain()})


HOSTILE = ("repeated", "streams", "malformed", "fields")


# -- watchers -------------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` and of its child processes (the analysis workers)."""
    total = 0
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


@dataclass
class Watch:
    health: list[tuple[float, str, float]] = field(default_factory=list)  # (when, status, seconds)
    rss: list[tuple[float, int]] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)


def watch(server: ServerProcess, until: float, observed: Watch) -> None:
    """Health every 200 ms, RSS every second, and whether the server is still running."""
    next_rss = 0.0
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while (now := time.monotonic()) < until:
            if server.process.poll() is not None:
                observed.exit_codes.append(server.process.returncode)
                return
            if now >= next_rss:
                observed.rss.append((now, rss_bytes(server.process.pid)))
                next_rss = now + 1.0
            started = time.monotonic()
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT)
                status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
            except grpc.RpcError as error:
                status = error.code().name
            elapsed = time.monotonic() - started
            observed.health.append((started, status, elapsed))
            time.sleep(max(0.0, HEALTH_EVERY - elapsed))


# -- the run --------------------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value / 1e6:,.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="the soak, good and hostile clients together")
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="the good clients alone, first")
    parser.add_argument("--writers", type=int, default=2, help="good streaming writers")
    parser.add_argument("--readers", type=int, default=2, help="good readers")
    parser.add_argument("--streams", type=int, default=40, help="hostile ingest streams open at once")
    parser.add_argument(
        "--stream-connections", type=int, default=1, help="TCP connections the hostile streams take turns over"
    )
    parser.add_argument("--hostile", nargs="*", choices=HOSTILE, default=list(HOSTILE), help="hostile clients to run")
    options = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    with tempfile.TemporaryDirectory() as directory, ServerProcess(Path(directory) / "data") as server:
        rss_at_start = rss_bytes(server.process.pid)
        clock, ready, go = context.Array("d", 3), context.Event(), context.Event()
        good = context.Process(
            target=run_good, args=(server.address, options.writers, options.readers, clock, ready, go, results)
        )
        hostile = context.Process(
            target=run_hostile,
            args=(server.address, options.hostile, options.streams, options.stream_connections, clock, go, results),
        )
        good.start()
        hostile.start()
        if not ready.wait(300):
            raise SystemExit("the good clients did not load their corpus in 300 s")
        t0 = time.monotonic() + 1.0  # both processes are waiting: start on the clock
        t1 = t0 + options.baseline_seconds
        t2 = t1 + options.seconds
        clock[:] = [t0, t1, t2]
        go.set()
        observed = Watch()
        time.sleep(max(0.0, t0 - time.monotonic()))
        watch(server, t2, observed)
        reports = [results.get(timeout=300) for _ in range(2)]
        good.join(60)
        hostile.join(60)
        crashed = server.process.poll() is not None
        if crashed and not observed.exit_codes:
            observed.exit_codes.append(server.process.returncode)
        tally = Tally()
        acked: list[tuple[float, str]] = []
        for report in reports:
            tally.merge(report["tally"])
            acked.extend(report.get("acked", []))
        lost: set[str] = set()
        stats = None
        if not crashed:
            with Client(server.address, timeout=120) as client:
                stored = {a.article_id for a in client.list_articles(page_size=1000, omit_text=True)}
                lost = {article_id for _, article_id in acked} - stored
                stats = client.get_stats()
            rss_end = rss_bytes(server.process.pid)
            exit_code = server.terminate(60)
        else:
            rss_end, exit_code = 0, server.process.returncode
        log_tail = server.log.read_text(errors="replace").splitlines()[-30:]

    soak_health = [h for h in observed.health if h[0] >= t1]
    answered = [h for h in soak_health if h[1] in ("SERVING", "NOT_SERVING")]
    soak_rss = [r for t, r in observed.rss if t >= t1]
    rss_soak_start = next((r for t, r in observed.rss if t >= t1), rss_at_start)
    base_rate = sum(1 for t, _ in acked if t0 <= t < t1) / options.baseline_seconds
    soak_rate = sum(1 for t, _ in acked if t1 <= t < t2) / options.seconds

    print(
        f"soak: {options.baseline_seconds:g} s good clients alone, then {options.seconds:g} s with hostile clients; "
        f"{options.writers} writers, {options.readers} readers; hostile: {', '.join(options.hostile) or 'none'}"
        f" ({options.streams} streams open at once over {options.stream_connections} connection(s))"
    )
    print("requests by kind and status (both phases):")
    for kind in sorted({k for k, _ in tally.codes}):
        codes = ", ".join(f"{code} {count}" for (k, code), count in sorted(tally.codes.items()) if k == kind)
        values = tally.latencies.get(kind, [])
        timing = (
            f"  p50 {percentile(values, 0.5) * 1e3:.0f} ms, p99 {percentile(values, 0.99) * 1e3:.0f} ms"
            if values
            else ""
        )
        print(f"  {kind:46} {codes}{timing}")
    unexpected = sum(count for (_, code), count in tally.codes.items() if code.split()[0] in UNEXPECTED)
    print(f"unexpected statuses (INTERNAL, UNKNOWN): {unexpected}")
    print(f"server crashes (exit while running): {len(observed.exit_codes)}; exit code after SIGTERM: {exit_code}")
    latencies = [h[2] for h in answered]
    print(
        f"health during the soak: {len(answered)}/{len(soak_health)} answered "
        f"({100 * len(answered) / max(1, len(soak_health)):.1f} %), "
        f"{sum(1 for h in answered if h[1] == 'SERVING')} SERVING; "
        f"latency p50 {percentile(latencies, 0.5) * 1e3:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1e3:.1f} ms, max {max(latencies, default=0) * 1e3:.1f} ms"
    )
    print(
        f"RSS (server + analysis workers): {_mb(rss_at_start)} after start, {_mb(rss_soak_start)} at the soak's start, "
        f"max {_mb(max(soak_rss, default=0))} during it, {_mb(rss_end)} at the end"
    )
    timeline = [f"{t - t1:+.0f} s {r / 1e6:,.0f}" for t, r in observed.rss[:: max(1, len(observed.rss) // 12)]]
    print(f"RSS over time (MB, from the soak's start): {', '.join(timeline)}")
    if stats is not None:
        print(f"stored at the end: {stats.articles} articles, {stats.clusters} clusters, {stats.edges} edges")
    print(f"acknowledged good articles: {len({a for _, a in acked})}, missing at the end: {len(lost)}")
    print(
        f"good ingest: {base_rate:.1f} articles/s alone, {soak_rate:.1f}/s during the soak "
        f"= {soak_rate / base_rate if base_rate else 0:.2f}x"
    )
    failed = bool(observed.exit_codes) or exit_code != 0 or len(answered) < len(soak_health) or unexpected or lost
    if failed:
        print("server log (tail):\n" + "\n".join(log_tail))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
