"""The CLI against a real server process: the commands, flags and JSON fields scripts rely on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import ServerProcess, run_cli

from seeds import MANIFEST, SEEDS, TOKAYEV_VERBATIM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("cli") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def ingested(server: ServerProcess) -> list[dict[str, object]]:
    completed = run_cli("ingest", "--server", server.address, "--json", str(MANIFEST))
    return [json.loads(line) for line in completed.stdout.splitlines()]


def test_ingest_json_lines(ingested: list[dict[str, object]]) -> None:
    assert [line["article_id"] for line in ingested] == ["000", "001", "002", "003", "004"]
    assert all(line["outcome"] == "created" for line in ingested)
    assert {m["article_id"] for m in ingested[3]["matches"]} == {"000", "001"}  # type: ignore[attr-defined]


def test_get_json(server: ServerProcess, ingested: object) -> None:
    document = json.loads(run_cli("get", "--server", server.address, "003", "--json").stdout)
    assert document["article_id"] == "003"
    assert document["publish_time"].startswith("2022-01-07")
    assert document["source"].startswith("Reuters")


def test_matches_json(server: ServerProcess, ingested: object) -> None:
    document = json.loads(run_cli("matches", "--server", server.address, "001", "--json").stdout)
    assert document["article_id"] == "001"
    matched = {m["article_id"]: m for m in document["matches"]}
    assert set(matched) == {"000", "003"}
    verbatim = [p for p in matched["000"]["passages"] if p["kind"] == "verbatim"]
    assert TOKAYEV_VERBATIM in verbatim[0]["query_text"]
    text_001 = (SEEDS / "001_08939cfdd738d521.txt").read_text()
    assert text_001[verbatim[0]["query_start"] : verbatim[0]["query_end"]] == verbatim[0]["query_text"]


def test_lineage_json(server: ServerProcess, ingested: object) -> None:
    document = json.loads(run_cli("lineage", "--server", server.address, "001", "--json").stdout)
    assert document["article_id"] == "001"
    # 001 copies no whole story, so its main cluster is the statement it quotes.
    assert document["kind"] == "statement" and document["member_count"] == 3
    assert document["root"]["article_id"] == "000"
    assert {m["article_id"] for m in document["members"]} == {"000", "001", "003"}
    for edge in document["edges"]:
        assert {"article_id"} <= set(edge["parent"]) and {"article_id"} <= set(edge["child"])
        assert edge["passages"] and edge["reason"]
    story, statement = document["clusters"]
    assert story["kind"] == "story" and [m["article_id"] for m in story["members"]] == ["001"]
    assert statement["cluster_id"] == document["cluster_id"]


def test_stats_json_and_text(server: ServerProcess, ingested: object) -> None:
    document = json.loads(run_cli("stats", "--server", server.address, "--json").stdout)
    assert document["articles"] == 5 and document["clusters"] == 1 and document["storage"] == "sqlite"
    assert "articles 5" in run_cli("stats", "--server", server.address).stdout


def test_human_output(server: ServerProcess, ingested: object) -> None:
    assert "verbatim passage" in run_cli("matches", "--server", server.address, "001").stdout
    assert "root 000" in run_cli("lineage", "--server", server.address, "003").stdout


def test_reingest_is_idempotent_and_conflicts_fail(server: ServerProcess, ingested: object, tmp_path: Path) -> None:
    again = run_cli("ingest", "--server", server.address, "--json", str(MANIFEST))
    assert {json.loads(line)["outcome"] for line in again.stdout.splitlines()} == {"unchanged"}
    conflicting = tmp_path / "003.txt"
    conflicting.write_text("A different text under an existing id, about the weather in Almaty.")
    (tmp_path / "bad id.txt").write_text("text")
    (tmp_path / "fresh.txt").write_text("A new story about the grain harvest in the north of the country.")
    failed = run_cli("ingest", "--server", server.address, str(tmp_path), check=False)
    assert failed.returncode == 1
    assert "ALREADY_EXISTS" in failed.stderr and "INVALID_ARGUMENT" in failed.stderr
    assert "2 of 3 article(s) rejected" in failed.stderr
    assert json.loads(run_cli("get", "--server", server.address, "fresh", "--json").stdout)["article_id"] == "fresh"


def test_errors_exit_non_zero_with_the_message(server: ServerProcess, ingested: object) -> None:
    missing = run_cli("get", "--server", server.address, "nope", check=False)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr and "nope" in missing.stderr
    unreadable = run_cli("ingest", "--server", server.address, "no/such/file.txt", check=False)
    assert unreadable.returncode == 2


def test_demo() -> None:
    output = run_cli("demo", timeout=180).stdout
    assert "verbatim passage" in output and TOKAYEV_VERBATIM in output
    assert "root 000" in output
