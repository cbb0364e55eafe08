#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the reference `lm-diverge` experiment
# against a local hub, with live metrics and the warnings Loss Radar raises before the loss explodes.
# Extra arguments go to the trainer, e.g. `bash scripts/demo.sh --steps 300 --device cpu`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/esbuild ] || npm ci --no-audit --no-fund
npm run --silent build
venv=$(bash scripts/python-env.sh | tail -n 1)
exec node dist/cli.js run "${LOSSRADAR_EXPERIMENT:-lm-diverge}" --python "$venv/bin/python" -- "$@"
