"""Hardening, issue item 12: a TLS key that is not the certificate's (or files that are not PEM),
and an address in use, are one line from `wiretrace serve`, not a traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from processes import run_cli


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def _one_line_failure(*args: str, core_log: bool = False) -> str:
    """The CLI's one line; ``core_log``: gRPC's C core may log its own lines first."""
    completed = run_cli(*args, check=False, timeout=60)
    assert completed.returncode != 0, completed.stdout
    assert "Traceback" not in completed.stderr, completed.stderr
    lines = completed.stderr.strip().splitlines()
    if core_log:
        lines = [line for line in lines if not line.startswith("E")]
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("wiretrace serve: "), lines
    return lines[0]


def test_tls_key_of_another_certificate_is_one_line(tmp_path: Path) -> None:
    _key_a, cert_a = _certificate(tmp_path, "a")
    key_b, _cert_b = _certificate(tmp_path, "b")
    data = tmp_path / "data"
    line = _one_line_failure(
        "serve", "--listen", "127.0.0.1:0", "--data", str(data), "--tls-cert", str(cert_a), "--tls-key", str(key_b)
    )
    assert "does not belong to the certificate" in line and str(key_b) in line and str(cert_a) in line
    assert not data.exists()  # refused before the store was opened


def test_tls_files_that_are_not_pem_are_one_line(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path, "a")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a pem file\n")
    common = ("serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"))
    line = _one_line_failure(*common, "--tls-cert", str(cert), "--tls-key", str(garbage))
    assert "cannot load the certificate" in line
    line = _one_line_failure(*common, "--tls-cert", str(garbage), "--tls-key", str(key))
    assert "cannot load the certificate" in line
    line = _one_line_failure(*common, "--tls-cert", str(cert), "--tls-key", str(key), "--tls-client-ca", str(garbage))
    assert "client CA" in line


def test_address_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _one_line_failure(
            "serve", "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / "data"), core_log=True
        )
    assert f"cannot listen on 127.0.0.1:{port}" in line
