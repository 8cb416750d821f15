"""Tokenising and sentence splitting that keep offsets into the original text.

Normalisation (Unicode NFKC, case folding, punctuation and whitespace folding)
is applied per token, so every token still knows where it stands in the text
as it was sent: reported passages can carry exact character offsets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# A token is a run of word characters in any script; inner . , ' ’ keep it together,
# so numbers keep their separators ("3,000", "2.5") and "Kazakhstan's" stays one word.
_TOKEN_RE = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
_THOUSANDS_RE = re.compile(r"(?<=\d)[,.](?=\d{3}(?:\D|$))")
# Sentence ends: . ! ? (optionally followed by a closing quote/bracket), then white space
# (group 1, the boundary) and something that can start a sentence. Line breaks always end
# one: see :func:`split_sentences`.
_SENTENCE_END_RE = re.compile(r"[.!?][\"'”’»)\]]?(\s+)(?=[\"'“‘«(\[]?[^\W_a-z])", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised token and its [start, end) span in the original text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Span:
    """A [start, end) span of the original text."""

    start: int
    end: int


@lru_cache(maxsize=65536)
def normalise_token(raw: str) -> str:
    """NFKC + case fold; apostrophes dropped, thousands separators removed ("3,000" -> "3000").

    What NFKC turns into punctuation ("½" -> "1⁄2") is dropped, so the result is
    again exactly one token and normalising is idempotent.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold())
    folded = "".join(m.group() for m in _TOKEN_RE.finditer(folded))
    if folded[:1].isdigit():
        folded = _THOUSANDS_RE.sub("", folded)
    return folded.replace("'", "").replace("’", "")


def normalise(text: str) -> str:
    """The normalised form of a text: its tokens joined by single spaces."""
    return " ".join(t.text for t in tokenize(text))


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text``; spans are shifted by ``offset`` (for tokenising a slice)."""
    tokens = []
    for match in _TOKEN_RE.finditer(text):
        normalised = normalise_token(match.group())
        if normalised:
            tokens.append(Token(normalised, match.start() + offset, match.end() + offset))
    return tokens


def words(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """Normalised tokens of ``text[start:end]`` without their spans (the fast path for shingling).

    Tokens never straddle a sentence boundary, so the words of a whole text are the
    words of its sentences, in order.
    """
    found = _TOKEN_RE.findall(text, start, len(text) if end is None else end)
    return [n for n in map(normalise_token, found) if n]


def split_sentences(text: str) -> list[Span]:
    """Sentence spans, trimmed of surrounding white space; empty ones are dropped.

    A boundary is a whole run of white space: after a sentence end, or holding a line
    break. Line breaks are found with ``str.find`` rather than a regex alternative, which
    would be tried at every position of the text.
    """
    boundaries = {match.start(1): match.end(1) for match in _SENTENCE_END_RE.finditer(text)}
    newline = text.find("\n")
    while newline >= 0:
        start, end = newline, newline + 1
        while start > 0 and text[start - 1].isspace():
            start -= 1
        while end < len(text) and text[end].isspace():
            end += 1
        boundaries[start] = end
        newline = text.find("\n", end)
    spans: list[Span] = []
    start = 0
    for boundary_start in sorted(boundaries):
        _append_trimmed(text, start, boundary_start, spans)
        start = boundaries[boundary_start]
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end))
