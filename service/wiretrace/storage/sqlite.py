"""Embedded storage: SQLite (WAL, synchronous=FULL) on disk plus in-memory LSH buckets.

SQLite holds everything durable; the buckets are rebuilt from the stored bucket
keys when the store opens, so a crash loses nothing that ``apply`` returned for.

Storage faults are domain errors, never a bare ``sqlite3.Error``: a full disk is
:class:`StorageFull`, files that cannot be written (read-only mount, ``chattr +i``,
permissions) :class:`StorageReadOnly`, damaged files :class:`StoreCorrupt`. The connection
uses exclusive locking mode, so SQLite keeps the WAL index in heap memory instead of a
memory-mapped ``-shm`` file, and ``mmap_size`` is 0: no page of a data file is ever mapped,
so a file that turns immutable or a full tmpfs fails a write with an error instead of
killing the process with SIGBUS (it did, at shutdown after ``chattr +i``). The directory
lock (:class:`DirectoryLock`) already keeps other processes out.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from wiretrace.core.codec import from_micros
from wiretrace.core.errors import (
    IndexMismatch,
    InvalidStore,
    StorageFull,
    StorageReadOnly,
    StorageUnavailable,
    StoreCorrupt,
    WiretraceError,
)
from wiretrace.core.identity import IndexIdentity
from wiretrace.core.model import Article, ClusterKind, ClusterSummary, MatchEdge, Membership, OrderKey, StorageStats
from wiretrace.core.ports import DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ, ArticleRecord, ChangeSet
from wiretrace.core.record_codec import StoredRecord, decode_article, decode_keys, decode_match, encode_match
from wiretrace.storage.buckets import CompactBuckets, ranked_owners
from wiretrace.storage.decoded_cache import DecodedCache
from wiretrace.storage.dirlock import DirectoryLock

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL);
-- The three values of wiretrace.core.record_codec.StoredRecord; keys first, so that the open,
-- which reads only them, never walks the overflow pages of a long text.
CREATE TABLE IF NOT EXISTS articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL UNIQUE,
    passage_count INTEGER NOT NULL,
    keys BLOB NOT NULL,
    article BLOB NOT NULL,
    features BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS fingerprints (
    fingerprint INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (fingerprint, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fingerprints_by_source ON fingerprints (fingerprint, source);
CREATE INDEX IF NOT EXISTS fingerprints_by_article ON fingerprints (article_id);
-- Per passage wording, the stories (Article.story_key) whose articles carry it and how many do.
CREATE TABLE IF NOT EXISTS fingerprint_stories (
    fingerprint INTEGER NOT NULL,
    story TEXT NOT NULL,
    carriers INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, story)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edges (
    query_id TEXT NOT NULL,
    matched_id TEXT NOT NULL,
    evidence BLOB NOT NULL,
    PRIMARY KEY (query_id, matched_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_by_matched ON edges (matched_id);
CREATE TABLE IF NOT EXISTS memberships (
    cluster_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    appeared_us INTEGER NOT NULL,
    ingested_us INTEGER NOT NULL,
    parent_id TEXT NOT NULL,
    evidence BLOB NOT NULL,
    reason TEXT NOT NULL,
    span_start INTEGER NOT NULL,
    span_end INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_article ON memberships (article_id);
CREATE INDEX IF NOT EXISTS memberships_in_order ON memberships (cluster_id, appeared_us, ingested_us, article_id);
CREATE INDEX IF NOT EXISTS memberships_by_parent ON memberships (cluster_id, parent_id);
CREATE TABLE IF NOT EXISTS clusters (
    cluster_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    root_id TEXT NOT NULL,
    root_appeared_us INTEGER NOT NULL,
    root_ingested_us INTEGER NOT NULL,
    member_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clusters_shared ON clusters (cluster_id) WHERE member_count > 1;
"""

_MEMBERSHIP_COLUMNS = (
    "cluster_id, article_id, kind, appeared_us, ingested_us, parent_id, evidence, reason, span_start, span_end"
)
_CLUSTER_COLUMNS = "cluster_id, kind, root_id, root_appeared_us, root_ingested_us, member_count"

# The columns of a data directory from before the binary records, read by ``read_articles`` only.
_LEGACY_ARTICLE_COLUMNS = (
    "seq, article_id, text, title, source, url, language, publish_time_us, create_time_us, content_sha256, cluster_id"
)
_MAX_VARIABLES = 900

# Primary SQLite result codes (sqlite3.h), as ``sqlite3.Error.sqlite_errorcode & 0xFF``.
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT = 3, 8, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
_SQLITE_HEADER = b"SQLite format 3\x00"
# The health probe's write waits this long for a write in progress, then counts as passed.
_PROBE_WAIT = 1.0


def _signed(value: int) -> int:
    """uint64 -> int64, since SQLite integers are signed."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def _chunks(values: Sequence[Any], size: int = _MAX_VARIABLES) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _legacy_article(row: Sequence[Any]) -> Article:
    create_time = from_micros(row[8])
    assert create_time is not None
    return Article(
        seq=row[0],
        article_id=row[1],
        text=row[2],
        title=row[3],
        source=row[4],
        url=row[5],
        language=row[6],
        publish_time=from_micros(row[7]),
        create_time=create_time,
        content_sha256=row[9],
        cluster_id=row[10],
    )


def _membership_row(m: Membership) -> tuple[Any, ...]:
    evidence = encode_match(m.evidence) if m.evidence is not None else b""
    return (m.cluster_id, m.article_id, m.kind.value, *m.order[:2], m.parent_id, evidence, m.reason, *m.span)


def _membership(row: Sequence[Any]) -> Membership:
    return Membership(
        cluster_id=row[0],
        article_id=row[1],
        kind=ClusterKind(row[2]),
        order=(row[3], row[4], row[1]),
        parent_id=row[5],
        evidence=decode_match(row[6]) if row[6] else None,
        reason=row[7],
        span=(row[8], row[9]),
    )


def _cluster_row(c: ClusterSummary) -> tuple[Any, ...]:
    return (c.cluster_id, c.kind.value, c.root_id, *c.root_order[:2], c.member_count)


def _summary(row: Sequence[Any]) -> ClusterSummary:
    return ClusterSummary(row[0], ClusterKind(row[1]), row[2], (row[3], row[4], row[2]), row[5])


class SqliteStorage:
    """The embedded default backend: one SQLite file in ``data_dir``."""

    backend = "sqlite"

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "wiretrace.sqlite3"
        self._owner = DirectoryLock(self.data_dir)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._documents = CompactBuckets()
        self._passages = CompactBuckets()
        self._ids: dict[int, str] = {}
        # This process owns the directory (the lock above), so its own writes are the only ones.
        self._cache: DecodedCache[ArticleRecord] = DecodedCache()
        # An article's own stored matches (it is the query side): on 8,000 articles of
        # bench/realistic_corpus.py 1,024 leave 11,000 of 77,000 edge decodes, 4,096 as many.
        self._matches: DecodedCache[list[MatchEdge]] = DecodedCache(1024)

    # -- lifecycle -------------------------------------------------------------------------------------

    def describe(self) -> str:
        return str(self.data_dir)

    def exists(self) -> bool:
        return self.path.is_file()

    def saved_parameters(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        with self._lock:
            if self._connection is not None:  # open here: the file is locked for any other connection
                row = self._connection.execute("SELECT value FROM meta WHERE key = 'parameters'").fetchone()
                return dict(json.loads(row[0])) if row else None
        self._check_file()
        try:
            # closing(): a connection's ``with`` only ends a transaction, and one left open (freed
            # whenever the garbage collector gets to it) would keep the store locked for open().
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as connection:
                row = connection.execute("SELECT value FROM meta WHERE key = 'parameters'").fetchone()
        except sqlite3.Error as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF in (5, 6):  # BUSY / LOCKED: a server holds it
                with DirectoryLock(self.data_dir):  # raises StoreBusy naming that process
                    pass
            raise self._fault(error, "reading its parameters") or self._invalid(error) from error
        return dict(json.loads(row[0])) if row else None

    def open(self, identity: IndexIdentity, parameters: Mapping[str, Any]) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            if error.errno not in (errno.EROFS, errno.EPERM, errno.EACCES):
                raise
            raise StorageReadOnly(f"cannot create the data directory {self.data_dir}: {error.strerror}") from None
        self._owner.acquire()
        connection: sqlite3.Connection | None = None
        try:
            self._check_file()
            connection = self._connect()
            self._check_identity(connection, identity, parameters)
            self._connection = connection
            self._load_buckets()
            self.check_writable()  # a store that takes no write is refused at start, not found out later
        except BaseException as error:
            self._connection = None
            if connection is not None:
                connection.close()
            self._owner.release()
            if isinstance(error, sqlite3.Error):
                raise self._fault(error, "opening it") or self._invalid(error) from error
            raise

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            # Before the first access: the WAL index then lives in heap memory, not in a mapped -shm
            # file (see the module docstring), and no database page is memory-mapped either.
            connection.execute("PRAGMA locking_mode=EXCLUSIVE")
            connection.execute("PRAGMA mmap_size=0")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    def _check_file(self) -> None:
        """StoreCorrupt when the database file is visibly damaged: not an SQLite file, or shorter than
        its header says (cut by a partial copy) with no write-ahead log that could still fill it.
        SQLite itself would read the missing pages as zeros and fail later, or not at all."""
        try:
            size = self.path.stat().st_size
            with self.path.open("rb") as file:
                header = file.read(100)
        except FileNotFoundError:
            return
        except OSError as error:
            raise InvalidStore(
                f"data directory {self.data_dir}: cannot read {self.path.name}: {error.strerror}"
            ) from None
        wal = self.path.with_name(self.path.name + "-wal")
        wal_size = wal.stat().st_size if wal.is_file() else 0
        if size == 0:
            if wal_size == 0:
                raise self._corrupt("it is empty (0 bytes)", empty=True)
            return
        if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
            raise self._corrupt("file is not a database: no SQLite header")
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        header_valid = header[24:28] == header[92:96]  # the page count is valid for this change counter
        if header_valid and pages and size < pages * page_size and wal_size == 0:
            raise self._corrupt(f"truncated: {size:,} bytes where its header says {pages * page_size:,}")

    def _corrupt(self, why: str, *, empty: bool = False) -> StoreCorrupt:
        also = "; or delete it to start an empty index" if empty else ""
        return StoreCorrupt(
            f"data directory {self.data_dir}: database file {self.path.name} is corrupt ({why}): "
            f"restore from a snapshot (`wiretrace import SNAPSHOT --data NEW_DIR`) or from a backup of "
            f"the directory{also}"
        )

    def _invalid(self, error: sqlite3.Error) -> InvalidStore:
        return InvalidStore(
            f"{self.path} cannot be used: {error}; check its permissions and free space, "
            "or restore the directory from a snapshot (wiretrace import)"
        )

    def _fault(self, error: sqlite3.Error, doing: str) -> WiretraceError | None:
        """The domain error for a failed SQLite call, in the operator's terms (None: not a storage fault)."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        name = getattr(error, "sqlite_errorname", None) or type(error).__name__
        where = f"data directory {self.data_dir}"
        if code == _SQLITE_FULL or (code == _SQLITE_IOERR and self._disk_full()):
            return StorageFull(
                f"{where}: disk full ({name}: {error}) while {doing}; nothing of this write was stored; "
                "free space on its file system and retry"
            )
        if code in (_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CANTOPEN, _SQLITE_PERM) and (why := self._unwritable()):
            return StorageReadOnly(
                f"{where} is read-only ({why}; {name}) while {doing}; nothing of this write was stored; "
                "make it writable (a read-write mount, chattr -i, permissions): reads still answer"
            )
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return self._corrupt(f"{error}, {name}")
        if code in (_SQLITE_IOERR, _SQLITE_CANTOPEN, _SQLITE_READONLY):
            return StorageUnavailable(f"{where}: {error} ({name}) while {doing}")
        return None

    def _disk_full(self) -> bool:
        try:
            stat = os.statvfs(self.data_dir)
        except OSError:
            return False
        free = stat.f_bfree if os.geteuid() == 0 else stat.f_bavail
        return free * stat.f_frsize < 1 << 20

    def _unwritable(self) -> str | None:
        """Why the data files cannot be written, or None when they can."""
        try:
            if os.statvfs(self.data_dir).f_flag & os.ST_RDONLY:
                return "read-only file system"
        except OSError as error:
            return f"{self.data_dir}: {error.strerror}"
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                os.close(os.open(path, os.O_WRONLY))  # no O_CREAT, no O_TRUNC: changes nothing
            except FileNotFoundError:
                continue
            except OSError as error:
                return f"{path.name}: {error.strerror}"
        if not os.access(self.data_dir, os.W_OK):
            return f"{self.data_dir}: no new files can be created in it"
        return None

    def _rollback(self, db: sqlite3.Connection) -> None:
        """Roll back what is left of a failed transaction, keeping the first error the one raised:
        after a failed COMMIT SQLite may already have rolled back ("no transaction is active")."""
        if not db.in_transaction:
            return
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error as error:
            log.warning("rollback after a failed write also failed: %s", error)

    def check_writable(self) -> None:
        """One small durable write (the ``write_probe`` row): raises StorageReadOnly, StorageFull or
        StorageUnavailable when writes fail (the health watcher then turns NOT_SERVING). A write
        in progress for longer than a second means writes are flowing: the probe passes."""
        if not self._lock.acquire(timeout=_PROBE_WAIT):
            return
        try:
            db = self._db()
            try:
                db.execute("INSERT OR REPLACE INTO write_probe (id, at_us) VALUES (1, ?)", (time.time_ns() // 1000,))
            except sqlite3.Error as error:
                self._rollback(db)
                raise self._fault(error, "probing a write") or StorageUnavailable(
                    f"data directory {self.data_dir}: a write failed: {error}"
                ) from error
        finally:
            self._lock.release()

    def _check_identity(
        self, connection: sqlite3.Connection, identity: IndexIdentity, parameters: Mapping[str, Any]
    ) -> None:
        wanted = json.dumps(asdict(identity), sort_keys=True)
        row = connection.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
        if row is None:
            connection.execute("INSERT INTO meta (key, value) VALUES ('identity', ?)", (wanted,))
        elif row[0] != wanted:
            stored = IndexIdentity.stored(json.loads(row[0]))
            raise IndexMismatch(
                f"{self.data_dir} was indexed with {stored.describe()}, but this process uses "
                f"{identity.describe()}; run `wiretrace reindex --data {self.data_dir}` or use those parameters"
            )
        connection.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('parameters', ?)",
            (json.dumps(dict(parameters), sort_keys=True),),
        )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                self._cache.clear()
                self._matches.clear()
                self._owner.release()

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("storage is not open; call open() first")
        return self._connection

    def _load_buckets(self) -> None:
        rows = self._db().execute("SELECT seq, article_id, keys FROM articles")
        while batch := rows.fetchmany(1024):
            self._index(batch)

    def _index(self, rows: list[tuple[int, str, bytes]]) -> None:
        """Add stored articles (seq, id, bucket keys) to the in-memory LSH buckets."""
        for seq, article_id, _ in rows:
            self._ids[seq] = article_id
        seqs = [row[0] for row in rows]
        keys = [decode_keys(row[2]) for row in rows]
        self._documents.add_many(seqs, [document for document, _, _ in keys])
        self._passages.add_many(seqs, [passages.ravel() for _, passages, _ in keys])

    @staticmethod
    def read_articles(data_dir: str | Path, batch_size: int = 1000) -> Iterator[Article]:
        """Stored articles in ingest order, read-only and whatever the index parameters (for reindexing)."""
        path = Path(data_dir) / "wiretrace.sqlite3"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no wiretrace data here")
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            legacy = "text" in {row[1] for row in connection.execute("PRAGMA table_info(articles)")}
            columns = _LEGACY_ARTICLE_COLUMNS if legacy else "seq, article"
            after = 0
            while rows := connection.execute(
                f"SELECT {columns} FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", (after, batch_size)
            ).fetchall():
                yield from (_legacy_article(row) if legacy else decode_article(row[1], row[0]) for row in rows)
                after = rows[-1][0]
        finally:
            connection.close()

    @staticmethod
    def count_articles(data_dir: str | Path) -> int:
        with closing(sqlite3.connect(f"file:{Path(data_dir) / 'wiretrace.sqlite3'}?mode=ro", uri=True)) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def lock(self) -> AbstractContextManager[Any]:
        """One process owns a data directory (:class:`DirectoryLock`), so the engine's own lock is enough."""
        return nullcontext()

    # -- writes ----------------------------------------------------------------------------------------

    def apply(self, changes: ChangeSet) -> None:
        if not changes:
            return
        with self._lock:
            db = self._db()
            # Forgotten first: a write that fails half-way is read again, never served from here.
            self._cache.forget(changes.deletes)
            self._cache.forget(record.article.article_id for record in changes.records)
            if changes.deletes:  # a delete takes the edges to the article from every article's matches
                self._matches.clear()
            self._matches.forget(edge.query_id for edge in changes.edges)
            unindex: list[int] = []
            inserted: list[tuple[int, str, bytes]] = []
            try:
                self._write(db, changes, unindex, inserted)
            except sqlite3.Error as error:
                fault = self._fault(error, "writing")
                if fault is None:
                    raise
                raise fault from error
            # Only after the commit: the in-memory index mirrors what is durable.
            for seq in unindex:
                self._ids.pop(seq, None)
                self._documents.remove(seq)
                self._passages.remove(seq)
            self._index(inserted)

    def _write(
        self,
        db: sqlite3.Connection,
        changes: ChangeSet,
        unindex: list[int],
        inserted: list[tuple[int, str, bytes]],
    ) -> None:
        """``changes`` in one transaction; the seqs it deleted go to ``unindex``, the rows it added to
        ``inserted`` (for the in-memory index, updated only after the commit)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            for article_id in changes.deletes:
                row = db.execute(
                    "SELECT seq, keys, article FROM articles WHERE article_id = ?", (article_id,)
                ).fetchone()
                if row is None:
                    continue
                unindex.append(row[0])
                db.execute("DELETE FROM articles WHERE seq = ?", (row[0],))
                db.execute("DELETE FROM fingerprints WHERE article_id = ?", (article_id,))
                self._uncount_stories(db, decode_article(row[2], row[0]).story_key, decode_keys(row[1])[2].tolist())
                db.execute("DELETE FROM edges WHERE query_id = ? OR matched_id = ?", (article_id, article_id))
            db.executemany(
                "DELETE FROM memberships WHERE cluster_id = ? AND article_id = ?", changes.removed_memberships
            )
            db.executemany("DELETE FROM clusters WHERE cluster_id = ?", [(c,) for c in changes.removed_clusters])
            for record in changes.records:
                inserted.append(self._insert(db, record))
            db.executemany(
                "INSERT OR REPLACE INTO edges (query_id, matched_id, evidence) VALUES (?, ?, ?)",
                [(edge.query_id, edge.matched_id, encode_match(edge.evidence)) for edge in changes.edges],
            )
            db.executemany(
                f"INSERT OR REPLACE INTO memberships ({_MEMBERSHIP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_membership_row(m) for m in changes.memberships],
            )
            db.executemany(
                f"INSERT OR REPLACE INTO clusters ({_CLUSTER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [_cluster_row(c) for c in changes.clusters],
            )
            db.execute("COMMIT")
        except BaseException:
            self._rollback(db)
            raise

    def _insert(self, db: sqlite3.Connection, record: ArticleRecord) -> tuple[int, str, bytes]:
        article = record.article
        stored = StoredRecord.of(record)
        cursor = db.execute(
            "INSERT INTO articles (article_id, passage_count, keys, article, features) VALUES (?, ?, ?, ?, ?)",
            (article.article_id, int(record.passage_keys.shape[0]), stored.keys, stored.article, stored.features),
        )
        fingerprints = [_signed(fp) for fp in set(record.passage_fingerprints)]
        db.executemany(
            "INSERT OR IGNORE INTO fingerprints (fingerprint, article_id, source) VALUES (?, ?, ?)",
            [(fp, article.article_id, article.source) for fp in fingerprints],
        )
        db.executemany(
            "INSERT INTO fingerprint_stories (fingerprint, story, carriers) VALUES (?, ?, 1) "
            "ON CONFLICT (fingerprint, story) DO UPDATE SET carriers = carriers + 1",
            [(fp, article.story_key) for fp in fingerprints],
        )
        seq = cursor.lastrowid
        assert seq is not None
        return seq, article.article_id, stored.keys

    @staticmethod
    def _uncount_stories(db: sqlite3.Connection, story: str, fingerprints: list[int]) -> None:
        """A deleted article's story carries its passages once less (not at all after its last copy)."""
        pairs = [(_signed(fp), story) for fp in set(fingerprints)]
        db.executemany(
            "UPDATE fingerprint_stories SET carriers = carriers - 1 WHERE fingerprint = ? AND story = ?", pairs
        )
        db.executemany("DELETE FROM fingerprint_stories WHERE fingerprint = ? AND story = ? AND carriers <= 0", pairs)

    # -- reads -----------------------------------------------------------------------------------------

    def _select(self, sql: str, ids: Iterable[str]) -> list[Any]:
        unique = list(dict.fromkeys(ids))
        rows: list[Any] = []
        with self._lock:
            db = self._db()
            for chunk in _chunks(unique):
                placeholders = ",".join("?" * len(chunk))
                rows.extend(db.execute(sql.format(placeholders=placeholders), tuple(chunk)).fetchall())
        return rows

    def get_articles(self, article_ids: Iterable[str]) -> dict[str, Article]:
        with self._lock:
            kept, missing = self._cache.take(article_ids)
            rows = self._select(
                "SELECT seq, article_id, article FROM articles WHERE article_id IN ({placeholders})", missing
            )
        found = {article_id: record.article for article_id, record in kept.items()}
        found.update((row[1], decode_article(row[2], row[0])) for row in rows)
        return found

    def get_records(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        # Read, decoded and kept under one lock: a write cannot slip in between and leave a stale copy.
        with self._lock:
            found, missing = self._cache.take(article_ids)
            rows = self._select(
                "SELECT seq, article_id, keys, article, features FROM articles WHERE article_id IN ({placeholders})",
                missing,
            )
            read = {row[1]: StoredRecord(row[2], row[3], row[4]).decode(row[0]) for row in rows}
            self._cache.keep(read)
        found.update(read)
        return found

    def list_articles(self, after_seq: int, limit: int) -> list[Article]:
        with self._lock:
            rows = (
                self._db()
                .execute("SELECT seq, article FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
                .fetchall()
            )
        return [decode_article(article, seq) for seq, article in rows]

    def iter_articles(self, batch_size: int = 1000) -> Iterator[Article]:
        after = 0
        while batch := self.list_articles(after, batch_size):
            yield from batch
            after = batch[-1].seq

    def candidates(
        self, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64], limit: int
    ) -> list[str]:
        with self._lock:
            reads = (DOCUMENT_BUCKET_READ, PASSAGE_BUCKET_READ)
            seqs = ranked_owners(self._documents, self._passages, document_keys, passage_keys, limit, reads)
            return [self._ids[seq] for seq in seqs]  # most shared buckets, then earliest ingested

    def buckets_hold(
        self, article_id: str, document_keys: npt.NDArray[np.uint64], passage_keys: npt.NDArray[np.uint64]
    ) -> bool:
        with self._lock:
            row = self._db().execute("SELECT seq FROM articles WHERE article_id = ?", (article_id,)).fetchone()
            if row is None:
                return False
            return bool(
                np.isin(row[0], self._documents.hits(document_keys)[0])
                or np.isin(row[0], self._passages.hits(passage_keys)[0])
            )

    def fingerprint_counts(self, fingerprints: Iterable[int], cap: int, source: str) -> dict[int, int]:
        return self._bounded_counts("fingerprints", " AND t.source = ?", fingerprints, cap, source)

    def story_counts(self, fingerprints: Iterable[int], cap: int) -> dict[int, int]:
        return self._bounded_counts("fingerprint_stories", "", fingerprints, cap)

    def _bounded_counts(
        self, table: str, condition: str, fingerprints: Iterable[int], cap: int, *parameters: Any
    ) -> dict[int, int]:
        """Rows of ``table`` for each fingerprint (and ``condition``), counted up to ``cap`` (a
        negative LIMIT is none): one bounded index range a fingerprint, so a sentence that
        thousands of articles or stories carry costs ``cap`` rows; one statement for all of them."""
        wanted = list(dict.fromkeys(fingerprints))
        counts: dict[int, int] = {}
        with self._lock:
            db = self._db()
            for chunk in _chunks(wanted, _MAX_VARIABLES - 2):
                sql = (
                    f"WITH wanted(fingerprint) AS (VALUES {', '.join('(?)' for _ in chunk)}) "
                    "SELECT wanted.fingerprint, (SELECT COUNT(*) FROM (SELECT 1 FROM "
                    f"{table} AS t WHERE t.fingerprint = wanted.fingerprint{condition} LIMIT ?)) FROM wanted"
                )
                for fingerprint, count in db.execute(sql, [*map(_signed, chunk), *parameters, cap]):
                    counts[_unsigned(fingerprint)] = int(count)
        return counts

    def story_carriers(self, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
        wanted = list(dict.fromkeys(pairs))
        found = dict.fromkeys(wanted, 0)
        with self._lock:
            db = self._db()
            for chunk in _chunks(wanted, _MAX_VARIABLES // 2):
                # CROSS JOIN: the wanted pairs drive, each a primary-key search.
                sql = (
                    f"WITH wanted(fingerprint, story) AS (VALUES {', '.join('(?, ?)' for _ in chunk)}) "
                    "SELECT t.fingerprint, t.story, t.carriers FROM wanted CROSS JOIN fingerprint_stories AS t "
                    "ON t.fingerprint = wanted.fingerprint AND t.story = wanted.story"
                )
                for fingerprint, story, carriers in db.execute(sql, [v for fp, st in chunk for v in (_signed(fp), st)]):
                    found[(_unsigned(fingerprint), story)] = int(carriers)
        return found

    def edges_of(self, article_ids: Iterable[str]) -> list[MatchEdge]:
        ids = list(dict.fromkeys(article_ids))
        rows: dict[tuple[str, str], bytes] = {}
        with self._lock:
            db = self._db()
            for chunk in _chunks(ids):
                placeholders = ",".join("?" * len(chunk))
                for column in ("query_id", "matched_id"):
                    for query_id, matched_id, evidence in db.execute(
                        f"SELECT query_id, matched_id, evidence FROM edges WHERE {column} IN ({placeholders})",
                        tuple(chunk),
                    ):
                        rows[(query_id, matched_id)] = evidence
        return [
            MatchEdge(query_id, matched_id, decode_match(evidence)) for (query_id, matched_id), evidence in rows.items()
        ]

    def matches_of(self, article_id: str) -> list[MatchEdge]:
        with self._lock:
            kept, _ = self._matches.take([article_id])
            if article_id not in kept:
                rows = self._db().execute("SELECT matched_id, evidence FROM edges WHERE query_id = ?", (article_id,))
                kept[article_id] = [MatchEdge(article_id, other, decode_match(evidence)) for other, evidence in rows]
                self._matches.keep(kept)
            return list(kept[article_id])

    def memberships_of(self, article_ids: Iterable[str]) -> list[Membership]:
        rows = self._select(
            f"SELECT {_MEMBERSHIP_COLUMNS} FROM memberships WHERE article_id IN ({{placeholders}})", article_ids
        )
        return [_membership(row) for row in rows]

    def cluster_summaries(self, cluster_ids: Iterable[str]) -> dict[str, ClusterSummary]:
        rows = self._select(
            f"SELECT {_CLUSTER_COLUMNS} FROM clusters WHERE cluster_id IN ({{placeholders}})", cluster_ids
        )
        return {row[0]: _summary(row) for row in rows}

    def cluster_page(self, cluster_id: str, after: OrderKey | None, limit: int) -> list[Membership]:
        appeared, ingested, article_id = after if after is not None else (-(1 << 63), -(1 << 63), "")
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_MEMBERSHIP_COLUMNS} FROM memberships WHERE cluster_id = ? "
                    "AND (appeared_us, ingested_us, article_id) > (?, ?, ?) "
                    "ORDER BY appeared_us, ingested_us, article_id LIMIT ?",
                    (cluster_id, appeared, ingested, article_id, limit),
                )
                .fetchall()
            )
        return [_membership(row) for row in rows]

    def children(self, cluster_id: str, parent_id: str) -> list[Membership]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_MEMBERSHIP_COLUMNS} FROM memberships WHERE cluster_id = ? AND parent_id = ?",
                    (cluster_id, parent_id),
                )
                .fetchall()
            )
        return [_membership(row) for row in rows]

    def list_clusters(self, after_cluster_id: str, limit: int) -> list[ClusterSummary]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_CLUSTER_COLUMNS} FROM clusters WHERE member_count > 1 AND cluster_id > ? "
                    "ORDER BY cluster_id LIMIT ?",
                    (after_cluster_id, limit),
                )
                .fetchall()
            )
        return [_summary(row) for row in rows]

    def stats(self) -> StorageStats:
        with self._lock:
            db = self._db()
            articles, passages = db.execute("SELECT COUNT(*), COALESCE(SUM(passage_count), 0) FROM articles").fetchone()
            clusters = db.execute("SELECT COUNT(*) FROM clusters WHERE member_count > 1").fetchone()[0]
            edges = db.execute("SELECT COUNT(*) FROM edges").fetchone()[0]
            (pages,) = db.execute("PRAGMA page_count").fetchone()
            (page_size,) = db.execute("PRAGMA page_size").fetchone()
            buckets = self._documents.nbytes + self._passages.nbytes
        return StorageStats(
            articles=articles,
            clusters=clusters,
            passages=passages,
            edges=edges,
            index_bytes=int(pages) * int(page_size) + buckets,
        )
