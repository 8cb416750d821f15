"""Data directories as an earlier version wrote them: a seeded store, then its saved metadata edited."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from wiretrace.core.engine import Wiretrace
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts


def seeded_directory(data: Path, settings: IndexSettings | None = None) -> None:
    engine = Wiretrace(SqliteStorage(data), settings or IndexSettings())
    for draft in seed_drafts():
        engine.ingest(draft)
    engine.close()


def rewrite_meta(data: Path, key: str, change: Callable[[dict[str, Any]], None], *, then: str = "") -> None:
    """Apply ``change`` to the JSON the store saved under ``key`` (and run the SQL ``then``)."""
    with closing(sqlite3.connect(data / "wiretrace.sqlite3")) as db, db:
        value = json.loads(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
        change(value)
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(value, sort_keys=True), key))
        if then:
            db.execute(then)
