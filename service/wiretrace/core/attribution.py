"""Explicit attributions in a text: "according to TASS", "citing Khabar 24", "Reuters reported".

Lineage prefers, among earlier articles sharing text with a child, one whose outlet the child
names as its source; these patterns find the names.
"""

from __future__ import annotations

import re

_NAME = r"([A-Z][\w&.'-]*(?:[ -](?:[A-Z0-9][\w&.'-]*))*)"
_PATTERNS = (
    re.compile(
        rf"\b(?i:according to|citing|cited by|quoted by|reported by|quoting|via|courtesy of)\s+(?i:the\s+)?{_NAME}"
    ),
    re.compile(rf"\b{_NAME}\s+(?:reported|reports|said|says|quoted|news agency|correspondents?)\b"),
    re.compile(rf"\(\s*{_NAME}\s*\)"),  # datelines: "ALMATY (Reuters) -"
    re.compile(rf"©\s*{_NAME}"),
)
_GENERIC = frozenset({"the", "he", "she", "it", "they", "we", "officials", "police", "president", "witnesses"})


def attributions(text: str) -> set[str]:
    """Names the text credits as sources, case-folded."""
    found: set[str] = set()
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            name = match.group(1).strip(" .,-'").casefold()
            if len(name) > 2 and name not in _GENERIC:
                found.add(name)
    return found


def credits(child_text: str, parent_source: str) -> str | None:
    """The attribution in the child's text that names the parent's outlet, if any."""
    return credited(attributions(child_text), parent_source)


def credited(names: set[str], parent_source: str) -> str | None:
    """The one of a child's attributions (:func:`attributions`, found once per child) that names
    the parent's outlet, if any."""
    outlet = parent_source.casefold()
    if not outlet:
        return None
    for name in sorted(names):
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", outlet):
            return name
    return None
