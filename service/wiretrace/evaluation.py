"""`wiretrace eval`: match quality of the real service code on labelled public corpora.

Each dataset runs through the engine as the service would (articles ingested into a
temporary embedded index, matches and clusters read back), then is scored against its
gold labels. Datasets (see ../shared/eval/README.md):

- clough-stevenson: answers derived from a source (cut/light/heavy) vs written independently (non).
- msrp: sentence pairs from different outlets, paraphrase or not (pairwise decision).
- wmt21 sentence level (de-en, cs-en): two independent human translations of each line must be
  linked; different lines must not be merged.
- wmt21 article level (ja-en, is-en): lines joined per article; the reference and machine
  translations of one article must form one cluster.
- quotes (wmt21 ja-en and is-en, with BBC stories of ../shared/news as hosts): one 12+-word
  sentence of an article in a machine translation planted in an unrelated story must lead to the
  article's human reference, every version of every article indexed as distractors.
- news (../shared/news, beside the eval folder): lineage coherence on real news, Reuters-21578
  then BBC: members of one cluster match each other, no cluster mixes BBC categories, texts
  published twice share a story cluster.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from wiretrace.bootstrap import open_engine
from wiretrace.config import StorageSettings
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.matching import verify
from wiretrace.core.model import Article, ArticleDraft, MatchKind
from wiretrace.core.settings import IndexSettings
from wiretrace.core.text import split_sentences, words


@dataclass
class Scores:
    """One evaluation's figures, in the order they are printed."""

    dataset: str
    metrics: dict[str, float | int | str] = field(default_factory=dict)

    def add(self, name: str, value: float | int | str) -> None:
        self.metrics[name] = round(value, 4) if isinstance(value, float) else value


def prf(true_positive: int, false_positive: int, false_negative: int) -> tuple[float, float, float]:
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def adjusted_rand_index(gold: list[str], predicted: list[str]) -> float:
    """ARI of two labellings of the same items."""

    def pairs(count: int) -> float:
        return count * (count - 1) / 2

    contingency = Counter(zip(gold, predicted, strict=True))
    index = sum(pairs(c) for c in contingency.values())
    gold_sum = sum(pairs(c) for c in Counter(gold).values())
    predicted_sum = sum(pairs(c) for c in Counter(predicted).values())
    expected = gold_sum * predicted_sum / pairs(len(gold)) if len(gold) > 1 else 0.0
    maximum = (gold_sum + predicted_sum) / 2
    return (index - expected) / (maximum - expected) if maximum != expected else 1.0


def pairwise(gold: dict[str, str], predicted: dict[str, str]) -> tuple[int, int, int]:
    """(tp, fp, fn) over item pairs: same gold group vs same predicted cluster."""
    by_cluster: defaultdict[str, list[str]] = defaultdict(list)
    for item, cluster in predicted.items():
        by_cluster[cluster].append(item)
    true_positive = false_positive = 0
    for members in by_cluster.values():
        for first, second in itertools.combinations(members, 2):
            if gold[first] == gold[second]:
                true_positive += 1
            else:
                false_positive += 1
    gold_pairs = sum(c * (c - 1) // 2 for c in Counter(gold.values()).values())
    return true_positive, false_positive, gold_pairs - true_positive


def _engine(directory: str, settings: IndexSettings) -> Wiretrace:
    return open_engine(StorageSettings(data_dir=Path(directory)), settings)


def _ingest(engine: Wiretrace, drafts: Iterable[ArticleDraft], batch: int = 256) -> None:
    pending: list[IngestRequest] = []
    for draft in drafts:
        pending.append(IngestRequest(draft))
        if len(pending) >= batch:
            _check(engine.ingest_batch(pending))
            pending = []
    if pending:
        _check(engine.ingest_batch(pending))


def _check(results: Sequence[object]) -> None:
    for result in results:
        if isinstance(result, Exception):
            raise result


def clough_stevenson(folder: Path, settings: IndexSettings) -> Scores:
    scores = Scores("clough-stevenson")
    texts = folder / "texts"
    with open(folder / "file_information.csv", encoding="utf-8") as rows:
        labels = [(row["File"], row["Task"], row["Category"]) for row in csv.DictReader(rows)]
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(
            engine,
            (ArticleDraft(f"orig_task{t}", _read_text(texts / f"orig_task{t}.txt")) for t in "abcde"),
        )
        found: dict[str, bool] = {}
        top_right = 0
        for name, task, category in labels:
            if category == "orig":
                continue
            text = _read_text(texts / name)
            matches = engine.find_matches(text=text).matches
            source = f"orig_task{task}"
            found[name] = any(m.article_id == source for m in matches)
            top_right += bool(matches) and matches[0].article_id == source
        engine.close()
    answers = [(n, c) for n, _, c in labels if c != "orig"]
    true_positive = sum(1 for n, c in answers if c != "non" and found[n])
    false_positive = sum(1 for n, c in answers if c == "non" and found[n])
    false_negative = sum(1 for n, c in answers if c != "non" and not found[n])
    precision, recall, f1 = prf(true_positive, false_positive, false_negative)
    scores.add("precision", precision)
    scores.add("recall", recall)
    scores.add("f1", f1)
    for category in ("cut", "light", "heavy", "non"):
        names = [n for n, c in answers if c == category]
        scores.add(f"{category}_found", f"{sum(found[n] for n in names)}/{len(names)}")
    scores.add("top_match_is_source", f"{top_right}/{sum(1 for _, c in answers if c != 'non')}")
    return scores


def msrp(folder: Path, settings: IndexSettings) -> Scores:
    scores = Scores("msrp-train")
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        outcomes: list[tuple[int, bool, float]] = []
        with open(folder / "msr_paraphrase_train.txt", encoding="utf-8-sig") as lines:
            for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row[0] == "Quality":
                    continue
                first, second = engine.analyse(row[3]), engine.analyse(row[4])
                match = verify(
                    "b", first.features, first.document_signature, second.features, second.document_signature, settings
                )
                outcomes.append((int(row[0]), match is not None, match.score if match else 0.0))
        engine.close()
    positives = sum(label for label, _, _ in outcomes)
    true_positive = sum(1 for label, said, _ in outcomes if label and said)
    false_positive = sum(1 for label, said, _ in outcomes if not label and said)
    precision, recall, f1 = prf(true_positive, false_positive, positives - true_positive)
    baseline = prf(positives, len(outcomes) - positives, 0)[2]
    scores.add("pairs", len(outcomes))
    scores.add("precision", precision)
    scores.add("recall", recall)
    scores.add("f1", f1)
    scores.add("all_positive_f1", baseline)
    scores.add("roc_auc", _roc_auc([(label, score) for label, _, score in outcomes]))
    return scores


def _roc_auc(labelled: list[tuple[int, float]]) -> float:
    ranked = sorted(labelled, key=lambda item: item[1])
    positives = sum(label for label, _ in labelled)
    negatives = len(labelled) - positives
    rank_sum = 0.0
    position = 0
    for _, group in itertools.groupby(ranked, key=lambda item: item[1]):
        members = list(group)
        average_rank = position + (len(members) + 1) / 2
        rank_sum += average_rank * sum(label for label, _ in members)
        position += len(members)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives) if positives and negatives else 0.0


def _read_text(path: Path) -> str:
    """The corpus mixes UTF-8 and Windows-1252 files; decode each as what it is."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


FAR_LINES = 10


def _line_distance(edge: frozenset[str]) -> int:
    first, second = sorted(int(item[1:]) for item in edge)
    return second - first


def wmt_sentences(folder: Path, pair: str, settings: IndexSettings) -> Scores:
    """Human translations A and B of each line; a match between A_i and B_i is a hit."""
    scores = Scores(f"wmt21-{pair}-sentences")
    first = _lines(folder / "references" / f"newstest2021.{pair}.ref.A.en")
    second = _lines(folder / "references" / f"newstest2021.{pair}.ref.B.en")
    drafts = [ArticleDraft(f"A{i}", t) for i, t in enumerate(first) if t.strip()]
    drafts += [ArticleDraft(f"B{i}", t) for i, t in enumerate(second) if t.strip()]
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(engine, drafts)
        clusters = {a.article_id: a.cluster_id for a in engine.storage.iter_articles()}
        edges = {frozenset((e.query_id, e.matched_id)) for e in engine.storage.edges_of(list(clusters))}
        engine.close()
    lines = min(len(first), len(second))
    linked = sum(1 for i in range(lines) if frozenset((f"A{i}", f"B{i}")) in edges)
    same_cluster = sum(1 for i in range(lines) if clusters.get(f"A{i}", "a") == clusters.get(f"B{i}", "b"))
    wrong_edges = sum(1 for e in edges if len({item[1:] for item in e}) > 1)
    # Lines of one article that restate each other (headline and lead) may link; lines far
    # apart are of different articles (these sets have no article ids).
    far_edges = sum(1 for e in edges if _line_distance(e) > FAR_LINES)
    gold = {item: item[1:] for item in clusters}
    true_positive, false_positive, false_negative = pairwise(gold, clusters)
    precision, recall, f1 = prf(true_positive, false_positive, false_negative)
    scores.add("lines", lines)
    scores.add("human_pair_linked", linked / lines)
    scores.add("human_pair_same_cluster", same_cluster / lines)
    scores.add("edges", len(edges))
    scores.add("edges_between_different_lines", wrong_edges)
    scores.add(f"edges_between_lines_over_{FAR_LINES}_apart", far_edges)
    scores.add("link_precision_far", linked / (linked + far_edges) if linked + far_edges else 1.0)
    scores.add("pairwise_precision", precision)
    scores.add("pairwise_recall", recall)
    scores.add("pairwise_f1", f1)
    scores.add("ari", adjusted_rand_index([gold[i] for i in clusters], list(clusters.values())))
    return scores


def wmt_articles(folder: Path, pair: str, settings: IndexSettings) -> Scores:
    """Lines joined per article for the reference and every system; one cluster per article."""
    scores = Scores(f"wmt21-{pair}-articles")
    versions = _wmt_articles(folder, pair)
    drafts = _article_drafts(versions)
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(engine, drafts)
        clusters = {a.article_id: a.cluster_id for a in engine.storage.iter_articles()}
        duplicates = {
            frozenset((e.query_id, e.matched_id))
            for e in engine.storage.edges_of(list(clusters))
            if e.evidence.kind is MatchKind.NEAR_DUPLICATE
        }
        engine.close()
    gold = {item: item.split(":", 1)[1] for item in clusters}
    gold_pairs = sum(c * (c - 1) // 2 for c in Counter(gold.values()).values())
    right = sum(1 for pair in duplicates if len({gold[i] for i in pair}) == 1)
    precision, recall, f1 = prf(right, len(duplicates) - right, gold_pairs - right)
    scores.add("articles", len(set(gold.values())))
    scores.add("versions", len(versions))
    scores.add("near_duplicate_precision", precision)
    scores.add("near_duplicate_recall", recall)
    scores.add("near_duplicate_f1", f1)
    true_positive, false_positive, false_negative = pairwise(gold, clusters)
    precision, recall, f1 = prf(true_positive, false_positive, false_negative)
    scores.add("pairwise_precision", precision)
    scores.add("pairwise_recall", recall)
    scores.add("pairwise_f1", f1)
    scores.add("ari", adjusted_rand_index([gold[i] for i in clusters], list(clusters.values())))
    return scores


def _wmt_articles(folder: Path, pair: str) -> dict[str, dict[str, list[str]]]:
    """Per version (``ref.A`` and each system), per docid, the article's lines in order."""
    docids = [line.split("\t")[0] for line in _lines(folder / "docids" / f"newstest2021.{pair}.docids")]
    versions = {"ref.A": folder / "references" / f"newstest2021.{pair}.ref.A.en"}
    for path in sorted((folder / "system-outputs-to-en").glob(f"newstest2021.{pair}.hyp.*.en")):
        versions[path.name.split(".hyp.")[1].removesuffix(".en")] = path
    articles: dict[str, dict[str, list[str]]] = {}
    for version, path in versions.items():
        by_doc: defaultdict[str, list[str]] = defaultdict(list)
        for docid, line in zip(docids, _lines(path), strict=False):
            by_doc[docid].append(line)
        safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in version)
        articles[safe] = dict(by_doc)
    return articles


def _article_drafts(versions: dict[str, dict[str, list[str]]]) -> list[ArticleDraft]:
    """One article ``version:docid`` per version and docid."""
    return [
        ArticleDraft(f"{version}:{docid}", "\n".join(lines))
        for version, by_doc in versions.items()
        for docid, lines in by_doc.items()
    ]


def _bbc_hosts(folder: Path, count: int) -> list[str]:
    """``count`` BBC stories (../shared/news) with a text of their own, to plant quotes in."""
    seen: set[str] = set()
    hosts: list[str] = []
    with open(folder / "bbc.jsonl", encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            key = " ".join(text.split())
            if key not in seen and text.count("\n") >= 2:
                seen.add(key)
                hosts.append(text)
    random.Random(11).shuffle(hosts)
    return hosts[:count]


def _plant(host: str, quote: str) -> str:
    """The host with ``quote`` as a paragraph of its own in the middle."""
    paragraphs = host.split("\n")
    middle = len(paragraphs) // 2
    return "\n".join([*paragraphs[:middle], quote, *paragraphs[middle:]])


def quotes_in_hosts(folder: Path, pair: str, settings: IndexSettings, cases: int = 100) -> Scores:
    """One 12+-word sentence of article d in a machine translation, planted in an unrelated
    BBC story: the story must match article d in the human reference (``ref.A``), with every
    reference and system article in the index as distractors. Precision: the story's matches
    that are versions of d, over all its matches."""
    scores = Scores(f"quotes-{pair}")
    articles = _wmt_articles(folder / "wmt21", pair)
    planted = _planted_quotes(articles, cases, seed=5)
    hosts = _bbc_hosts(folder.parent / "news", cases)
    drafts = _article_drafts(articles)
    found = right = wrong = 0
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(engine, drafts)
        for (docid, quote), host in zip(planted, hosts, strict=True):
            matches = engine.find_matches(text=_plant(host, quote), max_matches=100).matches
            of_doc = [m for m in matches if m.article_id.split(":", 1)[1] == docid]
            found += any(m.article_id == f"ref.A:{docid}" for m in of_doc)
            right += len(of_doc)
            wrong += len(matches) - len(of_doc)
        engine.close()
    scores.add("cases", cases)
    scores.add("recall_reference", found / cases)
    scores.add("precision", right / (right + wrong) if right + wrong else 1.0)
    scores.add("wrong_matches", wrong)
    return scores


def _planted_quotes(articles: dict[str, dict[str, list[str]]], cases: int, seed: int) -> list[tuple[str, str]]:
    """(docid, a 12+-word sentence of a machine translation of it), ``cases`` of them."""
    systems = sorted(v for v in articles if v not in ("ref.A", "src"))
    rng = random.Random(seed)
    planted: list[tuple[str, str]] = []
    docids = sorted(articles["ref.A"])
    while len(planted) < cases:
        docid, system = rng.choice(docids), rng.choice(systems)
        lines = articles[system].get(docid, [])
        spans = [(line, span) for line in lines for span in split_sentences(line)]
        sentences = [line[s.start : s.end] for line, s in spans if len(words(line, s.start, s.end)) >= 12]
        if sentences:
            planted.append((docid, rng.choice(sentences)))
    return planted


def across_languages(folder: Path, pair: str, settings: IndexSettings, cases: int = 100) -> Scores:
    """Originals in another language: the source articles of WMT21 ``pair`` (joined by docid),
    ingested first, then their human reference and every machine translation into English.

    - ``top1_reference``: the reference's best match in another language is its source;
    - ``top1_source``: the source's best match is a translation of it;
    - ``root_is_source``: the reference's story cluster has the source as its root (earlier);
    - quotes: a 12+-word sentence of a machine translation planted in an unrelated BBC story
      leads back to the original: ``src:d`` among the story's matches (``recall_source``).
    """
    scores = Scores(f"across-languages-{pair}")
    wmt = folder / "wmt21"
    articles = _wmt_articles(wmt, pair)
    docids = [line.split("\t")[0] for line in _lines(wmt / "docids" / f"newstest2021.{pair}.docids")]
    source: defaultdict[str, list[str]] = defaultdict(list)
    for docid, line in zip(docids, _lines(wmt / "sources" / f"newstest2021.{pair}.src.{pair[:2]}"), strict=False):
        source[docid].append(line)
    planted = _planted_quotes(articles, cases, seed=7)
    hosts = _bbc_hosts(folder.parent / "news", cases)
    english = _article_drafts(articles)
    top_reference = top_source = roots = wrong = found = 0
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(engine, _article_drafts({"src": dict(source)}))
        _ingest(engine, english)
        for docid in sorted(source):
            across = [
                m.article_id
                for m in engine.find_matches(article_id=f"ref.A:{docid}", max_matches=100).matches
                if m.article_id.startswith("src:")
            ]
            top_reference += bool(across) and across[0] == f"src:{docid}"
            wrong += sum(a != f"src:{docid}" for a in across)
            best = engine.find_matches(article_id=f"src:{docid}", max_matches=1).matches
            top_source += bool(best) and best[0].article_id.split(":", 1)[1] == docid
            reference = engine.get(f"ref.A:{docid}")
            roots += engine.cluster(reference.cluster_id, page_size=1).root_id == f"src:{docid}"
        for (docid, quote), host in zip(planted, hosts, strict=True):
            matches = engine.find_matches(text=_plant(host, quote), max_matches=100).matches
            found += any(m.article_id == f"src:{docid}" for m in matches)
        engine.close()
    count = len(source)
    scores.add("articles", count)
    scores.add("top1_reference", top_reference / count)
    scores.add("top1_source", top_source / count)
    scores.add("root_is_source", roots / count)
    scores.add("wrong_sources", wrong)
    scores.add("quote_cases", cases)
    scores.add("recall_source", found / cases)
    return scores


def _news_drafts(folder: Path, reuters: int) -> tuple[list[ArticleDraft], dict[str, str]]:
    """The first ``reuters`` Reuters-21578 stories, then the BBC ones (with their categories)."""
    drafts: list[ArticleDraft] = []
    categories: dict[str, str] = {}
    for name, limit in (("reuters21578.jsonl", reuters), ("bbc.jsonl", None)):
        with open(folder / name, encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if limit is not None and number >= limit:
                    break
                item = json.loads(line)
                article_id = "".join(c if c.isalnum() or c in "._-" else "-" for c in item["id"])
                published = item.get("published_at")
                when = datetime.fromisoformat(published).replace(tzinfo=UTC) if published else None
                drafts.append(
                    ArticleDraft(
                        article_id,
                        item["text"],
                        title=item.get("title") or "",
                        source=item["source"],
                        publish_time=when,
                    )
                )
                if "category" in (item.get("meta") or {}):
                    categories[article_id] = item["meta"]["category"]
    return drafts, categories


def news_coherence(folder: Path, settings: IndexSettings, reuters: int = 3000, pairs: int = 500) -> Scores:
    """Lineage clusters on real news: a cluster is one reused text, so its members match each other.

    Random pairs of members of one cluster (drawn uniformly over all such pairs) are verified
    against each other directly; no cluster may mix BBC categories; every group of articles with
    the same text must share a story cluster.
    """
    scores = Scores("news-coherence")
    drafts, categories = _news_drafts(folder, reuters)
    with tempfile.TemporaryDirectory() as directory:
        engine = _engine(directory, settings)
        _ingest(engine, drafts)
        members: dict[str, list[str]] = {}
        page = engine.list_clusters(page_size=1000)
        summaries = list(page.items)
        while page.next_page_token:
            page = engine.list_clusters(page_size=1000, page_token=page.next_page_token)
            summaries += page.items
        for summary in summaries:
            members[summary.cluster_id] = [m.article_id for m in _all_members(engine, summary.cluster_id)]
        stories = {a.article_id: a.cluster_id for a in engine.storage.iter_articles()}
        rng = random.Random(7)
        weights = [len(m) * (len(m) - 1) / 2 for m in members.values()]
        drawn = rng.choices(list(members.values()), weights=weights, k=pairs) if members else []
        direct = 0
        for group in drawn:
            first, second = rng.sample(group, 2)
            direct += _match_directly(engine, first, second)
        engine.close()
    by_text: defaultdict[str, list[str]] = defaultdict(list)
    for draft in drafts:
        by_text[" ".join(draft.text.split())].append(draft.article_id)
    duplicate_groups = [ids for ids in by_text.values() if len(ids) > 1]
    together = sum(1 for ids in duplicate_groups if len({stories[i] for i in ids}) == 1)
    mixed = sum(1 for ids in members.values() if len({categories[i] for i in ids if i in categories}) > 1)
    scores.add("articles", len(drafts))
    scores.add("clusters_of_two_or_more", len(members))
    scores.add("largest_cluster", max((len(m) for m in members.values()), default=0))
    scores.add("pairs_drawn", len(drawn))
    scores.add("pairs_matching_directly", direct / len(drawn) if drawn else 1.0)
    scores.add("clusters_mixing_bbc_categories", mixed)
    scores.add("exact_duplicate_groups", len(duplicate_groups))
    scores.add("exact_duplicate_groups_in_one_story", together / len(duplicate_groups) if duplicate_groups else 1.0)
    return scores


def _all_members(engine: Wiretrace, cluster_id: str) -> list[Article]:
    cluster = engine.cluster(cluster_id, page_size=1000)
    found = list(cluster.members)
    while cluster.next_page_token:
        cluster = engine.cluster(cluster_id, page_size=1000, page_token=cluster.next_page_token)
        found += cluster.members
    return found


def _match_directly(engine: Wiretrace, first: str, second: str) -> bool:
    """Whether the two stored articles match each other, verified on their own (no boilerplate filter)."""
    a, b = engine.analyse(engine.get(first).text), engine.analyse(engine.get(second).text)
    found = verify(second, a.features, a.document_signature, b.features, b.document_signature, engine.settings)
    return found is not None


EVALUATIONS: dict[str, list[Callable[[Path, IndexSettings], Scores]]] = {
    "clough-stevenson": [lambda root, s: clough_stevenson(root / "clough-stevenson", s)],
    "msrp": [lambda root, s: msrp(root / "msrp", s)],
    "wmt21": [
        lambda root, s: wmt_sentences(root / "wmt21", "de-en", s),
        lambda root, s: wmt_sentences(root / "wmt21", "cs-en", s),
        lambda root, s: wmt_articles(root / "wmt21", "ja-en", s),
        lambda root, s: wmt_articles(root / "wmt21", "is-en", s),
    ],
    "quotes": [
        lambda root, s: quotes_in_hosts(root, "ja-en", s),
        lambda root, s: quotes_in_hosts(root, "is-en", s),
    ],
    "languages": [
        lambda root, s: across_languages(root, "ja-en", s),
        lambda root, s: across_languages(root, "is-en", s),
    ],
    # Real news beside the labelled corpora (../shared/news next to ../shared/eval).
    "news": [lambda root, s: news_coherence(root.parent / "news", s)],
}


def evaluate(root: Path, names: Iterable[str], settings: IndexSettings) -> list[tuple[Scores, float]]:
    """Run the named evaluations; a dataset folder itself may be given as ``root``."""
    results = []
    for name in names:
        base = root.parent if root.name == name else root
        for run in EVALUATIONS[name]:
            started = time.perf_counter()
            scores = run(base, settings)
            results.append((scores, time.perf_counter() - started))
    return results
