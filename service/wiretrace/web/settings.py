"""What ``wiretrace web`` needs to know, and its options, declared the way :mod:`wiretrace.config`
declares the server's: one :class:`~wiretrace.config.Option` per setting, with its variable."""

from __future__ import annotations

from dataclasses import dataclass

from wiretrace.config import Option
from wiretrace.core.namespace import DEFAULT_NAMESPACE
from wiretrace.core.paging import MAX_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class WebSettings:
    # The wiretrace server (gRPC), as the client commands name it (--server, WIRETRACE_SERVER).
    server: str = "127.0.0.1:50051"
    # HOST:PORT the web view serves HTTP on (port 0: any free port).
    listen: str = "127.0.0.1:8080"
    # Deadline of each call to the server, seconds.
    timeout: float = 30.0
    # The namespace (newsroom) whose articles the view shows (--namespace, WIRETRACE_NAMESPACE).
    namespace: str = DEFAULT_NAMESPACE
    # Cluster members per lineage page.
    page_size: int = 50
    # Matches shown for an article or a pasted text.
    max_matches: int = 20
    # Largest request body accepted (a pasted text, form-encoded).
    max_body_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {self.page_size}")
        if self.max_matches < 1:
            raise ValueError(f"max_matches must be at least 1, got {self.max_matches}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes}")
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"listen must be HOST:PORT, got {self.listen!r}")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


WEB_OPTIONS = (
    Option("listen", "--listen", "WEB_LISTEN", "HOST:PORT the web view serves HTTP on"),
    Option("page_size", "--page-size", "WEB_PAGE_SIZE", "cluster members per lineage page", kind=int),
    Option("max_matches", "--max-matches", "WEB_MAX_MATCHES", "matches shown for an article or a text", kind=int),
    Option("max_body_bytes", "--max-body-bytes", "WEB_MAX_BODY_BYTES", "largest request body (pasted text)", kind=int),
)
