"""Hardening, issue 12 item 3: storage faults on the embedded (SQLite) store, for real.

Files made immutable mid-run (``chattr +i``), a disk that fills up (a small tmpfs mounted for
the test), a restart on a read-only directory and damaged database files, each against a real
``wiretrace serve`` process. Writes fail with a canonical status that names the cause (never
INTERNAL), health turns NOT_SERVING while writes fail, nothing acknowledged is lost, the server
recovers when the condition goes away and SIGTERM still exits cleanly (it died of SIGBUS, from
SQLite's memory-mapped ``-shm`` file). Needs root (chattr, mount); skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from processes import ServerProcess, free_port, run_cli
from wiretrace_client import ArticleInput, Client, FailedPrecondition, ResourceExhausted

from seeds import MANIFEST

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
FAST_HEALTH = ("--health-interval", "0.2")


def _text(n: int, words: int = 60) -> str:
    """A distinct article: numbered sentences, so no two texts match."""
    return " ".join(
        f"Report {n} sentence {i} says the council met on day {n * 1000 + i} about roads." for i in range(words)
    )


def _health(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        return int(health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status)


def _wait_health(address: str, wanted: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = _health(address)
        if status == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"health stayed {status}, wanted {wanted}")


def _chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths to make immutable; whatever is in the list is made mutable again at teardown."""
    probe = tmp_path / "chattr-probe"
    probe.touch()
    try:
        _chattr("+i", probe)
        _chattr("-i", probe)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("chattr +i is not available here (needs root and a file system with attributes)")
    made: list[Path] = []
    yield made
    for path in made:
        if path.exists():
            subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of this test's own (a disk that fills up for real)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)


def _fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte; returns the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def _no_traceback(server: ServerProcess) -> None:
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log
    assert "rollback" not in log.lower() or "also failed" in log, log


def test_immutable_files_mid_run(tmp_path: Path, immutable: list[Path]) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, *FAST_HEALTH)
    with server, Client(server.address) as client:
        client.create_article("before", _text(1))
        files = sorted(p for p in data.iterdir() if p.name.startswith("wiretrace.sqlite3"))
        immutable.extend([*files, data])
        _chattr("+i", *immutable)

        with pytest.raises(FailedPrecondition) as refused:
            client.create_article("during", _text(2))
        assert refused.value.reason == "STORAGE_READ_ONLY"
        assert "read-only" in refused.value.message and "Operation not permitted" in refused.value.message
        assert "rollback" not in refused.value.message
        with pytest.raises(FailedPrecondition):  # a stream too: the batch is refused, the server goes on
            list(client.ingest_many([ArticleInput("streamed", _text(3))]))
        ingest = run_cli("ingest", "--server", server.address, str(MANIFEST), check=False)
        assert ingest.returncode == 1 and "Traceback" not in ingest.stderr
        assert "FAILED_PRECONDITION" in ingest.stderr and "read-only" in ingest.stderr, ingest.stderr
        _wait_health(server.address, NOT_SERVING)
        assert client.get_article("before").text == _text(1)  # reads still answer

        _chattr("-i", *immutable)
        _wait_health(server.address, SERVING)
        client.create_article("during", _text(2))  # the same write, now accepted
        client.create_article("after", _text(4))

        _chattr("+i", *immutable)  # a fault again, then SIGTERM: a clean exit (was -7, SIGBUS)
        with pytest.raises(FailedPrecondition):
            client.create_article("lost", _text(5))
        assert server.terminate() == 0
    _no_traceback(server)
    assert "wiretrace stopped" in server.log.read_text()

    _chattr("-i", *immutable)
    with ServerProcess(data) as restarted, Client(restarted.address) as client:
        assert {a.article_id for a in client.list_articles()} == {"before", "during", "after"}
        restarted.terminate()
    assert "0 problem(s)" in run_cli("check", "--data", str(data)).stderr


def test_disk_full_is_resource_exhausted_and_recovers(tmp_path: Path, small_disk: Path) -> None:
    server = ServerProcess(small_disk, *FAST_HEALTH)
    with server, Client(server.address) as client:
        client.create_article("before", _text(1))
        filler = _fill(small_disk)
        n = 1
        with pytest.raises(ResourceExhausted) as refused:
            while n < 40:  # the first writes may still fit in pages the log already holds
                n += 1
                client.create_article(f"big{n}", _text(n, words=2000))
        assert refused.value.reason == "STORAGE_FULL"
        assert "disk full" in refused.value.message and "SQLITE_FULL" in refused.value.message
        assert "rollback" not in refused.value.message
        assert client.get_article("before").text == _text(1)
        assert server.process.poll() is None

        filler.unlink()  # space is back: the same write is accepted
        client.create_article(f"big{n}", _text(n, words=2000))
        _wait_health(server.address, SERVING)
        acknowledged = {a.article_id for a in client.list_articles()}
        assert server.terminate() == 0
    _no_traceback(server)
    with ServerProcess(small_disk) as restarted, Client(restarted.address) as client:
        assert {a.article_id for a in client.list_articles()} == acknowledged
        restarted.terminate()


def _one_line(completed: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert completed.returncode != 0, completed.stdout
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _served_directory(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        assert server.terminate() == 0
    return data


def _serve(data: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("serve", "--listen", f"127.0.0.1:{free_port()}", "--data", str(data), check=False, timeout=60)


@pytest.mark.parametrize("what", ["files and directory", "database files only"])
def test_start_on_a_read_only_directory_refuses(tmp_path: Path, immutable: list[Path], what: str) -> None:
    """Was: SERVING, and every write INTERNAL."""
    data = _served_directory(tmp_path)
    immutable.extend([*data.iterdir(), data] if what == "files and directory" else [*data.glob("wiretrace.sqlite3*")])
    _chattr("+i", *immutable)
    _one_line(_serve(data), "wiretrace serve: STORAGE_READ_ONLY", str(data), "read-only")


def test_start_on_a_read_only_mount_refuses(tmp_path: Path, small_disk: Path) -> None:
    with ServerProcess(small_disk) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        assert server.terminate() == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True, capture_output=True)
    _one_line(_serve(small_disk), "wiretrace serve: STORAGE_READ_ONLY", "read-only")


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _garbage_after_header(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(4096)  # page 1 (header and schema) intact: the tables' pages are not
        file.write(os.urandom(size - 4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_truncate, _garbage, _garbage_after_header, _empty], ids=lambda d: d.__name__)
def test_a_damaged_database_file_is_one_line_at_start(tmp_path: Path, damage: object) -> None:
    """Was: a traceback at start, and a supervisor restarting the server in a loop."""
    data = _served_directory(tmp_path)
    database = data / "wiretrace.sqlite3"
    assert not (data / "wiretrace.sqlite3-wal").exists()  # a clean stop checkpoints the log into the file
    assert callable(damage)
    damage(database)
    line = _one_line(_serve(data), "wiretrace serve: STORE_CORRUPT", f"data directory {data}", "is corrupt")
    assert "wiretrace import" in line
    _one_line(run_cli("check", "--data", str(data), check=False), "STORE_CORRUPT")  # offline commands too
