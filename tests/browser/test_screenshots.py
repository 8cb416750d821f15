"""docs/web/screenshots.py keeps working: it shoots every page of a real `wiretrace web` in Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from processes import ROOT, cli_env

PAGES = ("home", "article", "matches", "lineage", "not-found")


def test_the_screenshot_script_shoots_every_page(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "web" / "screenshots.py"), "--out", str(tmp_path), "--width", "900"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for name in PAGES:
        png = (tmp_path / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name
    assert {p.stem for p in (ROOT / "docs" / "web").glob("*.png")} == set(PAGES)  # the README's pictures exist
