"""Authentication, TLS, metrics, logs and graceful shutdown of a real server."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from processes import ServerProcess, free_port
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.server import create_server
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

from seeds import seed_drafts

TOKEN = "s3cret-token-for-tests"


def _stats(stub: pb_grpc.WiretraceServiceStub, token: str | None) -> pb.GetStatsResponse:
    metadata = (("authorization", f"Bearer {token}"),) if token is not None else None
    return stub.GetStats(pb.GetStatsRequest(), metadata=metadata, timeout=10)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# pipeline tokens\n{TOKEN}\nother-token\n")
    return path


def test_auth_on(tmp_path: Path, token_file: Path) -> None:
    running = create_server(
        ServerSettings(
            listen="127.0.0.1:0", storage=StorageSettings(data_dir=tmp_path / "d"), auth_token_file=token_file
        )
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.WiretraceServiceStub(channel)
            assert _stats(stub, TOKEN).articles == 0
            assert _stats(stub, "other-token").articles == 0
            for bad in (None, "wrong", "", TOKEN + "x"):
                with pytest.raises(grpc.RpcError) as raised:
                    _stats(stub, bad)
                assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as raised:
                list(stub.IngestArticles(iter([pb.IngestArticlesRequest()])))
            assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
            health = health_pb2_grpc.HealthStub(channel)  # stays open for probes
            assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        running.stop(0)


def test_auth_off_needs_no_token(stub: pb_grpc.WiretraceServiceStub) -> None:
    assert _stats(stub, None).articles == 0
    assert _stats(stub, "anything").articles == 0


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key, cert = tmp_path / "server.key", tmp_path / "server.crt"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def test_tls(tmp_path: Path) -> None:
    key, cert = _self_signed(tmp_path)
    running = create_server(
        ServerSettings(
            listen="127.0.0.1:0", storage=StorageSettings(data_dir=tmp_path / "d"), tls_cert=cert, tls_key=key
        )
    )
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{running.port}", credentials) as channel:
            assert _stats(pb_grpc.WiretraceServiceStub(channel), None).articles == 0
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.RpcError) as raised:
                _stats(pb_grpc.WiretraceServiceStub(channel), None)
            assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        running.stop(0)


def test_metrics_logs_and_graceful_shutdown(tmp_path: Path, token_file: Path) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        tmp_path / "data",
        "--metrics-listen",
        f"127.0.0.1:{metrics_port}",
        "--auth-token-file",
        str(token_file),
        "--grace",
        "20",
    )
    metadata = (("authorization", f"Bearer {TOKEN}"), ("x-request-id", "req-42"))
    drafts = seed_drafts()
    release = threading.Event()
    responses: list[pb.IngestArticlesResponse] = []

    def slow_requests() -> Iterator[pb.IngestArticlesRequest]:
        for number, draft in enumerate(drafts):
            if number == 3:
                release.wait(60)  # SIGTERM arrives while this stream is in flight
            yield pb.IngestArticlesRequest(
                article=pb.CreateArticleRequest(article_id=draft.article_id, article=pb.Article(text=draft.text))
            )

    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.WiretraceServiceStub(channel)
        call = stub.IngestArticles(slow_requests(), metadata=metadata)
        reader = threading.Thread(target=lambda: responses.extend(call))
        reader.start()
        # Generous: the first ingests load the sentence encoder, slow on a loaded machine.
        deadline = time.monotonic() + 60
        while len(responses) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert 'wiretrace_ingests_total{outcome="created"} 3.0' in metrics
        assert "wiretrace_rpc_latency_seconds_bucket" in metrics
        server.process.send_signal(15)  # SIGTERM: health goes NOT_SERVING, the stream may finish
        time.sleep(0.5)
        release.set()
        reader.join(30)
        code = server.process.wait(30)
    assert code == 0
    assert [r.article_id for r in responses] == [d.article_id for d in drafts]
    log = server.log.read_text()
    assert TOKEN not in log
    with ServerProcess(tmp_path / "data", "--auth-token-file", str(token_file)) as again:
        with grpc.insecure_channel(again.address) as channel:
            assert _stats(pb_grpc.WiretraceServiceStub(channel), TOKEN).articles == len(drafts)


def test_json_access_log_has_request_id(tmp_path: Path, token_file: Path) -> None:
    with ServerProcess(tmp_path / "data", "--auth-token-file", str(token_file), log_args=True) as server:
        with grpc.insecure_channel(server.address) as channel:
            stub = pb_grpc.WiretraceServiceStub(channel)
            stub.GetStats(
                pb.GetStatsRequest(), metadata=(("authorization", f"Bearer {TOKEN}"), ("x-request-id", "req-7"))
            )
        server.terminate()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line.get("request_id") == "req-7"]
    assert access["method"] == "/wiretrace.v1.WiretraceService/GetStats" and access["code"] == "OK"
    assert TOKEN not in server.log.read_text()
