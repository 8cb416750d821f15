"""Articles in other languages: a translation is found by its gist and verified by meaning alone,
the original is its lineage root, and a translated quote leads back to it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from wiretrace.core import gist_index
from wiretrace.core.engine import IngestRequest, Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.core.model import ArticleDraft, MatchKind, PassageKind
from wiretrace.core.ports import Storage
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.redis import RedisStorage
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "translation"
JAPANESE = (FIXTURES / "ja.txt").read_text(encoding="utf-8")
ENGLISH = (FIXTURES / "en.txt").read_text(encoding="utf-8")
# A statement of the English translation, quoted in an unrelated English story.
QUOTE = ENGLISH.splitlines()[3]


def _engine(directory: Path, **settings: bool) -> Wiretrace:
    return Wiretrace(SqliteStorage(directory), IndexSettings(**settings))


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Storage]:
    """A new adapter over one and the same store at each call (a restart, or a second replica)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        return lambda: SqliteStorage(tmp_path)
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return lambda: RedisStorage(url, prefix=prefix)
    cluster_url = request.getfixturevalue("redis_cluster_url")
    return lambda: RedisStorage(cluster_url, cluster=True, prefix=prefix)


def _translation_of(result_matches: tuple[object, ...] | list[object], article_id: str) -> object | None:
    return next((m for m in result_matches if getattr(m, "article_id", None) == article_id), None)


def test_a_translation_is_matched_to_its_original_which_is_its_root(stores: Callable[[], Storage]) -> None:
    engine = Wiretrace(stores(), IndexSettings())
    for draft in seed_drafts():
        engine.ingest(draft)
    original = engine.ingest(ArticleDraft("ja", JAPANESE, source="Sankei Sports"))
    assert original.article.language == "ja"
    assert not original.matches, "the Japanese article matches none of the English seeds"
    result = engine.ingest(ArticleDraft("en", ENGLISH, source="Yahoo News"))
    assert result.article.language == "en"
    match = _translation_of(result.matches, "ja")
    assert match is not None and match.kind is MatchKind.NEAR_DUPLICATE
    assert {p.kind for p in match.passages} == {PassageKind.TRANSLATED}
    assert result.cluster.root_id == "ja"
    # Nothing else in the index is taken for a translation of it.
    assert [m.article_id for m in result.matches] == ["ja"]
    assert check_consistency(engine) == []
    engine.close()


def test_a_translation_in_the_same_batch_and_after_a_restart(stores: Callable[[], Storage]) -> None:
    engine = Wiretrace(stores(), IndexSettings())
    results = engine.ingest_batch(
        [IngestRequest(ArticleDraft("ja", JAPANESE)), IngestRequest(ArticleDraft("en", ENGLISH))]
    )
    assert not isinstance(results[1], Exception)
    assert [m.article_id for m in results[1].matches] == ["ja"]
    engine.close()
    reopened = Wiretrace(stores(), IndexSettings())  # the gists are read back from the store
    assert [m.article_id for m in reopened.find_matches(text=ENGLISH).matches] == ["en", "ja"]
    reopened.close()


def test_gists_are_read_back_a_page_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gist_index, "_PAGE", 2)
    engine = _engine(tmp_path)
    for draft in seed_drafts():
        engine.ingest(draft)
    engine.ingest(ArticleDraft("ja", JAPANESE))
    engine.close()
    reopened = _engine(tmp_path)
    found = reopened.find_matches(text=ENGLISH).matches
    assert [m.article_id for m in found] == ["ja"]
    assert len(reopened._gists) == len(seed_drafts()) + 1  # every stored gist, each once
    reopened.close()


def test_replicas_of_one_redis_store_find_each_others_originals(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    first, second = (Wiretrace(RedisStorage(redis_url, prefix=prefix), IndexSettings()) for _ in range(2))
    second.find_matches(text="An English text, before the original exists.")  # its gists are caught up once
    first.ingest(ArticleDraft("ja", JAPANESE))
    assert [m.article_id for m in second.ingest(ArticleDraft("en", ENGLISH)).matches] == ["ja"]
    first.close()
    second.close()


def test_a_translated_quote_leads_back_to_the_original(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.ingest(ArticleDraft("ja", JAPANESE))
    engine.ingest(ArticleDraft("en", ENGLISH))
    host = next(d for d in seed_drafts() if d.article_id == "004").text
    paragraphs = host.split("\n")
    quoted = "\n".join([*paragraphs[:2], QUOTE, *paragraphs[2:]])
    matches = engine.find_matches(text=quoted).matches
    original = _translation_of(matches, "ja")
    assert original is not None and original.kind is MatchKind.REUSED_PASSAGE
    (passage,) = original.passages
    assert passage.kind is PassageKind.TRANSLATED
    assert quoted[passage.query_start : passage.query_end] == QUOTE
    assert JAPANESE[passage.matched_start : passage.matched_end] == JAPANESE.splitlines()[3]
    # Stored, the quote's evidence is an edge that `check` finds holding.
    stored = engine.ingest(ArticleDraft("host", quoted))
    assert "ja" in {m.article_id for m in stored.matches}
    assert check_consistency(engine) == []
    engine.close()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_given_language_is_kept_and_cross_language_matching_can_be_turned_off(
    tmp_path: Path, language: str
) -> None:
    engine = _engine(tmp_path, cross_language=False)
    engine.ingest(ArticleDraft("ja", JAPANESE, language=language))
    result = engine.ingest(ArticleDraft("en", ENGLISH))
    assert engine.get("ja").language == language
    assert not result.matches
    engine.close()
