"""Composition root: wires storage, core and servicer into a gRPC server.

``create_server(settings)`` returns the server and the port it bound (tests use
port 0); ``serve`` runs it until SIGTERM/SIGINT, first turning health to
NOT_SERVING, then stopping with a grace period so in-flight calls finish.
While it runs, a :class:`HealthWatcher` probes the storage backend and keeps the
health service NOT_SERVING while the backend cannot be reached or (embedded store)
cannot be written: read-only or immutable files, a full disk.
"""

from __future__ import annotations

import logging
import signal
import ssl
import threading
from collections.abc import Callable, Set
from concurrent import futures
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from wiretrace.api import metrics
from wiretrace.api.interceptors import (
    BearerTokenInterceptor,
    MalformedRequestInterceptor,
    ObservabilityInterceptor,
    read_tokens,
)
from wiretrace.api.servicer import WiretraceServicer
from wiretrace.bootstrap import open_engine
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import WiretraceError
from wiretrace.core.ports import Storage
from wiretrace.core.retention import RetentionSweeper
from wiretrace.redaction import masked_url
from wiretrace.v1 import wiretrace_service_pb2 as pb
from wiretrace.v1 import wiretrace_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["WiretraceService"].full_name
HEALTH_SERVICES = ("", SERVICE_NAME)
# A probe that takes longer than this (or the interval, if longer) counts as storage down.
PROBE_TIMEOUT = 2.0


class HealthWatcher:
    """Probes the storage backend every ``interval`` seconds on a thread of its own.

    ``probe`` returns whether the store holds an index (``Storage.exists``) and raises a
    WiretraceError (StorageUnavailable, StorageReadOnly, StorageFull) when the backend cannot be
    reached or written (:func:`storage_probe`). Health turns NOT_SERVING while probes
    fail or hang (a load balancer then sends calls to another replica) and SERVING again when
    one answers. A store that held an index and then holds none (a Redis without persistence
    restarted, a data file deleted) is logged as a warning: the server then answers from an
    empty index.
    """

    def __init__(
        self,
        probe: Callable[[], bool],
        health_servicer: health.HealthServicer,
        interval: float,
        *,
        where: str = "storage",
        services: tuple[str, ...] = HEALTH_SERVICES,
    ) -> None:
        self._probe = probe
        self._health = health_servicer
        self.interval = interval
        self._timeout = max(interval, PROBE_TIMEOUT)
        self._where = where
        self._services = services
        self._stop = threading.Event()
        # One probe at a time: a probe stuck on a hung backend is waited for again, never doubled.
        self._pending: futures.Future[bool] | None = None
        self.serving = True
        self._stored = True  # the server opened (and so created) the index before it started
        self._thread = threading.Thread(target=self._run, name="health-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No more probes or health changes (a probe stuck on a hung backend is not waited for long)."""
        self._stop.set()
        self._thread.join(self._timeout + 1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def _launch(self) -> futures.Future[bool]:
        """The probe on a daemon thread of its own: one that never returns cannot keep the process
        from exiting (an executor's threads would be joined at exit)."""
        outcome: futures.Future[bool] = futures.Future()

        def run() -> None:
            try:
                outcome.set_result(self._probe())
            except BaseException as error:
                outcome.set_exception(error)

        threading.Thread(target=run, name="health-probe", daemon=True).start()
        return outcome

    def check(self) -> None:
        """One probe: health follows its outcome."""
        if self._pending is None:
            self._pending = self._launch()
        try:
            stored = self._pending.result(timeout=self._timeout)
        except futures.TimeoutError:
            self._set(False, f"{self._where} did not answer within {self._timeout:g} s")
            return
        except WiretraceError as error:
            self._pending = None
            self._set(False, error.message)
            return
        except Exception as error:  # an unexpected failure of the probe: not serving either
            self._pending = None
            log.warning("storage probe failed: %r", error)
            self._set(False, f"storage probe failed: {type(error).__name__}")
            return
        self._pending = None
        self._set(True, "")
        if self._stored and not stored:
            log.warning(
                "the index at %s is gone (the store holds no index any more): a Redis without persistence "
                "restarted, or the data was deleted; the server now answers from an empty index",
                self._where,
            )
        elif stored and not self._stored:
            log.warning("the index at %s is back", self._where)
        self._stored = stored

    def _set(self, serving: bool, why: str) -> None:
        if serving == self.serving or self._stop.is_set():
            return
        self.serving = serving
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in self._services:
            self._health.set(service, status)
        if serving:
            log.warning("storage reachable again (%s): health SERVING", self._where)
        else:
            log.warning("storage unavailable (%s): health NOT_SERVING: %s", self._where, why)


def storage_probe(storage: Storage) -> Callable[[], bool]:
    """What the health watcher asks the store: whether it holds an index, and, where the store
    can tell (the embedded SQLite store: one small durable write), whether it takes writes.
    A store that reads but cannot write is not serving: every ingest would fail."""
    check_writable: Callable[[], None] | None = getattr(storage, "check_writable", None)

    def probe() -> bool:
        stored = storage.exists()
        if stored and check_writable is not None:
            check_writable()
        return stored

    return probe


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    engine: Wiretrace
    health: health.HealthServicer
    watcher: HealthWatcher | None = None
    retention: RetentionSweeper | None = None

    def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING, in-flight calls get ``grace`` seconds, then storage closes."""
        metrics.STORE_GAUGES.release(self.engine)
        if self.retention is not None:
            self.retention.stop()
        if self.watcher is not None:
            self.watcher.stop()
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
    warn_if_unpersisted(settings.storage)
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
        stream_write_timeout=settings.stream_write_timeout,
        max_streams_per_connection=settings.stream_connection_limit,
        max_message_bytes=settings.max_message_bytes,
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
    for service in HEALTH_SERVICES:
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    watcher = None
    if settings.health_interval > 0:
        watcher = HealthWatcher(
            storage_probe(engine.storage), health_servicer, settings.health_interval, where=settings.storage.describe()
        )
        watcher.start()
    metrics.STORE_GAUGES.serve(engine)
    retention = None
    if settings.retention_days > 0:
        retention = RetentionSweeper(
            engine, timedelta(days=settings.retention_days), interval=settings.retention_interval
        )
        retention.start()
    return RunningServer(server, port, engine, health_servicer, watcher, retention)


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


def warn_if_unpersisted(storage: StorageSettings) -> None:
    """A warning when the Redis behind ``storage`` persists nothing (no AOF, no RDB snapshots): its
    restart empties the index. Skipped quietly where CONFIG is not allowed (managed Redis, ACLs)."""
    if storage.backend != "redis":
        return
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            storage.redis_url,
            decode_responses=True,
            socket_timeout=2,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            appendonly = client.config_get("appendonly").get("appendonly") or ""
            save = client.config_get("save").get("save") or ""
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError, ValueError) as error:  # NOPERM, CONFIG renamed, ...
        log.debug("cannot read the persistence settings of %s: %s", masked_url(storage.redis_url), error)
        return
    if appendonly == "no" and not save.strip():
        log.warning(
            'redis at %s persists nothing (appendonly no, save ""): a restart of Redis empties the index; '
            "turn on appendonly yes (or save snapshots) for a durable index",
            masked_url(storage.redis_url),
        )


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
