"""The composition root: storage and engine built one way for the server, every CLI
command and batch jobs, so each of them reaches every backend."""

from __future__ import annotations

import threading
from collections.abc import Set
from dataclasses import replace
from typing import Any

from wiretrace.config import StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import IndexMismatch, NamespaceNotFound, StoreNotFound, TooManyNamespaces
from wiretrace.core.identity import INDEX_PARAMETERS, PARAMETERS_BEFORE
from wiretrace.core.namespace import DEFAULT_NAMESPACE, validate_namespace
from wiretrace.core.ports import Storage
from wiretrace.core.settings import IndexSettings


def create_storage(settings: StorageSettings) -> Storage:
    if settings.backend == "redis":
        from wiretrace.storage.redis import RedisStorage

        return RedisStorage(settings.redis_url, cluster=settings.redis_cluster, prefix=settings.namespace_prefix)
    from wiretrace.storage.sqlite import SqliteStorage

    return SqliteStorage(settings.namespace_dir)


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
    """The settings of an index rebuilt from ``source``: its parameters, but for those given on
    purpose and those it predates (a rebuild extracts every text again: it takes today's default)."""
    saved = saved_parameters(source, as_built=False)
    return replace(index, **{name: value for name, value in saved.items() if name not in explicit})


def saved_parameters(storage: Storage, *, as_built: bool = True) -> dict[str, Any]:
    """The index parameters the store saved; ``as_built``: with what it was built with for those
    it predates (:data:`PARAMETERS_BEFORE`)."""
    saved = storage.saved_parameters()
    if saved is None:
        return {}
    if as_built:
        saved = {**PARAMETERS_BEFORE, **saved}
    return {name: value for name, value in saved.items() if name in INDEX_PARAMETERS}


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


class NamespaceEngines:
    """The engine of each namespace a server serves, each over a store of its own (so nothing is
    shared or matched across namespaces), opened at the first call to that namespace.

    A new namespace is built with the default engine's parameters; one that exists keeps its own.
    Engines under the default's parameters share its analysis workers (the sentence-embedding
    cache is process-wide anyway). At most ``limit`` namespaces besides the default are open at
    once, each until :meth:`close`: a call to one more is TooManyNamespaces.
    """

    def __init__(self, default: Wiretrace, storage: StorageSettings, *, limit: int, explicit: Set[str]) -> None:
        self.default = default
        self._storage = storage
        self._limit = limit
        self._explicit = explicit
        self._open: dict[str, Wiretrace] = {DEFAULT_NAMESPACE: default}
        self._lock = threading.Lock()

    def engine(self, namespace: str, *, create: bool = False) -> Wiretrace:
        """The namespace's engine; a namespace with no store yet is created only by a call that
        writes (``create``), a read of it is NamespaceNotFound."""
        found = self._open.get(namespace)
        if found is not None:
            return found
        with self._lock:  # one opening at a time: two first calls to a namespace open it once
            found = self._open.get(namespace)
            if found is None:
                found = self._open[namespace] = self._open_namespace(validate_namespace(namespace), create)
            return found

    def _open_namespace(self, namespace: str, create: bool) -> Wiretrace:
        storage = create_storage(replace(self._storage, namespace=namespace))
        if not create and not storage.exists():
            raise NamespaceNotFound(namespace)
        if len(self._open) - 1 >= self._limit:
            raise TooManyNamespaces(
                f"this server holds {self._limit} namespaces open besides the default one (--max-namespaces); "
                f"namespace {namespace!r} cannot be opened until it restarts with a higher limit"
            )
        settings = stored_index_settings(storage, self.default.settings, self._explicit)
        pool = self.default.analysis_pool
        shared = pool if pool is not None and pool.settings == settings else None
        return Wiretrace(storage, settings, analysis_pool=shared)

    def opened(self) -> dict[str, Wiretrace]:
        """The engines open now by namespace, the default first."""
        with self._lock:
            return dict(self._open)

    def close(self) -> None:
        """Every engine closed, the default last (it owns the shared analysis workers)."""
        with self._lock:
            for namespace, engine in self._open.items():
                if namespace != DEFAULT_NAMESPACE:
                    engine.close()
            self.default.close()
