"""Server configuration: every setting has a command-line flag and an environment
variable of the same meaning (``WIRETRACE_<NAME>``); flags win. The names match
docker-compose.yml."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from wiretrace.core.settings import IndexSettings

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DATA = "./wiretrace-data"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    listen: str = DEFAULT_LISTEN
    data_dir: Path = Path(DEFAULT_DATA)
    storage: str = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False
    redis_prefix: str = "wiretrace"
    workers: int = 16
    # Processes analysing ingested texts (tokens, stems, signatures) off the server's own core.
    analysis_workers: int = 0
    max_message_bytes: int = 16 * 1024 * 1024
    grace_seconds: float = 10.0
    # Articles per second one ingest stream may send; 0 means unlimited. Faster senders are slowed down.
    max_stream_rate: float = 0.0
    auth_token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # With a client CA, clients must present a certificate it signed (mutual TLS).
    tls_client_ca: Path | None = None
    # HOST:PORT for Prometheus metrics over HTTP; empty means no metrics endpoint.
    metrics_listen: str = ""
    index: IndexSettings = field(default_factory=IndexSettings)

    def __post_init__(self) -> None:
        if self.storage not in ("sqlite", "redis"):
            raise ValueError(f"storage must be 'sqlite' or 'redis', got {self.storage!r}")
        if self.analysis_workers < 0:
            raise ValueError(f"analysis_workers must not be negative, got {self.analysis_workers}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("mutual TLS (--tls-client-ca) needs a server certificate (--tls-cert)")
        if self.max_stream_rate < 0:
            raise ValueError(f"max_stream_rate must not be negative, got {self.max_stream_rate}")
        if self.max_message_bytes < 1024:
            raise ValueError(f"max_message_bytes must be at least 1024, got {self.max_message_bytes}")


def default_analysis_workers() -> int:
    """One per core beyond the first (which stores, matches and answers), at most 4."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def env(name: str, default: str) -> str:
    return os.environ.get(f"WIRETRACE_{name}", default)


def env_flag(name: str) -> bool:
    return env(name, "").strip().lower() in ("1", "true", "yes", "on")
