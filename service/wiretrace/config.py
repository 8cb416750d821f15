"""Configuration: typed settings, and every option declared once.

Each :class:`Option` names the settings field it fills, its command-line flag and its
environment variable (``WIRETRACE_<ENV>``, the names in docker-compose.yml); the
default is the field's own default. Flags win over variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from wiretrace.core.namespace import DEFAULT_NAMESPACE, validate_namespace
from wiretrace.core.settings import IndexSettings
from wiretrace.redaction import masked_url

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Where an index lives: a data directory (SQLite) or a Redis prefix."""

    backend: str = "sqlite"
    data_dir: Path = Path("./wiretrace-data")
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False
    redis_prefix: str = "wiretrace"
    # Which newsroom's index: the default one is the data directory (or prefix) itself.
    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if self.backend not in ("sqlite", "redis"):
            raise ValueError(f"storage must be 'sqlite' or 'redis', got {self.backend!r}")
        validate_namespace(self.namespace)

    def describe(self) -> str:
        if self.backend == "sqlite":
            return str(self.namespace_dir)
        return f"redis prefix {self.namespace_prefix!r} at {masked_url(self.redis_url)}"

    @property
    def namespace_dir(self) -> Path:
        """The namespace's own data directory: ``data_dir`` for the default one (so a directory from
        before namespaces opens as it is), ``data_dir/namespaces/N`` for namespace N."""
        if self.namespace == DEFAULT_NAMESPACE:
            return self.data_dir
        return self.data_dir / "namespaces" / self.namespace

    @property
    def namespace_prefix(self) -> str:
        """The namespace's own key prefix: ``redis_prefix`` for the default one, ``P:ns:N`` for N (no
        key of prefix ``P`` starts with ``P:ns:``; each shard's hash tag holds the whole prefix, so
        namespaces spread over Redis Cluster slots like separate prefixes)."""
        if self.namespace == DEFAULT_NAMESPACE:
            return self.redis_prefix
        return f"{self.redis_prefix}:ns:{self.namespace}"


def default_analysis_workers() -> int:
    """One per core beyond the first (which stores, matches and answers), at most 4."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass(frozen=True, slots=True)
class ServerSettings:
    listen: str = "127.0.0.1:50051"
    storage: StorageSettings = field(default_factory=StorageSettings)
    # Threads answering RPCs.
    workers: int = 16
    # Processes analysing ingested texts (tokens, stems, signatures) off the server's own core.
    analysis_workers: int = 0
    max_message_bytes: int = 16 * 1024 * 1024
    grace_seconds: float = 10.0
    # Articles per second one ingest stream may send; 0 means unlimited. Faster senders are slowed down.
    max_stream_rate: float = 0.0
    # Ingest streams open at once (each holds a worker thread); 0 = half the workers, so that
    # health checks and unary calls always find a thread. More are refused with RESOURCE_EXHAUSTED.
    max_streams: int = 0
    # An ingest stream that sends nothing for this long is ended (DEADLINE_EXCEEDED).
    stream_idle_seconds: float = 120.0
    # An ingest stream whose responses gRPC cannot hand to the client for this long (the client
    # does not read them, so HTTP/2 flow control holds them back) is ended (RESOURCE_EXHAUSTED);
    # while other streams are being refused a slot, a stream that sends nothing for this long is
    # ended too (DEADLINE_EXCEEDED), whatever stream_idle_seconds says.
    stream_write_timeout: float = 10.0
    # Ingest streams one client connection may hold at once; 0 = half of the stream limit (at
    # least one), so that one client cannot take every slot.
    max_streams_per_connection: int = 0
    auth_token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # With a client CA, clients must present a certificate it signed (mutual TLS).
    tls_client_ca: Path | None = None
    # HOST:PORT for Prometheus metrics over HTTP; empty means no metrics endpoint.
    metrics_listen: str = ""
    # Seconds between probes of the storage backend: health turns NOT_SERVING while it cannot be
    # reached and SERVING again when it answers; 0 = no probes.
    health_interval: float = 5.0
    # Articles that appeared (publish time, else ingest time) more than this many days ago are
    # pruned continuously by a background thread, through the engine; 0 = keep everything.
    retention_days: float = 0.0
    # Seconds between two retention passes.
    retention_interval: float = 60.0
    # Namespaces besides the default one a server holds open at once (each keeps its index open
    # until shutdown); a call to one more is refused with RESOURCE_EXHAUSTED.
    max_namespaces: int = 64
    index: IndexSettings = field(default_factory=IndexSettings)

    def __post_init__(self) -> None:
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
        if self.max_streams < 0 or self.max_streams >= self.workers:
            raise ValueError(f"max_streams must be 0 (auto) or below workers ({self.workers}), got {self.max_streams}")
        if self.stream_idle_seconds <= 0:
            raise ValueError(f"stream_idle_seconds must be positive, got {self.stream_idle_seconds}")
        if self.stream_write_timeout <= 0:
            raise ValueError(f"stream_write_timeout must be positive, got {self.stream_write_timeout}")
        if self.max_streams_per_connection < 0:
            raise ValueError(
                f"max_streams_per_connection must be 0 (auto) or positive, got {self.max_streams_per_connection}"
            )
        if self.health_interval < 0:
            raise ValueError(f"health_interval must not be negative, got {self.health_interval}")
        if self.retention_days < 0:
            raise ValueError(f"retention_days must not be negative, got {self.retention_days}")
        if self.retention_interval <= 0:
            raise ValueError(f"retention_interval must be positive, got {self.retention_interval}")
        if self.max_namespaces < 0:
            raise ValueError(f"max_namespaces must not be negative, got {self.max_namespaces}")
        if self.max_message_bytes < 1024:
            raise ValueError(f"max_message_bytes must be at least 1024, got {self.max_message_bytes}")

    @property
    def stream_limit(self) -> int:
        return self.max_streams or max(1, self.workers // 2)

    @property
    def stream_connection_limit(self) -> int:
        return min(self.stream_limit, self.max_streams_per_connection or max(1, self.stream_limit // 2))


@dataclass(frozen=True, slots=True)
class Option:
    """One setting as a flag and an environment variable."""

    field: str
    flag: str
    env: str
    help: str = ""
    kind: type = str
    choices: tuple[str, ...] = ()
    # A default other than the field's (e.g. one that depends on the machine); None = the field's.
    default: Any = None

    def parse(self, text: str) -> Any:
        if self.kind is bool:
            return text.strip().lower() in ("1", "true", "yes", "on")
        if self.kind is Path:
            return Path(text) if text else None
        return self.kind(text)


STORAGE_OPTIONS = (
    Option("backend", "--storage", "STORAGE", "where the index lives", choices=("sqlite", "redis")),
    Option("data_dir", "--data", "DATA", "data directory of the sqlite backend", kind=Path),
    Option("redis_url", "--redis-url", "REDIS_URL", "redis://HOST:PORT/DB of the redis backend"),
    Option("redis_cluster", "--redis-cluster", "REDIS_CLUSTER", "--redis-url names a Redis Cluster node", kind=bool),
    Option("redis_prefix", "--redis-prefix", "REDIS_PREFIX", "key prefix: one index per prefix"),
)

# The offline commands' namespace; the server takes each call's from the call (see wiretrace.api.namespaces).
NAMESPACE_OPTIONS = (
    Option("namespace", "--namespace", "NAMESPACE", "namespace (newsroom) whose index the command works on"),
)

SERVER_OPTIONS = (
    Option("listen", "--listen", "LISTEN", "HOST:PORT to serve on"),
    Option("workers", "--workers", "WORKERS", "threads answering RPCs", kind=int),
    Option(
        "analysis_workers",
        "--analysis-workers",
        "ANALYSIS_WORKERS",
        "processes that analyse ingested texts while the server stores the previous batch "
        "(default: one per core beyond the first, at most 4; 0 = in the server process)",
        kind=int,
        default=default_analysis_workers(),
    ),
    Option("grace_seconds", "--grace", "GRACE_SECONDS", "seconds in-flight calls get on shutdown", kind=float),
    Option("max_message_bytes", "--max-message-bytes", "MAX_MESSAGE_BYTES", "largest gRPC message", kind=int),
    Option(
        "max_stream_rate", "--max-stream-rate", "MAX_STREAM_RATE", "articles/s per stream, 0 = no limit", kind=float
    ),
    Option("max_streams", "--max-streams", "MAX_STREAMS", "ingest streams open at once, 0 = workers/2", kind=int),
    Option("stream_idle_seconds", "--stream-idle-seconds", "STREAM_IDLE_SECONDS", "end a silent stream", kind=float),
    Option(
        "stream_write_timeout",
        "--stream-write-timeout",
        "STREAM_WRITE_TIMEOUT",
        "end a stream whose responses are not read for this many seconds (and, while streams are refused, "
        "one that sends nothing that long)",
        kind=float,
    ),
    Option(
        "max_streams_per_connection",
        "--max-streams-per-connection",
        "MAX_STREAMS_PER_CONNECTION",
        "ingest streams one client connection may hold, 0 = half of --max-streams",
        kind=int,
    ),
    Option(
        "auth_token_file",
        "--auth-token-file",
        "AUTH_TOKEN_FILE",
        "bearer tokens, one per line (optionally followed by the namespaces the token may use)",
        kind=Path,
    ),
    Option("tls_cert", "--tls-cert", "TLS_CERT", "server certificate (PEM)", kind=Path),
    Option("tls_key", "--tls-key", "TLS_KEY", "server private key (PEM)", kind=Path),
    Option("tls_client_ca", "--tls-client-ca", "TLS_CLIENT_CA", "require client certificates from this CA", kind=Path),
    Option("metrics_listen", "--metrics-listen", "METRICS_LISTEN", "HOST:PORT for Prometheus metrics (off if empty)"),
    Option(
        "health_interval",
        "--health-interval",
        "HEALTH_INTERVAL",
        "seconds between storage probes that turn health NOT_SERVING while storage is down (0 = off)",
        kind=float,
    ),
    Option(
        "retention_days",
        "--retention-days",
        "RETENTION_DAYS",
        "prune articles that appeared more than N days ago, continuously (0 = keep everything)",
        kind=float,
    ),
    Option(
        "retention_interval",
        "--retention-interval",
        "RETENTION_INTERVAL",
        "seconds between two retention passes",
        kind=float,
    ),
    Option(
        "max_namespaces",
        "--max-namespaces",
        "MAX_NAMESPACES",
        "namespaces besides the default one held open at once (0 = the default namespace only)",
        kind=int,
    ),
)

INDEX_OPTIONS = (
    Option("num_perm", "--num-perm", "NUM_PERM", "MinHash permutations of the article signature", kind=int),
    Option(
        "passage_index",
        "--passage-index",
        "PASSAGE_INDEX",
        "sentence candidates: rare-words (pairs of rare words) or minhash (sentence LSH)",
        choices=("rare-words", "minhash"),
    ),
    Option(
        "passage_stored_words",
        "--passage-stored-words",
        "PASSAGE_STORED_WORDS",
        "rare words keyed per sentence",
        kind=int,
    ),
    Option(
        "passage_query_words",
        "--passage-query-words",
        "PASSAGE_QUERY_WORDS",
        "rare words looked up per sentence",
        kind=int,
    ),
    Option(
        "passage_num_perm",
        "--passage-num-perm",
        "PASSAGE_NUM_PERM",
        "minhash passage index: permutations of sentence signatures (0 = --num-perm)",
        kind=int,
    ),
    Option("shingle_size", "--shingle-size", "SHINGLE_SIZE", "words per shingle", kind=int),
    Option("document_threshold", "--document-threshold", "DOCUMENT_THRESHOLD", "article LSH threshold", kind=float),
    Option(
        "passage_threshold",
        "--passage-threshold",
        "PASSAGE_THRESHOLD",
        "minhash passage index: sentence LSH threshold",
        kind=float,
    ),
    Option("max_text_chars", "--max-text-chars", "MAX_TEXT_CHARS", "longest text accepted", kind=int),
    Option(
        "verify_meaning",
        "--verify-meaning",
        "VERIFY_MEANING",
        "decide sentence pairs that words leave undecided by their meaning (a sentence encoder)",
        kind=bool,
    ),
    Option(
        "cross_language",
        "--cross-language",
        "CROSS_LANGUAGE",
        "find articles in other languages (translations, translated quotes) by their meaning",
        kind=bool,
    ),
    Option(
        "semantic",
        "--semantic",
        "SEMANTIC",
        "also match sentences by meaning; needs pip install 'wiretrace[semantic]'",
        kind=bool,
    ),
)


def field_default(cls: type, option: Option) -> Any:
    if option.default is not None:
        return option.default
    for item in fields(cls):
        if item.name == option.field:
            if item.default is not MISSING:
                return item.default
            factory: Any = item.default_factory
            return factory()
    raise KeyError(option.field)


def resolve(
    cls: type[T],
    options: Sequence[Option],
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    **extra: Any,
) -> tuple[T, frozenset[str]]:
    """Settings of type ``cls`` from flag values (``given``: field -> value, None if absent), then
    the environment, then defaults; and the fields that were set explicitly (flag or variable)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    explicit: set[str] = set()
    for option in options:
        value = given.get(option.field)
        if value is None and f"WIRETRACE_{option.env}" in environ:
            value = option.parse(environ[f"WIRETRACE_{option.env}"])
        if value is None:
            values[option.field] = field_default(cls, option)
        else:
            values[option.field] = value
            explicit.add(option.field)
    return cls(**values, **extra), frozenset(explicit)


def env(name: str, default: str) -> str:
    """A variable the CLI reads outside the settings (``WIRETRACE_SERVER``, log options)."""
    return os.environ.get(f"WIRETRACE_{name}", default)
