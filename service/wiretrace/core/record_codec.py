"""The bytes a store keeps: one binary format for article records and match evidence, owned by
the port so that every adapter (SQLite, Redis, Redis Cluster) stores the same bytes.

Every value starts with a format byte (:data:`FORMAT`); a reader refuses any other. Inside:
unsigned varints (LEB128) for lengths, zig-zag varints for integers that may be negative (times,
offsets), UTF-8 strings after their byte length, float64 for scores (exact round trip), and
numpy arrays as raw little-endian bytes after their element count.

An article's record is three values, because stores read them apart:

- ``keys``: document keys, passage keys (with their shape) and passage fingerprints: what the LSH
  buckets are rebuilt from when a store opens and what a delete removes, without any text;
- ``article``: the article's fields and text (pages of articles, cluster members);
- ``features``: the document signature and the lexical features a later article is verified against.

Evidence: a :class:`Match` with its passages (an edge's evidence) and a :class:`Membership` (with
its parent edge's evidence) replace the JSON dicts of :mod:`wiretrace.core.codec`, which stay the
documented snapshot format.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wiretrace.core.codec import from_micros, to_micros
from wiretrace.core.model import Article, ClusterKind, Match, MatchKind, Membership, PassageKind, SharedPassage
from wiretrace.core.ports import ArticleRecord

# The first byte of every value; a store's identity names the layout (identity.RECORDS_VERSION).
FORMAT = 1

_MATCH_KINDS = tuple(MatchKind)
_PASSAGE_KINDS = tuple(PassageKind)
_CLUSTER_KINDS = tuple(ClusterKind)
_SCORES = struct.Struct("<5d")
# A match's passage offsets: 32 bits each when they all fit (any real text), else 64.
_NARROW, _WIDE = 4, 8
_NARROW_LIMIT = 1 << 32


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = [bytes((FORMAT,))]

    def unsigned(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"a length or count cannot be negative: {value}")
        out = bytearray()
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
        self.parts.append(bytes(out))

    def signed(self, value: int) -> None:
        self.unsigned(value * 2 if value >= 0 else -value * 2 - 1)

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8"))

    def blob(self, value: bytes) -> None:
        self.unsigned(len(value))
        self.parts.append(value)

    def array(self, values: npt.ArrayLike, dtype: str) -> None:
        array = np.ascontiguousarray(values, dtype=dtype)
        self.unsigned(array.size)
        self.parts.append(array.tobytes())

    def raw(self, value: bytes) -> None:
        self.parts.append(value)

    def finish(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = memoryview(data)
        if not data or data[0] != FORMAT:
            found = data[0] if data else "nothing"
            raise ValueError(
                f"stored {what} has format {found}, expected {FORMAT}: the store needs `wiretrace reindex`"
            )
        self.at = 1

    def unsigned(self) -> int:
        data, at = self.data, self.at
        byte = data[at]
        if byte < 0x80:  # one byte: almost every length and count
            self.at = at + 1
            return byte
        value, shift = 0, 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.at = at
                return value
            shift += 7

    def signed(self) -> int:
        value = self.unsigned()
        return value >> 1 if not value & 1 else -(value >> 1) - 1

    def blob(self) -> bytes:
        size = self.unsigned()
        start = self.at
        self.at = start + size
        if self.at > len(self.data):
            raise ValueError("stored value is truncated")
        return bytes(self.data[start : self.at])

    def text(self) -> str:
        return self.blob().decode("utf-8")

    def array(self, dtype: str) -> npt.NDArray[np.generic]:
        count = self.unsigned()
        array: npt.NDArray[np.generic] = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += array.nbytes
        return array

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def unpack(self, layout: struct.Struct) -> tuple[float, ...]:
        values = layout.unpack_from(self.data, self.at)
        self.at += layout.size
        return tuple(values)

    def done(self, what: str) -> None:
        if self.at != len(self.data):
            raise ValueError(f"stored {what} has {len(self.data) - self.at} bytes too many")


# -- article records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """An article record as a store keeps it (see the module docstring); ``seq`` is the store's."""

    keys: bytes
    article: bytes
    features: bytes

    @classmethod
    def of(cls, record: ArticleRecord) -> StoredRecord:
        return cls(
            keys=encode_keys(record),
            article=encode_article(record.article),
            features=_encode_features(record),
        )

    def decode(self, seq: int) -> ArticleRecord:
        document_keys, passage_keys, fingerprints = decode_keys(self.keys)
        reader = _Reader(self.features, "features")
        signature = reader.array("<u4").astype(np.uint32)
        features = reader.blob()
        reader.done("features")
        return ArticleRecord(
            article=decode_article(self.article, seq),
            document_signature=signature,
            document_keys=document_keys,
            passage_keys=passage_keys,
            passage_fingerprints=tuple(fingerprints.tolist()),
            features=features,
        )


def encode_keys(record: ArticleRecord) -> bytes:
    writer = _Writer()
    writer.array(record.document_keys, "<u8")
    if record.passage_keys.ndim != 2:
        raise ValueError(f"passage keys have shape {record.passage_keys.shape}, not (passages, bands)")
    rows, columns = record.passage_keys.shape
    writer.unsigned(rows)
    writer.unsigned(columns)
    writer.array(record.passage_keys, "<u8")
    writer.array(np.asarray(record.passage_fingerprints, dtype=np.uint64), "<u8")
    return writer.finish()


def decode_keys(data: bytes) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """(document keys, passage keys of shape (passages, bands), passage fingerprints)."""
    reader = _Reader(data, "bucket keys")
    document_keys = reader.array("<u8").astype(np.uint64, copy=False)
    rows, columns = reader.unsigned(), reader.unsigned()
    passage_keys = reader.array("<u8").astype(np.uint64, copy=False).reshape(rows, columns)
    fingerprints = reader.array("<u8").astype(np.uint64, copy=False)
    reader.done("bucket keys")
    return document_keys, passage_keys, fingerprints


def _encode_features(record: ArticleRecord) -> bytes:
    writer = _Writer()
    writer.array(record.document_signature, "<u4")
    writer.blob(record.features)
    return writer.finish()


def encode_article(article: Article) -> bytes:
    """Every field but ``seq`` (which the store assigns); the text last."""
    writer = _Writer()
    for value in (article.article_id, article.title, article.source, article.url, article.language):
        writer.text(value)
    publish = to_micros(article.publish_time)
    writer.unsigned(publish is not None)
    writer.signed(publish or 0)
    writer.signed(to_micros(article.create_time) or 0)
    writer.text(article.content_sha256)
    writer.text(article.cluster_id)
    writer.text(article.text)
    return writer.finish()


def decode_article(data: bytes, seq: int) -> Article:
    reader = _Reader(data, "article")
    article_id, title, source, url, language = (reader.text() for _ in range(5))
    published = reader.unsigned()
    publish = reader.signed()
    create_time = from_micros(reader.signed())
    assert create_time is not None
    article = Article(
        article_id=article_id,
        title=title,
        source=source,
        url=url,
        language=language,
        publish_time=from_micros(publish) if published else None,
        create_time=create_time,
        content_sha256=reader.text(),
        cluster_id=reader.text(),
        text=reader.text(),
        seq=seq,
    )
    reader.done("article")
    return article


# -- evidence -----------------------------------------------------------------------------------------


def _write_match(writer: _Writer, match: Match) -> None:
    writer.text(match.article_id)
    writer.raw(bytes((_MATCH_KINDS.index(match.kind),)))
    writer.raw(
        _SCORES.pack(
            match.score, match.estimated_jaccard, match.jaccard, match.query_containment, match.matched_containment
        )
    )
    passages = match.passages
    offsets = [o for p in passages for o in (p.query_start, p.query_end, p.matched_start, p.matched_end)]
    narrow = all(0 <= o < _NARROW_LIMIT for o in offsets)
    writer.unsigned(len(passages))
    if not passages:
        return
    writer.raw(bytes((_NARROW if narrow else _WIDE,)))
    writer.raw(np.array(offsets, dtype="<u4" if narrow else "<i8").tobytes())
    writer.raw(bytes(_PASSAGE_KINDS.index(p.kind) for p in passages))
    writer.raw(np.array([p.score for p in passages], dtype="<f8").tobytes())


def _read_match(reader: _Reader) -> Match:
    article_id = reader.text()
    kind = _MATCH_KINDS[reader.byte()]
    score, estimated, jaccard, query_containment, matched_containment = reader.unpack(_SCORES)
    count = reader.unsigned()
    passages: tuple[SharedPassage, ...] = ()
    if count:
        width = reader.byte()
        at, data = reader.at, reader.data
        offsets = np.frombuffer(data, "<u4" if width == _NARROW else "<i8", 4 * count, at).tolist()
        at += 4 * count * width
        kinds = data[at : at + count].tolist()
        scores = np.frombuffer(data, "<f8", count, at + count).tolist()
        reader.at = at + count + 8 * count
        passages = tuple(
            SharedPassage(
                offsets[4 * i], offsets[4 * i + 1], offsets[4 * i + 2], offsets[4 * i + 3], _PASSAGE_KINDS[kind], score
            )
            for i, (kind, score) in enumerate(zip(kinds, scores, strict=True))
        )
    return Match(article_id, kind, score, estimated, jaccard, query_containment, matched_containment, passages)


def encode_match(match: Match) -> bytes:
    writer = _Writer()
    _write_match(writer, match)
    return writer.finish()


def decode_match(data: bytes) -> Match:
    reader = _Reader(data, "match evidence")
    match = _read_match(reader)
    reader.done("match evidence")
    return match


def encode_membership(membership: Membership) -> bytes:
    writer = _Writer()
    writer.text(membership.cluster_id)
    writer.text(membership.article_id)
    writer.raw(bytes((_CLUSTER_KINDS.index(membership.kind),)))
    writer.signed(membership.order[0])
    writer.signed(membership.order[1])
    writer.text(membership.parent_id)
    writer.text(membership.reason)
    writer.signed(membership.span[0])
    writer.signed(membership.span[1])
    writer.unsigned(membership.evidence is not None)
    if membership.evidence is not None:
        _write_match(writer, membership.evidence)
    return writer.finish()


def decode_membership(data: bytes) -> Membership:
    reader = _Reader(data, "membership")
    cluster_id, article_id = reader.text(), reader.text()
    kind = _CLUSTER_KINDS[reader.byte()]
    appeared, ingested = reader.signed(), reader.signed()
    parent_id, reason = reader.text(), reader.text()
    span = (reader.signed(), reader.signed())
    evidence = _read_match(reader) if reader.unsigned() else None
    reader.done("membership")
    return Membership(cluster_id, article_id, kind, (appeared, ingested, article_id), parent_id, evidence, reason, span)
