"""The frame of every page: head, style sheet, header, and one small script.

The Content-Security-Policy that :mod:`wiretrace.web.app` sends lets only that script run (by its
hash), so even a text that got past escaping could run nothing.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import quote, urlencode

STYLE = """
:root { --ink: #1d232a; --muted: #5b6570; --line: #d8dde3; --paper: #fff; --band: #f4f6f8;
        --verbatim: #ffe27a; --variant: #b9e4ff; --translated: #d9c8ff; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: var(--band); }
header.top { background: #14202c; color: #fff; padding: .6rem 1.5rem; display: flex; gap: 1.5rem;
             align-items: baseline; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; letter-spacing: .02em; }
header.top form { margin-left: auto; display: flex; gap: .4rem; }
main { max-width: 1400px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.45rem; margin: .6rem 0 .2rem; }
h2 { font-size: 1.15rem; margin: 0 0 .3rem; }
h3 { font-size: .95rem; margin: 0 0 .4rem; color: var(--muted); font-weight: 600; }
a { color: var(--accent); }
.meta { color: var(--muted); margin: 0 0 .8rem; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem;
        margin: 0 0 1.2rem; }
.headline { font-weight: 600; margin: .2rem 0 .5rem; }
dl.scores { display: grid; grid-template-columns: max-content max-content; gap: .1rem 1rem; margin: 0 0 .6rem;
            font-size: .88rem; color: var(--muted); }
dl.scores dt { grid-column: 1; } dl.scores dd { grid-column: 2; margin: 0; color: var(--ink);
            font-variant-numeric: tabular-nums; }
ol.passages { margin: 0 0 .8rem; padding-left: 1.4rem; font-size: .9rem; }
.kind-label { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: uppercase;
              letter-spacing: .04em; padding: 0 .4rem; border-radius: 4px; margin-right: .3rem; }
.kind-label.verbatim { background: var(--verbatim); } .kind-label.variant { background: var(--variant); }
.kind-label.translated { background: var(--translated); }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 900px) { .side-by-side { grid-template-columns: 1fr; } }
.body { position: relative; white-space: pre-wrap; overflow-wrap: anywhere;
        font-family: Georgia, "Times New Roman", serif; font-size: .95rem; border: 1px solid var(--line);
        border-radius: 6px; padding: .7rem .9rem; max-height: 32rem; overflow-y: auto; background: #fcfcfd; }
.body.full { max-height: none; }
mark.passage { padding: 0 1px; border-radius: 2px; }
mark.verbatim { background: var(--verbatim); }
mark.variant { background: var(--variant); }
mark.translated { background: var(--translated); }
mark.verbatim.variant { background: linear-gradient(var(--verbatim), var(--variant)); }
mark.overlap { outline: 1px dashed #7a5c00; }
form.stack { display: flex; flex-direction: column; gap: .5rem; max-width: 56rem; }
textarea { width: 100%; font: inherit; padding: .5rem; }
input[type=text] { font: inherit; padding: .3rem .5rem; min-width: 16rem; }
button { font: inherit; padding: .3rem .9rem; cursor: pointer; }
ol.tree { list-style: none; padding: 0; margin: 0; }
ol.tree > li { border-left: 3px solid var(--line); padding: .35rem 0 .35rem .8rem; margin: .25rem 0; }
ol.tree > li.origin { border-left-color: var(--accent); }
.edge { font-size: .9rem; margin-top: .2rem; }
.reason { margin: .15rem 0; color: var(--muted); }
.evidence { display: grid; grid-template-columns: 1fr 1fr; gap: .6rem; margin: .3rem 0; }
.evidence blockquote { margin: 0; padding: .3rem .6rem; border-left: 3px solid var(--line);
                       font-family: Georgia, serif; font-size: .88rem; white-space: pre-wrap;
                       max-height: 9rem; overflow-y: auto; }
.evidence.verbatim blockquote { border-left-color: #d4a800; }
.evidence.variant blockquote { border-left-color: #3a9ad9; }
.evidence.translated blockquote { border-left-color: #7a4fd6; }
.evidence .side { font-size: .78rem; color: var(--muted); }
.pager { margin-top: .8rem; display: flex; gap: 1rem; }
.badge { font-size: .75rem; background: var(--accent); color: #fff; border-radius: 4px; padding: 0 .4rem; }
.error { font-size: 1.05rem; }
"""


# Scroll each text box to its first highlighted passage, so both sides open on the shared text.
SCRIPT = (
    "for (const box of document.querySelectorAll('.body')) {"
    " const mark = box.querySelector('mark'); if (mark) box.scrollTop = Math.max(0, mark.offsetTop - 48); }"
)
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


def page(title: str, content: str, status_line: str = "") -> str:
    """A whole HTML document; ``title`` is plain text, ``content`` HTML built by the caller."""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · wiretrace</title><style>{STYLE}</style></head>"
        "<body>"
        '<header class="top"><a class="brand" href="/">wiretrace</a>'
        f"<span>{escape(status_line)}</span>"
        '<form action="/articles" method="get" role="search">'
        '<input type="text" name="id" placeholder="article id" aria-label="article id" required>'
        "<button>Show</button></form></header>"
        f"<main>{content}</main><script>{SCRIPT}</script></body></html>\n"
    )


def article_url(article_id: str, *tail: str) -> str:
    return "/articles/" + quote(article_id, safe="") + "".join("/" + part for part in tail)


def with_query(url: str, **params: str) -> str:
    given = {k: v for k, v in params.items() if v}
    return f"{url}?{urlencode(given)}" if given else url


def range_label(first: int, last: int) -> str:
    """Members 3-3 read as "member 3"."""
    return f"member {first}" if first == last else f"members {first}–{last}"
