"""Batch jobs on a whole index: consistency check, re-indexing, snapshots.

They reuse the engine's use cases (``Wiretrace.ingest_batch``, ``Wiretrace.analyse``)
so that a batch job indexes exactly as the service does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from wiretrace.core.analysis import Analysis
from wiretrace.core.codec import (
    from_micros,
    match_from_dict,
    match_to_dict,
    membership_from_dict,
    membership_to_dict,
    to_micros,
)
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.features import TextFeatures, decode_features, encode_features
from wiretrace.core.matching import verify
from wiretrace.core.model import (
    Article,
    ArticleDraft,
    ClusterKind,
    ClusterSummary,
    MatchEdge,
    Membership,
    PassageKind,
)
from wiretrace.core.ports import ArticleRecord, ChangeSet, Storage
from wiretrace.core.through import ImpliedPassage, verify_through
from wiretrace.core.translation import verify_translation

SNAPSHOT_FORMAT = "wiretrace-snapshot"
SNAPSHOT_VERSION = 2

Progress = Callable[[int], None]


# -- consistency ---------------------------------------------------------------------------------------


# Cosine of a stored gist and the one its text gives now, at least: embeddings are cached by
# wording (core/meaning.py), and sentences of one wording may differ in case and punctuation,
# which the encoder sees; the gist is also quantised to a byte a dimension.
_SAME_GIST = 0.95


def _same_features(stored: bytes, expected: TextFeatures) -> bool:
    """Stored features equal the text's, the gist close to the text's (see ``_SAME_GIST``)."""
    features = decode_features(stored)
    if encode_features(replace(features, gist=None)) != encode_features(replace(expected, gist=None)):
        return False
    if features.gist is None or expected.gist is None:
        return features.gist is None  # stored before gists existed: `reindex` adds them
    return float(features.gist @ expected.gist) >= _SAME_GIST


def check_consistency(engine: Wiretrace, batch_size: int = 500) -> list[str]:
    """Problems found (empty when the index, edges and clusters agree with the stored articles).

    Checks: each article's stored signature and bucket keys are what its text gives now, and
    its own buckets find it; every edge joins two stored articles and its evidence still holds;
    the clusters' memberships, sizes, roots and parent edges agree (:func:`_cluster_problems`);
    the stories counted for each passage wording are those of its stored articles (:class:`_Wordings`).
    """
    problems: list[str] = []
    storage = engine.storage
    labels: dict[str, str] = {}
    ids: list[str] = []
    wordings = _Wordings()
    for batch in _batches(storage.iter_articles(batch_size), batch_size):
        records = storage.get_records(a.article_id for a in batch)
        for article in batch:
            ids.append(article.article_id)
            labels[article.article_id] = article.cluster_id
            record = records.get(article.article_id)
            if record is None:
                problems.append(f"{article.article_id}: listed but has no record")
                continue
            wordings.add(article.story_key, record.passage_fingerprints)
            expected = engine.analyse(article.text)
            if not np.array_equal(record.document_signature, expected.document_signature):
                problems.append(f"{article.article_id}: stored signature differs from its text's")
            if not np.array_equal(record.document_keys, expected.document_keys) or not np.array_equal(
                record.passage_keys.reshape(-1), expected.passage_keys.reshape(-1)
            ):
                problems.append(f"{article.article_id}: stored bucket keys differ from its text's")
            if record.features and not _same_features(record.features, expected.features):
                problems.append(f"{article.article_id}: stored features differ from its text's")
            if not storage.buckets_hold(article.article_id, record.document_keys, record.passage_keys):
                problems.append(f"{article.article_id}: not found in its own LSH buckets")
    known = set(ids)
    edges: list[MatchEdge] = []
    for chunk in _batches(iter(ids), batch_size):
        edges.extend(storage.edges_of(chunk))
    unique = {(e.query_id, e.matched_id): e for e in edges}
    for query_id, matched_id in unique:
        for end in (query_id, matched_id):
            if end not in known:
                problems.append(f"edge {query_id} -> {matched_id}: {end} is not stored")
    problems.extend(_stale_evidence(engine, [e for e in unique.values() if {e.query_id, e.matched_id} <= known]))
    problems.extend(_cluster_problems(engine, ids, labels, batch_size))
    problems.extend(wordings.problems(storage, batch_size))
    return problems


class _Wordings:
    """The passage wordings of the stored articles with the story of each, to check the stories
    the store counts for them (``Storage.story_counts``, kept per write). Held as arrays, 12 bytes
    a passage: less than the edges the check holds."""

    def __init__(self) -> None:
        self._stories: dict[str, int] = {}
        self._fingerprints: list[npt.NDArray[np.uint64]] = []
        self._owners: list[npt.NDArray[np.uint32]] = []

    def add(self, story: str, fingerprints: Iterable[int]) -> None:
        own = np.unique(np.fromiter(fingerprints, dtype=np.uint64))
        self._fingerprints.append(own)
        self._owners.append(np.full(own.size, self._stories.setdefault(story, len(self._stories)), dtype=np.uint32))

    def problems(self, storage: Storage, batch_size: int) -> list[str]:
        """Wordings counted in another number of stories than their stored articles are in, and
        stories counted with another number of carriers than they hold."""
        if not self._fingerprints:
            return []
        fingerprints = np.concatenate(self._fingerprints)
        owners = np.concatenate(self._owners)
        order = np.lexsort((owners, fingerprints))
        fingerprints, owners = fingerprints[order], owners[order]
        pair_starts = np.flatnonzero(
            np.concatenate(([True], (fingerprints[1:] != fingerprints[:-1]) | (owners[1:] != owners[:-1])))
        )
        carriers = np.diff(np.append(pair_starts, fingerprints.size))
        pair_fingerprints, pair_stories = fingerprints[pair_starts], owners[pair_starts]
        wordings, wording_starts = np.unique(pair_fingerprints, return_index=True)
        stories = np.diff(np.append(wording_starts, pair_fingerprints.size))
        names = list(self._stories)
        problems: list[str] = []
        for start in range(0, wordings.size, batch_size):
            chunk = wordings[start : start + batch_size].tolist()
            counted = storage.story_counts(chunk, -1)
            for fingerprint, expected in zip(chunk, stories[start : start + batch_size].tolist(), strict=True):
                if counted.get(fingerprint) != expected:
                    problems.append(
                        f"passage wording {fingerprint:016x}: counted in {counted.get(fingerprint)} stories, "
                        f"its stored articles are in {expected}"
                    )
        for start in range(0, pair_starts.size, batch_size):
            pairs = [
                (fingerprint, names[story])
                for fingerprint, story in zip(
                    pair_fingerprints[start : start + batch_size].tolist(),
                    pair_stories[start : start + batch_size].tolist(),
                    strict=True,
                )
            ]
            found = storage.story_carriers(pairs)
            for pair, expected in zip(pairs, carriers[start : start + batch_size].tolist(), strict=True):
                if found.get(pair) != expected:
                    problems.append(
                        f"passage wording {pair[0]:016x}: story {pair[1]} counts {found.get(pair)} carrier(s), "
                        f"{expected} stored"
                    )
        return problems


def _cluster_problems(engine: Wiretrace, ids: list[str], labels: dict[str, str], batch_size: int) -> list[str]:
    """Every article in its story cluster; each cluster's size and root what its members say;
    every parent an earlier member of the same cluster, with evidence that still holds."""
    problems: list[str] = []
    storage = engine.storage
    cluster_ids: set[str] = set()
    for chunk in _batches(iter(ids), batch_size):
        memberships = storage.memberships_of(chunk)
        cluster_ids.update(m.cluster_id for m in memberships)
        stories = {m.article_id: m.cluster_id for m in memberships if m.kind is ClusterKind.STORY}
        for article_id in chunk:
            if stories.get(article_id) != labels[article_id]:
                problems.append(f"{article_id}: not a member of its story cluster {labels[article_id]}")
    summaries = storage.cluster_summaries(cluster_ids)
    parent_edges: list[MatchEdge] = []
    for cluster_id in sorted(cluster_ids):
        summary = summaries.get(cluster_id)
        if summary is None:
            problems.append(f"cluster {cluster_id} has members but no summary")
            continue
        members: dict[str, Membership] = {}
        after = None
        while page := storage.cluster_page(cluster_id, after, batch_size):
            members.update((m.article_id, m) for m in page)
            after = page[-1].order
        if len(members) != summary.member_count:
            problems.append(f"cluster {cluster_id} counts {summary.member_count} members but holds {len(members)}")
        earliest = min(members.values(), key=lambda m: m.order, default=None)
        if earliest is not None and earliest.article_id != summary.root_id:
            problems.append(
                f"cluster {cluster_id}: root is {summary.root_id}, its earliest member {earliest.article_id}"
            )
        for member in members.values():
            if member.article_id not in labels:
                problems.append(f"cluster {cluster_id}: member {member.article_id} is not stored")
            edge = member.edge()
            if edge is None:
                continue
            parent = members.get(edge.parent_id)
            if parent is None or not parent.order < member.order:
                problems.append(
                    f"cluster {cluster_id}: {member.article_id}'s parent {edge.parent_id} is not an earlier member"
                )
            elif member.article_id in labels and edge.parent_id in labels:
                parent_edges.append(MatchEdge(member.article_id, edge.parent_id, edge.evidence))
    problems.extend(_stale_evidence(engine, parent_edges))
    return problems


def _stale_evidence(engine: Wiretrace, edges: list[MatchEdge], batch_size: int = 200) -> list[str]:
    """Edges whose two stored texts no longer match, or whose passages point outside them.

    Re-verified without the boilerplate filter, which only ever removes evidence: an edge that
    fails even so was made from texts that are not the ones stored (e.g. a replaced article).
    """
    problems: list[str] = []
    analyses: dict[str, Analysis] = {}  # an article's analysis serves all its edges (a root has thousands)
    for batch in _batches(iter(sorted(edges, key=lambda e: (e.matched_id, e.query_id))), batch_size):
        records = engine.storage.get_records({i for e in batch for i in (e.query_id, e.matched_id)})
        if len(analyses) > 20_000:
            analyses.clear()
        for article_id, record in records.items():
            if article_id not in analyses:
                analyses[article_id] = engine.analyse(record.article.text)
        for edge in batch:
            query, matched = records[edge.query_id], records[edge.matched_id]
            inside = all(
                p.query_end <= len(query.article.text) and p.matched_end <= len(matched.article.text)
                for p in edge.evidence.passages
            )
            first, second = analyses[edge.query_id], analyses[edge.matched_id]
            arguments = (
                edge.matched_id,
                first.features,
                first.document_signature,
                second.features,
                second.document_signature,
                engine.settings,
            )
            translated = any(p.kind is PassageKind.TRANSLATED for p in edge.evidence.passages)
            found = verify_translation(*arguments) if translated else verify(*arguments)
            if found is None:
                # Found by meaning where a third text placed it (core/through.py): its passages
                # must still align by meaning where they stand.
                stored = [
                    ImpliedPassage(p.query_start, p.query_end, p.matched_start, p.matched_end)
                    for p in edge.evidence.passages
                ]
                found = verify_through(*arguments[:5], stored, engine.settings, translated)
            if not inside or found is None:
                problems.append(
                    f"edge {edge.query_id} -> {edge.matched_id}: its evidence no longer holds for the stored texts"
                )
    return problems


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


# -- re-indexing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReindexReport:
    read: int
    ingested: int
    skipped: int
    rejected: list[tuple[str, str]]


def reindex(
    drafts: Iterable[ArticleDraft],
    target: Wiretrace,
    *,
    checkpoint: Path | None = None,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> ReindexReport:
    """Ingest ``drafts`` (in order) into ``target`` (analysed in its analysis workers, if it has them).

    Resumable: after each committed batch the number of drafts done is written to
    ``checkpoint``; a rerun skips that many. Re-ingesting an article that is already
    there is harmless (same id and content is a no-op), so a crash between commit and
    checkpoint costs only repeated work.
    """
    done = _read_checkpoint(checkpoint)
    position = ingested = 0
    rejected: list[tuple[str, str]] = []
    for batch in _batches(iter(drafts), batch_size):
        start, position = position, position + len(batch)
        todo = batch[max(0, done - start) :]
        if todo:
            for draft, result in zip(todo, target.ingest_batch([IngestRequest(d) for d in todo]), strict=True):
                if isinstance(result, Exception):
                    rejected.append((draft.article_id, str(result)))
                else:
                    ingested += 1
            _write_checkpoint(checkpoint, position)
        if progress:
            progress(len(batch))
    return ReindexReport(read=position, ingested=ingested, skipped=min(done, position), rejected=rejected)


def _read_checkpoint(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    data = json.loads(path.read_text(encoding="utf-8"))
    return int(data["done"])


def _write_checkpoint(path: Path | None, done: int) -> None:
    if path is None:
        return
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps({"done": done, "time": datetime.now(UTC).isoformat()}), encoding="utf-8")
    os.replace(temporary, path)


def article_drafts(articles: Iterable[Article]) -> Iterator[ArticleDraft]:
    return (ArticleDraft.from_article(article) for article in articles)


# -- snapshots -----------------------------------------------------------------------------------------


def export_snapshot(engine: Wiretrace, out: IO[str], batch_size: int = 500) -> int:
    """Write the whole state as JSON lines (format in docs/snapshot.md); returns the article count."""
    header = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "created": datetime.now(UTC).isoformat(),
        "identity": asdict(engine.identity),
    }
    out.write(json.dumps(header) + "\n")
    count = 0
    seen_edges: set[tuple[str, str]] = set()
    seen_clusters: set[str] = set()
    for batch in _batches(engine.storage.iter_articles(batch_size), batch_size):
        for article in batch:
            out.write(json.dumps({"type": "article", **_article_dict(article)}, ensure_ascii=False) + "\n")
            count += 1
        for edge in engine.storage.edges_of(a.article_id for a in batch):
            key = (edge.query_id, edge.matched_id)
            if key in seen_edges:
                continue
            seen_edges.add(key)
            line = {
                "type": "edge",
                "query_id": edge.query_id,
                "matched_id": edge.matched_id,
                "evidence": match_to_dict(edge.evidence),
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        memberships = engine.storage.memberships_of(a.article_id for a in batch)
        for membership in memberships:
            out.write(json.dumps({"type": "membership", **membership_to_dict(membership)}, ensure_ascii=False) + "\n")
        for summary in engine.storage.cluster_summaries({m.cluster_id for m in memberships}).values():
            if summary.cluster_id in seen_clusters:
                continue
            seen_clusters.add(summary.cluster_id)
            out.write(json.dumps({"type": "cluster", **_summary_dict(summary)}) + "\n")
    return count


def _summary_dict(s: ClusterSummary) -> dict[str, Any]:
    return {
        "cluster_id": s.cluster_id,
        "kind": s.kind.value,
        "root_id": s.root_id,
        "root_appeared_us": s.root_order[0],
        "root_ingested_us": s.root_order[1],
        "member_count": s.member_count,
    }


def _summary_from(item: dict[str, Any]) -> ClusterSummary:
    root_order = (int(item["root_appeared_us"]), int(item["root_ingested_us"]), item["root_id"])
    return ClusterSummary(
        item["cluster_id"], ClusterKind(item["kind"]), item["root_id"], root_order, item["member_count"]
    )


def _article_dict(article: Article) -> dict[str, Any]:
    return {
        "article_id": article.article_id,
        "text": article.text,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "language": article.language,
        "publish_time_us": to_micros(article.publish_time),
        "create_time_us": to_micros(article.create_time),
        "content_sha256": article.content_sha256,
        "cluster_id": article.cluster_id,
    }


def import_snapshot(engine: Wiretrace, lines: IO[str], batch_size: int = 500) -> int:
    """Restore a snapshot into an empty index: articles keep ids, times and clusters; edges
    and lineage keep their evidence. Signatures and bucket keys are recomputed from the texts
    under the engine's settings (so a snapshot also moves an index to new parameters, keeping
    old edges). A version 1 snapshot (from before story and statement clusters) has its
    articles re-ingested instead, in their order, so matches and lineage are derived anew."""
    if engine.storage.stats().articles:
        raise InvalidArgument("import needs an empty index")
    header = json.loads(lines.readline() or "{}")
    if header.get("format") != SNAPSHOT_FORMAT or header.get("version") not in (1, SNAPSHOT_VERSION):
        raise InvalidArgument(f"not a {SNAPSHOT_FORMAT} file of version 1 or {SNAPSHOT_VERSION}")
    if header["version"] == 1:
        items = (json.loads(line) for line in lines if line.strip())
        drafts = article_drafts(_article_from(item) for item in items if item.get("type") == "article")
        return reindex(drafts, engine, batch_size=batch_size).ingested
    count = 0
    changes = ChangeSet()
    tail = ChangeSet()  # edges and lineage after all articles, so that both ends exist
    for number, line in enumerate(lines, 2):
        if not line.strip():
            continue
        item = json.loads(line)
        kind = item.get("type")
        if kind == "edge":
            tail.edges.append(MatchEdge(item["query_id"], item["matched_id"], match_from_dict(item["evidence"])))
            continue
        if kind == "membership":
            tail.memberships.append(membership_from_dict(item))
            continue
        if kind == "cluster":
            tail.clusters.append(_summary_from(item))
            continue
        if kind != "article":
            raise InvalidArgument(f"line {number}: unknown type {item.get('type')!r}")
        article = _article_from(item)
        changes.records.append(ArticleRecord.of(article, engine.analyse(article.text)))
        count += 1
        if len(changes.records) >= batch_size:
            engine.restore(changes)
            changes = ChangeSet()
    engine.restore(changes)
    engine.restore(tail)
    return count


def _article_from(item: dict[str, Any]) -> Article:
    """An article line of a snapshot (the inverse of :func:`_article_dict`)."""
    return Article(
        article_id=item["article_id"],
        text=item["text"],
        title=item["title"],
        source=item["source"],
        url=item["url"],
        publish_time=from_micros(item["publish_time_us"]),
        language=item["language"],
        create_time=from_micros(item["create_time_us"]) or datetime.now(UTC),
        content_sha256=item["content_sha256"],
        cluster_id=item["cluster_id"],
        seq=0,
    )
