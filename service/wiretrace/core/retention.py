"""Retention: prune what appeared more than a given time ago, continuously, in small batches.

A :class:`RetentionSweeper` runs in the server (``serve --retention-days N``) on its own
thread. Every pass goes through the whole store with :meth:`Wiretrace.prune`, ``batch_size``
articles a call: each call takes the engine's write lock for that one batch only, so ingest
waits at most that long, and deletes through the same use case as DeleteArticle (clusters
stay consistent, a deleted root re-roots its cluster).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import WiretraceError

log = logging.getLogger(__name__)


class RetentionSweeper:
    def __init__(
        self,
        engine: Wiretrace,
        retention: timedelta,
        *,
        batch_size: int = 50,
        interval: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``interval``: seconds between the end of one pass and the start of the next."""
        if retention <= timedelta(0):
            raise ValueError(f"retention must be positive, got {retention}")
        self.engine = engine
        self.retention = retention
        self.batch_size = batch_size
        self.interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def sweep(self) -> int:
        """One pass over the store; returns how many articles it deleted."""
        before = self._clock() - self.retention
        deleted, token = 0, ""
        while not self._stop.is_set():
            result = self.engine.prune(before, self.batch_size, token)
            deleted += len(result.deleted)
            token = result.next_page_token
            if not token:
                break
        return deleted

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = self.sweep()
            except WiretraceError as error:  # storage down or read-only: the next pass tries again
                log.warning("retention pass failed: %s: %s", error.reason, error.message)
            except Exception:
                log.exception("retention pass failed")
            else:
                if deleted:
                    log.info("retention: pruned %d article(s) older than %s", deleted, self.retention)
            self._stop.wait(self.interval)
