"""Headless Chromium (Debian's chromium + chromium-driver) driven by selenium, and `wiretrace web`
as a real process (in front of a real `wiretrace serve` process).

Without chromium the browser tests skip on a developer's machine, and fail in CI (CI is set there):
.ci/run installs it with apt-get, so a missing browser in CI is a broken CI, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from processes import ROOT, cli_env, free_port
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

INSTALL = "apt-get install chromium chromium-driver"


def chromium_binaries() -> tuple[str, str]:
    """(browser, driver) paths; skips (locally) or fails (CI) when they are not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if driver is None and Path("/usr/bin/chromedriver").is_file():
        driver = "/usr/bin/chromedriver"
    if browser and driver:
        return browser, driver
    missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
    message = f"{missing} not found: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run the browser tests: .ci/run installs them)")
    pytest.skip(message)


def start_chrome(width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    browser, driver = chromium_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


class WebProcess:
    """`wiretrace web` in a child process; waits until its home page answers."""

    def __init__(self, log_dir: Path, server: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"web-{self.port}.log"
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wiretrace.cli", "web", "--server", server, "--listen", f"127.0.0.1:{self.port}",
             "--timeout", "10", *extra],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"wiretrace web exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.process.kill()
        raise AssertionError(f"wiretrace web not answering after 30 s:\n{self.log.read_text()}")

    def status(self, path: str) -> tuple[int, str]:
        """The HTTP status and body of a GET, errors included."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self) -> str:
        """SIGTERM, a clean exit, and the log (which must hold no traceback)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            code = self.process.wait(30)
            assert code == 0, f"wiretrace web exited with {code}"
        self._log_file.close()
        log = self.log.read_text()
        assert "Traceback" not in log, log
        return log

    def __enter__(self) -> WebProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log_file.close()
