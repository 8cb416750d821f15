"""A store remembers the parameters it was built with, also those it saved before one existed."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from processes import run_cli
from wiretrace.bootstrap import open_engine
from wiretrace.config import StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts


def test_a_store_saved_before_short_text_passages_keeps_its_features(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = Wiretrace(SqliteStorage(data), IndexSettings(short_text_min_features=0))
    for draft in seed_drafts():
        engine.ingest(draft)
    engine.close()
    with closing(sqlite3.connect(data / "wiretrace.sqlite3")) as db, db:
        parameters = json.loads(db.execute("SELECT value FROM meta WHERE key = 'parameters'").fetchone()[0])
        del parameters["short_text_min_features"]  # not saved then
        db.execute("UPDATE meta SET value = ? WHERE key = 'parameters'", (json.dumps(parameters),))

    run_cli("check", "--data", str(data))  # opens: no reindex asked
    reopened = open_engine(StorageSettings(data_dir=data), IndexSettings(), must_exist=True)
    assert reopened.settings.short_text_min_features == 0
    reopened.close()
    new = open_engine(StorageSettings(data_dir=tmp_path / "new"), IndexSettings())
    assert new.settings.short_text_min_features == 3
    assert "/short3" in new.identity.feature_version
    new.close()

    run_cli("reindex", "--data", str(data), "--quiet")  # a rebuild extracts every text again: today's default
    rebuilt = open_engine(StorageSettings(data_dir=data), IndexSettings(), must_exist=True)
    assert rebuilt.settings.short_text_min_features == 3
    assert rebuilt.stats().counts.articles == len(seed_drafts())
    rebuilt.close()
