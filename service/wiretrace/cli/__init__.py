"""The ``wiretrace`` command line. Its commands, flags and JSON fields are a contract
relied on by scripts: extend them, never rename them.

Every expected failure ends in one line on stderr and a non-zero exit code, never a
traceback: domain errors (exit 1), the server's errors (exit 1), files and bad input (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from wiretrace.cli import client_commands, maintenance_commands, server_commands, web_commands
from wiretrace.config import env
from wiretrace.core.errors import WiretraceError
from wiretrace.logs import configure as configure_logging


def _version() -> str:
    try:
        return version("wiretrace")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiretrace", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"wiretrace {_version()}")
    parser.add_argument("--log-level", default=env("LOG_LEVEL", "WARNING"), help="logging level (WIRETRACE_LOG_LEVEL)")
    parser.add_argument(
        "--log-format", choices=("text", "json"), default=env("LOG_FORMAT", "text"), help="(WIRETRACE_LOG_FORMAT)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server_commands.register(commands)
    client_commands.register(commands)
    maintenance_commands.register(commands)
    web_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    check = getattr(args, "check", None)
    if check is not None and (problem := check(args)):
        parser.error(problem)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`wiretrace lineage ID | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except WiretraceError as error:
        return _fail(args.command, f"{error.reason}: {error.message}", 1)
    except ValueError as error:  # settings that do not validate
        return _fail(args.command, str(error), 2)
    except OSError as error:
        return _fail(args.command, f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), 2)
    except Exception as error:
        from wiretrace_client import WiretraceError as ServerError

        if isinstance(error, ServerError):
            return _fail(args.command, f"{error.code.name}: {error.message}", 1)
        raise


def _fail(command: str, message: str, code: int) -> int:
    print(f"wiretrace {command}: {message}", file=sys.stderr)
    return code
