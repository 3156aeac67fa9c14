#!/usr/bin/env bash
# Set up everything Timbre Studio needs on Debian/Ubuntu: system packages (when missing), .venv,
# torch 2.13.0 (CPU wheel, first, so nothing pulls a CUDA build), then the project with test tools.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--no-apt]
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt (offscreen and xcb under Xvfb)
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libxkbcommon0 libdbus-1-3 libx11-6 libxcb1
  fonts-dejavu-core xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
  libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1
  libxcb-sync1 libxcb-shm0 libx11-xcb1
  # audio output through PortAudio (sounddevice)
  libportaudio2
  # timbre train: teacher voices (run as external programs), audio tools, text sources
  flite espeak-ng sox libsox-fmt-all fortunes-min fortunes manpages manpages-dev
  # builds webrtcvad (resemblyzer) from source
  gcc python3-dev
)

install_apt() {
  command -v dpkg-query >/dev/null || { echo "setup: not a Debian/Ubuntu system; install the Qt/xcb and PortAudio libraries yourself"; return 0; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing system packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

[ "${1:-}" = "--no-apt" ] || install_apt

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.timbre-setup
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
# torch first, pinned: its local CPU wheel; setuptools<81 keeps pkg_resources for pyworld/resemblyzer.
# The train extra (aligner, metrics, the piper teacher) is installed too: the tests smoke-run training.
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0" "setuptools>=77,<81"
.venv/bin/python -m pip install -q --disable-pip-version-check "setuptools>=77,<81" -e ".[test,train]"
# resemblyzer's metadata pulls in `typing`, an obsolete backport of the standard library module (the
# stdlib one is what Python imports anyway); PyInstaller refuses to freeze with it installed.
.venv/bin/python -m pip uninstall -q -y typing 2>/dev/null || true
echo "$want" > "$stamp"
echo "setup: ready (.venv)"
