"""`wiretrace matches` filter flags, `wiretrace prune` and `serve --retention-days` against real
server processes, on SQLite and on Redis; `wiretrace check` stays clean after every prune."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import ServerProcess, run_cli
from wire_copies import COPIES, wire_copies

from seeds import MANIFEST

PRUNED = {"reuters-orig", "ap-last-month"}  # what appeared before 2026-11-01T12:00


def _manifest(directory: Path) -> Path:
    path = directory / "copies.jsonl"
    lines = []
    for draft in wire_copies():
        line = {"id": draft.article_id, "text": draft.text, "source": draft.source}
        if draft.publish_time is not None:
            line["published_at"] = draft.publish_time.isoformat()
        lines.append(json.dumps(line))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("filters")
    with ServerProcess(directory / "data") as running:
        run_cli("ingest", "--server", running.address, str(_manifest(directory)))
        yield running


def _matched(server: ServerProcess, *flags: str) -> set[str]:
    document = json.loads(run_cli("matches", "--server", server.address, "reuters-orig", "--json", *flags).stdout)
    assert document["article_id"] == "reuters-orig"
    return {m["article_id"] for m in document["matches"]}


def test_matches_time_window_flags(server: ServerProcess) -> None:
    assert _matched(server) == set(COPIES) - {"reuters-orig"}
    assert _matched(server, "--since", "2026-10-15", "--until", "2026-11-03T00:00:00Z") == {
        "reuters-update",
        "ap-next-day",
    }
    assert _matched(server, "--window-days", "2") == {"reuters-update", "ap-next-day"}


def test_matches_outlet_flags(server: ServerProcess) -> None:
    assert "reuters-update" not in _matched(server, "--other-outlets")
    assert _matched(server, "--source", "AP", "--source", "bbc") == {"ap-next-day", "ap-last-month", "bbc-later"}
    assert _matched(server, "--exclude-source", "AP", "--exclude-source", "Guardian", "--other-outlets") == {
        "bbc-later"
    }


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--since", "last tuesday"), "--since 'last tuesday' is not an ISO-8601 date or time"),
        (("--since", "2026-11-03", "--until", "2026-11-01"), "must be after since"),
        (("--window-days", "-1"), "window_days must not be negative"),
    ],
)
def test_invalid_filters_are_one_line(server: ServerProcess, flags: tuple[str, ...], message: str) -> None:
    completed = run_cli("matches", "--server", server.address, "reuters-orig", *flags, check=False)
    assert completed.returncode == 1
    assert completed.stderr.startswith("wiretrace matches: INVALID_ARGUMENT: ")
    assert message in completed.stderr and completed.stderr.count("\n") == 1, completed.stderr


def _listed(address: str) -> set[str]:
    completed = run_cli("list", "articles", "--server", address, "--json")
    return {json.loads(line)["article_id"] for line in completed.stdout.splitlines()}


def test_prune_on_sqlite_keeps_what_is_newer_and_check_stays_clean(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as running:
        run_cli("ingest", "--server", running.address, str(_manifest(tmp_path)))
        pruned = run_cli("prune", "--server", running.address, "--before", "2026-11-01T12:00:00Z", "--page-size", "1")
        assert pruned.stdout == "pruned 2 article(s) that appeared before 2026-11-01T12:00:00+00:00\n"
        assert _listed(running.address) == set(COPIES) - PRUNED
        again = run_cli("prune", "--server", running.address, "--before", "2026-11-01T12:00:00Z", "--json")
        assert json.loads(again.stdout) == {"deleted": 0, "before": "2026-11-01T12:00:00+00:00"}
        assert running.terminate() == 0
    checked = run_cli("check", "--data", str(data), check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prune_on_redis_keeps_what_is_newer_and_check_stays_clean(tmp_path: Path, redis_url: str) -> None:
    storage = ["--storage", "redis", "--redis-url", redis_url, "--redis-prefix", f"t{uuid.uuid4().hex[:10]}"]
    with ServerProcess(tmp_path / "data", *storage) as running:
        run_cli("ingest", "--server", running.address, str(MANIFEST), str(_manifest(tmp_path)))
        pruned = run_cli("prune", "--server", running.address, "--before", "2026-11-01T12:00:00", "--json")
        assert json.loads(pruned.stdout)["deleted"] == len(PRUNED) + 5  # and the five 2022 seeds
        assert _listed(running.address) == set(COPIES) - PRUNED
        checked = run_cli("check", *storage, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prune_needs_a_valid_cut(server: ServerProcess) -> None:
    completed = run_cli("prune", "--server", server.address, "--before", "yesterday", check=False)
    assert completed.returncode == 1 and completed.stderr.count("\n") == 1
    assert completed.stderr.startswith("wiretrace prune: INVALID_ARGUMENT: --before 'yesterday'")


def test_retention_thread_prunes_on_a_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # The seeds appeared in 2022, the wire copies in the autumn of 2026 (or, undated, now).
    with ServerProcess(data, "--retention-days", "1500", "--retention-interval", "0.2") as running:
        run_cli("ingest", "--server", running.address, str(_manifest(tmp_path)), str(MANIFEST))
        deadline = time.monotonic() + 30
        while (left := _listed(running.address)) != set(COPIES) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == set(COPIES)
        assert running.terminate() == 0
    checked = run_cli("check", "--data", str(data), check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
