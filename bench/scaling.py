"""How ingest, find-matches and the index grow with the number of articles (embedded backend, in process).

    python bench/scaling.py [--corpus synthetic|realistic] [--sizes 2500 5000 10000 20000] [--queries 300]
                            [--batch 500] [--rate-block 5000] [--words-only] [--analysis-workers 2]
                            [--data DIR]

Ingests a corpus in process on durable SQLite the way a re-indexing job would (the bulk path):
large batches, one commit each, analysis in worker processes a batch ahead of the batch being
matched and stored. ``synthetic`` is bench/corpus.py's word-bag corpus (generated in this process,
outside the clock); ``realistic`` is bench/realistic_corpus.py's (real sentences, bursts, quotes;
rendered ahead in one more process). At each size it prints:

- ingest rate over the last ``--rate-block`` articles before the size (and over the whole step),
  with this process's CPU time per article (matching and storing: the serial part) and the load;
- find_matches p50 / p99 for texts of stored articles (a uniform sample) and for fresh texts (the
  next articles of the stream, not yet stored), each its own call, after a few untimed warm-ups
  (the first call after the reopen timed apart), and the three slowest fresh texts;
- candidates per query: the ranked ones ``Storage.candidates`` returned, the ones whose records
  verification read, and (untimed, on the fresh texts) every article in a bucket the query looks
  up (the pool before the cut to ``max_candidates``), passage buckets alone beside it;
- index bytes per article in memory (tracemalloc across a reopen, which rebuilds the in-memory
  buckets from SQLite, as the server's start does; the document and passage bucket arrays
  beside it) and on disk (the SQLite files, and what each table and index takes);
- realistic corpus: recall of the fresh texts' story (a copy finds an earlier publication of its
  story) and quote (finds the story it quotes, among the 20 matches returned), and what the
  matches are by the ground truth (see :meth:`MatchJudge.kind`).

Then log-log slopes between consecutive sizes (1 = linear growth, 0 = flat).

``--data DIR`` keeps the store in DIR (else a temporary directory) and makes the run resumable:
the figures of every size reached are kept in ``DIR/scaling-progress.json``, and the same command
run again goes on from the articles stored (every batch is one commit, so a killed run loses at
most the batch being written). The stream is deterministic: the articles already stored are
rendered again, not ingested, for the ground truth and the sample of stored texts. A 1M run
takes longer than one sitting on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import itertools
import json
import math
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service"), str(ROOT / "bench")]

import realistic_corpus  # noqa: E402
from corpus import generate  # noqa: E402
from wiretrace.core.engine import IngestRequest, Wiretrace  # noqa: E402
from wiretrace.core.errors import WiretraceError  # noqa: E402
from wiretrace.core.model import ArticleDraft, ClusterKind, ClusterSummary, Match  # noqa: E402
from wiretrace.core.ports import DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ, ArticleRecord  # noqa: E402
from wiretrace.core.settings import IndexSettings  # noqa: E402
from wiretrace.storage.sqlite import SqliteStorage  # noqa: E402

WARM_UPS = 10


class MeasuredSqliteStorage(SqliteStorage):
    """The SQLite adapter with counts of what matching asks of it (and sizes it does not report)."""

    def __init__(self, data_dir: str | Path) -> None:
        super().__init__(data_dir)
        self.candidate_calls = 0
        self.candidates_returned = 0
        self.records_read = 0

    def reset_counts(self) -> None:
        self.candidate_calls = self.candidates_returned = self.records_read = 0

    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        found = super().candidates(document_keys, passage_keys, limit)
        self.candidate_calls += 1
        self.candidates_returned += len(found)
        return found

    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        found = super().get_records(article_ids)
        self.records_read += len(found)
        return found

    def candidate_pool(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]
    ) -> tuple[int, int]:
        """(articles in any bucket a query reads, those in passage buckets), as ``candidates``
        reads them (a bounded number per bucket), before the cut to the best ``limit``."""
        with self._lock:
            documents, _ = self._documents.hits(document_keys, DOCUMENT_BUCKET_READ)
            passages, _ = self._passages.hits(passage_keys, PASSAGE_BUCKET_READ)
            return int(np.union1d(documents, passages).size), int(passages.size)

    def bucket_bytes(self) -> tuple[int, int]:
        """Bytes of the document and passage bucket arrays (the small pending run left out)."""
        return self._documents.nbytes, self._passages.nbytes

    def bucket_entries(self) -> tuple[int, int]:
        """(bucket key, article) entries of the document and passage buckets."""
        return self._documents.entries, self._passages.entries

    def table_bytes(self) -> dict[str, int]:
        """Bytes on disk per table and index (SQLite's dbstat; empty where it is not compiled in)."""
        try:
            rows = self._db().execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        except sqlite3.OperationalError:
            return {}
        return {str(name): int(size) for name, size in rows}


@dataclass(frozen=True, slots=True)
class Truth:
    """What the realistic corpus knows of its articles, by stream number."""

    story: npt.NDArray[np.int64]
    first_article: npt.NDArray[np.int64]
    source_of_story: npt.NDArray[np.int64]
    # 0: the story is the real article's own text; more: a retelling of it.
    retelling_of_story: npt.NDArray[np.int64]
    # Filled in as articles are rendered (whether a story's quote found a sentence to quote).
    quote_story: npt.NDArray[np.int64]


@dataclass(slots=True)
class Step:
    """What was measured at one size (times in seconds, sizes per article)."""

    size: int
    ingest_seconds: float = 0.0
    block_rate: float = 0.0
    block_cpu_ms: float = 0.0
    load: float = 0.0
    step_rate: float = 0.0
    stored_p50: float = 0.0
    stored_p99: float = 0.0
    fresh_p50: float = 0.0
    fresh_p99: float = 0.0
    ranked: float = 0.0
    read: float = 0.0
    pool: float = 0.0
    passage_pool: float = 0.0
    memory: float = 0.0
    document_buckets: float = 0.0
    passage_buckets: float = 0.0
    passage_entries: float = 0.0
    disk: float = 0.0
    reopen_seconds: float = 0.0
    # The first find_matches after the reopen (it loads what the engine builds on first use:
    # the encoder, and with cross_language the gists of every stored article).
    first_query_seconds: float = 0.0
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    scores: dict[str, float] = field(default_factory=dict)
    slowest: list[str] = field(default_factory=list)
    # Realistic corpus: per cluster kind, the largest clusters as (members, planted stories among them).
    clusters: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def synthetic_drafts(count: int) -> Iterator[ArticleDraft]:
    for doc in generate(count):
        yield ArticleDraft(doc.article_id, doc.text)


def realistic_drafts(plan: realistic_corpus.Plan, truth: Truth) -> Iterator[ArticleDraft]:
    for article in realistic_corpus.stream(plan, workers=1):
        truth.quote_story[article.number] = article.quote_story
        yield ArticleDraft(article.article_id, article.text, source=article.outlet, publish_time=article.publish_time)


class Lookahead:
    """A draft stream that can be peeked (fresh query texts are ingested afterwards), timed, and
    that keeps a uniform sample of the texts taken (reservoir sampling: bounded at any size)."""

    def __init__(self, drafts: Iterator[ArticleDraft], sample_size: int, rng: np.random.Generator) -> None:
        self._drafts = drafts
        self._peeked: deque[ArticleDraft] = deque()
        self._rng = rng
        self._sample_size = sample_size
        self._taken = 0
        self.sample: list[str] = []
        self.seconds = 0.0

    def take(self, count: int) -> list[ArticleDraft]:
        taken = [self._peeked.popleft() for _ in range(min(count, len(self._peeked)))]
        begun = time.perf_counter()
        while len(taken) < count and (draft := next(self._drafts, None)) is not None:
            taken.append(draft)
        self.seconds += time.perf_counter() - begun
        for draft in taken:
            self._taken += 1
            if len(self.sample) < self._sample_size:
                self.sample.append(draft.text)
            elif (slot := int(self._rng.integers(self._taken))) < self._sample_size:
                self.sample[slot] = draft.text
        return taken

    def peek(self, count: int) -> list[ArticleDraft]:
        begun = time.perf_counter()
        while len(self._peeked) < count and (draft := next(self._drafts, None)) is not None:
            self._peeked.append(draft)
        self.seconds += time.perf_counter() - begun
        return list(self._peeked)[:count]


@dataclass(frozen=True, slots=True)
class IngestTiming:
    seconds: float
    # The last ``rate_block`` articles (whole batches): how many, their wall-clock seconds, and
    # the CPU seconds of this process (matching and storing, which the analysis workers do not
    # share; less sensitive than the wall clock to other work on the machine).
    block_articles: int
    block_seconds: float
    block_cpu_seconds: float


def ingest_step(
    engine: Wiretrace, drafts: Lookahead, stored: int, count: int, batch: int, rate_block: int
) -> IngestTiming:
    """Ingest ``count`` drafts, each batch analysed while the one before is matched and stored.
    Prints the rate of every ``rate_block`` articles on the way (a long step's progress)."""
    sizes = [min(batch, count - start) for start in range(0, count, batch)]
    spent: list[tuple[int, float, float]] = []
    pending = engine.prepare([IngestRequest(d) for d in drafts.take(sizes[0])])
    for number in range(len(sizes)):
        following = drafts.take(sizes[number + 1]) if number + 1 < len(sizes) else []
        begun, begun_cpu = time.perf_counter(), time.process_time()
        prepared = pending.result()
        if following:
            pending = engine.prepare([IngestRequest(d) for d in following])
        requests = [item for item in prepared if isinstance(item, IngestRequest)]
        results = engine.ingest_batch(requests)
        refused = [r for r in results if isinstance(r, WiretraceError)] + [
            item for item in prepared if isinstance(item, WiretraceError)
        ]
        if refused:
            raise SystemExit(f"{len(refused)} article(s) refused, the first: {refused[0]}")
        spent.append((sizes[number], time.perf_counter() - begun, time.process_time() - begun_cpu))
        done = sum(articles for articles, _, _ in spent)
        if done % rate_block < sizes[number] and done < count:
            articles, seconds, cpu = _last_block(spent, rate_block)
            print(
                f"  {stored + done:,} articles: ingest {articles / seconds:.1f}/s over the last {articles:,} "
                f"(this process {cpu / articles * 1e3:.1f} ms CPU an article; load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    return IngestTiming(sum(seconds for _, seconds, _ in spent), *_last_block(spent, rate_block))


def _last_block(spent: list[tuple[int, float, float]], rate_block: int) -> tuple[int, float, float]:
    """Articles, seconds and CPU seconds of the last batches that make ``rate_block`` articles."""
    articles, seconds, cpu = 0, 0.0, 0.0
    for batch_articles, batch_seconds, batch_cpu in reversed(spent):
        if articles >= rate_block:
            break
        articles, seconds, cpu = articles + batch_articles, seconds + batch_seconds, cpu + batch_cpu
    return articles, seconds, cpu


def timed_queries(engine: Wiretrace, texts: list[str]) -> tuple[list[float], list[list[Match]]]:
    """Each text's find_matches (the default 20 matches at most) and how long it took."""
    latencies, matched = [], []
    for text in texts:
        begun = time.perf_counter()
        report = engine.find_matches(text=text)
        latencies.append(time.perf_counter() - begun)
        matched.append(list(report.matches))
    return latencies, matched


class MatchJudge:
    """Ground truth of the realistic corpus applied to a fresh query's matches."""

    def __init__(self, truth: Truth) -> None:
        self.truth = truth

    def kind(self, query: int, matched: int) -> str:
        """What relates a query to a matched article: ``same story`` (a copy) and ``quote`` are
        planted; ``retelling`` is a retelling of the same real article (a near-miss that shares
        its template and half its words); ``real texts`` are two real articles' own texts (reuse
        among the real news itself, or its templates: unknown); ``other``: none of these."""
        t = self.truth
        story, other = int(t.story[query]), int(t.story[matched])
        if story == other:
            return "same story"
        quoted, quoted_by_other = int(t.quote_story[query]), int(t.quote_story[matched])
        if other == quoted or story == quoted_by_other or (quoted >= 0 and quoted == quoted_by_other):
            return "quote"
        if t.source_of_story[story] == t.source_of_story[other]:
            return "retelling"
        if t.retelling_of_story[story] == 0 and t.retelling_of_story[other] == 0:
            return "real texts"
        return "other"

    def judge(self, queries: list[int], matched: list[list[Match]], stored: int, step: Step) -> None:
        t = self.truth
        found = {"story": [0, 0], "quote (first publication)": [0, 0], "quote (a copy)": [0, 0]}
        for query, matches in zip(queries, matched, strict=True):
            numbers = [int(m.article_id.removeprefix("rc-")) for m in matches]
            stories = {int(t.story[n]) for n in numbers}
            story, quoted = int(t.story[query]), int(t.quote_story[query])
            if t.first_article[story] < stored:
                found["story"][0] += story in stories
                found["story"][1] += 1
            if quoted >= 0 and t.first_article[quoted] < stored:
                tally = found["quote (a copy)" if t.first_article[story] < query else "quote (first publication)"]
                tally[0] += quoted in stories
                tally[1] += 1
            for number, match in zip(numbers, matches, strict=True):
                kind = self.kind(query, number)
                step.kinds[kind] += 1
                step.scores[kind] = step.scores.get(kind, 0.0) + match.score
        step.recall = {name: (hits, total) for name, (hits, total) in found.items()}


def slope(first: float, last: float, sizes: tuple[int, int]) -> str:
    """The log-log slope of a measure between two sizes, as printed."""
    if first <= 0 or last <= 0:
        return "n/a"
    return f"{math.log(last / first) / math.log(sizes[1] / sizes[0]):.2f}"


def measure_queries(
    engine: Wiretrace,
    storage: MeasuredSqliteStorage,
    drafts: Lookahead,
    queries: int,
    rng: np.random.Generator,
    judge: MatchJudge | None,
    step: Step,
) -> None:
    """find_matches latency on stored and fresh texts, candidates per query, recall and match kinds."""
    fresh = drafts.peek(queries)
    stored_texts = [drafts.sample[i] for i in rng.permutation(len(drafts.sample))[:queries]]
    step.first_query_seconds = timed_queries(engine, stored_texts[:1])[0][0]
    timed_queries(engine, stored_texts[1:WARM_UPS])
    storage.reset_counts()
    latencies, _ = timed_queries(engine, stored_texts)
    step.stored_p50, step.stored_p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    storage.reset_counts()
    latencies, matched = timed_queries(engine, [d.text for d in fresh])
    step.fresh_p50, step.fresh_p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    step.ranked = storage.candidates_returned / max(1, storage.candidate_calls)
    step.read = storage.records_read / max(1, len(fresh))
    analyses = [engine.analyse(d.text) for d in fresh]
    pools = [storage.candidate_pool(a.document_keys, a.passage_query_keys) for a in analyses]
    step.pool = float(np.mean([p[0] for p in pools]))
    step.passage_pool = float(np.mean([p[1] for p in pools]))
    for slow in sorted(range(len(fresh)), key=lambda i: -latencies[i])[:3]:
        kinds = Counter(m.kind.value for m in matched[slow])
        step.slowest.append(
            f"{latencies[slow] * 1e3:.0f} ms: {fresh[slow].article_id}, {len(fresh[slow].text.split())} words, "
            f"{len(analyses[slow].features.passages)} passages, {pools[slow][0]} in its buckets, matches "
            + (", ".join(f"{kind} {count}" for kind, count in kinds.most_common()) or "none")
        )
    if judge is not None:
        judge.judge([int(d.article_id.removeprefix("rc-")) for d in fresh], matched, step.size, step)
        step.clusters = cluster_purity(engine, judge.truth)


def cluster_purity(engine: Wiretrace, truth: Truth, largest: int = 5) -> dict[str, list[tuple[int, int]]]:
    """The largest clusters of each kind, each as (members, planted stories its members tell): a
    story cluster is one reused text, so a pure one tells one story (a statement's, the quoted
    story and those quoting it)."""
    summaries: list[ClusterSummary] = []
    token = ""
    while True:
        page = engine.list_clusters(page_size=1000, page_token=token)
        summaries.extend(page.items)
        if not (token := page.next_page_token):
            break
    found: dict[str, list[tuple[int, int]]] = {}
    for kind in ClusterKind:
        biggest = sorted((c for c in summaries if c.kind is kind), key=lambda c: -c.member_count)[:largest]
        found[kind.value] = []
        for summary in biggest:
            members = engine.cluster(summary.cluster_id, page_size=summary.member_count).members
            stories = {int(truth.story[int(m.article_id.removeprefix("rc-"))]) for m in members}
            found[kind.value].append((summary.member_count, len(stories)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=("synthetic", "realistic"), default="synthetic")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    parser.add_argument("--queries", type=int, default=300, help="find_matches calls of each kind per size")
    parser.add_argument("--batch", type=int, default=500, help="articles per ingest_batch call (one commit)")
    parser.add_argument("--rate-block", type=int, default=5000, help="articles before each size the rate is of")
    parser.add_argument("--seed", type=int, default=14, help="the realistic corpus's seed")
    parser.add_argument("--words-only", action="store_true", help="verify_meaning and cross_language off")
    parser.add_argument("--passage-threshold", type=float, default=IndexSettings().passage_threshold)
    parser.add_argument("--passage-num-perm", type=int, default=IndexSettings().passage_num_perm)
    parser.add_argument("--analysis-workers", type=int, default=os.cpu_count() or 1, help="processes analysing texts")
    parser.add_argument("--data", type=Path, help="keep the store here and resume a run kept here")
    options = parser.parse_args()
    sizes = sorted(options.sizes)
    total = sizes[-1] + options.queries
    settings = IndexSettings(
        passage_threshold=options.passage_threshold,
        passage_num_perm=options.passage_num_perm,
        verify_meaning=not options.words_only,
        cross_language=not options.words_only,
    )
    rng = np.random.default_rng(options.seed)
    judge: MatchJudge | None = None
    if options.corpus == "realistic":
        plan = realistic_corpus.plan(total, options.seed)
        truth = Truth(plan.story, plan.first_article, plan.source, plan.retelling, np.full(total, -1, dtype=np.int64))
        judge = MatchJudge(truth)
        drafts = Lookahead(realistic_drafts(plan, truth), 2 * options.queries, rng)
    else:
        drafts = Lookahead(synthetic_drafts(total), 2 * options.queries, rng)
    print(
        f"corpus {options.corpus}, {'words only' if options.words_only else 'default IndexSettings()'}, "
        f"batches of {options.batch}, {options.analysis_workers} analysis workers",
        flush=True,
    )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        directory = str(options.data) if options.data else stack.enter_context(tempfile.TemporaryDirectory())
        progress = Progress(Path(directory), run_options(options))
        steps = progress.steps()
        storage = MeasuredSqliteStorage(directory)
        engine = Wiretrace(storage, settings, analysis_workers=options.analysis_workers)
        stored = storage.stats().articles
        if stored:
            print(f"resuming at {stored:,} stored articles (rendering them again, not ingesting)", flush=True)
            drafts.take(stored)
        for size in sizes:
            if size <= stored:
                if not any(s.size == size for s in steps):
                    raise SystemExit(f"{directory} holds {stored:,} articles but no figures at {size:,}")
                continue
            step = Step(size)
            count = size - stored
            generated_before = drafts.seconds
            timing = ingest_step(engine, drafts, stored, count, options.batch, options.rate_block)
            stored = size
            step.ingest_seconds = timing.seconds
            step.step_rate = count / timing.seconds
            step.block_rate = timing.block_articles / timing.block_seconds
            step.block_cpu_ms = timing.block_cpu_seconds / timing.block_articles * 1e3
            step.load = os.getloadavg()[0]
            generation = drafts.seconds - generated_before
            engine.close()
            gc.collect()
            began = time.perf_counter()
            tracemalloc.start()
            storage = MeasuredSqliteStorage(directory)
            engine = Wiretrace(storage, settings, analysis_workers=options.analysis_workers)
            step.memory = tracemalloc.get_traced_memory()[0] / size
            tracemalloc.stop()
            step.reopen_seconds = time.perf_counter() - began
            documents, passages = storage.bucket_bytes()
            step.document_buckets, step.passage_buckets = documents / size, passages / size
            step.passage_entries = storage.bucket_entries()[1] / size
            step.disk = sum(p.stat().st_size for p in Path(directory).glob("wiretrace.sqlite3*")) / size
            tables = storage.table_bytes()
            measure_queries(engine, storage, drafts, options.queries, rng, judge, step)
            steps.append(step)
            progress.save(steps)
            _print_step(step, generation, tables, time.perf_counter() - started)
        engine.close()
    _print_summary(steps)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


def run_options(options: argparse.Namespace) -> dict[str, object]:
    """What a resumed run must share with the run it resumes."""
    kept = ("corpus", "seed", "words_only", "batch", "passage_threshold", "passage_num_perm", "queries")
    return {name: getattr(options, name) for name in kept}


class Progress:
    """The figures of the sizes a run kept in ``--data`` has reached, and the options it ran with."""

    def __init__(self, directory: Path, options: dict[str, object]) -> None:
        self.path = directory / "scaling-progress.json"
        self.options = options
        if self.path.exists():
            kept = json.loads(self.path.read_text())
            if kept["options"] != options:
                raise SystemExit(f"{self.path} is a run with other options: {kept['options']}")

    def steps(self) -> list[Step]:
        if not self.path.exists():
            return []
        steps = []
        for kept in json.loads(self.path.read_text())["steps"]:
            kept["kinds"] = Counter(kept["kinds"])
            kept["recall"] = {name: tuple(value) for name, value in kept["recall"].items()}
            steps.append(Step(**kept))
        return steps

    def save(self, steps: list[Step]) -> None:
        written = self.path.with_suffix(".tmp")
        kept = [{f.name: getattr(s, f.name) for f in dataclasses.fields(s)} | {"kinds": dict(s.kinds)} for s in steps]
        written.write_text(json.dumps({"options": self.options, "steps": kept}))
        written.replace(self.path)


def _print_step(step: Step, generation: float, tables: dict[str, int], elapsed: float) -> None:
    size = step.size
    print(
        f"\n{size:,} articles (at {elapsed:.0f} s; step ingested in {step.ingest_seconds:.0f} s, "
        f"corpus generation waited {generation:.1f} s; reopen {step.reopen_seconds:.1f} s, "
        f"first find_matches after it {step.first_query_seconds:.1f} s)\n"
        f"  ingest {step.block_rate:.1f}/s over the last block ({step.step_rate:.1f}/s over the step; this process "
        f"{step.block_cpu_ms:.1f} ms CPU an article; load {step.load:.1f})\n"
        f"  find_matches stored texts p50 {step.stored_p50 * 1e3:.1f} ms p99 {step.stored_p99 * 1e3:.1f} ms; "
        f"fresh texts p50 {step.fresh_p50 * 1e3:.1f} ms p99 {step.fresh_p99 * 1e3:.1f} ms\n"
        f"  candidates per fresh query: ranked {step.ranked:.1f}, records read {step.read:.1f}, "
        f"in its buckets {step.pool:.1f} (passage buckets {step.passage_pool:.1f})\n"
        f"  index in memory {step.memory:,.0f} B/article (document buckets {step.document_buckets:,.0f}, "
        f"passage buckets {step.passage_buckets:,.0f}: {step.passage_entries:.0f} entries); "
        f"on disk {step.disk:,.0f} B/article",
        flush=True,
    )
    print("  slowest fresh texts: " + "; ".join(step.slowest))
    if tables:
        largest = sorted(tables.items(), key=lambda item: -item[1])[:6]
        print("  on disk by table: " + ", ".join(f"{name} {nbytes / size:,.0f}" for name, nbytes in largest))
    if step.recall:
        recall = ", ".join(f"{name} {hits}/{total}" for name, (hits, total) in step.recall.items())
        kinds = ", ".join(
            f"{kind} {count} (mean score {step.scores[kind] / count:.2f})" for kind, count in step.kinds.most_common()
        )
        print(f"  fresh texts found: {recall}; their matches: {kinds}", flush=True)
    for kind, clusters in step.clusters.items():
        listed = ", ".join(f"{members}/{stories}" for members, stories in clusters)
        print(f"  largest {kind} clusters (members/planted stories): {listed}", flush=True)


def _print_summary(steps: list[Step]) -> None:
    print(
        "\n| articles | ingest/s (last block) | CPU ms/article (this process) | stored p50 / p99 ms "
        "| fresh p50 / p99 ms | candidates ranked / read / in buckets | memory B/article (passage buckets) "
        "| disk B/article |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in steps:
        print(
            f"| {s.size:,} | {s.block_rate:.1f} | {s.block_cpu_ms:.1f} | "
            f"{s.stored_p50 * 1e3:.1f} / {s.stored_p99 * 1e3:.1f} | "
            f"{s.fresh_p50 * 1e3:.1f} / {s.fresh_p99 * 1e3:.1f} | {s.ranked:.1f} / {s.read:.1f} / {s.pool:.0f} | "
            f"{s.memory:,.0f} ({s.passage_buckets:,.0f}) | {s.disk:,.0f} |"
        )
    measures: tuple[tuple[str, Callable[[Step], float]], ...] = (
        ("ingest rate", lambda s: s.block_rate),
        ("CPU per article", lambda s: s.block_cpu_ms),
        ("fresh p50", lambda s: s.fresh_p50),
        ("fresh p99", lambda s: s.fresh_p99),
        ("stored p99", lambda s: s.stored_p99),
        ("candidates in buckets", lambda s: s.pool),
        ("total memory", lambda s: s.memory * s.size),
        ("disk", lambda s: s.disk * s.size),
    )
    for first, last in itertools.pairwise(steps):
        sizes = (first.size, last.size)
        slopes = ", ".join(f"{label} {slope(measure(first), measure(last), sizes)}" for label, measure in measures)
        print(f"log-log slopes {first.size:,} -> {last.size:,}: {slopes}")


if __name__ == "__main__":
    sys.exit(main())
