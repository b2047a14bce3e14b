#!/usr/bin/env bash
# Set up, then run every check CI runs: ruff, mypy, spec lint, generated docs, and the tests
# (unit, connector scenarios, and end to end against localstripe, which the tests start).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash tools/setup.sh
bash tools/system_deps.sh
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
"$VENV/bin/connector" lint
"$VENV/bin/connector" docs --check
"$VENV/bin/python" tools/gen_typescript.py --check
"$VENV/bin/python" tools/gen_go.py --check
"$VENV/bin/python" -m pytest "$@"
