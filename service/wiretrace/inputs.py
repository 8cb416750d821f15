"""Reading articles from files: ``.txt`` (id = file name without extension) and
``.jsonl`` (one article per line: id, text, title, source, url, published_at as
ISO-8601, language; ``file`` may name a text file beside the JSONL instead of ``text``).
``-`` is JSONL on standard input. Directories are searched in name order: for their
``.jsonl`` files when they have any (a manifest describes the texts beside it, which are
then not read a second time), else for ``.txt`` files. Everything is read lazily."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from wiretrace.core.errors import InvalidArgument
from wiretrace.core.model import ArticleDraft

SUFFIXES = (".txt", ".jsonl")


class InputError(ValueError):
    """A file or line that cannot be read as an article; says where."""


def parse_time(value: str, where: str) -> datetime:
    """ISO-8601 date or date-time; naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InputError(f"{where}: published_at {value!r} is not ISO-8601") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files to read: the paths themselves, and the manifests (else the texts) inside directories."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            manifests = [p for p in found if p.suffix == ".jsonl"]
            files.extend(manifests or found)
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                raise InputError(f"{path}: expected a .txt or .jsonl file")
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return files


def read_articles(paths: Iterable[str | Path], stdin: TextIO | None = None) -> Iterator[ArticleDraft]:
    for raw in paths:
        if str(raw) == "-" and stdin is not None:
            yield from _read_lines(stdin, Path.cwd(), "<stdin>")
            continue
        for path in expand([raw]):
            if path.suffix == ".txt":
                yield ArticleDraft(article_id=path.stem, text=path.read_text(encoding="utf-8"))
            else:
                with path.open(encoding="utf-8") as lines:
                    yield from _read_lines(lines, path.parent, str(path))


def _read_lines(lines: TextIO, base: Path, name: str) -> Iterator[ArticleDraft]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: not JSON: {error}") from error
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object")
        yield _draft(data, base, where)


def _draft(data: dict[str, object], base: Path, where: str) -> ArticleDraft:
    article_id = data.get("id", data.get("article_id"))
    if not isinstance(article_id, str):
        raise InputError(f"{where}: 'id' must be a string")
    text = data.get("text")
    if text is None and isinstance(data.get("file"), str):
        text = (base / str(data["file"])).read_text(encoding="utf-8")
    if not isinstance(text, str):
        raise InputError(f"{where}: 'text' (or 'file') must be a string")
    published = data.get("published_at")
    fields = {}
    for name in ("title", "source", "url", "language"):
        value = data.get(name, "")
        if not isinstance(value, str):
            raise InputError(f"{where}: '{name}' must be a string")
        fields[name] = value
    try:
        return ArticleDraft(
            article_id=article_id,
            text=text,
            publish_time=parse_time(published, where) if isinstance(published, str) and published else None,
            **fields,
        )
    except InvalidArgument as error:
        raise InputError(f"{where}: {error}") from error
