#!/usr/bin/env bash
# Set up, lint every spec, and run a demo payment against a local fake Stripe (127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash tools/setup.sh
"$VENV/bin/connector" lint
"$VENV/bin/python" tools/demo.py
