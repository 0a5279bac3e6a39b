#!/usr/bin/env bash
# Runs the whole test suite: format, lints, and every test of the workspace.
# Needs only the Rust toolchain (cargo, rustfmt, clippy). On Debian it installs what else is
# missing with apt-get: a C compiler and pkg-config (the bundled SQLite, ring), PostgreSQL (the
# hub's tests run against a throwaway cluster that this script starts and stops), and Chromium
# with its WebDriver and a CJK font (the operator console's browser tests), and systemd-analyze
# (the kiosk's and the hub's units are verified). scripts/package.sh, which it runs, installs
# cargo-deb and the LinuxKMS backend's headers.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || need+=(fonts-wqy-microhei)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v udevadm >/dev/null || need+=(udev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# CI builds once from nothing: incremental compilation would only add gigabytes to its disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The hub's tests run against a real PostgreSQL: a throwaway cluster in a scratch folder,
# installed from Debian's packages if missing, stopped and removed however the tests end.
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
cargo test --workspace --locked

# The fleet demo (scripts/run-hub.sh --once) reconciles its day and ends with the fleet's summary.
demo=$(HUB_PORT=18443 scripts/run-hub.sh --once 2>target/run-hub.log | tail -n 2) \
  || { cat target/run-hub.log >&2; exit 1; }
if ! grep -Eq '^reconciled: [0-9]+ matched, [0-9]+ exceptions$' <<<"$(head -n 1 <<<"$demo")" \
  || ! grep -Eq '^3 kiosks, [0-9]+ payments shipped, 0 gaps, [0-9]+ alerts$' <<<"$(tail -n 1 <<<"$demo")"; then
  echo "the fleet demo did not end with a reconciled day and the summary:" >&2
  echo "$demo" >&2
  exit 1
fi

# The production build: the same kiosk without the `sim` feature. No crate may have `sim` (the
# simulators) or `testing` (test fixtures) turned on in it, clippy must pass on the code only it
# compiles, and its binary is checked, then kept aside as target/yizhan-production while the
# demo binary is built back in its place (the integration tests and the docs run
# target/debug/yizhan). The tree leaves dev-dependencies out: they are the tests' features.
sim_crates=(-i device -i payments -i billers -i journal -i cash -i kiosk-core -i fleet)
features=$(cargo tree -p yizhan --no-default-features -e normal,build,features --locked "${sim_crates[@]}")
if grep -Eq 'feature "(sim|testing)"' <<<"$features"; then
  echo "a crate has its sim or testing feature on in the production build:" >&2
  grep -E -B3 'feature "(sim|testing)"' <<<"$features" >&2
  exit 1
fi
# The packages (scripts/package.sh, unoptimised here): cargo-deb builds the kiosk without `sim`
# and with `kms`; no warning from code only the simulators use.
./scripts/package.sh --profile dev 2>&1 | tee target/production-build.log
if grep "^warning" target/production-build.log | grep -qv "dev profile is not supported"; then
  echo "the production build has warnings (code only the simulators use?)" >&2
  exit 1
fi
cargo clippy -p yizhan --no-default-features --features kms --locked -- -D warnings
cp target/debug/yizhan target/yizhan-production
touch crates/yizhan/src/main.rs
cargo build -p yizhan --bin yizhan --locked
./scripts/check-production-build.sh target/yizhan-production
# Both packages installed into a scratch root: files, users, units, udev rules, purge.
cargo test -p yizhan --test integration --locked -- --ignored package::
