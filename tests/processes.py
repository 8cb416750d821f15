"""A real `wiretrace serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "service"), str(ROOT / "client"), env.get("PYTHONPATH", "")])
    env.pop("WIRETRACE_TOKEN", None)
    env.pop("WIRETRACE_NAMESPACE", None)
    return env


def one_line_failure(completed: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed (asserting it failed, with one line and no traceback)."""
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert completed.returncode != 0 and len(lines) == 1, completed.stderr
    return lines[0]


def run_cli(
    *args: str, check: bool = True, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``env``: variables set for this command only (e.g. WIRETRACE_TOKEN)."""
    completed = subprocess.run(
        [sys.executable, "-m", "wiretrace.cli", *args],
        capture_output=True,
        text=True,
        env={**cli_env(), **(env or {})},
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"wiretrace {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr}")
    return completed


class ServerProcess:
    """`wiretrace serve` in a child process; waits until health says SERVING."""

    def __init__(self, data_dir: Path, *extra: str, port: int | None = None, log_args: bool = False) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"server-{self.port}.log"
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wiretrace.cli",
                *(["--log-level", "INFO", "--log-format", "json"] if log_args else []),
                "serve",
                "--listen",
                self.address,
                "--data",
                str(data_dir),
                *extra,
            ],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            cwd=ROOT,
        )
        self._wait_serving()

    def _wait_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
                try:
                    if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                        return
                except grpc.RpcError:
                    time.sleep(0.1)
        raise AssertionError(f"server not serving after {timeout}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log_file.close()

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._log_file.close()
        return code

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
