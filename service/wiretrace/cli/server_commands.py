"""``serve``, and the commands that run the engine in process: ``demo`` and ``eval``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from wiretrace.cli.client_commands import _fields
from wiretrace.cli.options import add_index_flags, add_server_flags, add_storage_flags, index_settings, server_settings
from wiretrace.cli.output import clip, print_cluster, print_json, print_match, when
from wiretrace.config import ServerSettings, StorageSettings
from wiretrace.core.errors import StoreNotFound
from wiretrace.inputs import read_articles

REPO_SEEDS = Path(__file__).resolve().parents[3] / "seeds"


def cmd_serve(args: argparse.Namespace) -> int:
    from wiretrace.server import serve

    settings, explicit = server_settings(args)
    return serve(settings, explicit)


def cmd_eval(args: argparse.Namespace) -> int:
    """Match quality on labelled corpora (../shared/eval), with the service's own code."""
    from wiretrace.evaluation import EVALUATIONS, evaluate

    root = Path(args.dataset_dir)
    if not root.is_dir():
        raise StoreNotFound(f"{root}: no such folder (give the folder holding {', '.join(EVALUATIONS)})")
    present = {n for n in EVALUATIONS if (root / n).is_dir() or root.name == n}
    if (root.parent / "news" / "bbc.jsonl").is_file():
        present.add("news")
        if (root / "wmt21").is_dir():
            present |= {"quotes", "languages"}
    names = args.only or [n for n in EVALUATIONS if n in present]
    if not names:
        raise StoreNotFound(f"no dataset folders ({', '.join(EVALUATIONS)}) in {root}")
    results = evaluate(root, names, index_settings(args)[0])
    if args.json:
        print_json([{"dataset": s.dataset, "seconds": round(t, 1), **s.metrics} for s, t in results])
        return 0
    for scores, seconds in results:
        print(f"{scores.dataset} ({seconds:.1f} s)")
        for name, value in scores.metrics.items():
            print(f"  {name:32} {value}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """An embedded server on a temporary directory, the seeds ingested, and what matched what."""
    from wiretrace_client import ArticleInput, Client

    from wiretrace.server import create_server

    seeds = Path(args.seeds) if args.seeds else (Path("seeds") if Path("seeds").is_dir() else REPO_SEEDS)
    drafts = list(read_articles([seeds]))
    with tempfile.TemporaryDirectory(prefix="wiretrace-demo-") as data:
        running = create_server(ServerSettings(listen="127.0.0.1:0", storage=StorageSettings(data_dir=Path(data))))
        try:
            with Client(f"127.0.0.1:{running.port}") as client:
                print(f"wiretrace demo: embedded server on 127.0.0.1:{running.port}, data in {data}\n")
                cluster_ids: list[str] = []
                for item in client.ingest_many(ArticleInput(**_fields(d)) for d in drafts):
                    if item.result is None:
                        print(f"{item.article_id}: rejected: {item.error}")
                        continue
                    result = item.result
                    article = result.article
                    print(f"{article.article_id}  {clip(article.title, 90)}")
                    print(f"  published {when(article.publish_time)}; {article.source}")
                    if not result.matches:
                        print("  matches nothing ingested before it")
                    for match in result.matches:
                        print_match(match, indent="  ")
                    for statement in result.statements:
                        print(
                            f"  carries statement {statement.cluster_id} (root {statement.root_id}, "
                            f"{statement.member_count} article(s))"
                        )
                    if result.cluster.cluster_id not in cluster_ids:
                        cluster_ids.append(result.cluster.cluster_id)
                    print()
                print("Lineage")
                for summary in client.list_clusters():
                    print_cluster(client.get_cluster(summary.cluster_id))
                singles = [c for c in cluster_ids if client.get_cluster(c).member_count == 1]
                if singles:
                    print(f"  {len(singles)} article(s) are copies of no other story")
        finally:
            running.stop(1.0)
    return 0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the gRPC service")
    add_server_flags(serve)
    add_storage_flags(serve)
    add_index_flags(serve)
    serve.set_defaults(handler=cmd_serve)

    evaluation = commands.add_parser("eval", help="match quality on labelled corpora (e.g. ../shared/eval)")
    evaluation.add_argument("dataset_dir", metavar="DATASET_DIR")
    datasets = ("clough-stevenson", "msrp", "wmt21", "quotes", "languages", "news")
    evaluation.add_argument("--only", nargs="+", choices=datasets)
    evaluation.add_argument("--json", action="store_true")
    add_index_flags(evaluation)
    evaluation.set_defaults(handler=cmd_eval)

    demo = commands.add_parser("demo", help="embedded server + the seed articles: what matched what")
    demo.add_argument("--seeds", help="folder with the seed articles (default: ./seeds)")
    demo.set_defaults(handler=cmd_demo)
