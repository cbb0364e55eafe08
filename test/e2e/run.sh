#!/usr/bin/env bash
# The end-to-end tier: sets up code-server and the VSIX (cached), then drives them with Chromium.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash scripts/prereqs.sh chromium krb5 python
# Assigned first and exported after: `export X=$(...)` would take export's status and hide a failure.
# setup.sh and python-env.sh print their result, and only that, on stdout.
cache=$(bash test/e2e/setup.sh) || { echo "e2e: test/e2e/setup.sh failed (exit $?); its output is above" >&2; exit 1; }
venv=$(bash scripts/python-env.sh) || { echo "e2e: scripts/python-env.sh failed (exit $?); its output is above" >&2; exit 1; }
export LOSSRADAR_E2E_CACHE="$cache" LOSSRADAR_PYTHON="$venv/bin/python"
node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=600000 test/e2e/e2e.test.ts
