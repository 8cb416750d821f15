"""Match filters on FindMatches and on what ingest reports: time windows and outlets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from wire_copies import COPIES, clock, wire_copies, wire_story
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.filters import MatchFilter
from wiretrace.core.model import ArticleDraft
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import syndicated_copy

OTHERS = set(COPIES) - {"reuters-orig"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Wiretrace]:
    index = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000), clock=clock)
    for draft in wire_copies():
        index.ingest(draft)
    yield index
    index.close()


def _matched(engine: Wiretrace, match_filter: MatchFilter | None, article_id: str = "reuters-orig") -> set[str]:
    return {m.article_id for m in engine.find_matches(article_id=article_id, match_filter=match_filter).matches}


def test_without_a_filter_every_copy_matches(engine: Wiretrace) -> None:
    assert _matched(engine, None) == OTHERS
    assert _matched(engine, MatchFilter()) == OTHERS


def test_absolute_window_keeps_in_window_matches_and_drops_the_others(engine: Wiretrace) -> None:
    window = MatchFilter(since=datetime(2026, 10, 15, tzinfo=UTC), until=datetime(2026, 11, 4, 9, tzinfo=UTC))
    # until is exclusive: bbc-later (11-04 09:00) is out; ap-last-month is before since; the
    # undated one appeared when it was ingested (11-20).
    assert _matched(engine, window) == {"reuters-update", "ap-next-day"}


def test_window_days_is_around_the_query_articles_own_time(engine: Wiretrace) -> None:
    assert _matched(engine, MatchFilter(window_days=2)) == {"reuters-update", "ap-next-day"}
    assert _matched(engine, MatchFilter(window_days=2), "bbc-later") == {"ap-next-day"}


def test_an_article_without_publish_time_is_filtered_by_its_ingest_time(engine: Wiretrace) -> None:
    assert _matched(engine, MatchFilter(since=datetime(2026, 11, 20, tzinfo=UTC))) == {"undated"}
    assert "undated" not in _matched(engine, MatchFilter(until=datetime(2026, 11, 20, tzinfo=UTC)))


def test_other_outlets_drops_the_same_outlet_case_insensitively(engine: Wiretrace) -> None:
    assert _matched(engine, MatchFilter(other_outlets=True)) == OTHERS - {"reuters-update"}
    assert _matched(engine, MatchFilter(other_outlets=True), "ap-next-day") == set(COPIES) - {
        "ap-next-day",
        "ap-last-month",
    }


def test_outlets_to_include_and_to_exclude(engine: Wiretrace) -> None:
    assert _matched(engine, MatchFilter(sources=frozenset({"ap", "BBC "}))) == {
        "ap-next-day",
        "ap-last-month",
        "bbc-later",
    }
    assert _matched(engine, MatchFilter(excluded_sources=frozenset({"AP"}))) == OTHERS - {
        "ap-next-day",
        "ap-last-month",
    }
    both = MatchFilter(sources=frozenset({"AP", "BBC"}), excluded_sources=frozenset({"bbc"}))
    assert _matched(engine, both) == {"ap-next-day", "ap-last-month"}


def test_the_filter_applies_before_the_max_matches_cut(engine: Wiretrace) -> None:
    (only,) = engine.find_matches(
        article_id="reuters-orig", max_matches=1, match_filter=MatchFilter(sources=frozenset({"BBC"}))
    ).matches
    assert only.article_id == "bbc-later"


def test_a_filter_never_loses_matches_to_the_candidates_it_drops(tmp_path: Path) -> None:
    """The matcher stops after a chunk of candidates holds max_near_duplicates copies: the
    outlets a filter drops must not take those places."""
    engine = Wiretrace(
        SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000, max_near_duplicates=2), clock=clock
    )
    text = wire_story()
    engine.ingest(ArticleDraft("first", text, source="Reuters"))
    for number in range(1, 21):
        engine.ingest(ArticleDraft(f"reuters-{number}", syndicated_copy(number, text, edits=1), source="Reuters"))
    engine.ingest(ArticleDraft("bbc", syndicated_copy(99, text, edits=12), source="BBC"))
    try:
        assert "bbc" not in _matched(engine, None, "first")  # crowded out by the Reuters copies
        assert _matched(engine, MatchFilter(other_outlets=True), "first") == {"bbc"}
    finally:
        engine.close()


def test_a_raw_texts_window_is_around_now(engine: Wiretrace) -> None:
    found = engine.find_matches(text=wire_story(), match_filter=MatchFilter(window_days=1)).matches
    assert {m.article_id for m in found} == {"undated"}


def test_ingest_reports_filtered_matches_but_stores_and_links_all_of_them(engine: Wiretrace) -> None:
    draft = ArticleDraft(
        "afp", syndicated_copy(50, wire_story()), source="AFP", publish_time=datetime(2026, 11, 5, tzinfo=UTC)
    )
    result = engine.ingest(draft, report_filter=MatchFilter(sources=frozenset({"BBC"})))
    assert {m.article_id for m in result.matches} == {"bbc-later"}
    assert _matched(engine, None, "afp") == set(COPIES)
    assert {e.matched_id for e in engine.storage.matches_of("afp")} >= {"reuters-orig", "bbc-later"}
    assert engine.cluster_of("afp").root_id == "ap-last-month"  # lineage saw every match
    again = engine.ingest(draft, report_filter=MatchFilter(excluded_sources=frozenset({"BBC"})))
    assert "bbc-later" not in {m.article_id for m in again.matches} and again.matches


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"window_days": -1}, "window_days must not be negative"),
        ({"since": datetime(2026, 11, 2, tzinfo=UTC), "until": datetime(2026, 11, 1, tzinfo=UTC)}, "must be after"),
        ({"since": datetime(2026, 11, 2, tzinfo=UTC), "until": datetime(2026, 11, 2, tzinfo=UTC)}, "must be after"),
    ],
)
def test_invalid_filters_are_invalid_argument(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        MatchFilter(**arguments)  # type: ignore[arg-type]
