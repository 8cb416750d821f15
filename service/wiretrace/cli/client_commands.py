"""Commands that talk to a running server through the Python client."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from wiretrace.cli.options import DEFAULT_SERVER
from wiretrace.cli.output import clip, cluster_json, print_cluster, print_json, print_match, progress, when
from wiretrace.config import env
from wiretrace.core.errors import InvalidArgument
from wiretrace.core.model import ArticleDraft
from wiretrace.inputs import InputError, parse_time, read_articles


def add_client_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", default=env("SERVER", DEFAULT_SERVER), help="HOST:PORT (WIRETRACE_SERVER)")
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline per call, seconds")


def _client(args: argparse.Namespace) -> Any:
    from wiretrace_client import Client

    return Client(args.server, timeout=args.timeout)


class _Inputs:
    """Articles read lazily from files (or stdin) as the stream needs them; a file that cannot
    be read ends the stream cleanly and is reported afterwards."""

    def __init__(self, paths: list[str], replace_existing: bool) -> None:
        self.paths = paths
        self.replace_existing = replace_existing
        self.error: str | None = None
        self.sent = 0

    def __iter__(self) -> Iterator[Any]:
        from wiretrace_client import ArticleInput

        try:
            for draft in read_articles(self.paths, stdin=sys.stdin):
                self.sent += 1
                yield ArticleInput(**_fields(draft), replace_existing=self.replace_existing)
        except (InputError, OSError, UnicodeDecodeError) as error:
            self.error = str(error)


def _fields(draft: ArticleDraft) -> dict[str, Any]:
    return {
        "article_id": draft.article_id,
        "text": draft.text,
        "title": draft.title,
        "source": draft.source,
        "url": draft.url,
        "publish_time": draft.publish_time,
        "language": draft.language,
    }


def cmd_ingest(args: argparse.Namespace) -> int:
    inputs = _Inputs(args.paths, args.replace)
    outcomes: Counter[str] = Counter()
    bar = progress(None, quiet=args.json)
    with _client(args) as client:
        for item in client.ingest_many(inputs, window=args.window):
            bar.update(1)
            if item.error is not None:
                outcomes["rejected"] += 1
                bar.write(f"rejected {item.article_id}: {item.error.code.name}: {item.error.message}")
                continue
            result = item.result
            outcomes[result.outcome] += 1
            if args.json:
                line = {
                    "article_id": item.article_id,
                    "outcome": result.outcome,
                    "cluster_id": result.cluster.cluster_id,
                    "matches": [{"article_id": m.article_id, "kind": m.kind, "score": m.score} for m in result.matches],
                }
                print(json.dumps(line, ensure_ascii=False), flush=True)
    bar.close()
    summary = ", ".join(f"{outcomes[name]} {name}" for name in ("created", "unchanged", "replaced", "rejected"))
    print(f"ingested {sum(outcomes.values())} article(s): {summary}", file=sys.stderr)
    if inputs.error is not None:
        print(f"wiretrace ingest: stopped reading input: {inputs.error}", file=sys.stderr)
        return 2
    if outcomes["rejected"]:
        print(f"wiretrace ingest: {outcomes['rejected']} of {inputs.sent} article(s) rejected", file=sys.stderr)
        return 1
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        article = client.get_article(args.article_id)
    if args.json:
        print_json(article.to_dict())
        return 0
    print(f"{article.article_id}  {article.title or '(untitled)'}")
    print(f"  source: {article.source or '-'}  published: {when(article.publish_time)}  cluster: {article.cluster_id}")
    print(f"  {len(article.text)} characters, sha256 {article.content_sha256[:16]}")
    return 0


def _time_flag(flag: str, value: str | None) -> datetime | None:
    """An ISO-8601 flag value (naive = UTC); INVALID_ARGUMENT in one line otherwise."""
    if value is None:
        return None
    try:
        return parse_time(value, flag)
    except InputError:
        raise InvalidArgument(f"{flag} {value!r} is not an ISO-8601 date or time") from None


def _match_filter(args: argparse.Namespace) -> Any:
    from wiretrace_client import MatchFilter

    return MatchFilter(
        since=_time_flag("--since", args.since),
        until=_time_flag("--until", args.until),
        window_days=args.window_days,
        sources=tuple(args.source),
        excluded_sources=tuple(args.exclude_source),
        other_outlets=args.other_outlets,
    )


def cmd_matches(args: argparse.Namespace) -> int:
    wanted = _match_filter(args)
    with _client(args) as client:
        if args.text_file:
            text = Path(args.text_file).read_text(encoding="utf-8")
            matches = client.find_matches(text=text, max_matches=args.max, match_filter=wanted)
        else:
            matches = client.find_matches(article_id=args.article_id, max_matches=args.max, match_filter=wanted)
    if args.json:
        print_json({"article_id": args.article_id, "matches": [m.to_dict() for m in matches]})
        return 0
    if not matches:
        print(f"{args.article_id or args.text_file}: no matches")
    for match in matches:
        print_match(match)
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    """Every cluster the article belongs to (its story first, then the statements it carries),
    each with its first page of members and edges, or all of them with --all."""
    limit = None if args.all else args.max_members
    with _client(args) as client:
        clusters = [client.get_cluster(c.cluster_id, max_members=limit) for c in client.clusters_of(args.article_id)]
    if args.json:
        # At the top level, as before, the article's main cluster; every cluster under "clusters".
        main = cluster_json(_main(clusters))
        print_json({"article_id": args.article_id, **main, "clusters": [cluster_json(c) for c in clusters]})
        return 0
    for cluster in clusters:
        print_cluster(cluster)
    return 0


def _main(clusters: list[Any]) -> Any:
    """Where the article's text comes from: its story when it has copies, else the first statement it carries."""
    story, statements = clusters[0], clusters[1:]
    return story if story.member_count > 1 or not statements else statements[0]


def cmd_stats(args: argparse.Namespace) -> int:
    with _client(args) as client:
        stats = client.get_stats()
    if args.json:
        print_json(stats.to_dict())
        return 0
    print(f"articles {stats.articles}  clusters {stats.clusters}  passages {stats.passages}  edges {stats.edges}")
    print(f"storage {stats.storage}  index " + " ".join(f"{k}={v}" for k, v in sorted(stats.index.items())))
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    """Delete what appeared before the cut, a page per call, and say how many in one line."""
    before = _time_flag("--before", args.before)
    assert before is not None  # a required flag
    with _client(args) as client:
        deleted = client.prune_articles(before, page_size=args.page_size)
    if args.json:
        print_json({"deleted": deleted, "before": before.isoformat()})
    else:
        print(f"pruned {deleted} article(s) that appeared before {before.isoformat()}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.delete_article(args.article_id)
    print(f"deleted {args.article_id}", file=sys.stderr)
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the server answers SERVING (for container health checks)."""
    with _client(args) as client:
        status = client.health()
    print(status)
    return 0 if status == "SERVING" else 1


def cmd_list(args: argparse.Namespace) -> int:
    """Every article (ingest order) or every cluster of two or more, through the paged List RPCs."""
    with _client(args) as client:
        if args.what == "articles":
            for article in client.list_articles(page_size=args.page_size, omit_text=True):
                if args.json:
                    document = article.to_dict()
                    document.pop("text", None)
                    print(json.dumps(document, ensure_ascii=False, default=str), flush=True)
                else:
                    print(
                        f"{article.article_id}  {when(article.publish_time)}  {article.source or '-'}  "
                        f"{clip(article.title, 60)}"
                    )
        else:
            for cluster in client.list_clusters(page_size=args.page_size):
                if args.json:
                    print(json.dumps(cluster_json(cluster), ensure_ascii=False, default=str), flush=True)
                else:
                    print(f"{cluster.cluster_id}  {cluster.member_count} article(s)  root {cluster.root_id}")
    return 0


def register(commands: Any) -> None:
    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
        add_client_flags(sub)
        return sub

    ingest = command("ingest", "ingest .txt / .jsonl files (or directories of them; - reads JSONL from stdin)")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--replace", action="store_true", help="replace stored articles whose content differs")
    ingest.add_argument("--json", action="store_true", help="one JSON line per acknowledged article")
    ingest.add_argument("--window", type=int, default=64, help="articles in flight on the stream")
    ingest.set_defaults(handler=cmd_ingest)

    get = command("get", "show a stored article")
    get.add_argument("article_id", metavar="ARTICLE_ID")
    get.add_argument("--json", action="store_true")
    get.set_defaults(handler=cmd_get)

    lineage = command("lineage", "the lineage clusters of an article: its story and the statements it carries")
    lineage.add_argument("article_id", metavar="ARTICLE_ID")
    lineage.add_argument("--json", action="store_true")
    lineage.add_argument("--max-members", type=int, default=100, help="members shown per cluster (first page)")
    lineage.add_argument("--all", action="store_true", help="every member of every cluster")
    lineage.set_defaults(handler=cmd_lineage)

    matches = command("matches", "ranked matches of a stored article (or of a text file)")
    matches.add_argument("article_id", metavar="ARTICLE_ID", nargs="?")
    matches.add_argument("--text-file", help="match this file's text instead of a stored article")
    matches.add_argument("--max", type=int, default=20, help="at most this many matches")
    matches.add_argument("--json", action="store_true")
    matches.add_argument("--since", metavar="ISO", help="only matched articles that appeared at or after this time")
    matches.add_argument("--until", metavar="ISO", help="only matched articles that appeared before this time")
    matches.add_argument(
        "--window-days", type=int, default=0, metavar="N", help="only matched articles within N days of this one"
    )
    matches.add_argument("--source", action="append", default=[], metavar="S", help="only this outlet (repeatable)")
    matches.add_argument(
        "--exclude-source", action="append", default=[], metavar="S", help="not this outlet (repeatable)"
    )
    matches.add_argument("--other-outlets", action="store_true", help="not the article's own outlet")
    matches.set_defaults(handler=cmd_matches, check=_one_query)

    prune = command("prune", "delete every article that appeared before a time (clusters stay consistent)")
    prune.add_argument("--before", required=True, metavar="ISO", help="publication time (else ingest time) cut")
    prune.add_argument("--page-size", type=int, default=100, help="articles deleted per call")
    prune.add_argument("--json", action="store_true")
    prune.set_defaults(handler=cmd_prune)

    stats = command("stats", "counts and index parameters")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=cmd_stats)

    delete = command("delete", "delete an article")
    delete.add_argument("article_id", metavar="ARTICLE_ID")
    delete.set_defaults(handler=cmd_delete)

    health = command("health", "the server's health (exit 0 when SERVING)")
    health.set_defaults(handler=cmd_health)

    listing = command("list", "list articles or clusters (paged through the List RPCs)")
    listing.add_argument("what", choices=("articles", "clusters"))
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--page-size", type=int, default=500)
    listing.set_defaults(handler=cmd_list)


def _one_query(args: argparse.Namespace) -> str | None:
    if bool(args.article_id) == bool(args.text_file):
        return "matches: give ARTICLE_ID or --text-file"
    return None
