"""Typed errors built from gRPC statuses (with the server's ErrorInfo reason)."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status


class WiretraceError(Exception):
    """A call failed; ``code`` is the canonical status, ``reason`` the server's UPPER_SNAKE reason."""

    def __init__(self, code: grpc.StatusCode, message: str, reason: str = "") -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.reason = reason or code.name


class InvalidArgument(WiretraceError): ...


class NotFound(WiretraceError): ...


class AlreadyExists(WiretraceError): ...


class ResourceExhausted(WiretraceError): ...


class Unauthenticated(WiretraceError): ...


class PermissionDenied(WiretraceError): ...


class Unavailable(WiretraceError): ...


class DeadlineExceeded(WiretraceError): ...


class FailedPrecondition(WiretraceError): ...


class Cancelled(WiretraceError): ...


class Internal(WiretraceError): ...


_BY_CODE: dict[grpc.StatusCode, type[WiretraceError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.INTERNAL: Internal,
}
_CODE_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def error_for(code: grpc.StatusCode, message: str, reason: str = "") -> WiretraceError:
    return _BY_CODE.get(code, WiretraceError)(code, message, reason)


def from_rpc_error(error: grpc.RpcError) -> WiretraceError:
    """The typed error for a failed call, with the ErrorInfo reason when the server sent one."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    reason = ""
    try:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except (ValueError, AttributeError):
        status = None
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                reason = info.reason
    return error_for(code, message or code.name, reason)


def from_ingest_error(code: int, reason: str, message: str) -> WiretraceError:
    """The typed error for one rejected article of an ingest stream."""
    return error_for(_CODE_BY_NUMBER.get(code, grpc.StatusCode.UNKNOWN), message, reason)
