#!/usr/bin/env bash
# The fleet hub under 10,000 kiosks (crates/hub/benches/fleet_load.rs): starts a throwaway
# PostgreSQL, runs the bench in release, stops PostgreSQL. Not part of the test suite: it takes
# about ten minutes and both cores. Settings pass through the environment: BENCH_KIOSKS (10000),
# BENCH_SECONDS (240), BENCH_TRANSITIONS (300 a kiosk), BENCH_BATCH (100), BENCH_SHIPPERS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
trap pg_stop EXIT
pg_start
# Ten thousand kiosks keep ten thousand connections open: the bench and the hub need the
# descriptors (the hub inherits this limit).
ulimit -n "$(ulimit -Hn)"
cargo bench --locked -p hub --bench fleet_load
