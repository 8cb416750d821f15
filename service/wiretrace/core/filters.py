"""Match filters: which matched articles a desk wants to see (time window, outlets).

A filter decides on the *matched* article: its time (``publish_time``, else its ingest time,
the same stand-in lineage uses, so an article without a publish time is never silently
dropped or kept by accident) and its outlet (``source``, compared case-insensitively as
lineage's same-outlet rule does). :meth:`MatchFilter.bind` fixes what a filter is relative
to (the query article's own time and outlet) and returns the predicate the matcher applies
to candidates before verifying them, so that a filter never costs a match that exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from wiretrace.core.errors import InvalidArgument
from wiretrace.core.model import Article

Admits = Callable[[Article], bool]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outlet(name: str) -> str:
    return name.strip().casefold()


def _outlets(names: Iterable[str]) -> frozenset[str]:
    return frozenset(_outlet(name) for name in names if name.strip())


@dataclass(frozen=True, slots=True)
class MatchFilter:
    """Every condition set must hold. ``since`` is inclusive, ``until`` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    # Matched articles within this many days (either side) of the query's own time; 0 = none.
    window_days: int = 0
    sources: frozenset[str] = frozenset()
    excluded_sources: frozenset[str] = frozenset()
    other_outlets: bool = False

    def __post_init__(self) -> None:
        """Refuses (INVALID_ARGUMENT, saying which field) a filter that cannot be meant."""
        if self.window_days < 0:
            raise InvalidArgument(f"window_days must not be negative, got {self.window_days}")
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None:
                object.__setattr__(self, name, _aware(moment))
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidArgument(f"until ({self.until.isoformat()}) must be after since ({self.since.isoformat()})")
        object.__setattr__(self, "sources", _outlets(self.sources))
        object.__setattr__(self, "excluded_sources", _outlets(self.excluded_sources))

    def __bool__(self) -> bool:
        return bool(
            self.since or self.until or self.window_days or self.sources or self.excluded_sources or self.other_outlets
        )

    def bind(self, own_time: datetime, own_source: str) -> Admits:
        """The predicate for one query, whose article appeared at ``own_time`` from ``own_source``."""
        earliest, latest = self.since, self.until
        window = timedelta(days=self.window_days)
        own = _aware(own_time)
        own_outlet = _outlet(own_source)

        def admits(article: Article) -> bool:
            appeared = _aware(article.lineage_time)
            outlet = _outlet(article.source)
            return (
                (earliest is None or appeared >= earliest)
                and (latest is None or appeared < latest)
                and (not self.window_days or abs(appeared - own) <= window)
                and (not self.sources or outlet in self.sources)
                and outlet not in self.excluded_sources
                and not (self.other_outlets and own_outlet and outlet == own_outlet)
            )

        return admits
