#!/usr/bin/env bash
# Probity offline installer (part of probity-offline-<version>-linux-x86_64.tar.gz).
#
#   ./install.sh [--prefix DIR]
#
# Needs no network. In order:
#  1. checks every file of the bundle against SHA256SUMS (and the Debian packages against the
#     Debian archive's own checksums in debs/SHA256SUMS); refuses with one line if any differs,
#     is missing, or a file not listed has been added;
#  2. the Debian 12 packages Qt and Python need: as root, `dpkg -i` of the bundled ones that are
#     not installed; otherwise, if some are missing, prints the one `sudo dpkg -i ...` line and stops;
#  3. creates a virtual environment (python3.11 -m venv --without-pip, bootstrapped from the bundled
#     pip wheel, so Debian's python3-venv is not needed) and installs the wheelhouse only
#     (pip --no-index --require-hashes, no pip configuration, nothing built);
#  4. installs the `probity` launcher in PREFIX/bin, a desktop entry in PREFIX/share/applications
#     and its icon in PREFIX/share/icons;
#  5. ends by running `probity --selftest`.
# Default PREFIX: /usr/local as root, ~/.local otherwise. The application lives in
# PREFIX/lib/probity/app-<version>-*; re-running installs a fresh copy there and switches to it
# only after its self-test passed (the previous copy is then removed; on failure it stays).
# The user's config folder ($PROBITY_CONFIG_DIR, default ~/.config/probity: identities, trusted
# certificates, recovery files, logs) is never touched.
set -euo pipefail
umask 022

PROG="probity install"
say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd -P)
PREFIX=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder (usage: install.sh [--prefix DIR])"
              PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (usage: install.sh [--prefix DIR])" ;;
  esac
done
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
if [ -z "$PREFIX" ]; then
  if [ $IS_ROOT = 1 ]; then PREFIX=/usr/local; else PREFIX="${HOME:?HOME is not set}/.local"; fi
fi
case "$PREFIX" in /*) ;; *) PREFIX="$(pwd -P)/$PREFIX" ;; esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || die "--prefix / is not allowed: choose a folder such as /opt/probity"

# --- 1. checksums --------------------------------------------------------------------------
cd "$HERE"
[ -f SHA256SUMS ] || die "SHA256SUMS is missing in $HERE: the bundle is incomplete; unpack it again."
if ! sums_out=$(sha256sum --strict -c SHA256SUMS 2>&1); then
  bad=$(printf '%s\n' "$sums_out" | grep -v ': OK$' | head -n1)
  die "checksum check failed (${bad}): the bundle is damaged or was altered; copy it again and check it with 'sha256sum -c SHA256SUMS'."
fi
extra=$(comm -13 <(sed 's/^[0-9a-f]\{64\}  //' SHA256SUMS | LC_ALL=C sort) \
                 <(find . -type f ! -path ./SHA256SUMS -printf '%P\n' | LC_ALL=C sort) | head -n1)
[ -z "$extra" ] || die "unexpected file '$extra' in the bundle (not in SHA256SUMS): refusing to install; unpack an unmodified copy."
if ! deb_out=$(cd debs && sha256sum --strict -c SHA256SUMS 2>&1); then
  bad=$(printf '%s\n' "$deb_out" | grep -v ': OK$' | head -n1)
  die "a Debian package differs from the Debian archive's checksum (${bad}): refusing to install."
fi
VERSION=$(cat probity-version)
say "bundle checked: $(wc -l < SHA256SUMS) files match SHA256SUMS (Probity $VERSION)"

# --- 2. Debian packages ----------------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if command -v dpkg-query >/dev/null 2>&1; then
  read -r -a wanted < system-packages
  wanted+=(python3)
  missing=()
  for p in "${wanted[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    say "system libraries: all ${#wanted[@]} present"
  else
    debs=()
    while read -r name _version file; do
      installed "$name" || debs+=("$HERE/debs/$file")
    done < debs/packages.txt
    if [ $IS_ROOT = 1 ]; then
      say "installing ${#debs[@]} Debian packages (missing: ${missing[*]})"
      log=$(mktemp)
      if ! DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" >"$log" 2>&1; then
        die "dpkg could not install the system libraries: $(grep -m1 -i 'error\|depend' "$log" || tail -n1 "$log") (full output: $log)"
      fi
      rm -f "$log"
      for p in "${wanted[@]}"; do installed "$p" || die "$p is still not installed after dpkg -i."; done
    else
      say "these Debian packages are missing: ${missing[*]}"
      say "install the bundled ones (no network needed) with:"
      printf 'sudo dpkg -i %s\n' "${debs[*]}"
      die "then run ./install.sh again (or run it as root)."
    fi
  fi
else
  say "no dpkg here (not Debian): skipping the system libraries; Qt needs: $(cat system-packages)"
fi

# --- 3. Python 3.11 and the virtual environment --------------------------------------------
is311() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; }
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && is311 "$c"; then PY=$(command -v "$c"); break; fi
  done
fi
[ -n "$PY" ] && is311 "$PY" || die "Python 3.11 was not found (Debian 12: package python3, bundled here: run this installer as root, or set PYTHON=/path/to/python3.11)."
"$PY" -c 'import venv' 2>/dev/null || die "$PY has no venv module: install Debian's python3.11 package (bundled here) as root."

LIB="$PREFIX/lib/probity"
mkdir -p "$LIB" "$PREFIX/bin" || die "cannot create $LIB: choose a --prefix you can write to."
exec 9>"$LIB/.install.lock"
flock -n 9 || die "another install.sh is running on $PREFIX; wait for it to finish."
NEW=$(mktemp -d "$LIB/app-$VERSION-XXXXXX")
chmod 755 "$NEW"
PREV=$(readlink "$LIB/current" 2>/dev/null || true)
finished=0
cleanup() { [ $finished = 1 ] || rm -rf "$NEW"; }
trap cleanup EXIT

say "creating the virtual environment with $PY ($("$PY" --version 2>&1))"
"$PY" -m venv --without-pip "$NEW/venv" || die "$PY -m venv failed (see above)."
pip_whl=(wheelhouse/pip-*.whl)
[ ${#pip_whl[@]} -eq 1 ] && [ -f "${pip_whl[0]}" ] || die "the bundle has no single pip wheel."
for v in $(compgen -e | grep '^PIP_' || true); do unset "$v"; done
say "installing $(grep -c '^[a-z0-9]' requirements.lock) wheels from the bundle (no index)"
if ! pip_out=$(PIP_CONFIG_FILE=/dev/null "$NEW/venv/bin/python" -E -s "$HERE/${pip_whl[0]}/pip" \
      install --no-index --find-links "$HERE/wheelhouse" --only-binary=:all: --require-hashes \
      --no-cache-dir --disable-pip-version-check --no-warn-script-location --no-compile -q \
      -r "$HERE/requirements.lock" 2>&1); then
  die "pip could not install the wheelhouse: $(printf '%s\n' "$pip_out" | grep -m1 'ERROR' || printf '%s\n' "$pip_out" | tail -n1)"
fi
# Bytecode for everything but the libraries' own test suites (about 40 % of their files, never
# imported by Probity), on all cores: a root install in /usr/local is read-only for users, so this
# is the time to write it. Not fatal: a few template files (PySide6's deploy recipes) are not Python.
"$NEW/venv/bin/python" -E -s -m compileall -q -j 0 -x '/tests?/' "$NEW/venv/lib" >/dev/null 2>&1 || true
[ -x "$NEW/venv/bin/probity" ] || die "the installed environment has no probity command."

# --- 4. launcher, desktop entry, icon ------------------------------------------------------
sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }  # POSIX sh single quotes
desktop_quote() {  # a quoted Exec argument (Desktop Entry spec: reserved characters, then %)
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\\\\\/g' -e 's/["`$]/\\\\&/g' -e 's/%/%%/g')"
}
ln -sfn "$(basename "$NEW")" "$LIB/current.new"
mv -Tf "$LIB/current.new" "$LIB/current"
launcher="$PREFIX/bin/probity"
cat > "$launcher.new" <<EOF
#!/bin/sh
# Probity launcher, written by the offline installer (Probity $VERSION).
exec $(sq "$LIB/current/venv/bin/probity") "\$@"
EOF
chmod 755 "$launcher.new"
mv -f "$launcher.new" "$launcher"
icon_dir="$PREFIX/share/icons/hicolor/scalable/apps"
app_dir="$PREFIX/share/applications"
mkdir -p "$icon_dir" "$app_dir"
install -m 644 probity.svg "$icon_dir/probity.svg"
cat > "$app_dir/probity.desktop" <<EOF
[Desktop Entry]
Type=Application
Version=1.5
Name=Probity
GenericName=Risk-of-bias assessment
Comment=Risk-of-bias assessment of clinical prediction models (PROBAST, PROBAST+AI)
Exec=$(desktop_quote "$launcher") %f
Icon=$icon_dir/probity.svg
Terminal=false
Categories=Science;MedicalSoftware;
EOF
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$app_dir" 2>/dev/null || true

# --- 5. self-test through the launcher ------------------------------------------------------
if ! test_out=$("$launcher" --selftest 2>&1); then
  if [ -n "$PREV" ] && [ -d "$LIB/$PREV" ]; then
    ln -sfn "$PREV" "$LIB/current.new" && mv -Tf "$LIB/current.new" "$LIB/current"
    die "the new installation failed its self-test ($(printf '%s\n' "$test_out" | tail -n1)); the previous one was kept."
  fi
  die "the installation failed its self-test: $(printf '%s\n' "$test_out" | tail -n1)"
fi
finished=1
for old in "$LIB"/app-*; do [ "$old" = "$NEW" ] || rm -rf "$old"; done
printf '%s\n' "$test_out" | grep '^probity' || true
say "installed Probity $VERSION: $launcher"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) say "add $PREFIX/bin to PATH, or run $launcher" ;; esac
say "settings and identities in ${PROBITY_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/probity} were left as they were."
