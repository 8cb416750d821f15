"""Page sizes and opaque page tokens of the List methods (AIP-158)."""

from __future__ import annotations

import base64

from wiretrace.core.errors import InvalidArgument

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


def page_size(requested: int) -> int:
    """The page size to serve: 0 means the default, larger than the cap means the cap."""
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_token(token: str, kind: str) -> str | None:
    """The position a token of ``kind`` names; None for the first page."""
    if not token:
        return None
    try:
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value or (kind == "a" and not _is_sequence_number(value)):
        raise InvalidArgument("page_token is invalid; pass the next_page_token of the previous page")
    return value


def _is_sequence_number(value: str) -> bool:
    # ASCII digits only ("²".isdigit() is true) and within SQLite's signed 64-bit integers.
    return value.isascii() and value.isdigit() and int(value) < 1 << 63
