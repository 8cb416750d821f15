"""Shared fixtures: an in-process server on port 0 over a temporary data directory, real Redis servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.settings import IndexSettings
from wiretrace.server import RunningServer, create_server
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

MAX_TEXT_CHARS = 50_000
pytest_plugins = ["redis_servers"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    settings = ServerSettings(
        listen="127.0.0.1:0",
        storage=StorageSettings(data_dir=tmp_path / "data"),
        index=IndexSettings(max_text_chars=MAX_TEXT_CHARS),
    )
    running = create_server(settings)
    yield running
    running.stop(0)


@pytest.fixture
def address(server: RunningServer) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture
def channel(address: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(address) as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.Channel) -> pb_grpc.WiretraceServiceStub:
    return pb_grpc.WiretraceServiceStub(channel)
