"""A data directory from before boilerplate counted stories: it kept article counts only, so the
store refuses it with the one-line way out, and `wiretrace reindex` rebuilds the story counts."""

from __future__ import annotations

from pathlib import Path

from old_stores import rewrite_meta, seeded_directory
from processes import one_line_failure, run_cli
from wiretrace.core.engine import Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.storage.sqlite import SqliteStorage


def _directory_of_article_counts(data: Path) -> None:
    """A store as it was written before: no story counts, an identity without their layout."""
    seeded_directory(data)
    rewrite_meta(data, "identity", lambda identity: identity.pop("boilerplate"), then="DROP TABLE fingerprint_stories")


def test_a_directory_of_article_counts_asks_for_a_reindex_and_is_rebuilt_by_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _directory_of_article_counts(data)
    refused = one_line_failure(run_cli("check", "--data", str(data), check=False))
    assert "INDEX_PARAMETERS_CHANGED" in refused
    assert "boilerplate=articles (before 2026-12)" in refused
    assert f"run `wiretrace reindex --data {data}`" in refused

    run_cli("reindex", "--data", str(data), "--quiet")
    assert "checked 5 article(s): 0 problem(s)" in run_cli("check", "--data", str(data)).stderr
    engine = Wiretrace(SqliteStorage(data))
    try:
        record = engine.storage.get_records(["003"])["003"]
        counts = engine.storage.story_counts(record.passage_fingerprints, -1)
        assert counts and all(count >= 1 for count in counts.values())
        assert check_consistency(engine) == []
    finally:
        engine.close()
