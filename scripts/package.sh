#!/usr/bin/env bash
# Builds the Debian packages of the kiosk (`yizhan`) and the hub (`yizhan-hub`) with cargo-deb:
#   scripts/package.sh                 # release builds, for kiosks and hubs
#   scripts/package.sh --profile dev   # unoptimised (the test suite's quick check of the packaging)
# The .debs land in target/debian/. The kiosk's binary is built without the `sim` feature (no
# simulator, no demo key) and with `kms` (Slint's LinuxKMS backend: no X11 on the kiosk).
# Needs only the Rust toolchain: on Debian it installs what else it needs (cargo-deb from
# crates.io; the C toolchain, pkg-config, dpkg-dev and the libinput, libudev and xkbcommon
# headers with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--profile release|dev]" >&2; exit 2 ;;
  esac
done

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
for lib in libinput libudev xkbcommon; do
  pkg-config --exists "$lib" 2>/dev/null || need+=("$lib-dev")
done
need=("${need[@]/xkbcommon-dev/libxkbcommon-dev}")
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb"
  cargo install cargo-deb --locked --version 3.8.0
fi

mkdir -p target/debian
rm -f target/debian/*.deb
cargo deb --locked --profile "$profile" -p yizhan --output target/debian/
cargo deb --locked --profile "$profile" -p hub --output target/debian/
ls -1 target/debian/*.deb
