"""Retention: prune deletes what appeared before a cut through the delete use case, page by
page, on every backend, and leaves the index consistent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wire_copies import clock, wire_copies
from wiretrace.core import engine as engine_module
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.ports import Storage
from wiretrace.core.retention import RetentionSweeper
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.redis import RedisStorage
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts, statement_of

CUT = datetime(2026, 11, 1, 12, tzinfo=UTC)
# Everything of the seeds (2022) and the wire copies that appeared before the cut.
OLDER = {"000", "001", "002", "003", "004", "reuters-orig", "ap-last-month"}


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Wiretrace]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    storage: Storage
    if request.param == "sqlite":
        storage = SqliteStorage(tmp_path)
    elif request.param == "redis":
        storage = RedisStorage(request.getfixturevalue("redis_url"), prefix=prefix)
    else:
        storage = RedisStorage(request.getfixturevalue("redis_cluster_url"), cluster=True, prefix=prefix)
    index = Wiretrace(storage, IndexSettings(max_text_chars=20_000), clock=clock)
    for draft in [*seed_drafts(), *wire_copies()]:
        index.ingest(draft)
    yield index
    index.close()


def _prune_all(engine: Wiretrace, before: datetime, page_size: int) -> tuple[int, int]:
    """Deleted articles and calls made, following the page tokens until done."""
    deleted, calls, token = 0, 0, ""
    while True:
        result = engine.prune(before, page_size, token)
        assert len(result.deleted) <= page_size
        deleted, calls, token = deleted + len(result.deleted), calls + 1, result.next_page_token
        if not token:
            return deleted, calls


def _ids(engine: Wiretrace) -> set[str]:
    return {a.article_id for a in engine.storage.iter_articles()}


def test_prune_deletes_what_is_older_and_keeps_the_rest_consistent(engine: Wiretrace) -> None:
    everything = _ids(engine)
    assert statement_of(engine, "001").root_id == "000"
    assert engine.cluster_of("reuters-update").root_id == "003"  # the wire copies are of seed 003
    deleted, calls = _prune_all(engine, CUT, page_size=2)
    assert deleted == len(OLDER) and calls >= 4
    assert _ids(engine) == everything - OLDER
    assert check_consistency(engine) == []
    story = engine.cluster_of("reuters-update")
    assert story.root_id == "reuters-update"  # its root and earliest member were pruned: re-rooted
    assert story.member_count == 4
    assert engine.stats().counts.articles == len(everything - OLDER)
    assert _prune_all(engine, CUT, page_size=2) == (0, 1)  # nothing left to do


def test_an_article_without_publish_time_is_pruned_by_its_ingest_time(engine: Wiretrace) -> None:
    _prune_all(engine, clock() + timedelta(seconds=1), page_size=100)
    assert _ids(engine) == set()
    assert check_consistency(engine) == []


def test_prune_resumes_from_its_token_when_a_call_looks_at_part_of_the_store(
    engine: Wiretrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PRUNE_SCAN", 3)
    first = engine.prune(CUT, 100)
    assert set(first.deleted) == {"000", "001", "002"} and first.next_page_token
    deleted, _ = _prune_all_from(engine, first.next_page_token)
    assert deleted == len(OLDER) - 3
    assert _ids(engine).isdisjoint(OLDER)
    assert check_consistency(engine) == []


def _prune_all_from(engine: Wiretrace, token: str) -> tuple[int, int]:
    deleted, calls = 0, 0
    while token:
        result = engine.prune(CUT, 100, token)
        deleted, calls, token = deleted + len(result.deleted), calls + 1, result.next_page_token
    return deleted, calls


def test_the_retention_sweeper_prunes_in_small_batches(engine: Wiretrace) -> None:
    sweeper = RetentionSweeper(engine, retention=clock() - CUT, batch_size=2, clock=clock)
    assert sweeper.sweep() == len(OLDER)
    assert _ids(engine).isdisjoint(OLDER) and check_consistency(engine) == []


def test_a_cut_without_a_time_zone_is_refused(engine: Wiretrace) -> None:
    with pytest.raises(InvalidArgument, match="time zone"):
        engine.prune(datetime(2026, 11, 1), 10)
