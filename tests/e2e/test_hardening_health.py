"""Hardening, issue item 9: health follows the storage backend (NOT_SERVING while Redis is down,
SERVING when it is back), a store that empties under the server is warned about, and so is a
Redis that persists nothing."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from processes import free_port
from redis_servers import _start
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.redaction import masked_url
from wiretrace.server import create_server
from wiretrace.storage.redis import RedisStorage


def _health(port: int) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return int(health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status)


def _wait_health(port: int, wanted: int, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = _health(port)
        if status == wanted:
            return
        time.sleep(0.1)
    raise AssertionError(f"health stayed {status}, wanted {wanted}")


class _Redis:
    """A redis-server of this test's own, to stop and start again on the same port."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = _start(directory, self.port, *extra)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: redis flushes its append-only file before it exits
            self.process.wait(20)
            self.process = None

    def start(self, directory: Path, *extra: str) -> None:
        self.process = _start(directory, self.port, *extra)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[_Redis]:
    server = _Redis(tmp_path / "redis")
    yield server
    server.stop()


def _redis_settings(url: str, **extra: float) -> ServerSettings:
    storage = StorageSettings(backend="redis", redis_url=url, redis_prefix=f"t{uuid.uuid4().hex[:8]}")
    return ServerSettings(listen="127.0.0.1:0", storage=storage, **extra)  # type: ignore[arg-type]


def test_health_follows_redis(tmp_path: Path, own_redis: _Redis, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wiretrace")
    running = create_server(_redis_settings(own_redis.url, health_interval=0.2))
    try:
        assert _health(running.port) == health_pb2.HealthCheckResponse.SERVING
        own_redis.stop()
        _wait_health(running.port, health_pb2.HealthCheckResponse.NOT_SERVING)
        assert any("health NOT_SERVING" in r.getMessage() for r in caplog.records)
        own_redis.start(tmp_path / "redis")  # same data: the index is still there
        _wait_health(running.port, health_pb2.HealthCheckResponse.SERVING)
        time.sleep(1)  # a few more probes
        assert not any("is gone" in r.getMessage() for r in caplog.records)

        own_redis.stop()  # and back without its data: a Redis that persisted nothing
        _wait_health(running.port, health_pb2.HealthCheckResponse.NOT_SERVING)
        own_redis.start(tmp_path / "redis-empty")
        _wait_health(running.port, health_pb2.HealthCheckResponse.SERVING)
        deadline = time.monotonic() + 10
        while not any("is gone" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.1)
        gone = [r for r in caplog.records if "is gone" in r.getMessage()]
        assert len(gone) == 1 and gone[0].levelno == logging.WARNING
        assert "empty index" in gone[0].getMessage()
    finally:
        running.stop(0)


def test_health_watcher_can_be_turned_off(own_redis: _Redis) -> None:
    running = create_server(_redis_settings(own_redis.url, health_interval=0))
    try:
        assert running.watcher is None
        own_redis.stop()
        time.sleep(1)
        assert _health(running.port) == health_pb2.HealthCheckResponse.SERVING
    finally:
        running.stop(0)


def test_redis_without_persistence_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wiretrace")
    volatile = _Redis(tmp_path / "volatile", "--appendonly", "no")
    try:
        running = create_server(_redis_settings(volatile.url))
        running.stop(0)
    finally:
        volatile.stop()
    warnings = [r.getMessage() for r in caplog.records if "persists nothing" in r.getMessage()]
    assert len(warnings) == 1 and volatile.url in warnings[0]


def test_redis_with_persistence_is_not_warned_about(own_redis: _Redis, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wiretrace")
    running = create_server(_redis_settings(own_redis.url))
    running.stop(0)
    assert not [r for r in caplog.records if "persists nothing" in r.getMessage()]


def test_redis_that_refuses_config_is_not_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wiretrace")
    volatile = _Redis(tmp_path / "volatile", "--appendonly", "no", "--rename-command", "CONFIG", "")
    try:
        running = create_server(_redis_settings(volatile.url))
        running.stop(0)
    finally:
        volatile.stop()
    assert not [r for r in caplog.records if "persists nothing" in r.getMessage()]
    assert any("cannot read the persistence settings" in r.getMessage() for r in caplog.records)


def test_health_turns_not_serving_while_redis_hangs(own_redis: _Redis) -> None:
    """A Redis that accepts connections but answers nothing (stopped with SIGSTOP): the probe
    hangs, and a probe that does not answer in time counts as storage down."""
    running = create_server(_redis_settings(own_redis.url, health_interval=0.2))
    assert own_redis.process is not None
    try:
        own_redis.process.send_signal(signal.SIGSTOP)
        _wait_health(running.port, health_pb2.HealthCheckResponse.NOT_SERVING)
        own_redis.process.send_signal(signal.SIGCONT)
        _wait_health(running.port, health_pb2.HealthCheckResponse.SERVING)
    finally:
        own_redis.process.send_signal(signal.SIGCONT)
        running.stop(0)


def test_passwords_are_masked_in_storage_descriptions() -> None:
    assert masked_url("redis://:s3cret@db:6379/0") == "redis://:***@db:6379/0"
    assert masked_url("rediss://app:s3cret@db/1") == "rediss://app:***@db/1"
    assert masked_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    storage = StorageSettings(backend="redis", redis_url="redis://:s3cret@db:6379/0")
    assert "s3cret" not in storage.describe()  # CLI errors and the start line
    assert "s3cret" not in RedisStorage("redis://:s3cret@db:6379/0").describe()
