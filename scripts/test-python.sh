#!/usr/bin/env bash
# The Python tier: lint, type-check and pytest the lossradar SDK in the cached environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(bash "$root/scripts/python-env.sh" | tail -n 1)
cd "$root/trainer"
"$venv/bin/ruff" check . ../eval
"$venv/bin/ruff" format --check . ../eval
"$venv/bin/mypy"
# The SDK's tests and the evaluation's (peer adapters, labelling rule, fixtures) in one pytest run.
"$venv/bin/python" -m pytest -q -p no:cacheprovider . ../eval/tests
