"""The language of a text, when the client does not say: it decides which stored articles are
another language's (found through their gists, :mod:`wiretrace.core.gist`) and which words count."""

from __future__ import annotations

import threading

# Enough text to tell the language, little enough to be cheap on a long article.
_SAMPLE_CHARS = 2000

# The package's identifier is created on first use; one caller at a time creates and uses it.
_lock = threading.Lock()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language ("en", "ja", ...), "" for text with no letters.

    py3langid (langid.py's model, shipped inside the package: no download) over the first
    characters; it tells 97 languages apart, at well under a millisecond an article.
    """
    sample = text[:_SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return ""
    import py3langid

    with _lock:
        code: str = py3langid.classify(sample)[0]
    return code
