"""docker-compose.yml as an operator relies on it (checked as data: CI has no Docker daemon)."""

from __future__ import annotations

from typing import Any

import yaml
from processes import ROOT


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return document


def test_profiles_keep_the_backends_apart() -> None:
    services = _compose()["services"]
    assert services["wiretrace"]["profiles"] == ["sqlite"]  # not started by --profile redis
    assert all(services[name]["profiles"] == ["redis"] for name in ("redis", "replica-a", "replica-b"))
    ports = [port for service in services.values() for port in service.get("ports", [])]
    assert len(ports) == len(set(ports))


def test_every_service_restarts_and_is_health_checked() -> None:
    for name, service in _compose()["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    for name in ("replica-a", "replica-b"):
        assert _compose()["services"][name]["depends_on"] == {"redis": {"condition": "service_healthy"}}


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "wiretrace-data"} <= set(ignored)


def test_the_health_command_of_the_image_exists() -> None:
    from wiretrace.cli import build_parser

    test = _compose()["x-wiretrace-image"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "wiretrace"]
    build_parser().parse_args(test[2:])  # exits (SystemExit) if the command or a flag is unknown
