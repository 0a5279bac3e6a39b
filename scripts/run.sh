#!/usr/bin/env bash
# Runs the kiosk with simulated devices and the embedded back end (config/kiosk.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cc >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"; $SUDO apt-get update -qq && $SUDO apt-get install -y -qq gcc libc6-dev; }
exec cargo run --release --locked -p yizhan -- "$@"
