"""The composition root: storage and engine built one way for the server, every CLI
command and batch jobs, so each of them reaches every backend."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from typing import Any

from wiretrace.config import StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import IndexMismatch, StoreNotFound
from wiretrace.core.identity import INDEX_PARAMETERS
from wiretrace.core.ports import Storage
from wiretrace.core.settings import IndexSettings


def create_storage(settings: StorageSettings) -> Storage:
    if settings.backend == "redis":
        from wiretrace.storage.redis import RedisStorage

        return RedisStorage(settings.redis_url, cluster=settings.redis_cluster, prefix=settings.redis_prefix)
    from wiretrace.storage.sqlite import SqliteStorage

    return SqliteStorage(settings.data_dir)


def stored_index_settings(storage: Storage, index: IndexSettings, explicit: Set[str] = frozenset()) -> IndexSettings:
    """``index`` with the parameters the store was built with: a store remembers them, so a
    command needs no flags to open it, and a flag that contradicts them is an error."""
    saved = saved_parameters(storage)
    contradicted = sorted(name for name in explicit & saved.keys() if getattr(index, name) != saved[name])
    if contradicted:
        said = ", ".join(f"{name}={getattr(index, name)!r} (stored: {saved[name]!r})" for name in contradicted)
        raise IndexMismatch(
            f"the index in {storage.describe()} was built with other parameters: {said}; drop those options, "
            "or build a new index with `wiretrace reindex`"
        )
    return replace(index, **saved)


def rebuilt_index_settings(source: Storage, index: IndexSettings, explicit: Set[str]) -> IndexSettings:
    """The settings of an index rebuilt from ``source``: its parameters, but for those given on purpose."""
    kept = {name: value for name, value in saved_parameters(source).items() if name not in explicit}
    return replace(index, **kept)


def saved_parameters(storage: Storage) -> dict[str, Any]:
    return {name: value for name, value in (storage.saved_parameters() or {}).items() if name in INDEX_PARAMETERS}


def open_engine(
    storage_settings: StorageSettings,
    index: IndexSettings,
    *,
    explicit: Set[str] = frozenset(),
    must_exist: bool = False,
    analysis_workers: int = 0,
) -> Wiretrace:
    """An engine on the configured store, under the parameters the store was built with.

    ``must_exist``: the command reads an existing index, so a mistyped path is an error
    rather than a new, empty index.
    """
    storage = create_storage(storage_settings)
    if must_exist and not storage.exists():
        raise StoreNotFound(f"no wiretrace index in {storage_settings.describe()}")
    settings = stored_index_settings(storage, index, explicit)
    return Wiretrace(storage, settings, analysis_workers=analysis_workers)
