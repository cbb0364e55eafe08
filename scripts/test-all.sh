#!/usr/bin/env bash
# `npm test`: every tier, in order of speed. Node unit and integration tests (real sockets, real
# subprocesses), the webviews in real headless Chromium, then the Python SDK's tests against the
# real hub.
set -euo pipefail
cd "$(dirname "$0")/.."
# The system packages first (Chromium, libkrb5-dev, python3 with venv): installed with apt-get as
# root, else a failure within seconds that names the command, not a browser test timing out.
bash scripts/prereqs.sh
[ -x node_modules/.bin/tsx ] || { echo "test: node_modules is missing; run \`npm ci\` first" >&2; exit 1; }
npm run --silent build
npm run --silent typecheck
npm run --silent test:node
npm run --silent test:browser
bash scripts/test-python.sh
# The end-to-end tier: the packaged VSIX inside code-server, driven through Chromium.
npm run --silent test:e2e
