"""Redis storage: the whole service state in Redis, shared by stateless service replicas.

Key layout (``P`` is the prefix, default ``wiretrace``); keys are spread over hash
slots; bucket and passage-wording keys are grouped in hash-tagged shards, and a script call
touches the keys of one shard (one slot) or, on Redis Cluster, of the shards one node serves
(``wiretrace.storage.redis_shards``), so the same code runs on a single node and on a cluster:

======================================  ==========  ========================================================
``P:meta``                              hash        ``identity``, ``parameters`` (JSON)
``P:seq``                               string      last ingest sequence number
``P:a:<article_id>``                    hash        ``seq`` and the record: ``keys``, ``article``, ``features``
                                                    (``wiretrace.core.record_codec``)
``P:order``                             sorted set  article ids scored by ingest sequence
``P:bd:{P:s<n>}:<key>``                 sorted set  document LSH bucket: ids scored by ingest sequence (n = key % 1024)
``P:bp:{P:s<n>}:<key>``                 sorted set  passage LSH bucket
``P:f:{P:s<n>}:a:<fp>``                 hash        articles containing that exact passage wording -> the
                                                    story each is counted in (``Article.story_key``; n = fp % 1024)
``P:f:{P:s<n>}:s:<fp>``                 hash        story -> how many of those articles it holds (HLEN: stories)
``P:fps:<outlet>:<fp>``                 set         articles of one outlet (``source``) containing that wording
``P:e:<article_id>``                    hash        the article's own best matches: matched id -> evidence
                                                    (binary ``record_codec``, the article as query side)
``P:er:<article_id>``                   set         ids of the articles whose matches hold this one
``P:m:<article_id>``                    hash        cluster id -> the article's membership there (binary)
``P:mo:<cluster_id>``                   sorted set  members in lineage order: all scores 0, members
                                                    ``<appeared>:<ingested>:<article_id>`` with both times
                                                    + 2**63 as 20 digits, so ZRANGEBYLEX pages exactly
``P:mp:<len>:<cluster_id>:<parent>``    set         members whose parent in the cluster is ``parent``
                                                    (``len``: length of the cluster id)
``P:k:<cluster_id>``                    hash        cluster summary: kind, root, root order, member count
``P:clusters``                          sorted set  clusters with 2+ members (score 0, lexicographic)
``P:n:passages``/``P:n:edges``          string      counters for stats
``P:lock``                              string      write lock shared by replicas
``P:journal``                           string      the batch being written (JSON of base64 values), until it
                                                    is complete
======================================  ==========  ========================================================

Writes are pipelined and not transactional. Their order keeps readers safe: an
article's hash exists before its buckets point at it, and its buckets go before its
hash on delete; a membership's order and parent entries are written before it, and
removed before it is. Each batch is journalled (``P:journal``) before it is written, so a
writer killed between pipelines leaves a journal that the next writer, or the next
start, writes again whole before anything else (``apply`` is atomic once recovered).
Every part of a write is idempotent for that: the batch's articles are first removed
whole, and membership and summary writes are upserts that read the stored state first.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import redis
import redis.cluster
import redis.exceptions

from wiretrace.core.errors import IndexMismatch, StorageUnavailable
from wiretrace.core.identity import IndexIdentity
from wiretrace.core.model import Article, ClusterKind, ClusterSummary, MatchEdge, Membership, OrderKey, StorageStats
from wiretrace.core.ports import DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ, ArticleRecord, ChangeSet
from wiretrace.core.record_codec import (
    StoredRecord,
    decode_article,
    decode_keys,
    decode_match,
    decode_membership,
    encode_match,
    encode_membership,
)
from wiretrace.redaction import masked_url
from wiretrace.storage.redis_shards import (
    BUCKET_SCRIPT,
    COUNT_SCRIPT,
    SHARDS,
    STORY_SCRIPT,
    Part,
    Script,
    Shards,
    joined_by_position,
)

P = ParamSpec("P")
R = TypeVar("R")
# The write lock is a lease this long, renewed every third of it while held.
_LEASE_SECONDS = 6.0
_LOCK_WAIT_SECONDS = 60
# Lineage order members: (appeared, ingested) + 2**63 as 20 digits each, then the article id.
_ORDER_OFFSET = 1 << 63
_ORDER_ID_AT = 42


def _unavailable(method: Callable[P, R]) -> Callable[P, R]:
    """Connection trouble becomes StorageUnavailable (UNAVAILABLE for clients, who retry)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            raise StorageUnavailable(f"redis is unavailable: {error}") from error
        except redis.exceptions.ClusterDownError as error:
            raise StorageUnavailable(f"redis cluster is down: {error}") from error

    return wrapper


def _text(value: bytes | None) -> str:
    return value.decode("utf-8") if value is not None else ""


def _record_fields(record: ArticleRecord) -> dict[str, bytes]:
    """An article's hash fields but ``seq`` (the ingest sequence is given when it is written)."""
    stored = StoredRecord.of(record)
    return {"keys": stored.keys, "article": stored.article, "features": stored.features}


def _journal_value(value: bytes) -> str:
    """Stored bytes, base64 in the JSON journal."""
    return base64.b64encode(value).decode("ascii")


def _journal_bytes(value: str) -> bytes:
    return base64.b64decode(value)


def _summary_fields(c: ClusterSummary) -> dict[str, str | int]:
    return {
        "kind": c.kind.value,
        "root_id": c.root_id,
        "root_appeared_us": c.root_order[0],
        "root_ingested_us": c.root_order[1],
        "member_count": c.member_count,
    }


def _summary_from(cluster_id: str, fields: Mapping[str, Any]) -> ClusterSummary:
    """From the stored hash (bytes keys and values) or the journal (str keys and values)."""
    value = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
             for k, v in fields.items()}  # fmt: skip
    root_id = str(value["root_id"])
    return ClusterSummary(
        cluster_id=cluster_id,
        kind=ClusterKind(value["kind"]),
        root_id=root_id,
        root_order=(int(value["root_appeared_us"]), int(value["root_ingested_us"]), root_id),
        member_count=int(value["member_count"]),
    )


def _order_member(order: OrderKey) -> str:
    """A member of ``P:mo:<cluster>``: byte order of these strings is the order of the keys."""
    appeared, ingested, article_id = order
    return f"{appeared + _ORDER_OFFSET:020d}:{ingested + _ORDER_OFFSET:020d}:{article_id}"


def _after_bound(after: OrderKey | None) -> str | None:
    """The ZRANGEBYLEX minimum for members strictly after ``after`` (None: nothing can be)."""
    if after is None:
        return "-"
    appeared, ingested, _ = after
    low, high = -_ORDER_OFFSET, _ORDER_OFFSET - 1
    if appeared < low:
        return "-"
    if appeared > high:
        return None
    if ingested < low:  # every member with this appearance time
        return f"[{appeared + _ORDER_OFFSET:020d}:"
    if ingested > high:  # ";" follows ":": past every member with this appearance time
        return f"({appeared + _ORDER_OFFSET:020d};"
    return "(" + _order_member(after)


class RedisStorage:
    """Storage in Redis or Redis Cluster, selected with ``cluster``."""

    backend = "redis"

    def __init__(self, url: str, *, cluster: bool = False, prefix: str = "wiretrace") -> None:
        self.url = url
        self.prefix = prefix
        self._cluster = cluster
        self._shards = Shards(prefix, cluster=cluster)
        self._client: Any = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._client is None:
            if self._cluster:
                self._client = redis.cluster.RedisCluster.from_url(self.url, decode_responses=False)
            else:
                self._client = redis.Redis.from_url(self.url, decode_responses=False)
        return self._client

    def describe(self) -> str:
        return f"redis prefix {self.prefix!r} at {masked_url(self.url)}"

    @_unavailable
    def exists(self) -> bool:
        return bool(self._connect().exists(self._key("meta")))

    @_unavailable
    def saved_parameters(self) -> dict[str, Any] | None:
        stored = self._connect().hget(self._key("meta"), "parameters")
        return dict(json.loads(stored)) if stored else None

    @_unavailable
    def open(self, identity: IndexIdentity, parameters: Mapping[str, Any]) -> None:
        client = self._connect()
        wanted = json.dumps(asdict(identity), sort_keys=True)
        client.hsetnx(self._key("meta"), "identity", wanted)
        stored = _text(client.hget(self._key("meta"), "identity"))
        if stored != wanted:
            previous = IndexIdentity.stored(json.loads(stored))
            raise IndexMismatch(
                f"redis prefix {self.prefix!r} was indexed with {previous.describe()}, "
                f"but this process uses {identity.describe()}; use another --redis-prefix or those parameters"
            )
        client.hsetnx(self._key("meta"), "parameters", json.dumps(dict(parameters), sort_keys=True))
        if client.exists(self._key("journal")):  # a writer died half way through a batch
            with self.lock():
                self._recover(client)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _redis(self) -> Any:
        if self._client is None:
            raise RuntimeError("storage is not open; call open() first")
        return self._client

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _article_key(self, article_id: str) -> str:
        return self._key("a", article_id)

    def _children_key(self, cluster_id: str, parent_id: str) -> str:
        # The length keeps (cluster, parent) pairs apart whatever ":" the ids contain.
        return self._key("mp", str(len(cluster_id)), cluster_id, parent_id)

    @staticmethod
    def _by_shard(values: Iterable[int]) -> dict[int, list[str]]:
        """Bucket keys or fingerprints (hex) grouped by shard: one shard's keys share a hash slot."""
        groups: dict[int, list[str]] = {}
        for value in dict.fromkeys(values):
            groups.setdefault(value % SHARDS, []).append(format(value, "x"))
        return groups

    def _shard_names(self, kind: str, keys: npt.NDArray[np.uint64]) -> dict[int, str]:
        """The buckets' names, space-separated, per shard."""
        return {
            shard: " ".join(self._shards.prefix_of(kind, shard) + key for key in hex_keys)
            for shard, hex_keys in self._by_shard(keys.ravel().tolist()).items()
        }

    def _fingerprint_story_key(self, fingerprint: int, part: str) -> str:
        """``P:f:{P:s<n>}:a:<fp>`` (part "a": articles -> story) or ``...:s:<fp>`` ("s": story -> carriers)."""
        return f"{self._shards.prefix_of('f', fingerprint % SHARDS)}{part}:{format(fingerprint, 'x')}"

    def _write_sharded(
        self, client: Any, script: Script, command: str, entries: Sequence[tuple[str, str, Iterable[int]]]
    ) -> None:
        """Run a write script over (head, kind, values) entries: every shard's values get one
        compact text of "head\nvalue value ...\n" lines, so a batch of articles costs a few
        thousand arguments, not a million; on one node one script call per (kind, shard),
        pipelined, on a cluster one call per node."""
        payloads: dict[tuple[str, int], list[str]] = {}
        for head, kind, values in entries:
            for shard, hex_values in self._by_shard(values).items():
                payloads.setdefault((kind, shard), []).append(f"{head}\n{' '.join(hex_values)}\n")
        parts: list[Part] = [
            (shard, [self._shards.prefix_of(kind, shard), "".join(lines)]) for (kind, shard), lines in payloads.items()
        ]
        self._shards.run(client, script, [command], parts, together=False)

    def _write_buckets(
        self, client: Any, command: str, entries: list[tuple[str, str, npt.NDArray[np.uint64], int | None]]
    ) -> None:
        """ZADD (with the ingest sequence as score) or ZREM article ids to/from their buckets."""
        heads = [
            (article_id if seq is None else f"{article_id} {seq}", kind, keys.ravel().tolist())
            for article_id, kind, keys, seq in entries
        ]
        self._write_sharded(client, BUCKET_SCRIPT, command, heads)

    def _write_stories(self, client: Any, command: str, entries: list[tuple[str, Iterable[int]]]) -> None:
        """ADD ("article story" heads) or REMOVE ("article" heads) articles' passage wordings to/from
        the stories that carry them."""
        self._write_sharded(client, STORY_SCRIPT, command, [(head, "f", values) for head, values in entries])

    @contextmanager
    def lock(self) -> Iterator[None]:
        """A write lock shared by every replica on this Redis (held while a batch is staged and written).

        It is a short lease renewed while held: a writer that is killed releases nothing, and its
        lease, persisted or not, runs out within ``_LEASE_SECONDS`` instead of blocking writes.
        """
        lease = self._redis().lock(
            self._key("lock"), timeout=_LEASE_SECONDS, blocking_timeout=_LOCK_WAIT_SECONDS, thread_local=False
        )
        if not _unavailable(lease.acquire)():
            raise StorageUnavailable(f"the write lock of redis prefix {self.prefix!r} was not free in time")
        released = threading.Event()

        def renew() -> None:
            while not released.wait(_LEASE_SECONDS / 3):
                try:
                    lease.reacquire()
                except redis.exceptions.RedisError:
                    return  # the write itself will fail on the same connection trouble

        renewer = threading.Thread(target=renew, name="redis-lock-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            released.set()
            renewer.join()
            # A lease that ran out (the process stalled longer than a lease) has nothing to release.
            with suppress(redis.exceptions.LockError, redis.exceptions.ConnectionError):
                lease.release()

    # -- writes ----------------------------------------------------------------------------------------

    @_unavailable
    def apply(self, changes: ChangeSet) -> None:
        """Writes are several pipelines, so a batch is journalled first: a writer that dies half
        way leaves the journal, and the next writer (or the next start) writes the batch again
        before anything else. Re-writing is idempotent: the batch's articles are first removed
        whole, whatever part of them was written, and lineage writes are upserts."""
        if not changes:
            return
        client = self._redis()
        self._recover(client)
        client.set(self._key("journal"), self._encode_journal(changes))
        self._write(client, changes, replay=False)
        client.delete(self._key("journal"))

    def _recover(self, client: Any) -> None:
        journal = client.get(self._key("journal"))
        if journal is not None:
            self._write(client, self._decode_journal(journal), replay=True)
            client.delete(self._key("journal"))

    def _write(self, client: Any, changes: ChangeSet, *, replay: bool) -> None:
        """In the port's order: deleted articles, removed memberships and clusters, new articles,
        edges, then memberships and cluster summaries."""
        replayed = [r.article.article_id for r in changes.records] if replay else []
        for article_id in [*changes.deletes, *replayed]:
            self._delete(client, article_id)
        if changes.removed_memberships or changes.removed_clusters:
            self._remove_lineage(client, changes.removed_memberships, changes.removed_clusters)
        if changes.records:
            self._write_records(client, changes.records)
        if changes.edges:
            self._write_edges(client, changes.edges)
        if changes.memberships or changes.clusters:
            self._write_lineage(client, changes.memberships, changes.clusters)

    def _write_records(self, client: Any, records: list[ArticleRecord]) -> None:
        last = int(client.incrby(self._key("seq"), len(records)))
        first = last - len(records) + 1
        # The hashes first, on their own: a replay finds (and removes) whatever part was written after.
        pipe = client.pipeline(transaction=False)
        for seq, record in enumerate(records, first):
            pipe.hset(self._article_key(record.article.article_id), mapping={"seq": seq, **_record_fields(record)})
        pipe.execute()
        pipe = client.pipeline(transaction=False)
        for seq, record in enumerate(records, first):
            article = record.article
            pipe.zadd(self._key("order"), {article.article_id: seq})
            for fingerprint in set(record.passage_fingerprints):
                pipe.sadd(self._outlet_key(fingerprint, article.source), article.article_id)
            pipe.incrby(self._key("n", "passages"), int(record.passage_keys.shape[0]))
        pipe.execute()
        self._write_stories(
            client, "ADD", [(f"{r.article.article_id} {r.article.story_key}", r.passage_fingerprints) for r in records]
        )
        # Buckets last: they only point at stored articles.
        entries: list[tuple[str, str, npt.NDArray[np.uint64], int | None]] = []
        for seq, record in enumerate(records, first):
            entries.append((record.article.article_id, "bd", record.document_keys, seq))
            entries.append((record.article.article_id, "bp", record.passage_keys, seq))
        self._write_buckets(client, "ZADD", entries)

    def _write_edges(self, client: Any, edges: list[MatchEdge]) -> None:
        """An edge is kept once, on its query side, with the matched side's reverse entry."""
        pipe = client.pipeline(transaction=False)
        for edge in edges:
            pipe.hset(self._key("e", edge.query_id), edge.matched_id, encode_match(edge.evidence))
            pipe.sadd(self._key("er", edge.matched_id), edge.query_id)
        added = pipe.execute()
        client.incrby(self._key("n", "edges"), sum(added[0::2]))

    def _delete(self, client: Any, article_id: str) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.hmget(self._article_key(article_id), ["keys", "article", "seq"])
        pipe.hkeys(self._key("e", article_id))
        pipe.smembers(self._key("er", article_id))
        (keys, article, seq), matched, queries = pipe.execute()
        if seq is None:
            return
        document_keys, passage_keys, fingerprints = decode_keys(keys)
        source = decode_article(article, int(seq)).source
        self._write_buckets(  # buckets first: nothing may point at a deleted article
            client, "ZREM", [(article_id, "bd", document_keys, None), (article_id, "bp", passage_keys, None)]
        )
        pipe = client.pipeline(transaction=False)
        for other in queries:  # first: their results count the edges removed
            pipe.hdel(self._key("e", _text(other)), article_id)
        for other in matched:
            pipe.srem(self._key("er", _text(other)), article_id)
        for fingerprint in set(fingerprints.tolist()):
            pipe.srem(self._outlet_key(fingerprint, source), article_id)
        pipe.delete(self._key("e", article_id))  # one key a command: a cluster pipeline spans slots
        pipe.delete(self._key("er", article_id))
        pipe.zrem(self._key("order"), article_id)
        removed_edges = len(matched) + sum(pipe.execute()[: len(queries)])
        self._write_stories(client, "REMOVE", [(article_id, fingerprints.tolist())])
        # The hash last, on its own: until it goes, a replay finds the rest to remove.
        pipe = client.pipeline(transaction=False)
        pipe.incrby(self._key("n", "edges"), -removed_edges)
        pipe.incrby(self._key("n", "passages"), -int(passage_keys.shape[0]))
        pipe.delete(self._article_key(article_id))
        pipe.execute()

    def _stored_memberships(self, client: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Membership]:
        pipe = client.pipeline(transaction=False)
        for cluster_id, article_id in keys:
            pipe.hget(self._key("m", article_id), cluster_id)
        return {
            key: decode_membership(value) for key, value in zip(keys, pipe.execute(), strict=True) if value is not None
        }

    def _remove_lineage(self, client: Any, memberships: list[tuple[str, str]], clusters: list[str]) -> None:
        """Drop memberships (order and parent entries first, the membership last) and clusters."""
        keys = list(dict.fromkeys(memberships))
        stored = self._stored_memberships(client, keys)
        index = client.pipeline(transaction=False)
        for key in keys:
            previous = stored.get(key)
            if previous is not None:
                self._unindex(index, previous)
        for cluster_id in clusters:
            index.zrem(self._key("clusters"), cluster_id)
            index.delete(self._key("k", cluster_id))
        index.execute()
        if keys:
            pipe = client.pipeline(transaction=False)
            for cluster_id, article_id in keys:
                pipe.hdel(self._key("m", article_id), cluster_id)
            pipe.execute()

    def _unindex(self, pipe: Any, membership: Membership) -> None:
        pipe.zrem(self._key("mo", membership.cluster_id), _order_member(membership.order))
        if membership.parent_id:
            pipe.srem(self._children_key(membership.cluster_id, membership.parent_id), membership.article_id)

    def _write_lineage(self, client: Any, memberships: list[Membership], clusters: list[ClusterSummary]) -> None:
        """Upsert memberships (replacing the order and parent entries of the stored one) and summaries."""
        latest = {(m.cluster_id, m.article_id): m for m in memberships}
        stored = self._stored_memberships(client, list(latest))
        index = client.pipeline(transaction=False)
        for key, membership in latest.items():
            previous = stored.get(key)
            if previous is not None:
                if previous.order != membership.order:
                    index.zrem(self._key("mo", key[0]), _order_member(previous.order))
                if previous.parent_id and previous.parent_id != membership.parent_id:
                    index.srem(self._children_key(key[0], previous.parent_id), key[1])
            index.zadd(self._key("mo", key[0]), {_order_member(membership.order): 0})
            if membership.parent_id:
                index.sadd(self._children_key(key[0], membership.parent_id), key[1])
        index.execute()
        pipe = client.pipeline(transaction=False)
        for (cluster_id, article_id), membership in latest.items():
            pipe.hset(self._key("m", article_id), cluster_id, encode_membership(membership))
        for summary in {c.cluster_id: c for c in clusters}.values():
            pipe.hset(self._key("k", summary.cluster_id), mapping=_summary_fields(summary))
            if summary.member_count >= 2:
                pipe.zadd(self._key("clusters"), {summary.cluster_id: 0})
            else:
                pipe.zrem(self._key("clusters"), summary.cluster_id)
        pipe.execute()

    def _encode_journal(self, changes: ChangeSet) -> bytes:
        document = {
            "deletes": changes.deletes,
            "records": [
                {
                    "article_id": r.article.article_id,
                    "fields": {k: _journal_value(v) for k, v in {"seq": b"0", **_record_fields(r)}.items()},
                }
                for r in changes.records
            ],
            "edges": [[e.query_id, e.matched_id, _journal_value(encode_match(e.evidence))] for e in changes.edges],
            "memberships": [_journal_value(encode_membership(m)) for m in changes.memberships],
            "removed_memberships": [list(key) for key in changes.removed_memberships],
            "clusters": [[c.cluster_id, _summary_fields(c)] for c in changes.clusters],
            "removed_clusters": changes.removed_clusters,
        }
        return json.dumps(document).encode("utf-8")

    def _decode_journal(self, journal: bytes) -> ChangeSet:
        document = json.loads(journal)
        records = []
        for item in document["records"]:
            fields = {name.encode(): _journal_bytes(value) for name, value in item["fields"].items()}
            records.append(self._record(fields))
        return ChangeSet(
            deletes=list(document["deletes"]),
            records=records,
            edges=[MatchEdge(q, m, decode_match(_journal_bytes(evidence))) for q, m, evidence in document["edges"]],
            memberships=[decode_membership(_journal_bytes(data)) for data in document["memberships"]],
            removed_memberships=[(c, a) for c, a in document["removed_memberships"]],
            clusters=[_summary_from(c, fields) for c, fields in document["clusters"]],
            removed_clusters=list(document["removed_clusters"]),
        )

    # -- reads -----------------------------------------------------------------------------------------

    def _hashes(self, article_ids: Iterable[str]) -> list[tuple[str, dict[bytes, bytes]]]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for article_id in ids:
            pipe.hgetall(self._article_key(article_id))
        return [(i, h) for i, h in zip(ids, pipe.execute(), strict=True) if h]

    @_unavailable
    def get_articles(self, article_ids: Iterable[str]) -> dict[str, Article]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return {}
        pipe = self._redis().pipeline(transaction=False)
        for article_id in ids:
            pipe.hmget(self._article_key(article_id), ["seq", "article"])
        return {
            article_id: decode_article(article, int(seq))
            for article_id, (seq, article) in zip(ids, pipe.execute(), strict=True)
            if seq is not None and article is not None
        }

    @_unavailable
    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        return {article_id: self._record(fields) for article_id, fields in self._hashes(article_ids)}

    @staticmethod
    def _record(fields: dict[bytes, bytes]) -> ArticleRecord:
        """From the stored hash or the journal (whose ``seq`` is 0: the write gives the real one)."""
        return StoredRecord(fields[b"keys"], fields[b"article"], fields[b"features"]).decode(int(fields[b"seq"]))

    @_unavailable
    def list_articles(self, after_seq: int, limit: int) -> list[Article]:
        ids = [_text(i) for i in self._redis().zrangebyscore(self._key("order"), f"({after_seq}", "+inf", 0, limit)]
        found = self.get_articles(ids)
        return [found[i] for i in ids if i in found]

    def iter_articles(self, batch_size: int = 1000) -> Iterator[Article]:
        after = 0
        while batch := self.list_articles(after, batch_size):
            yield from batch
            after = batch[-1].seq

    @_unavailable
    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        """Counted by a script: on one node in one call, on a cluster in one call per node
        (pipelined: one round trip) and summed here; ties broken by ingest sequence (``P:order``)."""
        if limit <= 0:
            return []
        # A part names one shard's document buckets, or its passage buckets (documents first).
        parts: list[Part] = [(shard, [names, ""]) for shard, names in self._shard_names("bd", document_keys).items()]
        parts += [(shard, ["", names]) for shard, names in self._shard_names("bp", passage_keys).items()]
        if not parts:
            return []
        client = self._redis()
        counts: Counter[str] = Counter()
        head = [str(limit), str(DOCUMENT_BUCKET_READ), str(PASSAGE_BUCKET_READ)]
        for found in self._shards.run(client, COUNT_SCRIPT, head, parts, together=True, join=joined_by_position):
            for position in range(0, len(found), 2):
                counts[_text(found[position])] += int(found[position + 1])
        ranked = counts.most_common()
        chosen: list[tuple[int, int, str]] = []
        start = 0
        while len(chosen) < limit and start < len(ranked):
            # Sequence numbers for the ids that can still make the cut: down to the count of the
            # limit-th, with every id of that count (ties); again if some went meanwhile (deleted).
            cut = min(start + limit - len(chosen), len(ranked)) - 1
            end = cut + 1
            while end < len(ranked) and ranked[end][1] == ranked[cut][1]:
                end += 1
            ids = [article_id for article_id, _ in ranked[start:end]]
            seqs = client.zmscore(self._key("order"), ids)
            chosen.extend(
                (-counts[article_id], int(seq), article_id)
                for article_id, seq in zip(ids, seqs, strict=True)
                if seq is not None
            )
            start = end
        return [article_id for _, _, article_id in sorted(chosen)[:limit]]

    @_unavailable
    def buckets_hold(
        self, article_id: str, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]
    ) -> bool:
        names = [
            self._shards.prefix_of(kind, shard) + key
            for kind, keys in (("bd", document_keys), ("bp", passage_keys))
            for shard, hex_keys in self._by_shard(keys.ravel().tolist()).items()
            for key in hex_keys
        ]
        if not names:
            return False
        pipe = self._redis().pipeline(transaction=False)
        for name in names:
            pipe.zscore(name, article_id)
        return any(score is not None for score in pipe.execute())

    @_unavailable
    def fingerprint_counts(self, fingerprints: Iterable[int], cap: int, source: str) -> dict[int, int]:
        """SCARD costs the same whatever the count, which is then capped as the port says."""
        wanted = list(dict.fromkeys(fingerprints))
        return _capped(wanted, self._sizes("SCARD", [self._outlet_key(fp, source) for fp in wanted]), cap)

    @_unavailable
    def story_counts(self, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        """HLEN costs the same whatever the count, which is then capped as the port says (as
        SQLite's LIMIT, a negative cap is none)."""
        wanted = list(dict.fromkeys(fingerprints))
        return _capped(wanted, self._sizes("HLEN", [self._fingerprint_story_key(fp, "s") for fp in wanted]), cap)

    def _sizes(self, command: str, keys: list[str]) -> list[int]:
        if not keys:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for key in keys:
            pipe.execute_command(command, key)
        return [int(size) for size in pipe.execute()]

    @_unavailable
    def story_carriers(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        wanted = list(dict.fromkeys(pairs))
        if not wanted:
            return {}
        pipe = self._redis().pipeline(transaction=False)
        for fingerprint, story in wanted:
            pipe.hget(self._fingerprint_story_key(fingerprint, "s"), story)
        return {pair: int(found or 0) for pair, found in zip(wanted, pipe.execute(), strict=True)}

    def _outlet_key(self, fingerprint: int, source: str) -> str:
        outlet = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
        return self._key("fps", outlet, format(fingerprint, "x"))

    @_unavailable
    def edges_of(self, article_ids: Iterable[str]) -> list[MatchEdge]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        client = self._redis()
        pipe = client.pipeline(transaction=False)
        for article_id in ids:
            pipe.hgetall(self._key("e", article_id))
            pipe.smembers(self._key("er", article_id))
        found = pipe.execute()
        edges: dict[tuple[str, str], MatchEdge] = {}
        reverse: list[tuple[str, str]] = []
        for article_id, own, others in zip(ids, found[0::2], found[1::2], strict=True):
            for matched, payload in sorted(own.items()):
                key = (article_id, _text(matched))
                edges[key] = MatchEdge(key[0], key[1], decode_match(payload))
            reverse.extend((_text(q), article_id) for q in sorted(others))
        reverse = [key for key in dict.fromkeys(reverse) if key not in edges]
        if reverse:
            pipe = client.pipeline(transaction=False)
            for query_id, matched_id in reverse:
                pipe.hget(self._key("e", query_id), matched_id)
            for key, payload in zip(reverse, pipe.execute(), strict=True):
                if payload is not None:  # None: being deleted right now
                    edges[key] = MatchEdge(key[0], key[1], decode_match(payload))
        return list(edges.values())

    @_unavailable
    def matches_of(self, article_id: str) -> list[MatchEdge]:
        own = self._redis().hgetall(self._key("e", article_id))
        return [
            MatchEdge(article_id, _text(matched), decode_match(payload)) for matched, payload in sorted(own.items())
        ]

    @_unavailable
    def memberships_of(self, article_ids: Iterable[str]) -> list[Membership]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for article_id in ids:
            pipe.hgetall(self._key("m", article_id))
        return [
            decode_membership(value)
            for article_id, stored in zip(ids, pipe.execute(), strict=True)
            for cluster_id, value in sorted(stored.items())
        ]

    def _memberships(self, cluster_id: str, article_ids: list[str]) -> list[Membership]:
        """The memberships of these articles in the cluster, in the given order (gone ones left out)."""
        if not article_ids:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for article_id in article_ids:
            pipe.hget(self._key("m", article_id), cluster_id)
        return [
            decode_membership(value)
            for article_id, value in zip(article_ids, pipe.execute(), strict=True)
            if value is not None
        ]

    @_unavailable
    def cluster_summaries(self, cluster_ids: Iterable[str]) -> dict[str, ClusterSummary]:
        ids = list(dict.fromkeys(cluster_ids))
        if not ids:
            return {}
        pipe = self._redis().pipeline(transaction=False)
        for cluster_id in ids:
            pipe.hgetall(self._key("k", cluster_id))
        return {c: _summary_from(c, fields) for c, fields in zip(ids, pipe.execute(), strict=True) if fields}

    @_unavailable
    def cluster_page(self, cluster_id: str, after: OrderKey | None, limit: int) -> list[Membership]:
        start = _after_bound(after)
        if start is None or limit <= 0:
            return []
        members = self._redis().zrangebylex(self._key("mo", cluster_id), start, "+", 0, limit)
        return self._memberships(cluster_id, [_text(m)[_ORDER_ID_AT:] for m in members])

    @_unavailable
    def children(self, cluster_id: str, parent_id: str) -> list[Membership]:
        ids = sorted(_text(i) for i in self._redis().smembers(self._children_key(cluster_id, parent_id)))
        return [m for m in self._memberships(cluster_id, ids) if m.parent_id == parent_id]

    @_unavailable
    def list_clusters(self, after_cluster_id: str, limit: int) -> list[ClusterSummary]:
        if limit <= 0:
            return []
        start = f"({after_cluster_id}" if after_cluster_id else "-"
        ids = [_text(c) for c in self._redis().zrangebylex(self._key("clusters"), start, "+", 0, limit)]
        found = self.cluster_summaries(ids)
        return [found[c] for c in ids if c in found]

    @_unavailable
    def stats(self) -> StorageStats:
        client = self._redis()
        return StorageStats(
            articles=int(client.zcard(self._key("order"))),
            clusters=int(client.zcard(self._key("clusters"))),
            passages=int(client.get(self._key("n", "passages")) or 0),
            edges=int(client.get(self._key("n", "edges")) or 0),
            index_bytes=_used_memory(client.info("memory")),
        )


def _capped(fingerprints: list[int], counts: list[int], cap: int) -> dict[int, int]:
    return {fp: count if cap < 0 else min(count, cap) for fp, count in zip(fingerprints, counts, strict=True)}


def _used_memory(info: Mapping[str, Any]) -> int:
    """``used_memory`` of one server's INFO, or the sum over a cluster's nodes (INFO per node)."""
    if "used_memory" in info:
        return int(info["used_memory"])
    return sum(int(node.get("used_memory", 0)) for node in info.values() if isinstance(node, Mapping))
