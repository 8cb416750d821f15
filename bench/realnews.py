"""Real news text for the benchmarks, read from ../shared (never copied into the repository).

- :func:`wmt_articles`: the English side of the WMT21 test sets (../shared/eval/wmt21) cut into
  articles of 25 consecutive lines. Every file of a language pair (human references and machine
  translations) is line-aligned, so chunk i of each file is the same story in another version:
  each story exists in 10-21 versions, like a wire story re-published by many outlets.
- :func:`wmt_story`: one such chunk, for the syndication benchmark.
- :func:`bbc_articles`: BBC News stories (../shared/news/bbc.jsonl), unrelated background.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wiretrace_client import ArticleInput

SHARED = Path(__file__).resolve().parents[2] / "shared"
WMT = SHARED / "eval" / "wmt21"
BBC = SHARED / "news" / "bbc.jsonl"
PAIRS = ("cs-en", "de-en", "ja-en", "is-en")
LINES_PER_ARTICLE = 25
EPOCH = datetime(2021, 6, 1, tzinfo=UTC)


def _missing(path: Path) -> FileNotFoundError:
    return FileNotFoundError(f"{path} not found: the benchmark reads real text from ../shared (see its README)")


def wmt_versions(pair: str) -> dict[str, Path]:
    """A language pair's English files by version name ("ref.A", "ref.B", "Online-B", ...), references first."""
    if not WMT.is_dir():
        raise _missing(WMT)
    versions = {p.name.split(".ref.")[1].removesuffix(".en"): p for p in sorted(WMT.glob(f"references/*.{pair}.ref.*"))}
    versions = {f"ref.{name}": path for name, path in versions.items()}
    for path in sorted(WMT.glob(f"system-outputs-to-en/*.{pair}.hyp.*.en")):
        versions[path.name.split(".hyp.")[1].removesuffix(".en")] = path
    return versions


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", name)


def wmt_articles(lines_per_article: int = LINES_PER_ARTICLE) -> list[ArticleInput]:
    """Every full chunk of ``lines_per_article`` lines of every English file of every pair (about 2,360).

    Ingest order is story by story (pair, chunk, then each version), so each story arrives as a
    burst of its versions, and publish times increase in that order (one minute apart); the
    source is the version's name (the human reference or the MT system), the id names all three.
    """
    articles: list[ArticleInput] = []
    for pair in PAIRS:
        chunks = {}
        for version, path in wmt_versions(pair).items():
            lines = _lines(path)
            chunks[version] = [
                "\n".join(lines[start : start + lines_per_article])
                for start in range(0, len(lines) - lines_per_article + 1, lines_per_article)
            ]
        for number in range(max(len(c) for c in chunks.values())):
            for version, texts in chunks.items():
                if number < len(texts):
                    articles.append(
                        ArticleInput(
                            f"wmt-{pair}-{number:03d}-{_safe(version)}",
                            texts[number],
                            title=f"{pair} story {number}",
                            source=version,
                            publish_time=EPOCH + timedelta(minutes=len(articles)),
                            language="en",
                        )
                    )
    return articles


def wmt_story(pair: str = "de-en", version: str = "ref.A", start: int = 0, lines: int = LINES_PER_ARTICLE) -> str:
    path = wmt_versions(pair)[version]
    chosen = _lines(path)[start : start + lines]
    if len(chosen) < lines:
        raise ValueError(f"{path} has fewer than {start + lines} lines")
    return "\n".join(chosen)


def bbc_articles(count: int, *, before: datetime = EPOCH) -> Iterator[ArticleInput]:
    """The first ``count`` BBC stories, published (as far as the index knows) a day apart before ``before``."""
    if not BBC.is_file():
        raise _missing(BBC)
    with BBC.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= count:
                return
            record = json.loads(line)
            yield ArticleInput(
                f"bbc-{number:04d}",
                record["text"],
                title=record.get("title") or "",
                source="BBC",
                publish_time=before - timedelta(days=count - number),
                language="en",
            )
