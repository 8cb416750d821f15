"""Namespace names: several newsrooms on one deployment, each with an index of its own.

A namespace is a separate store (see ``StorageSettings.namespace_dir`` and
``namespace_prefix``), so nothing matches, lists or counts across namespaces by
construction. ``default`` is the store as it was before namespaces existed.
"""

from __future__ import annotations

import re

from wiretrace.core.errors import InvalidNamespace
from wiretrace.core.validation import quoted

DEFAULT_NAMESPACE = "default"
NAMESPACE_MAX = 63
# A DNS label (RFC 1123) as AIP-122 asks of resource ids: safe as a directory name and in a Redis key.
NAMESPACE_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def validate_namespace(namespace: str) -> str:
    """``namespace`` if it is a valid name, else InvalidNamespace saying what one looks like."""
    if not NAMESPACE_RE.fullmatch(namespace):
        raise InvalidNamespace(
            f"namespace {quoted(namespace)} is not valid: use 1-{NAMESPACE_MAX} lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit (e.g. 'newsroom-a')"
        )
    return namespace
