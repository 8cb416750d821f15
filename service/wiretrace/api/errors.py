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

STATUS_BY_ERROR: dict[type[errors.WiretraceError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ArticleTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.ArticleNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ClusterNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ArticleAlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.IndexMismatch: grpc.StatusCode.FAILED_PRECONDITION,
    errors.StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    errors.StoreNotFound: grpc.StatusCode.FAILED_PRECONDITION,
    errors.StoreBusy: grpc.StatusCode.FAILED_PRECONDITION,
    errors.InvalidStore: grpc.StatusCode.FAILED_PRECONDITION,
    SemanticUnavailable: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_code_of(error: errors.WiretraceError) -> grpc.StatusCode:
    for error_type in type(error).__mro__:
        if issubclass(error_type, errors.WiretraceError) and error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return grpc.StatusCode.INTERNAL


def to_status(code: grpc.StatusCode, reason: str, message: str) -> grpc.Status:
    """A rich status: canonical code, message and an ErrorInfo detail."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return rpc_status.to_status(status)


def status_of(error: errors.WiretraceError) -> grpc.Status:
    return to_status(status_code_of(error), error.reason, error.message)


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, reason: str, message: str) -> None:
    context.abort_with_status(to_status(code, reason, message))
