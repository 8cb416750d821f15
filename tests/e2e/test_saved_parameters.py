"""A store remembers the parameters it was built with, also those it saved before one existed."""

from __future__ import annotations

from pathlib import Path

from old_stores import rewrite_meta, seeded_directory
from processes import run_cli
from wiretrace.bootstrap import open_engine
from wiretrace.config import StorageSettings
from wiretrace.core.settings import IndexSettings

from seeds import seed_drafts


def test_a_store_saved_before_short_text_passages_keeps_its_features(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seeded_directory(data, IndexSettings(short_text_min_features=0))
    rewrite_meta(data, "parameters", lambda parameters: parameters.pop("short_text_min_features"))  # not saved then

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
