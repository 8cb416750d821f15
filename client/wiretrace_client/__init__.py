"""Python client for the wiretrace service: typed methods, dataclasses, typed errors."""

from wiretrace_client.client import Client, IngestItem
from wiretrace_client.errors import (
    AlreadyExists,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    WiretraceError,
)
from wiretrace_client.models import (
    Article,
    ArticleInput,
    Cluster,
    ClusterMember,
    IngestResult,
    LineageEdge,
    Match,
    SharedPassage,
    Stats,
)

__all__ = [
    "AlreadyExists",
    "Article",
    "ArticleInput",
    "Cancelled",
    "Client",
    "Cluster",
    "ClusterMember",
    "DeadlineExceeded",
    "FailedPrecondition",
    "IngestItem",
    "IngestResult",
    "Internal",
    "InvalidArgument",
    "LineageEdge",
    "Match",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "SharedPassage",
    "Stats",
    "Unauthenticated",
    "Unavailable",
    "WiretraceError",
]
