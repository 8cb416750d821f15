"""Cross-cutting concerns as server interceptors: request ids and access logs,
Prometheus metrics, bearer-token authentication, and requests that are not valid protobuf."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from wiretrace.api.errors import abort, status_of, to_status
from wiretrace.api.metrics import LATENCY, REQUESTS
from wiretrace.api.namespaces import call_namespace
from wiretrace.core.errors import NamespaceDenied, WiretraceError
from wiretrace.core.namespace import validate_namespace

log = logging.getLogger("wiretrace.access")

# Methods that stay open without a token: load balancers and orchestrators probe them.
OPEN_METHODS_PREFIX = "/grpc.health.v1.Health/"
# The methods whose calls work in a namespace (reflection and health have none).
NAMESPACED_METHODS_PREFIX = "/wiretrace.v1.WiretraceService/"

Behavior = Callable[..., Any]

if TYPE_CHECKING:
    _Interceptor = grpc.ServerInterceptor[Any, Any]
else:  # not subscriptable at run time
    _Interceptor = grpc.ServerInterceptor


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _request_id(given: str | bytes | None) -> str:
    """The caller's request id when it is a plain short token, else a new one: whatever a client
    puts there reaches the logs, so it is never logged verbatim."""
    if isinstance(given, str) and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _code_of(context: grpc.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    code = getattr(context, "code", lambda: None)()
    if isinstance(code, grpc.StatusCode):
        return code
    return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN


def _wrap(
    handler: grpc.RpcMethodHandler[Any, Any], around: Callable[[Behavior, bool], Behavior]
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same handler with each behaviour wrapped; streaming responses stay streaming."""
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            around(handler.unary_unary, False), handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            around(handler.unary_stream, True), handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            around(handler.stream_unary, False), handler.request_deserializer, handler.response_serializer
        )
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(
        around(handler.stream_stream, True), handler.request_deserializer, handler.response_serializer
    )


class ObservabilityInterceptor(_Interceptor):
    """Gives every call a request id (from ``x-request-id`` or new), logs it, counts it and times it."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        request_id = _request_id(metadata.get("x-request-id"))

        def around(behavior: Behavior, streaming: bool) -> Behavior:
            def finish(context: grpc.ServicerContext, started: float, error: BaseException | None) -> None:
                elapsed = time.perf_counter() - started
                code = _code_of(context, error)
                REQUESTS.labels(method, code.name).inc()
                LATENCY.labels(method).observe(elapsed)
                log.info(
                    "rpc %s %s %.1f ms request_id=%s peer=%s",
                    method,
                    code.name,
                    elapsed * 1000,
                    request_id,
                    context.peer(),
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "code": code.name,
                        "duration_ms": round(elapsed * 1000, 3),
                        "peer": context.peer(),
                    },
                )

            if streaming:

                def stream_behavior(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                    started = time.perf_counter()
                    context.set_trailing_metadata((("x-request-id", request_id),))
                    error: BaseException | None = None
                    try:
                        yield from behavior(request, context)
                    except BaseException as raised:
                        error = raised
                        raise
                    finally:
                        finish(context, started, error)

                return stream_behavior

            def unary_behavior(request: Any, context: grpc.ServicerContext) -> Any:
                started = time.perf_counter()
                context.set_trailing_metadata((("x-request-id", request_id),))
                error: BaseException | None = None
                try:
                    return behavior(request, context)
                except BaseException as raised:
                    error = raised
                    raise
                finally:
                    finish(context, started, error)

            return unary_behavior

        return _wrap(handler, around)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A bearer token and the namespaces it may use (None: every namespace)."""

    token: bytes
    namespaces: frozenset[str] | None = None

    def permits(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces


def read_tokens(path: str | Path) -> list[TokenGrant]:
    """Tokens from a file: one per line, optionally followed (after white space) by the namespaces
    it is bound to, e.g. ``s3cret newsroom-a newsroom-b``; a token alone may use every namespace
    (the format before namespaces). Blank lines and ``#`` comments ignored."""
    grants = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        token, *namespaces = words
        try:
            bound = frozenset(validate_namespace(n) for n in namespaces) if namespaces else None
        except WiretraceError as error:
            raise ValueError(f"{path}, line {number}: {error.message}") from None
        grants.append(TokenGrant(token.encode(), bound))
    if not grants:
        raise ValueError(f"{path}: no tokens (one per line)")
    return grants


class BearerTokenInterceptor(_Interceptor):
    """Requires ``authorization: Bearer <token>`` on every method but health checks, and a token
    bound to namespaces is PERMISSION_DENIED on a call in any other namespace."""

    def __init__(self, tokens: Iterable[TokenGrant]) -> None:
        self._grants = list(tokens)

    def _grant(self, presented: str | bytes | None) -> TokenGrant | None:
        if not isinstance(presented, str) or not presented.startswith("Bearer "):
            return None
        candidate = presented[len("Bearer ") :].strip().encode()
        # Compare against every token, in constant time each, so timing tells nothing.
        matched = None
        for grant in self._grants:
            if hmac.compare_digest(candidate, grant.token):
                matched = grant
        return matched

    def _refusal(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.Status | None:
        """Why the call may not go on, or None."""
        metadata = handler_call_details.invocation_metadata
        grant = self._grant(dict(metadata or ()).get("authorization"))
        if grant is None:
            return to_status(
                grpc.StatusCode.UNAUTHENTICATED,
                "UNAUTHENTICATED",
                "missing or invalid bearer token (set WIRETRACE_TOKEN)",
            )
        if grant.namespaces is None or not handler_call_details.method.startswith(NAMESPACED_METHODS_PREFIX):
            return None
        try:
            namespace = call_namespace(metadata)
        except WiretraceError as error:
            return status_of(error)
        if grant.permits(namespace):
            return None
        return status_of(
            NamespaceDenied(
                f"this token may not use namespace {namespace!r} (it is bound to {', '.join(sorted(grant.namespaces))})"
            )
        )

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        if handler_call_details.method.startswith(OPEN_METHODS_PREFIX):
            return continuation(handler_call_details)
        refusal = self._refusal(handler_call_details)
        if refusal is None:
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is None:
            return None

        def deny(behavior: Behavior, streaming: bool) -> Behavior:
            def refuse(request: Any, context: grpc.ServicerContext) -> Any:
                context.abort_with_status(refusal)

            return refuse

        return _wrap(handler, deny)


class _Malformed:
    """What the guarded deserializer returns for bytes that do not parse (never None: gRPC takes
    None for its own failure)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _refuse_malformed(context: grpc.ServicerContext, malformed: _Malformed, what: str) -> None:
    abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        "MALFORMED_REQUEST",
        f"{what} is not a valid protobuf message of this method ({malformed.error}); "
        "strings must be UTF-8 and messages complete",
    )


class MalformedRequestInterceptor(_Interceptor):
    """Bytes that do not parse as the method's request message (invalid UTF-8 in a string field,
    a truncated message, groups nested too deep) are the client's error: INVALID_ARGUMENT with
    reason MALFORMED_REQUEST, instead of gRPC's INTERNAL "Exception deserializing request!" and
    an ERROR log line with a traceback. The handlers behind it never see such a request; on a
    stream, the messages before the bad one are answered, then the stream ends with the error.

    Register it last, so that it sits next to the servicer (inside authentication and logs)."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        deserializer = handler.request_deserializer

        def deserialize(data: bytes) -> Any:
            try:
                return deserializer(data)
            except Exception as error:  # whatever fails to parse a client's bytes is the client's fault
                return _Malformed(error)

        if handler.unary_unary or handler.unary_stream:
            return _replace(handler, deserialize, _guard_unary(handler))
        return _replace(handler, deserialize, _guard_stream(handler))


def _guard_unary(handler: grpc.RpcMethodHandler[Any, Any]) -> Behavior:
    if handler.unary_unary:
        behavior = handler.unary_unary

        def unary_unary(request: Any, context: grpc.ServicerContext) -> Any:
            if isinstance(request, _Malformed):
                _refuse_malformed(context, request, "the request")
            return behavior(request, context)

        return unary_unary
    assert handler.unary_stream is not None
    streaming = handler.unary_stream

    def unary_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if isinstance(request, _Malformed):
            _refuse_malformed(context, request, "the request")
        yield from streaming(request, context)

    return unary_stream


def _guard_stream(handler: grpc.RpcMethodHandler[Any, Any]) -> Behavior:
    def checked(requests: Iterator[Any], found: list[tuple[int, _Malformed]]) -> Iterator[Any]:
        """The requests up to the first malformed one, which ends them (and is remembered)."""
        for index, request in enumerate(requests):
            if isinstance(request, _Malformed):
                found.append((index, request))
                return
            yield request

    if handler.stream_unary:
        behavior = handler.stream_unary

        def stream_unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            found: list[tuple[int, _Malformed]] = []
            response = behavior(checked(requests, found), context)
            if found:
                _refuse_malformed(context, found[0][1], f"message {found[0][0]} of the stream")
            return response

        return stream_unary
    assert handler.stream_stream is not None
    streaming = handler.stream_stream

    def stream_stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        found: list[tuple[int, _Malformed]] = []
        yield from streaming(checked(requests, found), context)
        if found:
            _refuse_malformed(context, found[0][1], f"message {found[0][0]} of the stream")

    return stream_stream


def _replace(
    handler: grpc.RpcMethodHandler[Any, Any], deserializer: Callable[[bytes], Any], behavior: Behavior
) -> grpc.RpcMethodHandler[Any, Any]:
    """``handler`` with another request deserializer and behaviour (of the same kind)."""
    serializer = handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(behavior, deserializer, serializer)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(behavior, deserializer, serializer)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(behavior, deserializer, serializer)
    return grpc.stream_stream_rpc_method_handler(behavior, deserializer, serializer)
