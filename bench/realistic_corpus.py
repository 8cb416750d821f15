"""A realistic benchmark corpus built from real news sentences, streamed, with its ground truth (issue 14).

    python bench/realistic_corpus.py [--count 1000000] [--workers 2] [--seed 14]

Prints how fast it generates and what it holds. The source is ../shared/news (Reuters-21578 in
time order, the BBC stories spread among them; exact duplicate texts once), never copied here.

Every article is one **story** retold from one real article (topic-coherent): a contiguous window
of its sentences, with its paragraphs. Stories walk through the sources in their real order
(1987's wire, so the real topical bursts of its days: cocoa, oil, earnings seasons) with a jitter
of a few days; the first telling of a source is its real text, later ones (the corpus reuses each
source once per pass) are light rewrites: names and figures replaced consistently within the
article (a name by another of about the same corpus frequency, digits permuted), maybe a sentence
dropped. So unrelated stories share the templates and vocabulary of real ones: the near-misses.

- **Syndication bursts**: a share of stories is re-published by other outlets with a few words
  changed (sometimes the last paragraph cut), minutes to days later; burst sizes follow a power
  law on 1-299 (most 1-5, some hundreds: at most one copy per outlet).
- **Quotes of known origin**: a share of stories carries a sentence (>= 6 content words) of an earlier
  story as a paragraph of its own; its copies carry it too.
- Outlets: a few hundred with Zipf weights, each publishing a story once; publish times advance
  (the stream is in time order).

All choices are drawn once for the whole stream with numpy (:func:`plan`, vectorised); each
article is then rendered from the plan alone (a per-story seed drawn in the plan), so rendering
runs in several processes in chunks and the stream is the same for any number of workers.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import re
import sys
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "service")]

from wiretrace.core.features import content_terms  # noqa: E402
from wiretrace.core.text import split_sentences, words  # noqa: E402

NEWS = Path(__file__).resolve().parents[2] / "shared" / "news"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
OUTLETS = 300
# Copies of one story at most: every outlet publishes a story once.
MAX_BURST = OUTLETS - 1
# Sentences of the longest window (the longest BBC stories have over a hundred).
MAX_WINDOW = 40
# Distinct content words a quoted sentence has (the service indexes sentences of five or more).
QUOTE_MIN_CONTENT_WORDS = 6
# Capitalised words kept as they are in rewrites: the most frequent ones (U.S., Reuters, months);
# and lower-case words kept (function words and the commonest verbs: "the", "said").
KEPT_NAMES = 40
KEPT_WORDS = 150

# A slot of a sentence template: a figure, or a capitalised word that is not the sentence's first.
_SLOT = re.compile(r"\b(?:\d[\d.,]*\d|\d|[A-Z][\w'&-]*(?:\.[A-Z]\w*)*)")
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]+\b")
_DIGITS = "123456789"


@dataclass(frozen=True, slots=True)
class CorpusArticle:
    """One generated article and its ground truth."""

    article_id: str
    text: str
    outlet: str
    publish_time: datetime
    # Position in the stream (the number in the id).
    number: int
    # The story it tells; copies of a story share it.
    story: int
    # Copy rank within the story's burst: 0 for its first publication.
    copy: int
    # The real article the story retells (index into the source pool) and which retelling it is.
    source_article: int
    retelling: int
    # The story whose sentence it quotes (-1: none) and that sentence.
    quote_story: int = -1
    quote: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """How the stream is shaped (shares are of stories, not articles)."""

    syndicated_share: float = 0.15
    burst_exponent: float = 2.0
    quote_share: float = 0.1
    # Mean distance (in stories) back to a quote's origin.
    quote_distance: float = 500.0
    # Mean seconds between two new stories, and the median delay of a copy.
    story_gap_seconds: float = 45.0
    copy_delay_median_seconds: float = 1200.0
    copy_delay_sigma: float = 1.5
    # Standard deviation (in sources) of where a story is taken around the walk's position.
    source_jitter: float = 150.0
    # A retelling replaces this share of its distinct lower-case words (beyond KEPT_WORDS): half
    # the words of a sentence changed leave it below the service's passage similarity (0.5), yet
    # sharing enough rare words to be a candidate: a near-miss, not a copy.
    retold_word_share: float = 0.5
    outlet_exponent: float = 1.1


class SourcePool:
    """The real articles as sentence templates: literal pieces around slots (figures, names)."""

    def __init__(self, texts: list[str]) -> None:
        lower_counts: Counter[str] = Counter()
        for text in texts:
            lower_counts.update(_LOWER_WORD.findall(text))
        split = [self._sentences(text) for text in texts]
        name_counts: Counter[str] = Counter()
        for sentences in split:
            for sentence, _ in sentences:
                name_counts.update(m.group() for m in self._slots(sentence) if not m.group()[0].isdigit())
        kept = {name for name, _ in name_counts.most_common(KEPT_NAMES)}
        # A capitalised word that is more often written in lower case is not a name ("The", "Net").
        kept |= {name for name, count in name_counts.items() if lower_counts[name.lower()] > count}
        self.names = [name for name, _ in name_counts.most_common() if name not in kept]
        name_ids = {name: rank for rank, name in enumerate(self.names)}
        self.numbers: list[str] = []
        number_ids: dict[str, int] = {}
        self.sentences: list[str] = []
        self.literals: list[tuple[str, ...]] = []
        # Per sentence: name ranks (>= 0) and figures (-1 - index into ``numbers``).
        self.slots: list[tuple[int, ...]] = []
        self.paragraph_starts: list[bool] = []
        starts = [0]
        for sentences in split:
            for sentence, paragraph_start in sentences:
                pieces, slots, position = [], [], 0
                for match in self._slots(sentence):
                    token = match.group()
                    if token[0].isdigit():
                        if token not in number_ids:
                            number_ids[token] = len(self.numbers)
                            self.numbers.append(token)
                        slot = -1 - number_ids[token]
                    elif token in name_ids:
                        slot = name_ids[token]
                    else:
                        continue
                    pieces.append(sentence[position : match.start()])
                    slots.append(slot)
                    position = match.end()
                pieces.append(sentence[position:])
                self.sentences.append(sentence)
                self.literals.append(tuple(pieces))
                self.slots.append(tuple(slots))
                self.paragraph_starts.append(paragraph_start)
            starts.append(len(self.sentences))
        self.starts = np.array(starts, dtype=np.int64)
        # Lower-case words by frequency, for rewrites (a word by one of about its frequency).
        self.words = [word for word, _ in lower_counts.most_common()]
        self.word_ranks = {word: rank for rank, word in enumerate(self.words)}
        self.common_words = [word for word, count in lower_counts.most_common(20_000) if count >= 20]

    @staticmethod
    def _sentences(text: str) -> list[tuple[str, bool]]:
        """The text's sentences, each with whether it opens a paragraph (a line of its own)."""
        found: list[tuple[str, bool]] = []
        for paragraph in re.split(r"\n\s*", text.strip()):
            spans = split_sentences(paragraph)
            found += [(paragraph[s.start : s.end], i == 0) for i, s in enumerate(spans)]
        return found

    @staticmethod
    def _slots(sentence: str) -> Iterator[re.Match[str]]:
        lead = len(sentence) - len(sentence.lstrip("\"'“‘(["))
        for match in _SLOT.finditer(sentence):
            if match.start() > lead or match.group()[0].isdigit():
                yield match

    @property
    def size(self) -> int:
        return int(self.starts.size - 1)

    def sentence_counts(self) -> npt.NDArray[np.int64]:
        counts: npt.NDArray[np.int64] = np.diff(self.starts)
        return counts


def source_texts() -> list[str]:
    """Reuters-21578 in time order with the BBC stories spread evenly among them, each text once."""
    groups: list[list[str]] = []
    for name in ("reuters21578.jsonl", "bbc.jsonl"):
        path = NEWS / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: the benchmark reads real text from ../shared (see its README)")
        with path.open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines]
        records = [r for r in records if len(r.get("text", "").split()) >= 30]
        records.sort(key=lambda r: r.get("published_at") or "")  # stable: BBC keeps its file order
        groups.append([r["text"] for r in records])
    keyed = [(position / len(group), g, text) for g, group in enumerate(groups) for position, text in enumerate(group)]
    keyed.sort(key=lambda item: item[:2])
    return list(dict.fromkeys(text for _, _, text in keyed))


@lru_cache(maxsize=1)
def source_pool() -> SourcePool:
    return SourcePool(source_texts())


@dataclass(frozen=True, slots=True)
class Plan:
    """Every draw of a stream of ``count`` articles, in stream (time) order, and per story."""

    seed: int
    count: int
    # Per article.
    story: npt.NDArray[np.int64]
    copy: npt.NDArray[np.int64]
    outlet: npt.NDArray[np.int64]
    seconds: npt.NDArray[np.float64]
    edit_seed: npt.NDArray[np.int64]
    # Per story (stories are numbered in the order of their first publication).
    source: npt.NDArray[np.int64]
    retelling: npt.NDArray[np.int64]
    window_start: npt.NDArray[np.int64]
    window_length: npt.NDArray[np.int64]
    quote_story: npt.NDArray[np.int64]
    story_seed: npt.NDArray[np.int64]
    first_article: npt.NDArray[np.int64]
    retold_word_share: float


@dataclass(frozen=True, slots=True)
class _Chunk:
    """The draws of STORIES_PER_CHUNK consecutive stories and of all their publications."""

    story_time: npt.NDArray[np.float64]
    source: npt.NDArray[np.int64]
    window_start: npt.NDArray[np.int64]
    window_length: npt.NDArray[np.int64]
    quote_story: npt.NDArray[np.int64]
    story_seed: npt.NDArray[np.int64]
    # Per publication, story by story.
    story: npt.NDArray[np.int64]
    copy: npt.NDArray[np.int64]
    seconds: npt.NDArray[np.float64]
    outlet: npt.NDArray[np.int64]
    edit_seed: npt.NDArray[np.int64]


STORIES_PER_CHUNK = 16_384


def burst_sizes(rng: np.random.Generator, stories: int, settings: Settings) -> npt.NDArray[np.int64]:
    """Copies of each story: 0 unless syndicated, else a power law on 1..MAX_BURST."""
    sizes = np.arange(1, MAX_BURST + 1)
    weights = sizes.astype(np.float64) ** -settings.burst_exponent
    drawn = rng.choice(sizes, size=stories, p=weights / weights.sum())
    copies: npt.NDArray[np.int64] = np.where(rng.random(stories) < settings.syndicated_share, drawn, 0)
    return copies


def _draw_chunk(seed: int, index: int, after_seconds: float, settings: Settings, pool: SourcePool) -> _Chunk:
    """Stories ``index * STORIES_PER_CHUNK`` on, from a generator of their own (so that a longer
    stream begins with the same articles), the first one ``after_seconds`` into the stream."""
    rng = np.random.default_rng([seed, index])
    count = STORIES_PER_CHUNK
    first_story = index * count
    stories = first_story + np.arange(count)
    copies = burst_sizes(rng, count, settings)
    story_time = after_seconds + np.cumsum(rng.exponential(settings.story_gap_seconds, count))
    # Stories walk through the sources in their order, one pass per ``pool.size`` stories.
    source = np.rint(stories + rng.normal(0.0, settings.source_jitter, count)).astype(np.int64) % pool.size
    full_length = pool.sentence_counts()[source]
    lengths = np.minimum(full_length, MAX_WINDOW)
    low = np.minimum(lengths, np.maximum(4, np.ceil(0.6 * lengths))).astype(np.int64)
    window_length = low + np.floor(rng.random(count) * (lengths - low + 1)).astype(np.int64)
    window_start = np.floor(rng.random(count) * (full_length - window_length + 1)).astype(np.int64)
    back = 1 + rng.geometric(1.0 / settings.quote_distance, count)
    quote_story = np.where(rng.random(count) < settings.quote_share, stories - back, -1)
    local = np.repeat(np.arange(count), copies + 1)
    rank = np.arange(local.size) - np.repeat(np.cumsum(copies + 1) - (copies + 1), copies + 1)
    delay = rng.lognormal(math.log(settings.copy_delay_median_seconds), settings.copy_delay_sigma, local.size)
    return _Chunk(
        story_time=story_time,
        source=source,
        window_start=window_start,
        window_length=window_length,
        quote_story=np.where(quote_story >= 0, quote_story, -1),
        story_seed=rng.integers(0, 2**62, count),
        story=first_story + local,
        copy=rank,
        seconds=story_time[local] + np.where(rank == 0, 0.0, delay),
        outlet=story_outlets(rng, local, rank, settings),
        edit_seed=rng.integers(0, 2**62, local.size),
    )


def plan(count: int, seed: int = 14, settings: Settings | None = None) -> Plan:
    """All draws for the first ``count`` articles of the stream of ``seed``: the same articles
    whatever ``count`` (a stream of 10,000 is the first 10,000 of a stream of 1,000,000)."""
    settings = settings or Settings()
    pool = source_pool()
    chunks: list[_Chunk] = []
    while True:
        chunks.append(_draw_chunk(seed, len(chunks), chunks[-1].story_time[-1] if chunks else 0.0, settings, pool))
        # Every publication before the newest chunk's first story is drawn already.
        settled = chunks[-1].story_time[0]
        if sum(int((c.seconds < settled).sum()) for c in chunks[:-1]) >= count:
            break

    def joined(name: str) -> npt.NDArray[Any]:
        return np.concatenate([getattr(c, name) for c in chunks])

    order = np.argsort(joined("seconds"), kind="stable")[:count]
    story, copy, seconds = joined("story")[order], joined("copy")[order], joined("seconds")[order]
    # A story's first publication precedes its copies, and stories start in number order: the
    # stories of the stream are 0..n-1, numbered in the order of their first publication.
    stories = int(story.max()) + 1
    first_article = np.empty(stories, dtype=np.int64)
    first_article[story[copy == 0]] = np.flatnonzero(copy == 0)
    source = joined("source")[:stories]
    by_source = np.argsort(source, kind="stable")
    retelling = np.empty(stories, dtype=np.int64)
    retelling[by_source] = np.arange(stories) - np.searchsorted(source[by_source], source[by_source])
    return Plan(
        seed=seed,
        count=count,
        story=story,
        copy=copy,
        outlet=joined("outlet")[order],
        seconds=seconds - seconds[0],
        edit_seed=joined("edit_seed")[order],
        source=source,
        retelling=retelling,
        window_start=joined("window_start")[:stories],
        window_length=joined("window_length")[:stories],
        quote_story=joined("quote_story")[:stories],
        story_seed=joined("story_seed")[:stories],
        first_article=first_article,
        retold_word_share=settings.retold_word_share,
    )


def story_outlets(
    rng: np.random.Generator, story_of: npt.NDArray[np.int64], rank: npt.NDArray[np.int64], settings: Settings
) -> npt.NDArray[np.int64]:
    """Each publication's outlet, drawn by the outlets' Zipf weights, distinct within a story:
    the publications of a syndicated story take the outlets of one weighted draw without
    replacement, in its order (the Gumbel top-k trick, for all its stories at once)."""
    weights = np.log(np.arange(1, OUTLETS + 1, dtype=np.float64) ** -settings.outlet_exponent)
    outlet = rng.choice(OUTLETS, size=story_of.size, p=np.exp(weights) / np.exp(weights).sum())
    syndicated = np.unique(story_of[rank > 0])
    row_of = np.full(int(story_of.max(initial=0)) + 1, -1, dtype=np.int64)
    row_of[syndicated] = np.arange(syndicated.size)
    members = np.flatnonzero(row_of[story_of] >= 0)
    order = np.argsort(-(weights + rng.gumbel(size=(syndicated.size, OUTLETS))), axis=1)
    outlet[members] = order[row_of[story_of[members]], rank[members]]
    return outlet


def article_id(number: int) -> str:
    return f"rc-{number:07d}"


@dataclass(frozen=True, slots=True)
class _Story:
    paragraphs: tuple[tuple[str, ...], ...]
    quote: str
    # Which paragraph the quote is (-1: none).
    quote_paragraph: int = -1


class Renderer:
    """Turns plan entries into texts; recent stories are kept, since their copies follow soon."""

    def __init__(self, stream_plan: Plan, pool: SourcePool, cache_size: int = 4096) -> None:
        self.plan = stream_plan
        self.pool = pool
        self._stories: OrderedDict[int, _Story] = OrderedDict()
        self._cache_size = cache_size

    def article(self, number: int) -> CorpusArticle:
        p = self.plan
        story = int(p.story[number])
        told = self.story(story)
        paragraphs = [" ".join(sentences) for sentences in told.paragraphs]
        copy = int(p.copy[number])
        quoted = told.quote
        if copy:
            paragraphs = self._edited(paragraphs, random.Random(int(p.edit_seed[number])))
            if told.quote_paragraph >= len(paragraphs):
                quoted = ""  # the copy was cut before its quote
        quote = int(p.quote_story[story]) if quoted else -1
        return CorpusArticle(
            article_id=article_id(number),
            text="\n\n".join(paragraphs),
            outlet=f"outlet-{int(p.outlet[number]):03d}",
            publish_time=EPOCH + timedelta(seconds=float(p.seconds[number])),
            number=number,
            story=story,
            copy=copy,
            source_article=int(p.source[story]),
            retelling=int(p.retelling[story]),
            quote_story=quote,
            quote=quoted,
        )

    def story(self, story: int) -> _Story:
        """The story's first publication (paragraphs of sentences), its quote inserted."""
        found = self._stories.get(story)
        if found is not None:
            self._stories.move_to_end(story)
            return found
        p, pool = self.plan, self.pool
        rng = random.Random(int(p.story_seed[story]))
        first = int(pool.starts[p.source[story]] + p.window_start[story])
        indexes = list(range(first, first + int(p.window_length[story])))
        retelling = int(p.retelling[story])
        if retelling:
            if len(indexes) >= 5 and rng.random() < 0.5:
                del indexes[rng.randrange(1, len(indexes))]
            sentences = self._rewritten(indexes, rng)
        else:
            sentences = [pool.sentences[i] for i in indexes]
        paragraphs: list[list[str]] = []
        for position, (index, sentence) in enumerate(zip(indexes, sentences, strict=True)):
            if position == 0 or pool.paragraph_starts[index]:
                paragraphs.append([])
            paragraphs[-1].append(sentence)
        quote, quote_paragraph = "", -1
        origin = int(p.quote_story[story])
        if origin >= 0:
            quoted = self.story(origin)
            candidates = [
                s
                for par in quoted.paragraphs
                for s in par
                if s != quoted.quote and len(set(content_terms(words(s)))) >= QUOTE_MIN_CONTENT_WORDS
            ]
            if candidates:
                quote, quote_paragraph = rng.choice(candidates), rng.randint(1, len(paragraphs))
                paragraphs.insert(quote_paragraph, [quote])
        told = _Story(tuple(tuple(par) for par in paragraphs), quote, quote_paragraph)
        self._stories[story] = told
        if len(self._stories) > self._cache_size:
            self._stories.popitem(last=False)
        return told

    def _rewritten(self, indexes: list[int], rng: random.Random) -> list[str]:
        """The sentences with each name replaced by one of about its frequency, digits permuted,
        and a share of the other words replaced by words of about their frequency (each word
        the same way throughout the article)."""
        pool = self.pool
        digits = list(_DIGITS)
        rng.shuffle(digits)
        table = str.maketrans(_DIGITS, "".join(digits))
        names: dict[int, str] = {}
        replaced: dict[str, str] = {}
        share = self.plan.retold_word_share

        def reworded(match: re.Match[str]) -> str:
            word = match.group()
            found = replaced.get(word)
            if found is None:
                rank = pool.word_ranks.get(word, 0)  # a piece of a word cut by a slot: kept
                found = word
                if rank >= KEPT_WORDS and rng.random() < share:
                    spread = max(10, rank // 4)
                    found = pool.words[min(len(pool.words) - 1, max(KEPT_WORDS, rank + rng.randint(-spread, spread)))]
                replaced[word] = found
            return found

        rendered = []
        for index in indexes:
            literals, slots = pool.literals[index], pool.slots[index]
            parts = [_LOWER_WORD.sub(reworded, literals[0])]
            for slot, literal in zip(slots, literals[1:], strict=True):
                if slot < 0:
                    parts.append(pool.numbers[-1 - slot].translate(table))
                else:
                    name = names.get(slot)
                    if name is None:
                        spread = max(20, slot // 4)
                        other = min(len(pool.names) - 1, max(0, slot + rng.randint(-spread, spread)))
                        name = names[slot] = pool.names[other]
                    parts.append(name)
                parts.append(_LOWER_WORD.sub(reworded, literal))
            rendered.append("".join(parts))
        return rendered

    def _edited(self, paragraphs: list[str], rng: random.Random) -> list[str]:
        """A syndicated copy: 1-5 words changed or dropped, sometimes the last paragraph cut."""
        if len(paragraphs) >= 3 and rng.random() < 0.3:
            paragraphs = paragraphs[:-1]
        edited = list(paragraphs)
        for _ in range(rng.randint(1, 5)):
            where = rng.randrange(len(edited))
            tokens = edited[where].split(" ")
            position = rng.randrange(len(tokens))
            if rng.random() < 0.3 and len(tokens) > 1:
                del tokens[position]
            else:
                tokens[position] = rng.choice(self.pool.common_words)
            edited[where] = " ".join(tokens)
        return edited


# -- streaming, in this process or in workers ---------------------------------------------------------

_worker_renderer: Renderer | None = None


def _init_worker(stream_plan: Plan) -> None:
    global _worker_renderer
    _worker_renderer = Renderer(stream_plan, source_pool())


def _render_range(start: int, end: int) -> list[CorpusArticle]:
    assert _worker_renderer is not None
    return [_worker_renderer.article(number) for number in range(start, end)]


def stream(stream_plan: Plan, workers: int = 0, chunk: int = 2000) -> Iterator[CorpusArticle]:
    """The plan's articles in order. ``workers`` > 0 renders chunks in that many spawned
    processes (a few chunks ahead at most, so memory stays bounded); 0 renders here."""
    if workers <= 0:
        renderer = Renderer(stream_plan, source_pool())
        for number in range(stream_plan.count):
            yield renderer.article(number)
        return
    context = multiprocessing.get_context("spawn")
    chunks = [(start, min(start + chunk, stream_plan.count)) for start in range(0, stream_plan.count, chunk)]
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(stream_plan,)) as pool:
        ahead: deque[Future[list[CorpusArticle]]] = deque()
        for number, (start, end) in enumerate(chunks):
            ahead.append(pool.submit(_render_range, start, end))
            if len(ahead) > 2 * workers or number == len(chunks) - 1:
                yield from ahead.popleft().result()
        while ahead:
            yield from ahead.popleft().result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--workers", type=int, default=0, help="rendering processes (0: this one)")
    parser.add_argument("--show", type=int, default=0, help="print this many articles from the start")
    options = parser.parse_args()
    began = time.perf_counter()
    pool = source_pool()
    loaded = time.perf_counter()
    stream_plan = plan(options.count, options.seed)
    planned = time.perf_counter()
    word_count = quotes = copies = 0
    retold = 0
    for article in stream(stream_plan, options.workers):
        word_count += article.text.count(" ") + 1
        quotes += article.quote_story >= 0
        copies += article.copy > 0
        retold += article.retelling > 0
        if article.number < options.show:
            print(
                f"--- {article.article_id} {article.outlet} {article.publish_time:%Y-%m-%d %H:%M} story {article.story}"
                f" copy {article.copy} source {article.source_article} retelling {article.retelling}"
            )
            print(article.text)
    rendered = time.perf_counter()
    count = options.count
    bursts = np.bincount(stream_plan.story)
    print(
        f"sources: {pool.size:,} real articles, {len(pool.sentences):,} sentences, {len(pool.names):,} names "
        f"(loaded in {loaded - began:.1f} s); plan of {count:,} articles in {planned - loaded:.2f} s"
    )
    print(
        f"rendered {count:,} articles in {rendered - planned:.1f} s with {options.workers} worker(s): "
        f"{count / (rendered - planned):,.0f} articles/s"
    )
    print(
        f"{int(bursts.size):,} stories; syndicated copies {copies / count:.1%} of articles; "
        f"quoting {quotes / count:.1%}; retold (not the real text) {retold / count:.1%}; "
        f"mean {word_count / count:.0f} words"
    )
    print(
        "stories by published size: "
        + ", ".join(
            f"{lo}-{hi}: {int(((bursts >= lo) & (bursts <= hi)).sum()):,}"
            for lo, hi in ((1, 1), (2, 6), (7, 21), (22, 101), (102, MAX_BURST + 1))
        )
        + f" (largest {int(bursts.max())})"
    )
    print(f"time span {stream_plan.seconds[-1] / 86400:.0f} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
