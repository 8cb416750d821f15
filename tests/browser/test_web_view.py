"""`wiretrace web` in headless Chromium, end to end: a real `wiretrace serve` process with the seeds
and an article carrying a <script>, a real `wiretrace web` process, and what a browser shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from processes import ServerProcess, free_port, run_cli
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from web_browser import WebProcess
from wiretrace_client import Client

from seeds import MANIFEST, SEEDS, syndicated_copy

PAGE_SIZE = 2
SCRIPT = "<script>window.__pwned = 1</script>"
REUTERS = (SEEDS / "003_751e4d96e6c3255f.txt").read_text(encoding="utf-8")
COPIED = [p for p in REUTERS.split("\n\n") if p.startswith(("The Kazakh Interior Ministry said", "On Friday morning"))]
# Code points beyond the BMP before the passage: offsets are code points, not UTF-16 units.
XSS_TEXT = (
    f"Desk note 😀𝔘 {SCRIPT} — the wire paragraphs below were re-used by our desk.\n\n"
    + "\n\n".join(COPIED)
    + "\n\nOur own closing line: the desk will update this page as the night goes on."
)
XSS_TITLE = '<b>Re-used</b> wire copy <img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("web") / "data") as running:
        run_cli("ingest", "--server", running.address, str(MANIFEST))
        with Client(running.address) as client:
            for n in range(1, 5):  # 003's story grows past a page: 5 members, pages of 2
                client.create_article(
                    f"copy-{n}",
                    syndicated_copy(n, REUTERS),
                    title=f"Copy {n} of the Reuters story",
                    source=f"Outlet {n}",
                    publish_time=datetime(2022, 1, 8, n, tzinfo=UTC),
                )
            client.create_article(
                "xss", XSS_TEXT, title=XSS_TITLE, source="Desk <script>", publish_time=datetime(2022, 1, 9, tzinfo=UTC)
            )
        yield running


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address) as opened:
        yield opened


@pytest.fixture(scope="module")
def web(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebProcess]:
    with WebProcess(tmp_path_factory.mktemp("web-log"), server.address, "--page-size", str(PAGE_SIZE)) as running:
        yield running
        running.stop()


def marks(chrome: webdriver.Chrome, selector: str) -> list[tuple[str, list[str], list[str]]]:
    """Each <mark> under ``selector``: its text content, the passages it belongs to, its classes."""
    found: list[tuple[str, list[str], list[str]]] = chrome.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(m => [m.textContent, m.dataset.passages.split(' '), [...m.classList]])",
        selector,
    )
    return found


def passage_texts(found: list[tuple[str, list[str], list[str]]]) -> dict[str, str]:
    """Each passage's marked text: the marks that name it, in order (one mark unless passages overlap)."""
    texts: dict[str, str] = {}
    for text, refs, _ in found:
        for ref in refs:
            texts[ref] = texts.get(ref, "") + text
    return texts


def test_home_page_and_lookup_form(web: WebProcess, chrome: webdriver.Chrome, client: Client) -> None:
    chrome.get(web.url + "/")
    assert "wiretrace" in chrome.title
    assert chrome.find_element(By.CSS_SELECTOR, "form#paste textarea[name=text]")
    field = chrome.find_element(By.CSS_SELECTOR, "form#lookup input[name=id]")
    field.send_keys("003")
    field.submit()
    WebDriverWait(chrome, 20).until(lambda d: d.current_url.endswith("/articles/003"))
    assert chrome.find_element(By.TAG_NAME, "h1").text == client.get_article("003").title


def test_passages_are_marked_at_their_offsets_on_both_sides(
    web: WebProcess, chrome: webdriver.Chrome, client: Client
) -> None:
    matches = client.find_matches(article_id="xss", max_matches=20)
    assert "003" in {m.article_id for m in matches} and all(m.passages for m in matches)
    chrome.get(web.url + "/articles/xss")
    sections = chrome.find_elements(By.CSS_SELECTOR, "section.match")
    assert [s.get_attribute("data-article-id") for s in sections] == [m.article_id for m in matches]  # ranked
    for number, match in enumerate(matches, 1):
        other = client.get_article(match.article_id).text
        here = marks(chrome, f"#match-{number} .body[data-side=query] mark")
        there = marks(chrome, f"#match-{number} .body[data-side=matched] mark")
        expected_here = {str(n): XSS_TEXT[p.query_start : p.query_end] for n, p in enumerate(match.passages, 1)}
        expected_there = {str(n): other[p.matched_start : p.matched_end] for n, p in enumerate(match.passages, 1)}
        assert passage_texts(here) == expected_here
        assert passage_texts(there) == expected_there
        for text, refs, classes in here + there:
            kinds = {match.passages[int(ref) - 1].kind for ref in refs}
            assert kinds <= set(classes), (text, classes)
        labels = chrome.find_elements(By.CSS_SELECTOR, f"#match-{number} ol.passages .kind-label")
        assert [label.text.lower() for label in labels] == [p.kind for p in match.passages]
        headline = chrome.find_element(By.CSS_SELECTOR, f"#match-{number} .headline").text
        assert "% of shingles shared" in headline
        assert headline.startswith(("near-duplicate", "reused passage"))
    # the copied Reuters paragraphs are what the first passages of 003 mark, in the article and in 003
    by_id = {m.article_id: n for n, m in enumerate(matches, 1)}
    marked = "".join(t for t, _, _ in marks(chrome, f"#match-{by_id['003']} .body[data-side=query] mark"))
    assert COPIED[0][:60] in marked


def test_a_script_in_an_article_is_shown_not_run(web: WebProcess, chrome: webdriver.Chrome) -> None:
    chrome.get(web.url + "/articles/xss")
    assert chrome.execute_script("return typeof window.__pwned") == "undefined"
    assert not chrome.execute_script("return [...document.scripts].some(s => s.textContent.includes('__pwned'))")
    assert not chrome.find_elements(By.CSS_SELECTOR, "main img, main b")
    assert chrome.find_element(By.TAG_NAME, "h1").text == XSS_TITLE
    body = chrome.find_element(By.CSS_SELECTOR, "#match-1 .body[data-side=query]")
    assert SCRIPT in body.get_attribute("textContent")
    assert "Desk <script>" in chrome.find_element(By.CSS_SELECTOR, "p.meta").text


def test_pasted_text_is_matched_and_marked(web: WebProcess, chrome: webdriver.Chrome, client: Client) -> None:
    text = " ".join(COPIED)  # one line: what the browser posts is exactly this
    expected = client.find_matches(text=text, max_matches=20)
    assert expected
    chrome.get(web.url + "/")
    chrome.execute_script("document.querySelector('form#paste textarea').value = arguments[0]", text)
    chrome.find_element(By.CSS_SELECTOR, "form#paste button").click()
    WebDriverWait(chrome, 20).until(lambda d: d.current_url.endswith("/matches"))
    sections = chrome.find_elements(By.CSS_SELECTOR, "section.match")
    assert [s.get_attribute("data-article-id") for s in sections] == [m.article_id for m in expected]
    first = expected[0]
    here = passage_texts(marks(chrome, "#match-1 .body[data-side=query] mark"))
    assert here == {str(n): text[p.query_start : p.query_end] for n, p in enumerate(first.passages, 1)}
    assert chrome.find_element(By.CSS_SELECTOR, "form#paste textarea").get_attribute("value") == text


def test_lineage_shows_edges_with_reasons_and_pages_big_clusters(
    web: WebProcess, chrome: webdriver.Chrome, client: Client
) -> None:
    story = client.get_lineage("003")
    assert story.member_count == 5 and story.root_id == "003"
    edges = {edge.child_id: edge for edge in story.edges}
    chrome.get(web.url + "/articles/003/lineage")
    sections = chrome.find_elements(By.CSS_SELECTOR, "section.cluster")
    summaries = client.clusters_of("003")
    assert [s.get_attribute("data-cluster-id") for s in sections] == [c.cluster_id for c in summaries]
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        section = chrome.find_element(By.CSS_SELECTOR, f'section.cluster[data-cluster-id="{story.cluster_id}"]')
        members = section.find_elements(By.CSS_SELECTOR, "li.member")
        assert 1 <= len(members) <= PAGE_SIZE
        for member in members:
            article_id = member.get_attribute("data-article-id") or ""
            seen.append(article_id)
            shown = member.find_elements(By.CSS_SELECTOR, ".edge")
            if article_id == story.root_id:
                assert not shown and "origin" in (member.get_attribute("class") or "")
                continue
            edge = edges[article_id]
            assert shown[0].get_attribute("data-parent-id") == edge.parent_id
            assert shown[0].find_element(By.CSS_SELECTOR, ".reason").text == f"why: {edge.reason}"
            evidence = shown[0].find_elements(By.CSS_SELECTOR, ".evidence")
            assert len(evidence) == len(edge.passages)
            quotes = [q.get_attribute("textContent") for q in shown[0].find_elements(By.TAG_NAME, "blockquote")]
            for passage in edge.passages:
                assert passage.query_text in quotes and passage.matched_text in quotes
        following = section.find_elements(By.CSS_SELECTOR, "a.next-page")
        if not following:
            break
        assert "page_token=" in (following[0].get_attribute("href") or "")
        following[0].click()
        WebDriverWait(chrome, 20).until(lambda d: "page_token=" in d.current_url)
        assert len(chrome.find_elements(By.CSS_SELECTOR, "section.cluster")) == 1  # the paged cluster alone
    assert pages == 3
    assert seen == [m.article_id for m in story.members]


def test_statement_clusters_are_shown_from_their_origin(
    web: WebProcess, chrome: webdriver.Chrome, client: Client
) -> None:
    statements = [c for c in client.clusters_of("001") if c.kind == "statement"]
    assert statements
    chrome.get(web.url + "/articles/001/lineage")
    for summary in statements:
        section = chrome.find_element(By.CSS_SELECTOR, f'section.cluster[data-cluster-id="{summary.cluster_id}"]')
        first = section.find_elements(By.CSS_SELECTOR, "li.member")[0]
        assert first.get_attribute("data-article-id") == summary.root_id
        assert section.find_elements(By.CSS_SELECTOR, ".edge .reason")


def test_unknown_article_is_a_404_page(web: WebProcess, chrome: webdriver.Chrome) -> None:
    for path in ("/articles/no-such-article", "/articles/no-such-article/lineage", "/articles/not%20an%20id"):
        status, body = web.status(path)
        assert status == 404, path
        assert "Traceback" not in body
    chrome.get(web.url + "/articles/no-such-article")
    assert chrome.find_element(By.TAG_NAME, "h1").text == "404 Not found"
    message = chrome.find_element(By.CSS_SELECTOR, "p.error").text
    assert "no-such-article" in message and "\n" not in message
    assert web.status("/no/such/page")[0] == 404


def test_unreachable_server_is_a_503_page(chrome: webdriver.Chrome, tmp_path: Path) -> None:
    with WebProcess(tmp_path, f"127.0.0.1:{free_port()}") as down:
        status, body = down.status("/articles/003")
        assert status == 503 and "Traceback" not in body
        chrome.get(down.url + "/articles/003/lineage")
        assert chrome.find_element(By.TAG_NAME, "h1").text.startswith("503")
        log = down.stop()
    assert "Traceback" not in log
