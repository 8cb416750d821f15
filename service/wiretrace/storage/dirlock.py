"""One process owns a data directory: an exclusive OS lock held for the owner's life.

A second server on the same directory would serve a stale in-memory index, and a
re-index that moves the directory aside would strand a live server's writes. The
kernel drops a ``flock`` when its process dies, kill -9 included, so a crash never
leaves a directory locked.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from wiretrace.core.errors import StorageReadOnly, StoreBusy

LOCK_FILE = "wiretrace.lock"
# What open(2) says about a file that can be read but not written.
_UNWRITABLE = (errno.EROFS, errno.EPERM, errno.EACCES)


class DirectoryLock:
    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreBusy naming the process that holds it (StorageReadOnly when
        the lock file cannot be written: a read-only mount, immutable files, permissions)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            if error.errno not in _UNWRITABLE:
                raise
            raise StorageReadOnly(
                f"data directory {self.path.parent} is read-only ({self.path.name}: {error.strerror}): "
                "make it writable (a read-write mount, chattr -i, permissions) and start again"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise StoreBusy(
                f"{self.path.parent} is in use by process {holder} (a wiretrace server or command); "
                "stop it first, or use that server's API"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
