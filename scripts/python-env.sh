#!/usr/bin/env bash
# Creates (or reuses) the Python test environment outside the repository, keyed by the hash of
# trainer/requirements-dev.txt (design.md §7), so CI on the same machine reuses a 3 GB torch install.
# Prints the venv's path on stdout, its only line there (everything else goes to stderr).
set -euo pipefail
exec 3>&1 1>&2
root=$(cd "$(dirname "$0")/.." && pwd)
req="$root/trainer/requirements-dev.txt"
key=$(sha256sum "$req" | cut -c1-16)
venv="${LOSSRADAR_VENV_CACHE:-$HOME/.cache/lossradar}/venv-$key"
if [ ! -f "$venv/.complete" ]; then
  bash "$root/scripts/prereqs.sh" python
  echo "python-env: creating $venv (torch and test tools from PyPI; the first time takes minutes)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r "$req" >&2
  touch "$venv/.complete"
fi
# Extras on top, each keyed by its own file's hash through a marker of its own: the evaluation's
# peers (lightning, trainpulse, trainscope), then the integrations' frameworks and the log readers
# (transformers, accelerate, tensorboard, dvclive).
for extra in eval integrations; do
  extra_req="$root/trainer/requirements-$extra.txt"
  marker="$venv/.$extra-$(sha256sum "$extra_req" | cut -c1-16)"
  if [ ! -f "$marker" ]; then
    echo "python-env: installing trainer/requirements-$extra.txt" >&2
    "$venv/bin/pip" install -q -r "$extra_req" >&2
    touch "$marker"
  fi
done
# The SDK itself is installed editable on every call: its code is not part of the cache key.
"$venv/bin/pip" install -q --no-deps --no-build-isolation -e "$root/trainer" >&2 2>/dev/null \
  || "$venv/bin/pip" install -q --no-deps -e "$root/trainer" >&2
echo "$venv" >&3
