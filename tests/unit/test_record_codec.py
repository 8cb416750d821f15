"""The binary record codec: every field of records and evidence survives a round trip exactly,
the values are compact, and bytes of another format are refused with the way out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wiretrace.core.codec import match_to_dict
from wiretrace.core.model import (
    Article,
    ClusterKind,
    Match,
    MatchKind,
    Membership,
    PassageKind,
    SharedPassage,
)
from wiretrace.core.ports import ArticleRecord
from wiretrace.core.record_codec import (
    StoredRecord,
    decode_article,
    decode_match,
    decode_membership,
    encode_article,
    encode_match,
    encode_membership,
)

INT64 = st.integers(-(1 << 63), (1 << 63) - 1)
# Every float64: infinities, NaN, signed zeros, subnormals, the largest and smallest.
FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
# Offsets of real texts (32 bits) and the rest of the int64 range (stored 64 bits wide).
OFFSETS = st.one_of(st.integers(0, (1 << 32) - 1), INT64)
UNICODE = st.text(max_size=40)

passages = st.builds(SharedPassage, OFFSETS, OFFSETS, OFFSETS, OFFSETS, st.sampled_from(PassageKind), FLOATS)
matches = st.builds(
    Match,
    UNICODE,
    st.sampled_from(MatchKind),
    FLOATS,
    FLOATS,
    FLOATS,
    FLOATS,
    FLOATS,
    st.lists(passages, max_size=6).map(tuple),
)


@st.composite
def memberships(draw: st.DrawFn) -> Membership:
    article_id = draw(UNICODE)
    # Any integer: the codec's zig-zag varints have no width (stores keep int64).
    order = (draw(st.integers()), draw(st.integers()), article_id)
    return Membership(
        draw(UNICODE),
        article_id,
        draw(st.sampled_from(ClusterKind)),
        order,
        draw(UNICODE),
        draw(st.none() | matches),
        draw(UNICODE),
        (draw(st.integers()), draw(st.integers())),
    )


moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)  # fmt: skip


@st.composite
def records(draw: st.DrawFn) -> ArticleRecord:
    uint64 = st.integers(0, (1 << 64) - 1)
    rows, bands = draw(st.integers(0, 5)), draw(st.integers(0, 6))
    article = Article(
        article_id=draw(UNICODE),
        text=draw(st.text(max_size=200)),
        title=draw(UNICODE),
        source=draw(UNICODE),
        url=draw(UNICODE),
        publish_time=draw(st.none() | moments),
        language=draw(UNICODE),
        create_time=draw(moments),
        content_sha256=draw(UNICODE),
        cluster_id=draw(UNICODE),
        seq=draw(st.integers(0, 1 << 62)),
    )
    return ArticleRecord(
        article=article,
        document_signature=np.array(draw(st.lists(st.integers(0, (1 << 32) - 1), max_size=64)), dtype=np.uint32),
        document_keys=np.array(draw(st.lists(uint64, max_size=20)), dtype=np.uint64),
        passage_keys=np.array(draw(st.lists(uint64, min_size=rows * bands, max_size=rows * bands)), dtype=np.uint64)
        .reshape(rows, bands),
        passage_fingerprints=tuple(draw(st.lists(uint64, max_size=10))),
        features=draw(st.binary(max_size=300)),
    )  # fmt: skip


@given(matches)
def test_a_match_round_trips_exactly(match: Match) -> None:
    # repr compares floats exactly (NaN as nan, -0.0 apart from 0.0), which == cannot for NaN.
    assert repr(decode_match(encode_match(match))) == repr(match)


@given(memberships())
def test_a_membership_round_trips_exactly(membership: Membership) -> None:
    assert repr(decode_membership(encode_membership(membership))) == repr(membership)


@given(records())
def test_a_record_round_trips_exactly(record: ArticleRecord) -> None:
    back = StoredRecord.of(record).decode(record.article.seq)
    assert back.article == record.article
    assert back.passage_fingerprints == record.passage_fingerprints
    assert back.features == record.features
    for name in ("document_signature", "document_keys", "passage_keys"):
        stored, original = getattr(back, name), getattr(record, name)
        assert stored.dtype == original.dtype and stored.shape == original.shape, name
        assert np.array_equal(stored, original), name


def test_an_article_is_read_without_its_arrays_and_the_store_gives_its_seq() -> None:
    article = Article("é-1", "Text ✓\n" * 3, "T", "S", "u", None, "fr", datetime(1936, 5, 1, tzinfo=UTC), "h", "c", 0)
    assert decode_article(encode_article(article), 42) == replace(article, seq=42)


def _typical_match() -> Match:
    passages = tuple(
        SharedPassage(120 * n, 120 * n + 95, 130 * n + 4, 130 * n + 99, PassageKind.VERBATIM, 0.9173) for n in range(6)
    )
    return Match("wmt-de-en-004-Online-B", MatchKind.NEAR_DUPLICATE, 0.8734, 0.8125, 0.8461, 0.9166, 0.9016, passages)


def test_binary_evidence_is_less_than_half_its_json() -> None:
    match = _typical_match()
    assert len(encode_match(match)) * 2 < len(json.dumps(match_to_dict(match)))
    membership = Membership("c", "a", ClusterKind.STORY, (1, 2, "a"), "p", match, "near-duplicate", (0, 0))
    assert len(encode_membership(membership)) < len(encode_match(match)) + 40


@pytest.mark.parametrize(
    ("decode", "what"),
    [(decode_match, "match evidence"), (decode_membership, "membership"), (lambda b: decode_article(b, 1), "article")],
)
def test_other_formats_are_refused_with_the_way_out(decode: object, what: str) -> None:
    assert callable(decode)
    legacy_json = json.dumps(match_to_dict(_typical_match())).encode()
    for data in (legacy_json, b"\x02" + encode_match(_typical_match())[1:], b""):
        with pytest.raises(ValueError, match=f"stored {what} has format .* `wiretrace reindex`"):
            decode(data)


def test_trailing_or_missing_bytes_are_errors() -> None:
    data = encode_match(_typical_match())
    with pytest.raises(ValueError, match="too many"):
        decode_match(data + b"\x00")
    with pytest.raises(ValueError):
        decode_match(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        decode_article(encode_article(_article())[:-2], 1)


def _article() -> Article:
    return Article("a", "some text", "", "", "", None, "", datetime(2024, 1, 1, tzinfo=UTC), "", "", 1)
