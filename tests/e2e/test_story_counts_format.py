"""A data directory from before boilerplate counted stories: it kept article counts only, so the
store refuses it with the one-line way out, and `wiretrace reindex` rebuilds the story counts."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from processes import one_line_failure, run_cli
from wiretrace.core.engine import Wiretrace
from wiretrace.core.maintenance import check_consistency
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts


def _directory_of_article_counts(data: Path) -> None:
    """A store as it was written before: no story counts, an identity without their layout."""
    engine = Wiretrace(SqliteStorage(data))
    for draft in seed_drafts():
        engine.ingest(draft)
    engine.close()
    with closing(sqlite3.connect(data / "wiretrace.sqlite3")) as db, db:
        identity = json.loads(db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()[0])
        del identity["boilerplate"]  # not named then
        db.execute("UPDATE meta SET value = ? WHERE key = 'identity'", (json.dumps(identity, sort_keys=True),))
        db.execute("DROP TABLE fingerprint_stories")


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
