"""Namespaces from the CLI: --namespace and WIRETRACE_NAMESPACE on client and offline commands,
tokens bound to namespaces, one line on refusal."""

from __future__ import annotations

import json
from pathlib import Path

from processes import ServerProcess, run_cli

from seeds import MANIFEST

ROOT = {"WIRETRACE_TOKEN": "root"}


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_namespaces_from_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tokens = tmp_path / "tokens"
    tokens.write_text("root\nbound-a a\n")
    with ServerProcess(data, "--auth-token-file", str(tokens)) as server:
        at = ("--server", server.address)
        ingested = run_cli("ingest", *at, "--namespace", "a", "--json", str(MANIFEST), env=ROOT).stdout
        assert [json.loads(line)["article_id"] for line in ingested.splitlines()] == ["000", "001", "002", "003", "004"]
        listed = run_cli("list", "articles", *at, "--json", env={**ROOT, "WIRETRACE_NAMESPACE": "a"}).stdout
        assert [json.loads(line)["article_id"] for line in listed.splitlines()] == ["000", "001", "002", "003", "004"]
        never = run_cli("stats", *at, "--json", "--namespace", "b", env=ROOT, check=False)  # a read creates none
        assert never.returncode == 1 and "NOT_FOUND" in _one_line(never.stderr)
        assert not (data / "namespaces" / "b").exists()
        assert json.loads(run_cli("stats", *at, "--json", env=ROOT).stdout)["articles"] == 0  # the default one

        missing = run_cli("get", *at, "000", env={**ROOT, "WIRETRACE_NAMESPACE": "b"}, check=False)
        assert missing.returncode == 1 and "NOT_FOUND" in _one_line(missing.stderr)
        matches = run_cli("matches", *at, "001", "--json", "--namespace", "a", env={"WIRETRACE_TOKEN": "bound-a"})
        assert {m["article_id"] for m in json.loads(matches.stdout)["matches"]} == {"000", "003"}
        denied = run_cli("stats", *at, "--namespace", "b", env={"WIRETRACE_TOKEN": "bound-a"}, check=False)
        assert denied.returncode == 1
        assert _one_line(denied.stderr).startswith("wiretrace stats: PERMISSION_DENIED: ")
        bad = run_cli("stats", *at, "--namespace", "Not_A_Name", env=ROOT, check=False)
        assert bad.returncode != 0 and "INVALID_NAMESPACE" in _one_line(bad.stderr)

    store = ("--data", str(data))
    checked = run_cli("check", *store, "--namespace", "a")
    assert "checked 5 article(s): 0 problem(s)" in checked.stderr
    snapshot = tmp_path / "a.jsonl"
    run_cli("export", *store, "--namespace", "a", "-o", str(snapshot))
    run_cli("import", str(snapshot), *store, "--namespace", "c")
    assert (data / "namespaces" / "c" / "wiretrace.sqlite3").is_file()
    assert "checked 5 article(s)" in run_cli("check", *store, "--namespace", "c").stderr
    run_cli("reindex", *store, "--namespace", "a", "--quiet", "--workers", "1")
    run_cli("reindex", *store, "--quiet", "--workers", "1")  # the default one, in place: the others stay
    assert "checked 5 article(s): 0 problem(s)" in run_cli("check", *store, "--namespace", "a").stderr
    assert "checked 0 article(s)" in run_cli("check", *store).stderr
    absent = run_cli("export", *store, "--namespace", "nobody", check=False)
    assert absent.returncode == 1 and "STORE_NOT_FOUND" in _one_line(absent.stderr)
