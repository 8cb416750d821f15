"""Screenshots of every page of `wiretrace web`, taken in headless Chromium from the real pages.

A `wiretrace serve` process on a temporary directory gets the seed articles, four syndicated copies of
the Reuters seed (so its story has a lineage tree and a next page) and a desk article that re-uses
two Reuters paragraphs and carries a <script>; `wiretrace web` serves them; Chromium (Debian's
chromium + chromium-driver, driven by selenium) saves each page as a PNG:

    .venv/bin/python docs/web/screenshots.py            # writes docs/web/*.png
    .venv/bin/python docs/web/screenshots.py --out DIR
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from wiretrace.inputs import read_articles
from wiretrace_client import ArticleInput, Client

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
HERE = Path(__file__).resolve().parent
REUTERS = (SEEDS / "003_751e4d96e6c3255f.txt").read_text(encoding="utf-8")
COPIED = [p for p in REUTERS.split("\n\n") if p.startswith(("The Kazakh Interior Ministry said", "On Friday morning"))]
DESK = (
    "Desk note: <script>window.__pwned = 1</script> is shown as text, never run.\n\n"
    "Our correspondent adds that the situation in the capital remained tense through the evening.\n\n"
    + "\n\n".join(COPIED)
    + "\n\nThe desk will update this page as the night goes on."
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def copy_of(number: int, text: str) -> str:
    """A syndicated copy: a few words changed (deterministic)."""
    words = text.split(" ")
    rng = random.Random(number)
    for _ in range(3):
        words[rng.randrange(len(words))] = f"edit{number}"
    return " ".join(words)


@contextmanager
def process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-m", "wiretrace.cli", *args], stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.terminate()
            child.wait(30)


def wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def load(address: str) -> None:
    with Client(address) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.health() == "SERVING":
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        seeds = [ArticleInput(d.article_id, d.text, d.title, d.source, d.url, d.publish_time, d.language)
                 for d in read_articles([SEEDS / "seeds.jsonl"])]  # fmt: skip
        copies = [
            ArticleInput(f"copy-{n}", copy_of(n, REUTERS), f"Kazakh president says order restored (Outlet {n})",
                         f"Outlet {n}", publish_time=datetime(2022, 1, 8, n, tzinfo=UTC))
            for n in range(1, 6)
        ]  # fmt: skip
        desk = ArticleInput("desk-1", DESK, "Night desk: the Almaty unrest, with the wire's figures", "Night desk",
                            publish_time=datetime(2022, 1, 8, 20, tzinfo=UTC))  # fmt: skip
        for item in client.ingest_many([*seeds, *copies, desk]):
            if item.error is not None:
                raise SystemExit(f"{item.article_id}: {item.error}")


def chrome(width: int) -> webdriver.Chrome:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise SystemExit("needs chromium and chromedriver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--hide-scrollbars", f"--window-size={width},900"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


def shoot(driver: webdriver.Chrome, url: str | None, path: Path, width: int, max_height: int = 2200) -> None:
    """The page at ``url`` (None: the page the browser is on), as tall as it is, up to ``max_height``."""
    if url is not None:
        driver.get(url)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(max(height, 600), max_height))
    driver.save_screenshot(str(path))
    print(f"{path}  ({driver.current_url})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs (default: docs/web)")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wiretrace-screens-") as tmp:
        grpc_address, web_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        serve = ["serve", "--listen", grpc_address, "--data", str(Path(tmp) / "data")]
        web = ["web", "--server", grpc_address, "--listen", web_address, "--page-size", "4"]
        with process(serve, Path(tmp) / "serve.log"), process(web, Path(tmp) / "web.log"):
            load(grpc_address)
            base = f"http://{web_address}"
            wait_http(base + "/")
            driver = chrome(args.width)
            try:
                shoot(driver, base + "/", args.out / "home.png", args.width)
                shoot(driver, base + "/articles/desk-1", args.out / "article.png", args.width)
                driver.get(base + "/")
                driver.execute_script("document.querySelector('form#paste textarea').value = arguments[0]", COPIED[0])
                driver.find_element(By.CSS_SELECTOR, "form#paste button").click()
                WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.match"))
                shoot(driver, None, args.out / "matches.png", args.width)
                shoot(driver, base + "/articles/003/lineage", args.out / "lineage.png", args.width)
                shoot(driver, base + "/articles/no-such-article", args.out / "not-found.png", args.width)
            finally:
                driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
