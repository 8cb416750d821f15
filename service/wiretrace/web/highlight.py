"""A text as HTML with its shared passages inside ``<mark>`` elements, placed by code-point offsets.

The service's offsets are code points, ``[start, end)``, as Python ``str`` indexes them (not UTF-16
units as JavaScript counts), so the text is cut here, on the server, and every piece is escaped.
A carriage return is written as ``&#13;``: the HTML parser would turn a raw one into a line feed,
and the marked text would no longer be the text the offsets count in.

Passages that overlap are cut where they overlap: each piece of text covered by one or more
passages is one ``<mark>`` whose ``data-passages`` lists them all, so a passage's text is the
concatenation of the marks that list it (exactly one mark when it overlaps nothing). Adjacent
passages stay separate marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Span:
    """A passage to mark: ``[start, end)`` in code points, its kind (``verbatim``, ``variant`` or ``translated``)
    and a short reference (its number) that names it in ``data-passages`` and in the anchor id."""

    start: int
    end: int
    kind: str
    ref: str


def highlight(text: str, spans: Sequence[Span], anchor_prefix: str = "") -> str:
    """``text`` escaped for HTML, with each span marked.

    Offsets outside the text are clamped to it and empty spans are dropped. With an
    ``anchor_prefix``, an empty ``<span id="{anchor_prefix}{ref}">`` stands where each span
    starts, so that a link can point at it.

    >>> highlight("a <b> c", [Span(2, 5, "verbatim", "1")]).replace(' title="passage 1: verbatim"', "")
    'a <mark class="passage verbatim" data-kind="verbatim" data-passages="1">&lt;b&gt;</mark> c'
    """
    size = len(text)
    kept: list[Span] = []
    for span in spans:
        start, end = max(0, min(span.start, size)), max(0, min(span.end, size))
        if start < end:
            clamped = Span(start, end, span.kind, span.ref)
            if clamped not in kept:
                kept.append(clamped)
    if not kept:
        return text_html(text)
    cuts = sorted({0, size, *(s.start for s in kept), *(s.end for s in kept)})
    pieces: list[tuple[int, int, tuple[Span, ...]]] = []
    for start, end in pairwise(cuts):
        covering = tuple(s for s in kept if s.start <= start and end <= s.end)
        if pieces and pieces[-1][2] == covering:
            pieces[-1] = (pieces[-1][0], end, covering)
        else:
            pieces.append((start, end, covering))
    out: list[str] = []
    for start, end, covering in pieces:
        if anchor_prefix:
            starting = (s.ref for s in kept if s.start == start)
            out.extend(f'<span class="anchor" id="{escape(anchor_prefix + ref)}"></span>' for ref in starting)
        piece = text_html(text[start:end])
        out.append(f"{_open(covering)}{piece}</mark>" if covering else piece)
    return "".join(out)


def text_html(text: str) -> str:
    """Text as HTML text content, character for character (carriage returns kept)."""
    return escape(text).replace("\r", "&#13;")


def _open(covering: tuple[Span, ...]) -> str:
    kinds = sorted({s.kind for s in covering})
    classes = " ".join(["passage", *kinds, *(["overlap"] if len(covering) > 1 else [])])
    refs = " ".join(s.ref for s in covering)
    title = "; ".join(f"passage {s.ref}: {s.kind}" for s in covering)
    return (
        f'<mark class="{escape(classes)}" data-kind="{escape("+".join(kinds))}" '
        f'data-passages="{escape(refs)}" title="{escape(title)}">'
    )
