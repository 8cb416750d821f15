"""The committed protobuf code must be what protoc generates from protos/ now."""

from __future__ import annotations

import subprocess
import sys

from processes import ROOT


def test_generated_code_is_fresh() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "protos" / "generate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_domain_core_does_not_import_transport() -> None:
    for path in (ROOT / "service" / "wiretrace").rglob("*.py"):
        relative = path.relative_to(ROOT / "service" / "wiretrace")
        if relative.parts[0] not in ("core", "storage"):
            continue
        source = path.read_text()
        assert "import grpc" not in source and "google.protobuf" not in source, relative
