#!/usr/bin/env bash
# Runs the kiosk with simulated devices and the embedded back end (config/kiosk.toml): the touch
# screen and the mirror window. Installs, with apt-get, what is missing: a C compiler and
# pkg-config (build), the X11 client libraries Slint's window loads at run time, and espeak-ng
# (the voice). Without a display it runs the same kiosk headless on this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
if [ -n "${DISPLAY:-}" ]; then
  for lib in libx11-xcb.so.1 libxcursor.so.1 libxi.so.6 libxkbcommon-x11.so.0; do
    ldconfig -p | grep -q "$lib" || need+=("$(case $lib in
      libx11-xcb*) echo libx11-xcb1 ;; libxcursor*) echo libxcursor1 ;;
      libxi.*) echo libxi6 ;; libxkbcommon-x11*) echo libxkbcommon-x11-0 ;; esac)")
  done
  command -v espeak-ng >/dev/null || need+=(espeak-ng)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ $# -eq 0 ]; then
  echo "no display (DISPLAY is not set): running the kiosk headless on this terminal"
  set -- run --headless
fi
exec cargo run --release --locked -p yizhan -- "$@"
