"""Time stamps as stored (microseconds since the epoch): exact both ways, before 1970 too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from wiretrace.core.codec import from_micros, to_micros
from wiretrace.core.engine import Wiretrace
from wiretrace.core.model import ArticleDraft, IngestOutcome
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

# Fixed offsets up to the ±24 h datetime allows, and the IANA zones (historic offsets, DST folds).
fixed_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))
zones = st.one_of(st.just(UTC), fixed_offsets, st.timezones())

# Every datetime except the day at either end, where a zone's offset would leave the range in UTC.
aware_datetimes = st.datetimes(
    min_value=datetime.min + timedelta(days=1), max_value=datetime.max - timedelta(days=1), timezones=zones
)


@given(aware_datetimes)
def test_micros_round_trip_over_the_whole_datetime_range(moment: datetime) -> None:
    micros = to_micros(moment)
    assert micros is not None
    back = from_micros(micros)
    # Compared as instants in UTC: by PEP 495 a time in a DST fold never equals one in another zone.
    assert back == moment.astimezone(UTC)
    assert back - moment == timedelta(0)
    assert back is not None and back.utcoffset() == timedelta(0)


@given(aware_datetimes, st.integers(0, 999_999))
def test_micros_agree_with_the_posix_timestamp_and_keep_the_fraction(moment: datetime, micro: int) -> None:
    # On whole seconds datetime.timestamp() is exact; the microseconds then add on, before 1970 too.
    whole = moment.replace(microsecond=0)
    assert to_micros(whole) == round(whole.timestamp()) * 1_000_000
    assert to_micros(whole.replace(microsecond=micro)) == round(whole.timestamp()) * 1_000_000 + micro


# Every microsecond a datetime can hold, year 1 to 9999.
@given(
    st.integers(
        to_micros(datetime.min.replace(tzinfo=UTC)) or 0,
        to_micros(datetime.max.replace(tzinfo=UTC)) or 0,
    )
)
def test_from_micros_is_inverted_by_to_micros(micros: int) -> None:
    assert to_micros(from_micros(micros)) == micros


def test_issue_example_before_1970_keeps_its_second() -> None:
    moment = datetime(1936, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    assert to_micros(moment) == -1_062_503_999_750_000
    assert from_micros(to_micros(moment)) == moment
    assert from_micros(-1) == datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1


def test_none_passes_through() -> None:
    assert to_micros(None) is None
    assert from_micros(None) is None


def test_reingesting_an_article_published_before_1970_is_unchanged(tmp_path: Path) -> None:
    draft = ArticleDraft(
        article_id="1936",
        text="The minister said police officers were deployed in the capital today. " * 3,
        publish_time=datetime(1936, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC),
    )
    engine = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000))
    try:
        assert engine.ingest(draft).outcome is IngestOutcome.CREATED
        assert engine.get("1936").publish_time == draft.publish_time
    finally:
        engine.close()
    reopened = Wiretrace(SqliteStorage(tmp_path), IndexSettings(max_text_chars=20_000))
    try:
        assert reopened.get("1936").publish_time == draft.publish_time
        assert reopened.ingest(draft).outcome is IngestOutcome.UNCHANGED
    finally:
        reopened.close()
