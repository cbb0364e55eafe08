#!/usr/bin/env bash
# Copies trainer/lossradar and the installed websockets package (pure Python) into a folder for the
# VSIX, e.g. `trainer/vendor.sh dist/python`. PYTHON defaults to the project's cached venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
  python="$(bash "$here/../scripts/python-env.sh")/bin/python"
fi
exec "$python" "$here/vendor.py" "$@"
