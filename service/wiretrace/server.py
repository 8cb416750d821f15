"""Composition root: wires storage, core and servicer into a gRPC server.

``create_server(settings)`` returns the server and the port it bound (tests use
port 0); ``serve`` runs it until SIGTERM/SIGINT, first turning health to
NOT_SERVING, then stopping with a grace period so in-flight calls finish.
"""

from __future__ import annotations

import logging
import signal
import ssl
import threading
from collections.abc import Set
from concurrent import futures
from dataclasses import dataclass
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from wiretrace.api.interceptors import (
    BearerTokenInterceptor,
    MalformedRequestInterceptor,
    ObservabilityInterceptor,
    read_tokens,
)
from wiretrace.api.servicer import WiretraceServicer
from wiretrace.bootstrap import open_engine
from wiretrace.config import ServerSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["WiretraceService"].full_name


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    engine: Wiretrace
    health: health.HealthServicer

    def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING, in-flight calls get ``grace`` seconds, then storage closes."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.engine.close()


def create_server(
    settings: ServerSettings, engine: Wiretrace | None = None, *, explicit: Set[str] = frozenset()
) -> RunningServer:
    """``explicit``: the index settings given on purpose (flags, variables); the others are
    taken from the store when it remembers them."""
    tls = tls_files(settings)  # before the store opens: a bad key pair is one line and nothing to undo
    engine = engine or open_engine(
        settings.storage, settings.index, explicit=explicit, analysis_workers=settings.analysis_workers
    )
    try:
        running = _start(settings, engine, tls)
    except BaseException:
        engine.close()
        raise
    return running


def _start(settings: ServerSettings, engine: Wiretrace, tls: _TlsFiles | None) -> RunningServer:
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.so_reuseport", 0),
    ]
    interceptors: list[grpc.ServerInterceptor[Any, Any]] = [ObservabilityInterceptor()]
    if settings.auth_token_file is not None:
        interceptors.append(BearerTokenInterceptor(read_tokens(settings.auth_token_file)))
    interceptors.append(MalformedRequestInterceptor())  # last: next to the servicer, inside auth and logs
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers), options=options, interceptors=interceptors
    )
    servicer = WiretraceServicer(
        engine,
        max_stream_rate=settings.max_stream_rate,
        max_streams=settings.stream_limit,
        stream_idle_seconds=settings.stream_idle_seconds,
    )
    pb_grpc.add_WiretraceServiceServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        port = _bind(server, settings, tls)
    except RuntimeError as error:  # grpc's "Failed to bind to address": in use, or not an address
        raise OSError(f"cannot listen on {settings.listen} (address in use or not valid)") from error
    if port == 0:
        raise OSError(f"cannot listen on {settings.listen}")
    server.start()
    for service in ("", SERVICE_NAME):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, engine, health_servicer)


@dataclass(frozen=True, slots=True)
class _TlsFiles:
    key: bytes
    cert: bytes
    client_ca: bytes | None


def _no_password() -> bytes:
    return b""  # an encrypted key fails to load instead of prompting on the terminal


def tls_files(settings: ServerSettings) -> _TlsFiles | None:
    """The TLS key, certificate and client CA, checked to load and to belong together.

    gRPC itself only says "Failed to bind to address" for a key that is not the certificate's;
    here it is a ValueError naming the files (one line from the CLI)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    cert, key, client_ca = settings.tls_cert, settings.tls_key, settings.tls_client_ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise ValueError(
                f"TLS: the private key {key} (--tls-key) does not belong to the certificate {cert} (--tls-cert)"
            ) from None
        raise ValueError(
            f"TLS: cannot load the certificate {cert} (--tls-cert) with the private key {key} (--tls-key): "
            f"{error.reason or error}; both must be PEM files and the key unencrypted"
        ) from None
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=client_ca)
        except ssl.SSLError as error:
            raise ValueError(
                f"TLS: cannot load the client CA {client_ca} (--tls-client-ca): {error.reason or error}; "
                "it must hold PEM certificates"
            ) from None
    return _TlsFiles(key.read_bytes(), cert.read_bytes(), client_ca.read_bytes() if client_ca else None)


def _bind(server: grpc.Server, settings: ServerSettings, tls: _TlsFiles | None) -> int:
    if tls is None:
        return int(server.add_insecure_port(settings.listen))
    credentials = grpc.ssl_server_credentials(
        [(tls.key, tls.cert)],
        root_certificates=tls.client_ca,
        require_client_auth=tls.client_ca is not None,
    )
    return int(server.add_secure_port(settings.listen, credentials))


def start_metrics(listen: str) -> int:
    """Serve Prometheus metrics over HTTP; returns the bound port."""
    from prometheus_client import start_http_server

    host, _, port = listen.rpartition(":")
    http_server, _thread = start_http_server(int(port), addr=host or "127.0.0.1")
    return int(http_server.server_port)


def serve(settings: ServerSettings, explicit: Set[str] = frozenset()) -> int:
    """Run until SIGTERM or SIGINT; exit code 0 after a clean shutdown."""
    running = create_server(settings, explicit=explicit)
    if settings.metrics_listen:
        metrics_port = start_metrics(settings.metrics_listen)
        log.info("metrics on %s (port %d)", settings.metrics_listen, metrics_port)
    host = settings.listen.rsplit(":", 1)[0]
    where = settings.storage.describe()
    log.info("wiretrace listening on %s:%d (storage=%s, %s)", host, running.port, settings.storage.backend, where)
    print(f"wiretrace listening on {host}:{running.port} (storage={settings.storage.backend}, {where})", flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down (grace %.1fs)", signum, settings.grace_seconds)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    running.stop(settings.grace_seconds)
    print("wiretrace stopped", flush=True)
    return 0
