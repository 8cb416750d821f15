"""The ``wiretrace`` command line. Its commands, flags and JSON fields are a
contract relied on by scripts: extend them, never rename them."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from wiretrace.config import (
    DEFAULT_DATA,
    DEFAULT_LISTEN,
    ServerSettings,
    default_analysis_workers,
    env,
    env_flag,
)
from wiretrace.core.model import ArticleDraft
from wiretrace.core.settings import IndexSettings
from wiretrace.inputs import InputError, read_articles
from wiretrace.logs import configure as configure_logging

DEFAULT_SERVER = "127.0.0.1:50051"
REPO_SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _server_settings(args: argparse.Namespace) -> ServerSettings:
    return ServerSettings(
        listen=args.listen,
        data_dir=Path(args.data),
        storage=args.storage,
        redis_url=args.redis_url,
        redis_cluster=args.redis_cluster,
        redis_prefix=args.redis_prefix,
        workers=args.workers,
        analysis_workers=args.analysis_workers,
        grace_seconds=args.grace,
        max_stream_rate=args.max_stream_rate,
        max_message_bytes=args.max_message_bytes,
        auth_token_file=_path(args.auth_token_file),
        tls_cert=_path(args.tls_cert),
        tls_key=_path(args.tls_key),
        tls_client_ca=_path(args.tls_client_ca),
        metrics_listen=args.metrics_listen,
        index=_index_settings(args),
    )


def _index_settings(args: argparse.Namespace) -> IndexSettings:
    return IndexSettings(
        num_perm=args.num_perm,
        passage_num_perm=args.passage_num_perm,
        shingle_size=args.shingle_size,
        document_threshold=args.document_threshold,
        passage_threshold=args.passage_threshold,
        max_text_chars=args.max_text_chars,
        semantic=args.semantic,
    )


def _add_index_flags(parser: argparse.ArgumentParser) -> None:
    defaults = IndexSettings()
    group = parser.add_argument_group("index parameters (changing them needs `wiretrace reindex`)")
    group.add_argument("--num-perm", type=int, default=int(env("NUM_PERM", str(defaults.num_perm))))
    group.add_argument(
        "--passage-num-perm",
        type=int,
        default=int(env("PASSAGE_NUM_PERM", str(defaults.passage_num_perm))),
        help="permutations of sentence signatures (0 = --num-perm): fewer = smaller index, lower passage recall",
    )
    group.add_argument("--shingle-size", type=int, default=int(env("SHINGLE_SIZE", str(defaults.shingle_size))))
    group.add_argument(
        "--document-threshold", type=float, default=float(env("DOCUMENT_THRESHOLD", str(defaults.document_threshold)))
    )
    group.add_argument(
        "--passage-threshold", type=float, default=float(env("PASSAGE_THRESHOLD", str(defaults.passage_threshold)))
    )
    group.add_argument("--max-text-chars", type=int, default=int(env("MAX_TEXT_CHARS", str(defaults.max_text_chars))))
    group.add_argument(
        "--semantic",
        action=argparse.BooleanOptionalAction,
        default=env_flag("SEMANTIC"),
        help="also match sentences by meaning (translations, paraphrases); needs pip install 'wiretrace[semantic]'",
    )


def _open_engine(data: str, args: argparse.Namespace, analysis_workers: int = 0) -> Any:
    from wiretrace.core.engine import Wiretrace
    from wiretrace.storage.sqlite import SqliteStorage

    return Wiretrace(SqliteStorage(data), _index_settings(args), analysis_workers=analysis_workers)


def cmd_check(args: argparse.Namespace) -> int:
    """Verify that index, edges and clusters agree with the stored articles."""
    from wiretrace.core.maintenance import check_consistency

    engine = _open_engine(args.data, args)
    try:
        problems = check_consistency(engine)
        count = engine.storage.stats().articles
    finally:
        engine.close()
    for problem in problems:
        print(problem)
    print(f"checked {count} article(s): {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild an index (new parameters) from stored articles or JSONL archives; resumable."""
    from datetime import UTC, datetime

    from wiretrace.core.maintenance import article_drafts, reindex
    from wiretrace.storage.sqlite import SqliteStorage

    data = Path(args.data)
    in_place = not args.from_data and not args.from_jsonl
    target = data.with_name(data.name + ".reindex") if in_place else data
    if args.from_jsonl:
        total = None
        drafts: Iterator[ArticleDraft] = read_articles(args.from_jsonl)
    else:
        source = Path(args.from_data) if args.from_data else data
        total = _count_articles(source)
        drafts = article_drafts(SqliteStorage.read_articles(source))
    workers = args.workers or (os.cpu_count() or 1)
    engine = _open_engine(str(target), args, analysis_workers=workers if workers > 1 else 0)
    progress = _progress(total or 0, quiet=args.quiet)
    try:
        report = reindex(
            drafts,
            engine,
            checkpoint=target / "reindex.checkpoint.json",
            batch_size=args.batch_size,
            progress=progress.update,
        )
    finally:
        progress.close()
        engine.close()
    for article_id, reason in report.rejected:
        print(f"rejected {article_id}: {reason}", file=sys.stderr)
    if in_place:
        backup = data.with_name(f"{data.name}.before-reindex-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        data.rename(backup)
        target.rename(data)
        (data / "reindex.checkpoint.json").unlink(missing_ok=True)
        print(f"previous index kept in {backup}", file=sys.stderr)
    print(
        f"reindexed {report.ingested} article(s) into {data} ({report.skipped} done before resume, "
        f"{len(report.rejected)} rejected)",
        file=sys.stderr,
    )
    return 1 if report.rejected else 0


def _count_articles(data_dir: Path) -> int:
    import sqlite3

    path = data_dir / "wiretrace.sqlite3"
    if not path.is_file():
        raise SystemExit(f"wiretrace reindex: {path}: no wiretrace data here")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def cmd_export(args: argparse.Namespace) -> int:
    from wiretrace.core.maintenance import export_snapshot

    engine = _open_engine(args.data, args)
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

    engine = _open_engine(args.data, args)
    try:
        with open(args.snapshot, encoding="utf-8") as lines:
            count = import_snapshot(engine, lines)
    finally:
        engine.close()
    print(f"imported {count} article(s) into {args.data}", file=sys.stderr)
    return 0


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def cmd_serve(args: argparse.Namespace) -> int:
    from wiretrace.server import serve

    return serve(_server_settings(args))


def _client(args: argparse.Namespace) -> Any:
    from wiretrace_client import Client

    return Client(args.server, timeout=args.timeout)


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _inputs(drafts: Iterator[ArticleDraft], replace_existing: bool) -> Iterator[Any]:
    from wiretrace_client import ArticleInput

    for draft in drafts:
        yield ArticleInput(
            article_id=draft.article_id,
            text=draft.text,
            title=draft.title,
            source=draft.source,
            url=draft.url,
            publish_time=draft.publish_time,
            language=draft.language,
            replace_existing=replace_existing,
        )


def cmd_ingest(args: argparse.Namespace) -> int:
    try:
        drafts = list(read_articles(args.paths))
    except (InputError, OSError) as error:
        print(f"wiretrace ingest: {error}", file=sys.stderr)
        return 2
    rejected = 0
    progress = _progress(len(drafts), quiet=args.json)
    with _client(args) as client:
        for item in client.ingest_many(_inputs(iter(drafts), args.replace), window=args.window):
            progress.update(1)
            if item.error is not None:
                rejected += 1
                progress.write(f"rejected {item.article_id}: {item.error.code.name}: {item.error.message}")
                continue
            result = item.result
            if args.json:
                line = {
                    "article_id": item.article_id,
                    "outcome": result.outcome,
                    "cluster_id": result.cluster.cluster_id,
                    "matches": [{"article_id": m.article_id, "kind": m.kind, "score": m.score} for m in result.matches],
                }
                print(json.dumps(line, ensure_ascii=False), flush=True)
    progress.close()
    if rejected:
        print(f"wiretrace ingest: {rejected} of {len(drafts)} article(s) rejected", file=sys.stderr)
        return 1
    if not args.json:
        print(f"ingested {len(drafts)} article(s)", file=sys.stderr)
    return 0


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def write(self, message: str) -> None:
        print(message, file=sys.stderr)

    def close(self) -> None:
        pass


def _progress(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="article", file=sys.stderr)


def cmd_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        article = client.get_article(args.article_id)
    if args.json:
        _print_json(article.to_dict())
        return 0
    print(f"{article.article_id}  {article.title or '(untitled)'}")
    print(f"  source: {article.source or '-'}  published: {_when(article.publish_time)}  cluster: {article.cluster_id}")
    print(f"  {len(article.text)} characters, sha256 {article.content_sha256[:16]}")
    return 0


def cmd_matches(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.text_file:
            text = Path(args.text_file).read_text(encoding="utf-8")
            matches = client.find_matches(text=text, max_matches=args.max)
        else:
            matches = client.find_matches(article_id=args.article_id, max_matches=args.max)
    if args.json:
        _print_json({"article_id": args.article_id, "matches": [m.to_dict() for m in matches]})
        return 0
    if not matches:
        print(f"{args.article_id or args.text_file}: no matches")
    for match in matches:
        _print_match(match)
    return 0


def _print_match(match: Any, indent: str = "  ") -> None:
    print(
        f"{indent}{match.article_id}: {match.kind.replace('_', ' ')}  score {match.score:.2f}  "
        f"jaccard {match.jaccard:.2f}  containment {match.query_containment:.2f}/{match.matched_containment:.2f}"
    )
    for passage in match.passages:
        print(
            f"{indent}  {passage.kind} passage (score {passage.score:.2f}) "
            f"[{passage.query_start}:{passage.query_end}] ~ [{passage.matched_start}:{passage.matched_end}]"
        )
        print(f"{indent}    here:  {_clip(passage.query_text)}")
        print(f"{indent}    there: {_clip(passage.matched_text)}")


def _clip(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _when(moment: Any) -> str:
    return moment.isoformat() if moment else "-"


def cluster_json(cluster: Any) -> dict[str, Any]:
    """A cluster with every article referred to by an ``article_id`` field."""
    return {
        "cluster_id": cluster.cluster_id,
        "member_count": cluster.member_count,
        "root": {"article_id": cluster.root_id},
        "members": [member.to_dict() for member in cluster.members],
        "edges": [
            {
                "parent": {"article_id": edge.parent_id},
                "child": {"article_id": edge.child_id},
                "kind": edge.kind,
                "score": edge.score,
                "reason": edge.reason,
                "passages": [p.to_dict() for p in edge.passages],
            }
            for edge in cluster.edges
        ],
    }


def _print_cluster(cluster: Any) -> None:
    print(f"cluster {cluster.cluster_id}: {len(cluster.members)} article(s), root {cluster.root_id}")
    for member in cluster.members:
        print(f"  {member.article_id}  {_when(member.publish_time)}  {member.source or ''}")
    for edge in cluster.edges:
        print(f"  {edge.parent_id} -> {edge.child_id}  {edge.kind.replace('_', ' ')}  score {edge.score:.2f}")
        for passage in edge.passages:
            print(f"      {passage.kind}: {_clip(passage.query_text, 100)}")


def cmd_lineage(args: argparse.Namespace) -> int:
    with _client(args) as client:
        cluster = client.get_lineage(args.article_id)
    if args.json:
        _print_json({"article_id": args.article_id, **cluster_json(cluster)})
        return 0
    _print_cluster(cluster)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _client(args) as client:
        stats = client.get_stats()
    if args.json:
        _print_json(stats.to_dict())
        return 0
    print(f"articles {stats.articles}  clusters {stats.clusters}  passages {stats.passages}  edges {stats.edges}")
    print(f"storage {stats.storage}  index " + " ".join(f"{k}={v}" for k, v in sorted(stats.index.items())))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.delete_article(args.article_id)
    print(f"deleted {args.article_id}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Match quality on labelled corpora (../shared/eval), with the service's own code."""
    from wiretrace.evaluation import EVALUATIONS, evaluate

    root = Path(args.dataset_dir)
    names = args.only or [n for n in EVALUATIONS if (root / n).is_dir() or root.name == n]
    if not names:
        print(f"wiretrace eval: no dataset folders ({', '.join(EVALUATIONS)}) in {root}", file=sys.stderr)
        return 2
    results = evaluate(root, names, _index_settings(args))
    if args.json:
        _print_json([{"dataset": s.dataset, "seconds": round(t, 1), **s.metrics} for s, t in results])
        return 0
    for scores, seconds in results:
        print(f"{scores.dataset} ({seconds:.1f} s)")
        for name, value in scores.metrics.items():
            print(f"  {name:32} {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """An embedded server on a temporary directory, the seeds ingested, and what matched what."""
    from wiretrace_client import Client

    from wiretrace.server import create_server

    seeds = Path(args.seeds) if args.seeds else (Path("seeds") if Path("seeds").is_dir() else REPO_SEEDS)
    manifest = seeds / "seeds.jsonl"
    drafts = list(read_articles([manifest if manifest.is_file() else seeds]))
    with tempfile.TemporaryDirectory(prefix="wiretrace-demo-") as data:
        running = create_server(ServerSettings(listen="127.0.0.1:0", data_dir=Path(data)))
        try:
            with Client(f"127.0.0.1:{running.port}") as client:
                print(f"wiretrace demo: embedded server on 127.0.0.1:{running.port}, data in {data}\n")
                cluster_ids: list[str] = []
                for item in client.ingest_many(_inputs(iter(drafts), False)):
                    if item.result is None:
                        print(f"{item.article_id}: rejected: {item.error}")
                        continue
                    result = item.result
                    article = result.article
                    print(f"{article.article_id}  {_clip(article.title, 90)}")
                    print(f"  published {_when(article.publish_time)}; {article.source}")
                    if not result.matches:
                        print("  matches nothing ingested before it")
                    for match in result.matches:
                        _print_match(match, indent="  ")
                    if result.cluster.cluster_id not in cluster_ids:
                        cluster_ids.append(result.cluster.cluster_id)
                    print()
                print("Lineage")
                for cluster in client.list_clusters():
                    _print_cluster(cluster)
                singles = [c for c in cluster_ids if len(client.get_cluster(c).members) == 1]
                if singles:
                    print(f"  {len(singles)} article(s) share nothing with the others")
        finally:
            running.stop(1.0)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiretrace", description=__doc__)
    parser.add_argument("--log-level", default=env("LOG_LEVEL", "WARNING"), help="logging level (WIRETRACE_LOG_LEVEL)")
    parser.add_argument(
        "--log-format", choices=("text", "json"), default=env("LOG_FORMAT", "text"), help="(WIRETRACE_LOG_FORMAT)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gRPC service")
    serve.add_argument("--listen", default=env("LISTEN", DEFAULT_LISTEN), help="HOST:PORT (WIRETRACE_LISTEN)")
    serve.add_argument("--data", default=env("DATA", DEFAULT_DATA), help="data directory (WIRETRACE_DATA)")
    serve.add_argument("--storage", choices=("sqlite", "redis"), default=env("STORAGE", "sqlite"))
    serve.add_argument("--redis-url", default=env("REDIS_URL", "redis://127.0.0.1:6379/0"))
    serve.add_argument(
        "--redis-cluster",
        action="store_true",
        default=env_flag("REDIS_CLUSTER"),
        help="--redis-url names a seed node of a Redis Cluster (WIRETRACE_REDIS_CLUSTER)",
    )
    serve.add_argument(
        "--redis-prefix", default=env("REDIS_PREFIX", "wiretrace"), help="key prefix: one index per prefix"
    )
    serve.add_argument("--workers", type=int, default=int(env("WORKERS", "16")))
    serve.add_argument(
        "--analysis-workers",
        type=int,
        default=int(env("ANALYSIS_WORKERS", str(default_analysis_workers()))),
        help="processes that analyse ingested texts while the server stores the previous batch "
        "(default: one per core beyond the first, at most 4; 0 = analyse in the server process)",
    )
    serve.add_argument("--grace", type=float, default=float(env("GRACE_SECONDS", "10")))
    _add_index_flags(serve)
    serve.add_argument("--max-message-bytes", type=int, default=int(env("MAX_MESSAGE_BYTES", str(16 * 1024 * 1024))))
    serve.add_argument(
        "--max-stream-rate",
        type=float,
        default=float(env("MAX_STREAM_RATE", "0")),
        help="articles/s per ingest stream, 0 = unlimited (WIRETRACE_MAX_STREAM_RATE)",
    )
    serve.add_argument(
        "--auth-token-file",
        default=env("AUTH_TOKEN_FILE", "") or None,
        help="require a bearer token listed in this file, one per line (WIRETRACE_AUTH_TOKEN_FILE)",
    )
    serve.add_argument("--tls-cert", default=env("TLS_CERT", "") or None, help="server certificate (PEM)")
    serve.add_argument("--tls-key", default=env("TLS_KEY", "") or None, help="server private key (PEM)")
    serve.add_argument(
        "--tls-client-ca", default=env("TLS_CLIENT_CA", "") or None, help="require client certificates from this CA"
    )
    serve.add_argument(
        "--metrics-listen", default=env("METRICS_LISTEN", ""), help="HOST:PORT for Prometheus metrics (off if empty)"
    )
    serve.set_defaults(handler=cmd_serve)

    def client_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--server", default=env("SERVER", DEFAULT_SERVER), help="HOST:PORT (WIRETRACE_SERVER)")
        sub.add_argument("--timeout", type=float, default=30.0, help="deadline per call, seconds")
        return sub

    ingest = client_command("ingest", "ingest .txt / .jsonl files (or directories of them)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--replace", action="store_true", help="replace stored articles whose content differs")
    ingest.add_argument("--json", action="store_true", help="one JSON line per acknowledged article")
    ingest.add_argument("--window", type=int, default=64, help="articles in flight on the stream")
    ingest.set_defaults(handler=cmd_ingest)

    for name, handler, help_text in (
        ("get", cmd_get, "show a stored article"),
        ("lineage", cmd_lineage, "show the lineage cluster of an article"),
    ):
        sub = client_command(name, help_text)
        sub.add_argument("article_id", metavar="ARTICLE_ID")
        sub.add_argument("--json", action="store_true")
        sub.set_defaults(handler=handler)

    matches = client_command("matches", "ranked matches of a stored article (or of a text file)")
    matches.add_argument("article_id", metavar="ARTICLE_ID", nargs="?")
    matches.add_argument("--text-file", help="match this file's text instead of a stored article")
    matches.add_argument("--max", type=int, default=20, help="at most this many matches")
    matches.add_argument("--json", action="store_true")
    matches.set_defaults(handler=cmd_matches)

    stats = client_command("stats", "counts and index parameters")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=cmd_stats)

    delete = client_command("delete", "delete an article")
    delete.add_argument("article_id", metavar="ARTICLE_ID")
    delete.set_defaults(handler=cmd_delete)

    check = commands.add_parser("check", help="verify index, edges and clusters against stored articles")
    check.add_argument("--data", default=env("DATA", DEFAULT_DATA))
    _add_index_flags(check)
    check.set_defaults(handler=cmd_check)

    reindex = commands.add_parser(
        "reindex", help="rebuild the index (e.g. with new parameters) from stored articles or JSONL; resumable"
    )
    reindex.add_argument("--data", default=env("DATA", DEFAULT_DATA), help="index to build (or rebuild in place)")
    reindex.add_argument("--from-data", help="read articles from this data directory instead")
    reindex.add_argument("--from-jsonl", nargs="+", metavar="PATH", help="load .jsonl/.txt archives")
    reindex.add_argument("--workers", type=int, default=0, help="analysis processes (default: one per core)")
    reindex.add_argument("--batch-size", type=int, default=256)
    reindex.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_index_flags(reindex)
    reindex.set_defaults(handler=cmd_reindex)

    export = commands.add_parser("export", help="write a snapshot of the whole state (JSON lines, docs/snapshot.md)")
    export.add_argument("--data", default=env("DATA", DEFAULT_DATA))
    export.add_argument("--output", "-o", default="-", help="file, or - for stdout")
    _add_index_flags(export)
    export.set_defaults(handler=cmd_export)

    restore = commands.add_parser("import", help="restore a snapshot into an empty data directory")
    restore.add_argument("snapshot", metavar="SNAPSHOT")
    restore.add_argument("--data", default=env("DATA", DEFAULT_DATA))
    _add_index_flags(restore)
    restore.set_defaults(handler=cmd_import)

    evaluation = commands.add_parser("eval", help="match quality on labelled corpora (e.g. ../shared/eval)")
    evaluation.add_argument("dataset_dir", metavar="DATASET_DIR")
    evaluation.add_argument("--only", nargs="+", choices=("clough-stevenson", "msrp", "wmt21"))
    evaluation.add_argument("--json", action="store_true")
    _add_index_flags(evaluation)
    evaluation.set_defaults(handler=cmd_eval)

    demo = commands.add_parser("demo", help="embedded server + the seed articles: what matched what")
    demo.add_argument("--seeds", help="folder with the seed articles (default: ./seeds)")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    if args.command == "matches" and bool(args.article_id) == bool(args.text_file):
        parser.error("matches: give ARTICLE_ID or --text-file")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # client errors carry the server's message
        from wiretrace_client import WiretraceError

        if isinstance(error, WiretraceError):
            print(f"wiretrace {args.command}: {error.code.name}: {error.message}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
