"""Fixtures of the browser tests: Chromium checked before any server starts, one browser per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from web_browser import chromium_binaries, start_chrome


@pytest.fixture(scope="module", autouse=True)
def chromium_installed() -> None:
    """Before any server starts: skip or fail at once when there is no browser."""
    chromium_binaries()


@pytest.fixture(scope="module")
def chrome() -> Iterator[webdriver.Chrome]:
    driver = start_chrome()
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
