"""wiretrace: text-reuse detection for newsrooms.

The domain core lives in :mod:`wiretrace.core` and storage adapters in
:mod:`wiretrace.storage`; neither imports grpc. :mod:`wiretrace.api` and
:mod:`wiretrace.server` put the core behind the gRPC API in :mod:`wiretrace.v1`.
"""

__version__ = "0.1.0"
