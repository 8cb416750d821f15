"""Batch jobs on a store, offline: check, reindex, export, import. Each takes the same
storage flags and variables as ``serve`` and so reaches every backend."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wiretrace.bootstrap import create_storage, open_engine, rebuilt_index_settings
from wiretrace.cli.options import (
    add_index_flags,
    add_namespace_flag,
    add_storage_flags,
    index_settings,
    storage_settings,
)
from wiretrace.cli.output import progress
from wiretrace.config import StorageSettings
from wiretrace.core.engine import Wiretrace
from wiretrace.core.errors import InvalidArgument, StoreNotFound
from wiretrace.core.model import ArticleDraft
from wiretrace.inputs import read_articles

CHECKPOINT = "reindex.checkpoint.json"


def _open(args: argparse.Namespace, *, must_exist: bool, analysis_workers: int = 0) -> Wiretrace:
    index, explicit = index_settings(args)
    return open_engine(
        storage_settings(args), index, explicit=explicit, must_exist=must_exist, analysis_workers=analysis_workers
    )


def cmd_check(args: argparse.Namespace) -> int:
    """Verify that index, edges and clusters agree with the stored articles."""
    from wiretrace.core.maintenance import check_consistency

    engine = _open(args, must_exist=True)
    try:
        problems = check_consistency(engine)
        count = engine.storage.stats().articles
    finally:
        engine.close()
    for problem in problems:
        print(problem)
    print(f"checked {count} article(s): {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    from wiretrace.core.maintenance import export_snapshot

    engine = _open(args, must_exist=True)
    try:
        if args.output == "-":
            count = export_snapshot(engine, sys.stdout)
        else:
            with open(args.output, "w", encoding="utf-8") as out:
                count = export_snapshot(engine, out)
    finally:
        engine.close()
    print(f"exported {count} article(s)", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from wiretrace.core.maintenance import import_snapshot

    with open(args.snapshot, encoding="utf-8") as lines:
        engine = _open(args, must_exist=False)
        try:
            count = import_snapshot(engine, lines)
        finally:
            engine.close()
    print(f"imported {count} article(s) into {engine.storage.describe()}", file=sys.stderr)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild an index (new parameters) from stored articles or JSONL archives; resumable.

    In place (no source given, SQLite) the new index is built beside the old one while the old
    one is locked, so no server can write to it meanwhile, then swapped in.
    """
    from wiretrace.core.maintenance import article_drafts, reindex
    from wiretrace.storage.dirlock import DirectoryLock
    from wiretrace.storage.sqlite import SqliteStorage

    target = storage_settings(args)
    index, explicit = index_settings(args)
    in_place = not args.from_data and not args.from_jsonl
    if in_place and target.backend != "sqlite":
        raise InvalidArgument(
            "reindexing redis in place is not supported: `wiretrace export`, then `wiretrace import` "
            "into a new --redis-prefix with the new parameters"
        )
    with ExitStack() as held:
        total: int | None = None
        drafts: Iterator[ArticleDraft]
        if args.from_jsonl:
            drafts = read_articles(args.from_jsonl)
        else:
            source = Path(args.from_data) if args.from_data else target.namespace_dir
            source_storage = create_storage(StorageSettings(data_dir=source))
            if not source_storage.exists():
                raise StoreNotFound(f"no wiretrace index in {source}")
            held.enter_context(DirectoryLock(source))  # no server may write to what is being read
            index = rebuilt_index_settings(source_storage, index, explicit)
            total = SqliteStorage.count_articles(source)
            drafts = article_drafts(SqliteStorage.read_articles(source))
        built = StorageSettings(data_dir=_beside(target.namespace_dir, "reindex")) if in_place else target
        workers = args.workers or (os.cpu_count() or 1)
        engine = open_engine(built, index, analysis_workers=workers if workers > 1 else 0)
        checkpoint = built.namespace_dir / CHECKPOINT if built.backend == "sqlite" else None
        bar = progress(total, quiet=args.quiet)
        try:
            report = reindex(drafts, engine, checkpoint=checkpoint, batch_size=args.batch_size, progress=bar.update)
        finally:
            bar.close()
            engine.close()
        if checkpoint is not None:
            checkpoint.unlink(missing_ok=True)
        if in_place:
            backup = _beside(target.namespace_dir, f"before-reindex-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            target.namespace_dir.rename(backup)
            built.namespace_dir.rename(target.namespace_dir)
            _keep_namespaces(backup, target.namespace_dir)
            print(f"previous index kept in {backup}", file=sys.stderr)
    for article_id, reason in report.rejected:
        print(f"rejected {article_id}: {reason}", file=sys.stderr)
    print(
        f"reindexed {report.ingested} article(s) into {target.describe()} ({report.skipped} done before resume, "
        f"{len(report.rejected)} rejected)",
        file=sys.stderr,
    )
    return 1 if report.rejected else 0


def _keep_namespaces(old: Path, new: Path) -> None:
    """The other namespaces, kept in the default one's data directory (``DIR/namespaces``), move
    with it into the rebuilt one: rebuilding the default namespace leaves them as they are."""
    namespaces = old / "namespaces"
    if namespaces.is_dir():
        namespaces.rename(new / "namespaces")


def _beside(directory: Path, suffix: str) -> Path:
    return directory.with_name(f"{directory.name}.{suffix}")


def register(commands: Any) -> None:
    check = commands.add_parser("check", help="verify index, edges and clusters against stored articles")
    add_storage_flags(check)
    add_namespace_flag(check)
    add_index_flags(check)
    check.set_defaults(handler=cmd_check)

    rebuild = commands.add_parser(
        "reindex", help="rebuild the index (e.g. with new parameters) from stored articles or JSONL; resumable"
    )
    add_storage_flags(rebuild)
    add_namespace_flag(rebuild)
    rebuild.add_argument("--from-data", help="read articles from this data directory instead")
    rebuild.add_argument("--from-jsonl", nargs="+", metavar="PATH", help="load .jsonl/.txt archives")
    rebuild.add_argument("--workers", type=int, default=0, help="analysis processes (default: one per core)")
    rebuild.add_argument("--batch-size", type=int, default=256)
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    add_index_flags(rebuild)
    rebuild.set_defaults(handler=cmd_reindex)

    export = commands.add_parser("export", help="write a snapshot of the whole state (JSON lines, docs/snapshot.md)")
    add_storage_flags(export)
    add_namespace_flag(export)
    export.add_argument("--output", "-o", default="-", help="file, or - for stdout")
    add_index_flags(export)
    export.set_defaults(handler=cmd_export)

    restore = commands.add_parser("import", help="restore a snapshot into an empty index")
    restore.add_argument("snapshot", metavar="SNAPSHOT")
    add_storage_flags(restore)
    add_namespace_flag(restore)
    add_index_flags(restore)
    restore.set_defaults(handler=cmd_import)
