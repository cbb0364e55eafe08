#!/usr/bin/env bash
# The system packages the test tiers and the demo need, checked in well under a second when they are
# there: `bash scripts/prereqs.sh [chromium] [krb5] [python]` (no argument: all three).
#   chromium  Debian's Chromium at /usr/bin/chromium (or $LOSSRADAR_CHROMIUM): the webview and e2e tiers
#   krb5      libkrb5-dev: code-server's native build (the e2e tier's set-up)
#   python    python3 with venv/ensurepip: the Python environment (scripts/python-env.sh)
# Missing ones are installed with apt-get when running as root with apt-get available; otherwise it
# fails at once, naming the command that installs them.
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(chromium krb5 python)

chromium_path="${LOSSRADAR_CHROMIUM:-/usr/bin/chromium}"
have() {
  case "$1" in
    chromium) [ -x "$chromium_path" ] ;;
    krb5)
      if command -v dpkg >/dev/null 2>&1; then dpkg -s libkrb5-dev >/dev/null 2>&1
      else [ -f /usr/include/gssapi/gssapi.h ] || [ -f /usr/include/krb5.h ]; fi ;;
    python) command -v python3 >/dev/null 2>&1 && python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ;;
    *) echo "prereqs: unknown prerequisite '$1' (chromium, krb5, python)" >&2; exit 2 ;;
  esac
}
debs() {
  case "$1" in
    chromium) echo chromium ;;
    krb5) echo libkrb5-dev ;;
    python) echo python3 python3-venv ;;
  esac
}

missing=() packages=()
for p in "${want[@]}"; do
  if ! have "$p"; then missing+=("$p"); read -ra d <<<"$(debs "$p")"; packages+=("${d[@]}"); fi
done
[ ${#missing[@]} -gt 0 ] || exit 0

if [ -n "${LOSSRADAR_CHROMIUM:-}" ] && [[ " ${missing[*]} " == *" chromium "* ]]; then
  echo "prereqs: LOSSRADAR_CHROMIUM=$LOSSRADAR_CHROMIUM is not an executable; unset it to use Debian's /usr/bin/chromium (sudo apt-get install -y chromium)" >&2
  exit 1
fi

command_line="sudo apt-get install -y ${packages[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prereqs: missing ${missing[*]}; install with: $command_line" >&2
  exit 1
fi

echo "prereqs: apt-get install ${packages[*]} (for ${missing[*]})" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Other jobs on the machine may hold the dpkg lock for a while: wait for it rather than fail.
apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
if ! { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "${packages[@]}"; } >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "prereqs: apt-get failed; install with: $command_line" >&2
  exit 1
fi
for p in "${missing[@]}"; do
  if ! have "$p"; then
    echo "prereqs: $p is still missing after installing $(debs "$p")" >&2
    [ "$p" != python ] || echo "prereqs: python3 on PATH is $(command -v python3 || echo none); it needs Python >= 3.10 with venv and ensurepip" >&2
    exit 1
  fi
done
