"""Decoded article records, kept by a store whose only writer is this process.

Every later copy of a syndicated story is verified against the same stored copies: without a
cache each of them is decoded again for every copy (51,800 decodes for 1,200 WMT articles). A
record changes only by a delete or a replace, both of which go through the store's ``apply``,
which forgets the ids it writes; so a kept record is always what the store holds.

Redis keeps none: replicas write one prefix, and a record another replica replaced would be
served stale. (A kept record could be checked by its ``seq``, unique per write across replicas,
in the read's one round trip; not done yet.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from wiretrace.core.ports import ArticleRecord

# As many as the matcher keeps features of (``Matcher``'s 4,096). A decoded WMT article takes
# about 14 KB (text, bucket keys, stored features): 56 MB at most. On 8,000 articles of
# bench/realistic_corpus.py, 2,048 records decode 44,080 times, 4,096 12,311, 8,192 6,984 (each once).
DEFAULT_RECORDS = 4096


class RecordCache:
    """The most recently read records, ``size`` at most (the caller serialises access)."""

    def __init__(self, size: int = DEFAULT_RECORDS) -> None:
        self._size = size
        self._records: OrderedDict[str, ArticleRecord] = OrderedDict()

    def take(self, article_ids: Iterable[str]) -> tuple[dict[str, ArticleRecord], list[str]]:
        """(the kept records of the ids, the ids not kept, each once)."""
        found: dict[str, ArticleRecord] = {}
        missing: list[str] = []
        records = self._records
        for article_id in article_ids:
            record = records.get(article_id)
            if record is not None:
                records.move_to_end(article_id)
                found[article_id] = record
            elif article_id not in found:
                missing.append(article_id)
        return found, list(dict.fromkeys(missing))

    def keep(self, records: Mapping[str, ArticleRecord]) -> None:
        self._records.update(records)
        while len(self._records) > self._size:
            self._records.popitem(last=False)

    def forget(self, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            self._records.pop(article_id, None)

    def clear(self) -> None:
        self._records.clear()
