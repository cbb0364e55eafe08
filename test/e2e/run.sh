#!/usr/bin/env bash
# The end-to-end tier: sets up code-server and the VSIX (cached), then drives them with Chromium.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export LOSSRADAR_E2E_CACHE=$(bash test/e2e/setup.sh | tail -n 1)
export LOSSRADAR_PYTHON="$(bash scripts/python-env.sh | tail -n 1)/bin/python"
node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=600000 test/e2e/e2e.test.ts
