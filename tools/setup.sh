#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv and install the package with its dev tools.
# Usage: source-free; prints the venv path. VENV overrides the location (default: .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
