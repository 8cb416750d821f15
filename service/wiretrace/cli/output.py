"""How the CLI shows results to people; ``--json`` documents refer to articles by ``article_id``."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def clip(text: str, width: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def when(moment: Any) -> str:
    return moment.isoformat() if moment else "-"


def print_match(match: Any, indent: str = "  ") -> None:
    print(
        f"{indent}{match.article_id}: {match.kind.replace('_', ' ')}  score {match.score:.2f}  "
        f"jaccard {match.jaccard:.2f}  containment {match.query_containment:.2f}/{match.matched_containment:.2f}"
    )
    for passage in match.passages:
        print(
            f"{indent}  {passage.kind} passage (score {passage.score:.2f}) "
            f"[{passage.query_start}:{passage.query_end}] ~ [{passage.matched_start}:{passage.matched_end}]"
        )
        print(f"{indent}    here:  {clip(passage.query_text)}")
        print(f"{indent}    there: {clip(passage.matched_text)}")


def cluster_json(cluster: Any) -> dict[str, Any]:
    """A cluster with every article referred to by an ``article_id`` field."""
    return {
        "cluster_id": cluster.cluster_id,
        "kind": cluster.kind,
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


def print_cluster(cluster: Any) -> None:
    shown = "" if len(cluster.members) >= cluster.member_count else f" (first {len(cluster.members)} shown; --all)"
    print(
        f"{cluster.kind} cluster {cluster.cluster_id}: {cluster.member_count} article(s), root {cluster.root_id}{shown}"
    )
    for member in cluster.members:
        print(f"  {member.article_id}  {when(member.publish_time)}  {member.source or ''}")
    for edge in cluster.edges:
        print(f"  {edge.parent_id} -> {edge.child_id}  {edge.kind.replace('_', ' ')}  score {edge.score:.2f}")
        print(f"      why: {edge.reason}")
        for passage in edge.passages:
            print(f"      {passage.kind}: {clip(passage.query_text, 100)}")


class NoProgress:
    def update(self, n: int) -> None:
        pass

    def write(self, message: str) -> None:
        print(message, file=sys.stderr)

    def close(self) -> None:
        pass


def progress(total: int | None, quiet: bool) -> Any:
    """A progress bar on a terminal (``total`` None: a count without an end), else nothing."""
    if quiet or not sys.stderr.isatty():
        return NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="article", file=sys.stderr)
