#!/usr/bin/env bash
# Probity developer entry point: sets everything up, then runs the app or the tests.
#   ./dev.sh run    set up, then open the app on its embedded demo assessment
#   ./dev.sh test   set up, then run the whole test suite headless (what CI runs)
#   ./dev.sh bundle build the offline installation bundle dist/probity-offline-<version>-linux-x86_64.tar.gz
#                   (+ dist/SHA256SUMS): see README "Offline installation"; needs PyPI and apt once
# Set-up: checks the Debian libraries Qt needs (installs them when run as root, otherwise prints
# the exact apt-get line and stops), creates .venv and installs the pinned dependencies from
# pyproject.toml (again only when pyproject.toml changed).
set -euo pipefail
cd "$(dirname "$0")"

# The Debian packages Qt needs: one list, shared with main.py (GROUP PACKAGE [LIBRARY] per line).
debs_of() { awk -v g="$1" '$1 == g { printf "%s%s", sep, $2; sep = " " }' resources/qt-system-packages.txt; }
QT_LIBS=$(debs_of runtime)
XCB_LIBS=$(debs_of xcb)
TEST_DEBS="poppler-utils"
PY=${PYTHON:-python3}

say() { printf 'probity setup: %s\n' "$*" >&2; }

need_debs() {  # print the packages of "$@" that are not installed
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

ensure_debs() {
  local missing
  missing=$(need_debs "$@")
  [ -z "${missing// /}" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system libraries: $missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    say "these Debian packages are missing: $missing"
    say "install them with:  sudo apt-get install -y --no-install-recommends $missing"
    say "then run this command again."
    exit 1
  fi
}

setup() {
  if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
    say "Probity needs Python 3.11 as '$PY' (found: $("$PY" --version 2>&1 || echo none))."
    say "On Debian 12: sudo apt-get install -y python3 python3-venv   (or set PYTHON=/path/to/python3.11)"
    exit 1
  fi
  local debs="$QT_LIBS"
  "$PY" -c 'import ensurepip' 2>/dev/null || debs="$debs python3-venv"
  [ "${1:-}" = run ] && debs="$debs $XCB_LIBS"
  # The tests check every signed PDF with poppler's pdfsig as well (an independent verifier).
  [ "${1:-}" = test ] && debs="$debs $TEST_DEBS"
  # shellcheck disable=SC2086
  ensure_debs $debs
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PY" -m venv .venv
  fi
  local stamp=.venv/.probity-installed want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing pinned dependencies into .venv (first time takes a minute)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$want" > "$stamp"
  fi
}

case "${1:-}" in
  run)
    setup run
    shift
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      say "no display found (DISPLAY is not set). Run this on a desktop session, or under Xvfb:"
      say "  xvfb-run -a ./dev.sh run"
      exit 1
    fi
    exec .venv/bin/python main.py "$@"
    ;;
  test)
    setup test
    shift
    export QT_QPA_PLATFORM=offscreen
    set +e
    .venv/bin/python -m pytest "$@"
    rc=$?
    set -e
    if [ $rc -eq 5 ]; then
      say "pytest collected no tests: that is a failure, not a pass."
      exit 1
    fi
    exit $rc
    ;;
  bundle)
    setup bundle
    shift
    exec .venv/bin/python scripts/bundle/build_bundle.py --system-packages "$QT_LIBS $XCB_LIBS" "$@"
    ;;
  *)
    echo "usage: ./dev.sh run | ./dev.sh test [pytest args] | ./dev.sh bundle [--out DIR]" >&2
    exit 2
    ;;
esac
