"""The HTTP server of ``wiretrace web``: the standard library's ThreadingHTTPServer, the router of
:mod:`wiretrace.web.views`, and the one table from failures to status pages.

Nothing reaches a browser or the terminal as a traceback: an unknown article is a 404 page, a
server that cannot be reached a 503 page, anything unexpected a 500 page and one log line.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wiretrace_client import (
    Client,
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
    WiretraceError,
)

from wiretrace.web.layout import SCRIPT_HASH
from wiretrace.web.pages import error_page
from wiretrace.web.routing import HttpError, Request, Response, Router
from wiretrace.web.settings import WebSettings
from wiretrace.web.views import Views

log = logging.getLogger("wiretrace.web")

# No script but the view's own may run, whatever a text holds; styles are inline; forms post back here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src '{SCRIPT_HASH}'; style-src 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def error_response(error: Exception, request: Request, server: str) -> Response:
    """The status page for a failure: the one place where errors become HTTP statuses."""
    status, message = _status(error, request)
    return Response(status, error_page(status, message, server))


def _status(error: Exception, request: Request) -> tuple[int, str]:
    if isinstance(error, HttpError):
        return error.status, error.message
    if isinstance(error, NotFound) or (isinstance(error, InvalidArgument) and error.reason == "INVALID_ARTICLE_ID"):
        # An id that cannot be valid names no article either.
        return 404, _one_line(error.message)
    if isinstance(error, Unavailable | DeadlineExceeded):
        return 503, f"The wiretrace server did not answer ({error.code.name}); try again later."
    if isinstance(error, InvalidArgument):
        return 400, _one_line(error.message)
    if isinstance(error, ResourceExhausted):
        return 413, _one_line(error.message)
    if isinstance(error, WiretraceError):
        return 502, f"The wiretrace server refused: {error.reason}: {_one_line(error.message)}"
    log.error("%s %s failed: %s: %s", request.method, request.path, type(error).__name__, _one_line(str(error)))
    return 500, "Something went wrong on our side; it has been logged."


def _one_line(text: str, width: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class WebServer(ThreadingHTTPServer):
    """Threads answer requests; one client (a gRPC channel, safe across threads) serves them all."""

    daemon_threads = True

    def __init__(self, settings: WebSettings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.router: Router = Views(client, settings).router()
        if ":" in settings.host:
            self.address_family = socket.AF_INET6
        super().__init__((settings.host, settings.port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def respond(self, request: Request) -> Response:
        try:
            return self.router.dispatch(request)
        except Exception as error:  # every failure becomes a page, never a traceback
            return error_response(error, request, self.settings.server)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that went away mid-answer, or a malformed request line: one line, no traceback.
        log.info("connection from %s ended abnormally", client_address)


class _Handler(BaseHTTPRequestHandler):
    server: WebServer
    protocol_version = "HTTP/1.1"
    server_version = "wiretrace-web"
    timeout = 60  # seconds a kept-alive connection may stay silent

    def do_GET(self) -> None:
        self._answer(self.server.respond(self._request("GET", {})))

    def do_HEAD(self) -> None:
        self._answer(self.server.respond(self._request("GET", {})), body=False)

    def do_POST(self) -> None:
        try:
            form = self._form()
        except HttpError as error:
            request = self._request("POST", {})
            self.close_connection = True
            self._answer(error_response(error, request, self.server.settings.server))
            return
        self._answer(self.server.respond(self._request("POST", form)))

    def _request(self, method: str, form: Mapping[str, str]) -> Request:
        url = urlsplit(self.path)
        return Request(method, url.path or "/", _first(parse_qs(url.query)), form)

    def _form(self) -> dict[str, str]:
        length_header = self.headers.get("Content-Length", "0")
        length = int(length_header) if length_header.isascii() and length_header.isdigit() else -1
        if length < 0:
            raise HttpError(400, "A POST needs a Content-Length.")
        if length > self.server.settings.max_body_bytes:
            limit = self.server.settings.max_body_bytes
            raise HttpError(413, f"The text is too large ({length:,} bytes; at most {limit:,}).")
        if length == 0:
            return {}
        body = self.rfile.read(length)
        kind = self.headers.get_content_type()
        if kind != "application/x-www-form-urlencoded":
            raise HttpError(400, f"Send the form as application/x-www-form-urlencoded, not {kind}.")
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "The form is not UTF-8.") from None
        return _first(parse_qs(decoded, keep_blank_values=True))

    def _answer(self, response: Response, body: bool = True) -> None:
        payload = response.body.encode("utf-8", errors="replace")
        self.send_response(response.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in {**SECURITY_HEADERS, **response.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _first(values: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: items[0] for name, items in values.items() if items}


def create_web_server(settings: WebSettings) -> WebServer:
    """A bound, not yet serving, web server with its client (call ``serve_forever``)."""
    client = Client(settings.server, timeout=settings.timeout, namespace=settings.namespace)
    try:
        return WebServer(settings, client)
    except BaseException:
        client.close()
        raise


def serve(settings: WebSettings) -> int:
    """Serve until SIGTERM or SIGINT; exit code 0 after a clean shutdown."""
    web = create_web_server(settings)
    print(f"wiretrace web on http://{settings.host}:{web.port}/ (server {settings.server})", flush=True)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=web.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        web.serve_forever(poll_interval=0.2)
    finally:
        web.server_close()
        web.client.close()
    print("wiretrace web stopped", flush=True)
    return 0
