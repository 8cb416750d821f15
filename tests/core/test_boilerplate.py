"""Boilerplate is wording that many different stories carry, not wording with many copies.

A wire story run by more outlets than the limit keeps its own sentences: a longer story that
quotes one of its paragraphs still matches it. A sentence that recurs across more unrelated
stories than the limit (a funding note, a disclaimer) links none of them. The limit is small
here (``boilerplate_stories``) so the tests stay fast; batches, replacements and deletes count
stories the same way, and ``check`` finds the counts consistent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from boilerplate_stories import (
    COPIES,
    FUNDING_NOTE,
    LIMIT,
    QUOTED,
    invented_story,
    quoting_story,
    sharing,
    wire_story,
    with_funding_note,
)
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ArticleDraft, IngestResult
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Wiretrace]:
    index = Wiretrace(SqliteStorage(tmp_path), IndexSettings(boilerplate_stories=LIMIT))
    yield index
    assert check_consistency(index) == []
    index.close()


def ingested(engine: Wiretrace, requests: list[IngestRequest]) -> list[IngestResult]:
    results = engine.ingest_batch(requests)
    assert all(isinstance(r, IngestResult) for r in results), results
    return [r for r in results if isinstance(r, IngestResult)]


def test_a_wire_story_with_more_copies_than_the_limit_keeps_its_quoted_paragraph(engine: Wiretrace) -> None:
    drafts = wire_story()
    for draft in drafts:
        engine.ingest(draft)
    carriers = [d for d in drafts if QUOTED in d.text]
    assert len(carriers) > LIMIT  # as many copies as the old rule took for boilerplate
    assert engine.cluster_of("copy1").member_count == len(drafts)  # one story
    quoting = quoting_story()
    result = engine.ingest(quoting)
    assert sharing(result.matches, quoting.text, QUOTED), result.matches
    assert result.statements  # the quoted paragraph is a statement the story carries


def test_a_batch_of_copies_counts_their_story_once(engine: Wiretrace) -> None:
    *copies, quoting = ingested(engine, [IngestRequest(d) for d in [*wire_story(), quoting_story()]])
    assert copies[-1].cluster.member_count == COPIES + 1
    assert sharing(quoting.matches, quoting.article.text, QUOTED), quoting.matches


def test_a_sentence_in_more_unrelated_stories_than_the_limit_stays_boilerplate(engine: Wiretrace) -> None:
    results = [engine.ingest(with_funding_note(n)) for n in range(LIMIT)]
    second = results[1]
    assert sharing(second.matches, second.article.text, FUNDING_NOTE)  # rare so far: it links
    assert len({r.article.cluster_id for r in results}) == LIMIT  # each a story of its own
    probe = with_funding_note(LIMIT)
    assert engine.ingest(probe).matches == ()


def test_a_batch_of_unrelated_stories_counts_each(engine: Wiretrace) -> None:
    *_, probe = ingested(engine, [IngestRequest(with_funding_note(n)) for n in range(LIMIT + 1)])
    assert probe.matches == ()


def test_replacing_a_carrier_in_the_batch_takes_its_story_off(engine: Wiretrace) -> None:
    for number in range(LIMIT):
        engine.ingest(with_funding_note(number))
    rewritten = ArticleDraft("funded0", invented_story(0), source="Site 0")  # the note taken out
    _, probe = ingested(
        engine, [IngestRequest(rewritten, replace_existing=True), IngestRequest(with_funding_note(LIMIT))]
    )
    assert sharing(probe.matches, probe.article.text, FUNDING_NOTE)  # carried by LIMIT - 1 stories now


def test_deletes_and_re_roots_keep_the_counts(engine: Wiretrace) -> None:
    for number in range(LIMIT):
        engine.ingest(with_funding_note(number))
    probe = with_funding_note(LIMIT).text
    assert engine.find_matches(text=probe).matches == ()
    engine.delete("funded1")
    assert sharing(engine.find_matches(text=probe).matches, probe, FUNDING_NOTE)
    for draft in wire_story():
        engine.ingest(draft)
    engine.delete("wire")  # the story re-roots; it still counts once
    assert engine.cluster_of("copy1").root_id != "wire"
    quoting = quoting_story()
    assert sharing(engine.find_matches(text=quoting.text).matches, quoting.text, QUOTED)
