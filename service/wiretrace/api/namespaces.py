"""How a call names its namespace, and the names it may use inside it.

Every call carries its namespace in the ``x-wiretrace-namespace`` request header (absent: the
default namespace, so clients from before namespaces keep working unchanged). A header rather
than a request field: it reaches every method alike, the ingest stream and the calls without a
name (Create, List, FindMatches on a text, GetStats), without touching their messages, and the
auth interceptor can check it before any message is read, as Google's routing header
``x-goog-request-params`` carries a request's parent (AIP-4222). Name fields take the full
AIP-122 name, ``namespaces/{namespace}/articles/{article_id}``, or the name relative to the call's
namespace (``articles/{article_id}``, as before); a full name of another namespace than the call's
is INVALID_ARGUMENT. Names in responses stay relative to the call's namespace, so that every
client and script that reads ``articles/{id}`` goes on reading the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from wiretrace.core.errors import InvalidArgument
from wiretrace.core.namespace import DEFAULT_NAMESPACE, validate_namespace
from wiretrace.core.validation import quoted

NAMESPACE_HEADER = "x-wiretrace-namespace"
NAMESPACES = "namespaces/"


def call_namespace(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The namespace a call's metadata names (INVALID_NAMESPACE for a bad one), else the default."""
    for key, value in metadata or ():
        if key == NAMESPACE_HEADER:
            text = value if isinstance(value, str) else value.decode("utf-8", "replace")
            return validate_namespace(text)
    return DEFAULT_NAMESPACE


def relative_name(name: str, namespace: str, field: str = "name") -> str:
    """``name`` without its ``namespaces/{namespace}/`` part, which must be the call's namespace."""
    if not name.startswith(NAMESPACES):
        return name
    named, _, rest = name[len(NAMESPACES) :].partition("/")
    if named != namespace:
        raise InvalidArgument(
            f"{field} {quoted(name)} is in namespace {quoted(named)}, but the call is in namespace "
            f"{namespace!r}: send the header {NAMESPACE_HEADER}: {named} (Client(namespace=...), --namespace)"
        )
    return rest
