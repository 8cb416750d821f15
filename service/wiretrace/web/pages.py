"""Every page as HTML. Each function takes what the client returned and escapes every text in it
(html.escape): article texts, titles, sources and ids are untrusted input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from wiretrace_client import Article, Cluster, ClusterMember, LineageEdge, Match, SharedPassage

from wiretrace.web import wording
from wiretrace.web.highlight import Span, highlight, text_html
from wiretrace.web.layout import article_url, page, range_label, with_query


@dataclass(frozen=True, slots=True)
class MatchView:
    """A match and the matched article (None when it is no longer stored)."""

    match: Match
    other: Article | None


@dataclass(frozen=True, slots=True)
class ClusterPage:
    """One page of a cluster: its members from ``start`` (0-based) and the token of the next page."""

    cluster: Cluster
    start: int
    next_page_token: str


def _e(text: object) -> str:
    return escape(str(text))


def _article_meta(article: Article) -> str:
    parts = [
        f"source: {_e(article.source or 'unknown')}",
        f"published: {_e(wording.moment(article.publish_time))}",
        f"{len(article.text):,} characters",
    ]
    if article.language:
        parts.append(f"language: {_e(article.language)}")
    if article.url and _is_web(article.url):
        parts.append(f'<a href="{_e(article.url)}" rel="noreferrer nofollow">original</a>')
    elif article.url:
        parts.append(_e(article.url))
    return " · ".join(parts)


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _title(article: Article) -> str:
    return article.title or article.article_id


# -- home ---------------------------------------------------------------------------------------------


def home(server: str, text: str = "") -> str:
    content = (
        "<h1>What is this a copy of, and where did it come from first?</h1>"
        f'<p class="meta">A read-only view of the wiretrace server at {_e(server)}.</p>'
        '<section class="card"><h2>Look up an article</h2>'
        '<form action="/articles" method="get" id="lookup">'
        '<label>Article id <input type="text" name="id" required autofocus></label> '
        "<button>Show the article and its matches</button></form></section>"
        + _text_form(text)
    )
    return page("wiretrace", content, f"server {server}")


def _text_form(text: str) -> str:
    return (
        '<section class="card"><h2>What does a text match?</h2>'
        '<form action="/matches" method="post" class="stack" id="paste">'
        '<label for="text">Paste a text (it is matched, not stored)</label>'
        # The parser drops a newline right after <textarea>: one of ours goes first.
        f'<textarea id="text" name="text" rows="10" required>\n{text_html(text)}</textarea>'
        "<div><button>Find matches</button></div></form></section>"
    )


# -- matches -------------------------------------------------------------------------------------------


def article_page(article: Article, matches: Sequence[MatchView], server: str) -> str:
    lineage = article_url(article.article_id, "lineage")
    content = (
        f"<h1>{_e(_title(article))}</h1>"
        f'<p class="meta">article <code>{_e(article.article_id)}</code> · {_article_meta(article)} · '
        f'<a href="{lineage}">lineage</a></p>'
        + _matches(article.text, "this article", matches)
    )
    return page(_title(article), content, f"server {server}")


def text_page(text: str, matches: Sequence[MatchView], server: str) -> str:
    content = (
        "<h1>Matches of the pasted text</h1>"
        f'<p class="meta">{len(text):,} characters, not stored.</p>'
        + _matches(text, "the pasted text", matches)
        + _text_form(text)
    )
    return page("matches of a text", content, f"server {server}")


def _matches(text: str, here: str, matches: Sequence[MatchView]) -> str:
    if not matches:
        return (
            f'<section class="card" id="matches"><h2>No matches</h2><p>{_e(here).capitalize()} copies nothing '
            "stored and nothing stored copies it.</p>"
            f'<div class="body full" data-side="query">{text_html(text)}</div></section>'
        )
    count = len(matches)
    head = f'<p class="meta" id="matches">{count} match{"es" if count != 1 else ""}, best first.</p>'
    return head + "".join(_match(n, text, here, view) for n, view in enumerate(matches, 1))


def _match(number: int, text: str, here: str, view: MatchView) -> str:
    match, other = view.match, view.other
    prefix = f"m{number}-"
    link = f'<a href="{article_url(match.article_id)}">{_e(match.article_id)}</a>'
    title = f" — {_e(other.title)}" if other is not None and other.title else ""
    scores = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in wording.match_details(match))
    passages = "".join(_passage_item(prefix, n, p) for n, p in enumerate(match.passages, 1))
    here_spans = [Span(p.query_start, p.query_end, p.kind, str(n)) for n, p in enumerate(match.passages, 1)]
    there_spans = [Span(p.matched_start, p.matched_end, p.kind, str(n)) for n, p in enumerate(match.passages, 1)]
    if other is None:
        there = '<p class="meta">That article is no longer stored.</p>'
    else:
        there = (
            f"<h3>{link} · {_article_meta(other)}</h3>"
            f'<div class="body" data-side="matched">{highlight(other.text, there_spans, prefix + "there-p")}</div>'
        )
    return (
        f'<section class="card match {_e(match.kind)}" id="match-{number}" data-article-id="{_e(match.article_id)}">'
        f"<h2>{number}. {link}{title}</h2>"
        f'<p class="headline">{_e(wording.match_headline(match))}</p>'
        f'<dl class="scores">{scores}</dl>'
        f'<ol class="passages">{passages}</ol>'
        '<div class="side-by-side">'
        f'<div class="text here"><h3>{_e(here)}</h3>'
        f'<div class="body" data-side="query">{highlight(text, here_spans, prefix + "here-p")}</div></div>'
        f'<div class="text there">{there}</div>'
        "</div></section>"
    )


def _passage_item(prefix: str, number: int, passage: SharedPassage) -> str:
    kind = _e(passage.kind)
    return (
        f'<li class="passage-item {kind}" data-passage="{number}"><span class="kind-label {kind}">{kind}</span>'
        f"{_e(wording.passage_summary(passage))}: "
        f'<a href="#{prefix}here-p{number}">here [{passage.query_start}–{passage.query_end})</a> ↔ '
        f'<a href="#{prefix}there-p{number}">there [{passage.matched_start}–{passage.matched_end})</a></li>'
    )


# -- lineage --------------------------------------------------------------------------------------------


def lineage_page(article: Article, clusters: Sequence[ClusterPage], page_size: int, server: str, focused: bool) -> str:
    back = (
        f'<p><a href="{article_url(article.article_id, "lineage")}">← every cluster of this article</a></p>'
        if focused
        else ""
    )
    content = (
        f'<h1>Lineage of <a href="{article_url(article.article_id)}">{_e(_title(article))}</a></h1>'
        f'<p class="meta">article <code>{_e(article.article_id)}</code> · {_article_meta(article)}. '
        "Each cluster is the set of articles that carry one reused text (a whole story, or one statement), "
        "from its origin, the earliest member; each link says why it was chosen and shows its evidence.</p>"
        + back
        + "".join(_cluster(article.article_id, c, page_size) for c in clusters)
    )
    return page(f"lineage of {_title(article)}", content, f"server {server}")


def _cluster(article_id: str, view: ClusterPage, page_size: int) -> str:
    cluster = view.cluster
    members = cluster.members
    first, last = view.start + 1, view.start + len(members)
    shown = f"{range_label(first, last)} of {cluster.member_count}" if members else "no members on this page"
    if cluster.member_count == 1:
        summary = "this article alone: it copies no stored story and no stored story copies it"
    else:
        summary = f"{cluster.member_count} articles, origin {cluster.root_id}"
    pager = ""
    if view.next_page_token:
        url = with_query(
            article_url(article_id, "lineage"),
            cluster=cluster.cluster_id,
            page_token=view.next_page_token,
            start=str(last),
        )
        pager = (
            f'<nav class="pager"><a class="next-page" rel="next" href="{_e(url)}">next page '
            f"({range_label(last + 1, max(last + 1, min(last + page_size, cluster.member_count)))})</a></nav>"
        )
    return (
        f'<section class="card cluster {_e(cluster.kind)}" data-cluster-id="{_e(cluster.cluster_id)}">'
        f"<h2>{_e(cluster.kind.capitalize())} cluster <code>{_e(cluster.cluster_id)}</code></h2>"
        f'<p class="meta">{_e(summary)}; {_e(shown)}.</p>'
        f'<ol class="tree">{_tree(article_id, cluster)}</ol>{pager}</section>'
    )


def _tree(article_id: str, cluster: Cluster) -> str:
    """The page's members as an indented tree: each under its parent when the parent is on this page,
    in member order (earliest first); a member whose parent is on an earlier page starts a branch."""
    edges = {edge.child_id: edge for edge in cluster.edges}
    on_page = {member.article_id for member in cluster.members}
    children: dict[str, list[ClusterMember]] = {}
    tops: list[ClusterMember] = []
    for member in cluster.members:
        edge = edges.get(member.article_id)
        if edge is not None and edge.parent_id in on_page and edge.parent_id != member.article_id:
            children.setdefault(edge.parent_id, []).append(member)
        else:
            tops.append(member)
    out: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[ClusterMember, int]] = [(m, 0) for m in reversed(tops)]
    while stack:  # depth first without recursion: a chain of a thousand copies is a thousand levels
        member, depth = stack.pop()
        if member.article_id in seen:
            continue
        seen.add(member.article_id)
        out.append(_member(article_id, cluster, member, edges.get(member.article_id), depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(member.article_id, [])))
    # Members caught in a parent cycle (never expected) are still shown.
    out.extend(
        _member(article_id, cluster, m, edges.get(m.article_id), 0) for m in cluster.members if m.article_id not in seen
    )
    return "".join(out)


def _member(article_id: str, cluster: Cluster, member: ClusterMember, edge: LineageEdge | None, depth: int) -> str:
    origin = member.article_id == cluster.root_id
    classes = "member origin" if origin else "member"
    badges = ' <span class="badge">origin</span>' if origin else ""
    if member.article_id == article_id:
        badges += ' <span class="badge">this article</span>'
    details = " · ".join(
        _e(part) for part in (member.title, member.source, wording.moment(member.publish_time)) if part
    )
    return (
        f'<li class="{classes}" data-article-id="{_e(member.article_id)}" data-depth="{depth}" '
        f'style="margin-left: {min(depth, 16) * 1.6:.1f}rem">'
        f'<a href="{article_url(member.article_id)}">{_e(member.article_id)}</a>{badges} '
        f'<span class="meta">{details}</span>'
        + (_edge(edge) if edge is not None else "")
        + "</li>"
    )


def _edge(edge: LineageEdge) -> str:
    evidence = "".join(_evidence(edge, p) for p in edge.passages)
    return (
        f'<div class="edge" data-parent-id="{_e(edge.parent_id)}" data-child-id="{_e(edge.child_id)}">'
        f'derives from <a href="{article_url(edge.parent_id)}">{_e(edge.parent_id)}</a>: '
        f"{_e(wording.edge_summary(edge))}"
        f'<p class="reason">why: {_e(edge.reason)}</p>{evidence}</div>'
    )


def _evidence(edge: LineageEdge, passage: SharedPassage) -> str:
    kind = _e(passage.kind)
    cut = ", first 2,000 characters shown" if passage.texts_cut else ""
    return (
        f'<div class="evidence {kind}">'
        f'<div><div class="side"><span class="kind-label {kind}">{kind}</span>in {_e(edge.child_id)} '
        f"[{passage.query_start}–{passage.query_end}){cut}</div>"
        f"<blockquote>{text_html(passage.query_text)}</blockquote></div>"
        f'<div><div class="side">in {_e(edge.parent_id)} [{passage.matched_start}–{passage.matched_end}){cut}</div>'
        f"<blockquote>{text_html(passage.matched_text)}</blockquote></div></div>"
    )


# -- errors ---------------------------------------------------------------------------------------------

REASONS = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    500: "Internal error",
    502: "The wiretrace server refused",
    503: "The wiretrace server is unreachable",
}


def error_page(status: int, message: str, server: str) -> str:
    heading = f"{status} {REASONS.get(status, 'Error')}"
    content = f'<h1>{_e(heading)}</h1><p class="error">{_e(message)}</p><p><a href="/">Look up another article</a></p>'
    return page(heading, content, f"server {server}")
