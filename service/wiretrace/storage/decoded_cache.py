"""Decoded values (article records, an article's own match edges) kept by a store whose only
writer is this process.

Every later copy of a syndicated story is verified against the same stored copies: without a
cache each of them is decoded again for every copy (51,800 record decodes for 1,200 WMT
articles), and the stored matches of the stories a quote is found in are decoded again for
every article that quotes them. A value changes only through the store's ``apply``, which
forgets what it writes; so a kept value is always what the store holds.

Redis keeps none: replicas write one prefix, and a record another replica replaced would be
served stale. (A kept record could be checked by its ``seq``, unique per write across replicas,
in the read's one round trip; not done yet.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

# As many as the matcher keeps features of (``Matcher``'s 4,096). A decoded WMT article takes
# about 14 KB (text, bucket keys, stored features): 56 MB at most. On 8,000 articles of
# bench/realistic_corpus.py, 2,048 records decode 44,080 times, 4,096 12,311, 8,192 6,984 (each once).
DEFAULT_SIZE = 4096

Value = TypeVar("Value")


class DecodedCache(Generic[Value]):
    """The most recently read values by article id, ``size`` at most (the caller serialises access)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._values: OrderedDict[str, Value] = OrderedDict()

    def take(self, article_ids: Iterable[str]) -> tuple[dict[str, Value], list[str]]:
        """(the kept values of the ids, the ids not kept, each once)."""
        found: dict[str, Value] = {}
        missing: list[str] = []
        values = self._values
        for article_id in article_ids:
            value = values.get(article_id)
            if value is not None:
                values.move_to_end(article_id)
                found[article_id] = value
            else:
                missing.append(article_id)
        return found, list(dict.fromkeys(missing))

    def keep(self, values: Mapping[str, Value]) -> None:
        self._values.update(values)
        while len(self._values) > self._size:
            self._values.popitem(last=False)

    def forget(self, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            self._values.pop(article_id, None)

    def clear(self) -> None:
        self._values.clear()
