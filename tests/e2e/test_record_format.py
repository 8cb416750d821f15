"""A data directory from before the binary records (issue 11): the store refuses it with the
one-line way out, and `wiretrace reindex` rebuilds it in place from its old article columns."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

from processes import one_line_failure, run_cli
from wiretrace.core.codec import to_micros
from wiretrace.core.engine import Wiretrace
from wiretrace.core.identity import IndexIdentity, index_parameters
from wiretrace.core.settings import IndexSettings
from wiretrace.storage.sqlite import SqliteStorage

from seeds import seed_drafts

# The articles table and meta rows as stores wrote them before record_codec.
_LEGACY_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    language TEXT NOT NULL,
    publish_time_us INTEGER,
    create_time_us INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    document_signature BLOB NOT NULL,
    document_keys BLOB NOT NULL,
    passage_keys BLOB NOT NULL,
    passage_count INTEGER NOT NULL,
    passage_fingerprints BLOB NOT NULL,
    features BLOB NOT NULL DEFAULT x''
);
"""


def _legacy_directory(data: Path) -> None:
    settings = IndexSettings()
    identity = asdict(IndexIdentity.of(settings))
    del identity["records"]  # not named then
    data.mkdir()
    with closing(sqlite3.connect(data / "wiretrace.sqlite3")) as db, db:
        db.executescript(_LEGACY_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('identity', ?)", (json.dumps(identity, sort_keys=True),))
        db.execute("INSERT INTO meta VALUES ('parameters', ?)", (json.dumps(index_parameters(settings)),))
        for draft in seed_drafts():
            db.execute(
                "INSERT INTO articles (article_id, text, title, source, url, language, publish_time_us, "
                "create_time_us, content_sha256, cluster_id, document_signature, document_keys, passage_keys, "
                "passage_count, passage_fingerprints) VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?, x'', x'', x'', 0, x'')",
                (
                    draft.article_id,
                    draft.text,
                    draft.title,
                    draft.source,
                    draft.url,
                    draft.language,
                    to_micros(draft.publish_time),
                    draft.article_id,
                ),
            )


def test_an_old_data_directory_asks_for_a_reindex_and_is_rebuilt_by_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _legacy_directory(data)
    refused = one_line_failure(run_cli("check", "--data", str(data), check=False))
    assert "INDEX_PARAMETERS_CHANGED" in refused
    assert "records=columns and JSON evidence (before 2026-12)" in refused
    assert f"run `wiretrace reindex --data {data}`" in refused

    run_cli("reindex", "--data", str(data), "--quiet")
    assert "checked 5 article(s): 0 problem(s)" in run_cli("check", "--data", str(data)).stderr
    engine = Wiretrace(SqliteStorage(data))
    try:
        stored = {a.article_id: a for a in engine.storage.iter_articles()}
        assert {i: (a.text, a.title, a.publish_time) for i, a in stored.items()} == {
            d.article_id: (d.text, d.title, d.publish_time) for d in seed_drafts()
        }
        assert engine.stats().counts.edges > 0  # matched anew from the texts
    finally:
        engine.close()
