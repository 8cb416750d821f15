"""Checks on what clients send, with messages that say how to fix the input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from wiretrace.core.errors import ArticleTooLarge, InvalidArgument
from wiretrace.core.model import ArticleDraft
from wiretrace.core.text import _TOKEN_RE, normalise_token

ARTICLE_ID_MAX = 128
ARTICLE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# C0 control characters other than tab, newline and carriage return, DEL, and lone surrogates: binary
# garbage. C1 controls (U+0080-U+009F) are left alone: they are common mojibake in real feeds.
_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
# BCP 47 tags in use are far shorter; 35 is the longest the RFC asks implementations to keep.
LANGUAGE_MAX = 35
# At most this much of an offending value is quoted back in an error message.
QUOTED_MAX = 80
_FIELD_LIMITS = {"title": 2_000, "source": 256, "url": 4_096}
EARLIEST_PUBLISH_TIME = datetime(1800, 1, 1, tzinfo=UTC)
LATEST_PUBLISH_TIME = datetime(2200, 1, 1, tzinfo=UTC)


def quoted(value: str, limit: int = QUOTED_MAX) -> str:
    """``value`` as a Python literal, cut to its first ``limit`` characters: error messages
    name what was wrong without echoing a client's whole input."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def has_words(text: str) -> bool:
    """Whether the tokeniser finds at least one word in ``text`` (stops at the first)."""
    return any(normalise_token(match.group()) for match in _TOKEN_RE.finditer(text))


def validate_article_id(article_id: str) -> str:
    if not article_id:
        raise InvalidArgument("article_id is required", reason="INVALID_ARTICLE_ID")
    if len(article_id) > ARTICLE_ID_MAX or not ARTICLE_ID_RE.fullmatch(article_id):
        raise InvalidArgument(
            f"article_id {quoted(article_id, 40)} is invalid: use 1-{ARTICLE_ID_MAX} characters from [A-Za-z0-9._:-], "
            "starting with a letter or digit",
            reason="INVALID_ARTICLE_ID",
        )
    return article_id


def validate_text(text: str, max_chars: int, field: str = "text") -> None:
    if not text or not text.strip():
        raise InvalidArgument(f"{field} is required and must not be blank", reason="EMPTY_TEXT")
    if len(text) > max_chars:
        raise ArticleTooLarge(
            f"{field} has {len(text)} characters; the maximum is {max_chars} (server flag --max-text-chars)"
        )
    bad = _FORBIDDEN_RE.search(text)
    if bad:
        raise InvalidArgument(
            f"{field} contains control character U+{ord(bad.group()):04X} at offset {bad.start()}; "
            "strip control characters other than tab and newline",
            reason="INVALID_TEXT",
        )
    if not has_words(text):
        raise InvalidArgument(
            f"{field} has no words (only punctuation, symbols or invisible characters): nothing to index",
            reason="EMPTY_TEXT",
        )


def validate_draft(draft: ArticleDraft, max_chars: int) -> None:
    validate_article_id(draft.article_id)
    validate_text(draft.text, max_chars)
    for field, limit in _FIELD_LIMITS.items():
        value = getattr(draft, field)
        if len(value) > limit:
            raise InvalidArgument(
                f"{field} has {len(value)} characters; the maximum is {limit}", reason="INVALID_FIELD"
            )
        if _FORBIDDEN_RE.search(value):
            raise InvalidArgument(f"{field} contains control characters", reason="INVALID_FIELD")
    language = draft.language
    if language and (len(language) > LANGUAGE_MAX or not _LANGUAGE_RE.fullmatch(language)):
        raise InvalidArgument(
            f"language {quoted(language)} is not a BCP-47 tag such as 'en' or 'pt-BR' "
            f"(at most {LANGUAGE_MAX} characters from [A-Za-z0-9-])",
            reason="INVALID_FIELD",
        )
    moment = draft.publish_time
    if moment is not None:
        if moment.tzinfo is None:
            raise InvalidArgument("publish_time must carry a time zone", reason="INVALID_FIELD")
        if not EARLIEST_PUBLISH_TIME <= moment < LATEST_PUBLISH_TIME:
            raise InvalidArgument(
                f"publish_time {moment.isoformat()} is out of range "
                f"({EARLIEST_PUBLISH_TIME.year}-{LATEST_PUBLISH_TIME.year})",
                reason="INVALID_FIELD",
            )
