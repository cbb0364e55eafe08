#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the reference `lm-ramp` experiment
# against a local hub, with live metrics and the warnings Loss Radar raises before the loss explodes.
# `lm-ramp` is the default because its explosion can be seen coming (the rate ramps past the edge of
# stability; README.md): `LOSSRADAR_EXPERIMENT=lm-diverge` runs the no-LayerNorm blow-up, which
# Loss Radar, like its peers, warns only as it happens (docs/early-warning.md).
# Extra arguments go to the trainer, e.g. `bash scripts/demo.sh --steps 300 --device cpu`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/esbuild ] || npm ci --no-audit --no-fund
npm run --silent build
venv=$(bash scripts/python-env.sh | tail -n 1)
experiment="${LOSSRADAR_EXPERIMENT:-lm-ramp}"
code=0
node dist/cli.js run "$experiment" --python "$venv/bin/python" -- "$@" || code=$?
# The reference trainer ends a run whose loss stays non-finite with status "failed" and exit code 1:
# for lm-diverge that is the point of the demo, not a failure of it.
if [ "$code" = 1 ] && [ "$experiment" = lm-diverge ]; then
  echo "(lm-diverge exploded as designed; the trainer's exit code 1 says so)"
  exit 0
fi
exit "$code"
