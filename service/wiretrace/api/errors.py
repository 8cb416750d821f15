"""The one table from domain errors to canonical gRPC status codes.

Errors go out as ``google.rpc.Status`` with an ``ErrorInfo`` detail (reason in
UPPER_SNAKE_CASE, domain ``wiretrace.v1``), so clients can read them back with
``grpc_status.rpc_status.from_call``.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from wiretrace.core import errors
from wiretrace.core.semantic import SemanticUnavailable

ERROR_DOMAIN = "wiretrace.v1"
# A status message travels in the trailing metadata (twice: grpc-message and the details), which
# gRPC caps at 16 KiB; a message that quotes a client's input could exceed that and the client
# would get RESOURCE_EXHAUSTED instead of the error. Messages are cut to this many UTF-8 bytes.
MAX_MESSAGE_BYTES = 1_000

# Storage faults follow google.rpc.Code (AIP-193): a full disk is RESOURCE_EXHAUSTED ("the entire
# file system is out of space"); read-only or immutable data files are FAILED_PRECONDITION, not
# UNAVAILABLE, because retrying the call cannot help until an operator makes them writable (the
# rule for rmdir on a non-empty directory); a backend that cannot be reached for now is UNAVAILABLE
# (retry); damaged files are DATA_LOSS. Health turns NOT_SERVING while writes fail (server.py).
STATUS_BY_ERROR: dict[type[errors.WiretraceError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ArticleTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.ArticleNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ClusterNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ArticleAlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.IndexMismatch: grpc.StatusCode.FAILED_PRECONDITION,
    errors.StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    errors.StorageFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.StorageReadOnly: grpc.StatusCode.FAILED_PRECONDITION,
    errors.StoreCorrupt: grpc.StatusCode.DATA_LOSS,
    errors.StoreNotFound: grpc.StatusCode.FAILED_PRECONDITION,
    errors.StoreBusy: grpc.StatusCode.FAILED_PRECONDITION,
    errors.InvalidStore: grpc.StatusCode.FAILED_PRECONDITION,
    errors.NamespaceDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.TooManyNamespaces: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.NamespaceNotFound: grpc.StatusCode.NOT_FOUND,
    SemanticUnavailable: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_code_of(error: errors.WiretraceError) -> grpc.StatusCode:
    for error_type in type(error).__mro__:
        if issubclass(error_type, errors.WiretraceError) and error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return grpc.StatusCode.INTERNAL


def clip_message(message: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """``message`` if it fits in ``limit`` UTF-8 bytes, else its longest prefix that does, marked as cut."""
    encoded = message.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return message
    marker = f"... ({len(message)} characters, cut)"
    return encoded[: limit - len(marker)].decode("utf-8", "ignore") + marker


def to_status(code: grpc.StatusCode, reason: str, message: str) -> grpc.Status:
    """A rich status: canonical code, message (cut to :data:`MAX_MESSAGE_BYTES`) and an ErrorInfo detail."""
    message = clip_message(message)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return rpc_status.to_status(status)


def status_of(error: errors.WiretraceError) -> grpc.Status:
    return to_status(status_code_of(error), error.reason, error.message)


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, reason: str, message: str) -> None:
    context.abort_with_status(to_status(code, reason, message))
