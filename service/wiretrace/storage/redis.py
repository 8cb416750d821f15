"""Redis storage: the whole service state in Redis, shared by stateless service replicas.

Key layout (``P`` is the prefix, default ``wiretrace``); keys are spread over hash
slots, and only bucket keys of one shard (same hash tag, same slot) are touched by one
command, so the same code runs on a single node and on Redis Cluster:

===========================  ==========  ===============================================
``P:meta``                   hash        ``identity``: index parameters (JSON)
``P:seq``                    string      last ingest sequence number
``P:a:<article_id>``         hash        article fields, signature, bucket keys
``P:order``                  sorted set  article ids scored by ingest sequence
``P:bd:{P:s<n>}:<key>``      set         document LSH bucket: article ids (shard n = key mod 1024)
``P:bp:{P:s<n>}:<key>``      set         passage LSH bucket
``P:fp:<fingerprint>``       set         articles containing that exact passage wording
``P:fps:<outlet>:<fp>``      set         the same, for one outlet (``source``)
``P:e:<article_id>``         hash        other article id -> edge (JSON), on both ends
``P:c:<cluster_id>``         set         cluster members
``P:clusters``               sorted set  clusters with 2+ members (lexicographic)
``P:n:passages``/``P:n:edges``  string   counters for stats
``P:lock``                   string      write lock shared by replicas
``P:journal``                string      the batch being written (JSON), until it is complete
===========================  ==========  ===============================================

Writes are pipelined and not transactional. Their order keeps readers safe: an
article's hash exists before its buckets point at it, and its buckets go before its
hash on delete. Each batch is journalled (``P:journal``) before it is written, so a
writer killed between pipelines leaves a journal that the next writer, or the next
start, writes again whole before anything else (``apply`` is atomic once recovered).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import redis
import redis.cluster
import redis.exceptions

from wiretrace.core.codec import from_micros, match_from_dict, match_to_dict, to_micros
from wiretrace.core.errors import IndexMismatch, StorageUnavailable
from wiretrace.core.identity import IndexIdentity
from wiretrace.core.model import Article, MatchEdge, StorageStats
from wiretrace.core.ports import ArticleRecord, ChangeSet

P = ParamSpec("P")
R = TypeVar("R")
# The write lock is a lease this long, renewed every third of it while held.
_LEASE_SECONDS = 6.0
_LOCK_WAIT_SECONDS = 60
# Bucket keys are spread over this many hash-tagged shards; one shard's buckets share a slot,
# so a batch writes them with one script call and a query reads them with one SUNION.
_SHARDS = 1024
_BUCKET_SCRIPT = """
local prefix, command = KEYS[1], ARGV[1]
local count = 0
for member, keys in string.gmatch(ARGV[2], "([^\\n]+)\\n([^\\n]*)\\n") do
    for key in string.gmatch(keys, "%S+") do
        redis.call(command, prefix .. key, member)
        count = count + 1
    end
end
return count
"""


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


def _record_fields(record: ArticleRecord) -> dict[str, str | int | bytes]:
    """An article's hash fields but ``seq`` (the ingest sequence is given when it is written)."""
    article = record.article
    return {
        "text": article.text,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "language": article.language,
        "publish_time_us": "" if article.publish_time is None else str(to_micros(article.publish_time)),
        "create_time_us": str(to_micros(article.create_time)),
        "content_sha256": article.content_sha256,
        "cluster_id": article.cluster_id,
        "document_signature": np.ascontiguousarray(record.document_signature, dtype=np.uint32).tobytes(),
        "document_keys": np.ascontiguousarray(record.document_keys, dtype=np.uint64).tobytes(),
        "passage_keys": np.ascontiguousarray(record.passage_keys, dtype=np.uint64).tobytes(),
        "passage_count": int(record.passage_keys.shape[0]),
        "passage_fingerprints": np.asarray(record.passage_fingerprints, dtype=np.uint64).tobytes(),
        "features": record.features,
    }


def _journal_value(value: str | int | bytes) -> str:
    """Hash field values as Redis returns them (bytes), base64 in the JSON journal."""
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def _journal_bytes(value: str) -> bytes:
    return base64.b64decode(value)


class RedisStorage:
    """Storage in Redis or Redis Cluster, selected with ``cluster``."""

    backend = "redis"

    def __init__(self, url: str, *, cluster: bool = False, prefix: str = "wiretrace") -> None:
        self.url = url
        self.prefix = prefix
        self._cluster = cluster
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
        return f"redis prefix {self.prefix!r} at {self.url}"

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
            raise IndexMismatch(
                f"redis prefix {self.prefix!r} was indexed with {IndexIdentity(**json.loads(stored)).describe()}, "
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

    def _shard_prefix(self, kind: str, shard: int) -> str:
        return f"{self.prefix}:{kind}:{{{self.prefix}:s{shard}}}:"

    def _bucket_groups(self, kind: str, keys: npt.NDArray[np.uint64]) -> dict[int, list[str]]:
        """Bucket keys (hex) grouped by shard: one shard's buckets share a hash slot (hash tag)."""
        groups: dict[int, list[str]] = {}
        for key in dict.fromkeys(keys.ravel().tolist()):
            groups.setdefault(key % _SHARDS, []).append(format(key, "x"))
        return groups

    def _bucket_names(self, kind: str, keys: npt.NDArray[np.uint64]) -> list[list[str]]:
        return [
            [self._shard_prefix(kind, shard) + key for key in hex_keys]
            for shard, hex_keys in self._bucket_groups(kind, keys).items()
        ]

    def _write_buckets(self, client: Any, command: str, entries: list[tuple[str, str, npt.NDArray[np.uint64]]]) -> None:
        """SADD/SREM article ids to/from their buckets with one script call per shard.

        A script gets the shard's key prefix and a compact text of "article\nkey key ...\n"
        lines, so a batch of articles costs a few thousand arguments, not a million.
        """
        payloads: dict[tuple[str, int], list[str]] = {}
        for article_id, kind, keys in entries:
            for shard, hex_keys in self._bucket_groups(kind, keys).items():
                payloads.setdefault((kind, shard), []).append(f"{article_id}\n{' '.join(hex_keys)}\n")
        calls = [(self._shard_prefix(kind, shard), "".join(lines)) for (kind, shard), lines in payloads.items()]
        if self._cluster:  # each call goes to the node of its shard's slot
            for prefix, payload in calls:
                client.eval(_BUCKET_SCRIPT, 1, prefix, command, payload)
            return
        pipe = client.pipeline(transaction=False)
        for prefix, payload in calls:
            pipe.eval(_BUCKET_SCRIPT, 1, prefix, command, payload)
        pipe.execute()

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
        whole, whatever part of them was written."""
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
        replayed = [r.article.article_id for r in changes.records] if replay else []
        for article_id in [*changes.deletes, *replayed]:
            self._delete(client, article_id)
        if changes.records:
            last = int(client.incrby(self._key("seq"), len(changes.records)))
            first = last - len(changes.records) + 1
            pipe = client.pipeline(transaction=False)
            for seq, record in enumerate(changes.records, first):
                self._write_article(pipe, record, seq)
            pipe.execute()
            # Buckets last: they only point at stored articles.
            entries = []
            for record in changes.records:
                entries.append((record.article.article_id, "bd", record.document_keys))
                entries.append((record.article.article_id, "bp", record.passage_keys))
            self._write_buckets(client, "SADD", entries)
        if changes.edges:
            pipe = client.pipeline(transaction=False)
            for edge in changes.edges:
                payload = json.dumps(
                    {"query_id": edge.query_id, "matched_id": edge.matched_id, "evidence": match_to_dict(edge.evidence)}
                )
                pipe.hset(self._key("e", edge.query_id), edge.matched_id, payload)
                pipe.hset(self._key("e", edge.matched_id), edge.query_id, payload)
            added = pipe.execute()
            client.incrby(self._key("n", "edges"), sum(added[0::2]))
        touched = {r.article.cluster_id for r in changes.records}
        if changes.cluster_labels:
            touched |= self._relabel(client, changes.cluster_labels)
        if touched:
            self._refresh_clusters(client, touched)

    def _write_article(self, pipe: Any, record: ArticleRecord, seq: int) -> None:
        article = record.article
        fields = {"seq": seq, **_record_fields(record)}
        pipe.hset(self._article_key(article.article_id), mapping=fields)
        pipe.zadd(self._key("order"), {article.article_id: seq})
        pipe.sadd(self._key("c", article.cluster_id), article.article_id)
        for fingerprint in set(record.passage_fingerprints):
            pipe.sadd(self._fingerprint_key(fingerprint), article.article_id)
            pipe.sadd(self._fingerprint_key(fingerprint, article.source), article.article_id)
        pipe.incrby(self._key("n", "passages"), int(record.passage_keys.shape[0]))

    def _delete(self, client: Any, article_id: str) -> None:
        stored = client.hmget(
            self._article_key(article_id),
            ["document_keys", "passage_keys", "passage_fingerprints", "cluster_id", "passage_count", "source"],
        )
        if stored[3] is None:
            return
        document_keys, passage_keys, fingerprints, cluster_id, passage_count, source = stored
        others = [_text(o) for o in client.hkeys(self._key("e", article_id))]
        self._write_buckets(  # buckets first: nothing may point at a deleted article
            client,
            "SREM",
            [
                (article_id, "bd", np.frombuffer(document_keys, dtype=np.uint64)),
                (article_id, "bp", np.frombuffer(passage_keys, dtype=np.uint64)),
            ],
        )
        pipe = client.pipeline(transaction=False)
        for fingerprint in set(np.frombuffer(fingerprints, dtype=np.uint64).tolist()):
            pipe.srem(self._fingerprint_key(fingerprint), article_id)
            pipe.srem(self._fingerprint_key(fingerprint, _text(source)), article_id)
        for other in others:
            pipe.hdel(self._key("e", other), article_id)
        pipe.delete(self._key("e", article_id))
        pipe.zrem(self._key("order"), article_id)
        pipe.incrby(self._key("n", "edges"), -len(others))
        pipe.incrby(self._key("n", "passages"), -int(passage_count or 0))
        pipe.srem(self._key("c", _text(cluster_id)), article_id)
        pipe.delete(self._article_key(article_id))
        pipe.execute()
        self._refresh_clusters(client, {_text(cluster_id)})

    def _encode_journal(self, changes: ChangeSet) -> bytes:
        document = {
            "deletes": changes.deletes,
            "records": [
                {
                    "article_id": r.article.article_id,
                    "fields": {k: _journal_value(v) for k, v in {"seq": 0, **_record_fields(r)}.items()},
                }
                for r in changes.records
            ],
            "edges": [[e.query_id, e.matched_id, match_to_dict(e.evidence)] for e in changes.edges],
            "labels": changes.cluster_labels,
        }
        return json.dumps(document).encode("utf-8")

    def _decode_journal(self, journal: bytes) -> ChangeSet:
        document = json.loads(journal)
        records = []
        for item in document["records"]:
            fields = {name.encode(): _journal_bytes(value) for name, value in item["fields"].items()}
            records.append(self._record(item["article_id"], fields))
        return ChangeSet(
            deletes=list(document["deletes"]),
            records=records,
            edges=[MatchEdge(q, m, match_from_dict(evidence)) for q, m, evidence in document["edges"]],
            cluster_labels=dict(document["labels"]),
        )

    def _relabel(self, client: Any, labels: dict[str, str]) -> set[str]:
        """Move articles between cluster sets; returns the clusters touched."""
        ids = list(labels)
        pipe = client.pipeline(transaction=False)
        for article_id in ids:
            pipe.hget(self._article_key(article_id), "cluster_id")
        previous = [_text(v) for v in pipe.execute()]
        pipe = client.pipeline(transaction=False)
        touched: set[str] = set()
        for article_id, old in zip(ids, previous, strict=True):
            new = labels[article_id]
            if old and old != new:
                pipe.srem(self._key("c", old), article_id)
                touched.add(old)
            pipe.sadd(self._key("c", new), article_id)
            pipe.hset(self._article_key(article_id), "cluster_id", new)
            touched.add(new)
        pipe.execute()
        return touched

    def _refresh_clusters(self, client: Any, cluster_ids: set[str]) -> None:
        """Keep ``P:clusters`` to the clusters of two or more members."""
        ordered = sorted(cluster_ids)
        pipe = client.pipeline(transaction=False)
        for cluster_id in ordered:
            pipe.scard(self._key("c", cluster_id))
        sizes = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for cluster_id, size in zip(ordered, sizes, strict=True):
            if size >= 2:
                pipe.zadd(self._key("clusters"), {cluster_id: 0})
            else:
                pipe.zrem(self._key("clusters"), cluster_id)
        pipe.execute()

    # -- reads -----------------------------------------------------------------------------------------

    def _hashes(self, article_ids: Iterable[str]) -> list[tuple[str, dict[bytes, bytes]]]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for article_id in ids:
            pipe.hgetall(self._article_key(article_id))
        return [(i, h) for i, h in zip(ids, pipe.execute(), strict=True) if h]

    @staticmethod
    def _article(article_id: str, fields: dict[bytes, bytes]) -> Article:
        publish = fields.get(b"publish_time_us") or b""
        create_time = from_micros(int(fields[b"create_time_us"]))
        assert create_time is not None
        return Article(
            article_id=article_id,
            text=_text(fields.get(b"text")),
            title=_text(fields.get(b"title")),
            source=_text(fields.get(b"source")),
            url=_text(fields.get(b"url")),
            language=_text(fields.get(b"language")),
            publish_time=from_micros(int(publish)) if publish else None,
            create_time=create_time,
            content_sha256=_text(fields.get(b"content_sha256")),
            cluster_id=_text(fields.get(b"cluster_id")),
            seq=int(fields[b"seq"]),
        )

    @_unavailable
    def get_articles(self, article_ids: Iterable[str]) -> dict[str, Article]:
        return {i: self._article(i, fields) for i, fields in self._hashes(article_ids)}

    @_unavailable
    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        return {article_id: self._record(article_id, fields) for article_id, fields in self._hashes(article_ids)}

    @classmethod
    def _record(cls, article_id: str, fields: dict[bytes, bytes]) -> ArticleRecord:
        count = int(fields[b"passage_count"])
        passage_keys = np.frombuffer(fields[b"passage_keys"], dtype=np.uint64)
        return ArticleRecord(
            article=cls._article(article_id, fields),
            document_signature=np.frombuffer(fields[b"document_signature"], dtype=np.uint32),
            document_keys=np.frombuffer(fields[b"document_keys"], dtype=np.uint64),
            passage_keys=passage_keys.reshape(count, -1) if count else passage_keys.reshape(0, 0),
            passage_fingerprints=tuple(np.frombuffer(fields[b"passage_fingerprints"], dtype=np.uint64).tolist()),
            features=bytes(fields.get(b"features", b"")),
        )

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
    def candidates(self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]) -> set[str]:
        groups = self._bucket_names("bd", document_keys) + self._bucket_names("bp", passage_keys)
        if not groups:
            return set()
        pipe = self._redis().pipeline(transaction=False)  # all bands in one round trip
        for names in groups:
            if self._cluster:  # redis-py's cluster pipeline refuses multi-key commands
                for name in names:
                    pipe.smembers(name)
            else:
                pipe.sunion(names)
        found: set[str] = set()
        for members in pipe.execute():
            found.update(_text(m) for m in members)
        return found

    @_unavailable
    def fingerprint_counts(self, fingerprints: Iterable[int], source: str | None = None) -> dict[int, int]:
        wanted = list(dict.fromkeys(fingerprints))
        if not wanted:
            return {}
        pipe = self._redis().pipeline(transaction=False)
        for fingerprint in wanted:
            pipe.scard(self._fingerprint_key(fingerprint, source))
        return {fp: int(count) for fp, count in zip(wanted, pipe.execute(), strict=True)}

    def _fingerprint_key(self, fingerprint: int, source: str | None = None) -> str:
        if source is None:
            return self._key("fp", format(fingerprint, "x"))
        outlet = hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]
        return self._key("fps", outlet, format(fingerprint, "x"))

    @_unavailable
    def edges_of(self, article_ids: Iterable[str]) -> list[MatchEdge]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return []
        pipe = self._redis().pipeline(transaction=False)
        for article_id in ids:
            pipe.hvals(self._key("e", article_id))
        edges: dict[tuple[str, str], MatchEdge] = {}
        for payloads in pipe.execute():
            for payload in payloads:
                data = json.loads(payload)
                key = (data["query_id"], data["matched_id"])
                if key not in edges:
                    edges[key] = MatchEdge(key[0], key[1], match_from_dict(data["evidence"]))
        return list(edges.values())

    @_unavailable
    def cluster_members(self, cluster_id: str) -> list[str]:
        return sorted(_text(m) for m in self._redis().smembers(self._key("c", cluster_id)))

    @_unavailable
    def list_clusters(self, after_cluster_id: str, limit: int) -> list[str]:
        start = f"({after_cluster_id}" if after_cluster_id else "-"
        return [_text(c) for c in self._redis().zrangebylex(self._key("clusters"), start, "+", 0, limit)]

    @_unavailable
    def stats(self) -> StorageStats:
        client = self._redis()
        return StorageStats(
            articles=int(client.zcard(self._key("order"))),
            clusters=int(client.zcard(self._key("clusters"))),
            passages=int(client.get(self._key("n", "passages")) or 0),
            edges=int(client.get(self._key("n", "edges")) or 0),
        )
