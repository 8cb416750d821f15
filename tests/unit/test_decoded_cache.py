"""The decoded-value cache of a store that owns its data: bounded, most recently read kept."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from wiretrace.core.model import Article, ArticleDraft
from wiretrace.core.ports import ArticleRecord
from wiretrace.storage.decoded_cache import DecodedCache


def _record(article_id: str) -> ArticleRecord:
    created = datetime(2024, 1, 1, tzinfo=UTC)
    article = Article.from_draft(ArticleDraft(article_id, "text"), create_time=created, cluster_id="")
    empty = np.empty(0, dtype=np.uint64)
    return ArticleRecord(article, np.empty(0, dtype=np.uint32), empty, empty.reshape(0, 4), ())


def test_the_least_recently_read_record_goes_first() -> None:
    cache: DecodedCache[ArticleRecord] = DecodedCache(size=2)
    cache.keep({"a": _record("a"), "b": _record("b")})
    assert set(cache.take(["a"])[0]) == {"a"}  # read again: now the most recent
    cache.keep({"c": _record("c")})
    found, missing = cache.take(["a", "b", "c", "b"])
    assert set(found) == {"a", "c"} and missing == ["b"]


def test_forgotten_and_cleared_records_are_missing() -> None:
    cache: DecodedCache[ArticleRecord] = DecodedCache()
    cache.keep({"a": _record("a"), "b": _record("b")})
    cache.forget(["a", "never-kept"])
    assert cache.take(["a", "b"])[1] == ["a"]
    cache.clear()
    assert cache.take(["b"]) == ({}, ["b"])
