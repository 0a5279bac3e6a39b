#!/usr/bin/env bash
# Checks a `yizhan` built without the `sim` feature (the production build, issue 12 item 3):
# it holds no simulator, no simulated customer, no demo key and no crash-injection hook, it says
# so when asked for one, and it refuses the demo configuration.
#   usage: scripts/check-production-build.sh PATH/TO/yizhan
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$1"
fail() { echo "production build: $*" >&2; exit 1; }

# Strings that only simulator, demo or crash-injection code carries.
for marker in \
  "simulator listening" \
  "YizhanSimulatorApiKey" \
  "YizhanSimulatorSecureKey" \
  "YIZHAN_CRASH_AFTER_COMMIT" \
  "YIZHAN_CRASH_AFTER_CALL"; do
  if grep -a -q -F "$marker" "$bin"; then
    fail "the binary contains \"$marker\""
  fi
done

for command in sim soak; do
  set +e
  out=$("$bin" "$command" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "yizhan $command exited $rc, expected 2"
  grep -q "not in this build" <<<"$out" || fail "yizhan $command said: $out"
done

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
set +e
out=$("$bin" --config config/kiosk.toml --data-dir "$data" devices 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "the demo configuration was not refused (exit $rc): $out"
grep -q "backend.mode" <<<"$out" || fail "the refusal does not name backend.mode: $out"
echo "production build: no simulators, demo configuration refused"
