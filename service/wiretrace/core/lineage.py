"""Lineage: which articles carry one reused text, where it appeared first, who took it from whom.

A cluster is the set of articles that carry one reused text: a **story** (near-duplicates,
syndicated copies, light rewrites: every article is in exactly one story cluster, alone if it
copies nothing) or a **statement** (a quote or passage reused inside other stories). An article
can carry several statements; two clusters never merge because one article carries both texts,
so one false sentence link cannot chain unrelated stories together.

Each member's parent is chosen once, at its ingest, among the earlier articles it matched: one
whose outlet it explicitly credits ("according to TASS", "(Reuters)"), else its closest copy,
ties to the earliest. Root and size are kept per cluster and updated per ingest, so the
5,000th copy of a story costs what the second did.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace

from wiretrace.core.attribution import attributions, credited
from wiretrace.core.model import (
    Article,
    ClusterKind,
    ClusterSummary,
    Match,
    MatchKind,
    Membership,
    OrderKey,
    SharedPassage,
)
from wiretrace.core.staging import Overlay

# Passages of one match whose other-side spans lie within this many characters are one statement.
STATEMENT_GAP_CHARS = 400


def new_cluster_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an ingested article landed: its story cluster and the statement clusters it joined."""

    story_id: str
    statement_ids: tuple[str, ...]


def place(
    view: Overlay,
    article: Article,
    matches: list[Match],
    matched: Mapping[str, Article],
    *,
    max_statements: int,
    same_outlet_jaccard: float,
) -> Placement:
    """Put a new article (already staged in ``view``) into its story and statement clusters."""
    names = attributions(article.text)
    # Within one outlet only a copy in the same words is the same story: its templated notices
    # ("Qtly div 28 cts vs 28 cts prior") share most sentences' words, never their facts.
    near = [
        m
        for m in matches
        if m.kind is MatchKind.NEAR_DUPLICATE
        and (m.jaccard >= same_outlet_jaccard or not _same_outlet(article, matched[m.article_id]))
    ]
    story = _join_story(view, article, near, matched, names) if near else None
    if story is None:
        story = _found(view, article, ClusterKind.STORY)
    statements: list[str] = []
    # An outlet's own furniture (a show's introduction, a template line with new numbers) recurs
    # across its articles in ever new wording: a passage shared with the same outlet is no statement.
    quoted = [
        m for m in matches if m.kind is MatchKind.REUSED_PASSAGE and not _same_outlet(article, matched[m.article_id])
    ]
    for match in quoted[:max_statements]:
        for passages in _statements(match.passages):
            joined = _join_statement(view, article, match, passages, matched, names)
            if joined not in statements:
                statements.append(joined)
    return Placement(story, tuple(statements))


def _same_outlet(first: Article, second: Article) -> bool:
    return bool(first.source) and first.source.casefold() == second.source.casefold()


def _found(view: Overlay, article: Article, kind: ClusterKind, span: tuple[int, int] = (0, 0)) -> str:
    cluster_id = new_cluster_id()
    view.put_membership(Membership(cluster_id, article.article_id, kind, article.order, span=span))
    view.put_summary(ClusterSummary(cluster_id, kind, article.article_id, article.order, 1))
    return cluster_id


def _best_parent(
    article: Article, candidates: list[Match], matched: Mapping[str, Article], names: set[str]
) -> tuple[Match | None, str | None]:
    """Among earlier matched articles: one the article credits (the earliest such), else the
    closest (scores equal to two decimals count as equal), ties to the earliest."""
    earlier = [m for m in candidates if matched[m.article_id].order < article.order]
    if not earlier:
        return None, None
    credit = {m.article_id: credited(names, matched[m.article_id].source) for m in earlier}
    with_credit = [m for m in earlier if credit[m.article_id] is not None]
    if with_credit:
        best = min(with_credit, key=lambda m: matched[m.article_id].order)
        return best, credit[best.article_id]
    best = min(earlier, key=lambda m: (-round(m.score, 2), matched[m.article_id].order))
    return best, None


def _join_story(
    view: Overlay, article: Article, near: list[Match], matched: Mapping[str, Article], names: set[str]
) -> str | None:
    """Join the story cluster of the best near-duplicate (its parent when it is earlier)."""
    parent, credit = _best_parent(article, near, matched, names)
    anchor = matched[(parent or max(near, key=lambda m: m.score)).article_id]
    summary = view.summary(anchor.cluster_id)
    if summary is None:
        return None
    membership = Membership(anchor.cluster_id, article.article_id, ClusterKind.STORY, article.order)
    if parent is not None:
        reason = _reason(article, anchor, parent, credit)
        membership = replace(membership, parent_id=parent.article_id, evidence=parent, reason=reason)
    view.put_membership(membership)
    _grow(view, summary, article, {m.article_id: m for m in near})
    return anchor.cluster_id


def _grow(view: Overlay, summary: ClusterSummary, article: Article, direct: Mapping[str, Match]) -> None:
    """One member more; an article earlier than the root becomes the root, and the old root,
    when the article matched it directly, its child."""
    if article.order >= summary.root_order:
        view.put_summary(replace(summary, member_count=summary.member_count + 1))
        return
    view.put_summary(
        replace(summary, member_count=summary.member_count + 1, root_id=article.article_id, root_order=article.order)
    )
    old_root = direct.get(summary.root_id)
    if old_root is None:
        return
    for membership in view.memberships_of(summary.root_id):
        if membership.cluster_id == summary.cluster_id:
            evidence = old_root.seen_from(article.article_id)
            child = view.article(summary.root_id)
            reason = _reason(child, article, evidence, None) if child else ""
            view.put_membership(replace(membership, parent_id=article.article_id, evidence=evidence, reason=reason))


def _statements(passages: tuple[SharedPassage, ...]) -> list[tuple[SharedPassage, ...]]:
    """The passages of one match grouped into statements: runs close together on the other side."""
    groups: list[list[SharedPassage]] = []
    for passage in sorted(passages, key=lambda p: p.matched_start):
        if groups and passage.matched_start - groups[-1][-1].matched_end <= STATEMENT_GAP_CHARS:
            groups[-1].append(passage)
        else:
            groups.append([passage])
    return [tuple(group) for group in groups]


def _hull(spans: list[tuple[int, int]]) -> tuple[int, int]:
    return min(s for s, _ in spans), max(e for _, e in spans)


def _join_statement(
    view: Overlay,
    article: Article,
    match: Match,
    passages: tuple[SharedPassage, ...],
    matched: Mapping[str, Article],
    names: set[str],
) -> str:
    """Join the statement cluster the other article carries at these passages, or found one with it."""
    other = matched[match.article_id]
    own_span = _hull([(p.query_start, p.query_end) for p in passages])
    other_span = _hull([(p.matched_start, p.matched_end) for p in passages])
    evidence = replace(match, passages=passages)
    carried = [m for m in view.memberships_of(other.article_id) if m.kind is ClusterKind.STATEMENT]
    overlap = {m.cluster_id: min(m.span[1], other_span[1]) - max(m.span[0], other_span[0]) for m in carried}
    home = _home(view, carried, overlap)
    if home is None or overlap[home.cluster_id] <= 0:
        cluster_id = new_cluster_id()
        view.put_membership(
            Membership(cluster_id, other.article_id, ClusterKind.STATEMENT, other.order, span=other_span)
        )
        summary = ClusterSummary(cluster_id, ClusterKind.STATEMENT, other.article_id, other.order, 1)
    else:
        cluster_id = home.cluster_id
        if not (home.span[0] <= other_span[0] and other_span[1] <= home.span[1]):
            view.put_membership(replace(home, span=_hull([home.span, other_span])))
        found = view.summary(cluster_id)
        assert found is not None, f"membership of {other.article_id} in a cluster with no summary"
        summary = found
    mine = next((m for m in view.memberships_of(article.article_id) if m.cluster_id == cluster_id), None)
    if mine is None:
        mine = Membership(cluster_id, article.article_id, ClusterKind.STATEMENT, article.order, span=own_span)
        _grow(view, summary, article, {other.article_id: evidence})
    else:  # a second passage of the same statement, or the statement again from another source
        mine = replace(mine, span=_hull([mine.span, own_span]))
        view.put_summary(summary)
    if not mine.parent_id and other.order < article.order:
        reason = _reason(article, other, evidence, credited(names, other.source))
        mine = replace(mine, parent_id=other.article_id, evidence=evidence, reason=reason)
    view.put_membership(mine)
    if other.order > article.order:
        # The other carrier appeared later and matched this article directly: it has a parent now.
        theirs = next(m for m in view.memberships_of(other.article_id) if m.cluster_id == cluster_id)
        if not theirs.parent_id:
            flipped = evidence.seen_from(article.article_id)
            reason = _reason(other, article, flipped, credited(attributions(other.text), article.source))
            view.put_membership(replace(theirs, parent_id=article.article_id, evidence=flipped, reason=reason))
    return cluster_id


def _home(view: Overlay, carried: list[Membership], overlap: dict[str, int]) -> Membership | None:
    """The statement cluster overlapping these passages most; of several equally, the oldest
    (earliest root), then the one earliest in the text, so that where an article lands does not
    depend on random cluster ids."""
    if not carried:
        return None
    most = max(overlap.values())
    tied = [m for m in carried if overlap[m.cluster_id] == most]
    if len(tied) == 1:
        return tied[0]

    def age(membership: Membership) -> tuple[OrderKey, tuple[int, int], str]:
        summary = view.summary(membership.cluster_id)
        return (summary.root_order if summary else membership.order, membership.span, membership.cluster_id)

    return min(tied, key=age)


def _reason(child: Article, parent: Article, evidence: Match, credit: str | None) -> str:
    shared = f"{evidence.kind.value}, score {evidence.score:.2f}, {len(evidence.passages)} shared passage(s)"
    if credit is not None:
        return f"{child.article_id} credits {credit!r}, the outlet of earlier {parent.article_id} ({shared})"
    if parent.lineage_time == child.lineage_time:
        # A tie in time is broken by ingest order; say so rather than claim it appeared earlier.
        return (
            f"{parent.article_id} has the same publication time as {child.article_id} but was ingested first, "
            f"and shares most with it ({shared})"
        )
    return f"{parent.article_id} appeared earlier and shares most with {child.article_id} ({shared})"


def remove(view: Overlay, article_id: str) -> None:
    """Take a deleted article out of its clusters: its children lose their parent, a deleted root
    hands the cluster to the next earliest member, an emptied cluster goes."""
    for membership in view.memberships_of(article_id):
        cluster_id = membership.cluster_id
        view.remove_membership(cluster_id, article_id)
        for child in view.children(cluster_id, article_id):
            view.put_membership(
                replace(child, parent_id="", evidence=None, reason=f"its parent {article_id} was deleted")
            )
        summary = view.summary(cluster_id)
        if summary is None:
            continue
        if summary.member_count <= 1:
            view.remove_cluster(cluster_id)
            continue
        summary = replace(summary, member_count=summary.member_count - 1)
        if summary.root_id == article_id:
            root = view.earliest(cluster_id)
            if root is None:
                view.remove_cluster(cluster_id)
                continue
            summary = replace(summary, root_id=root.article_id, root_order=root.order)
        view.put_summary(summary)
