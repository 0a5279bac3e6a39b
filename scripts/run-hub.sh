#!/usr/bin/env bash
# The fleet demo: PostgreSQL (a throwaway cluster, installed from Debian's packages if missing),
# the hub on https://127.0.0.1:8443, the payment channel and biller simulators, and three
# headless simulated kiosks that pair with the hub, take payments (one ends in suspense), ship
# their journals and send heartbeats.
#
#   scripts/run-hub.sh          keeps the hub and the kiosks running until Ctrl-C
#   scripts/run-hub.sh --once   reconciles the demo day (the hub fetches the simulators'
#                               statements and biller files, stores them and matches them against
#                               the central journal: "reconciled: M matched, E exceptions"), stops
#                               everything it started and ends with one summary line:
#                               "3 kiosks, N payments shipped, 0 gaps, A alerts"
#
# Everything lives in a scratch folder that is removed at the end. HUB_PORT changes the port.
set -euo pipefail
cd "$(dirname "$0")/.."
once=false
[ "${1:-}" = "--once" ] && once=true

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cargo build --locked -q -p yizhan -p hub --bins
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
Y="$target/debug/yizhan"
H="$target/debug/yizhan-hub"

source scripts/lib/postgres.sh
scratch=$(mktemp -d /tmp/yizhan-fleet.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start >/dev/null
export YIZHAN_HUB_DATABASE_URL="$YIZHAN_PG_ADMIN_URL"
port=${HUB_PORT:-8443}
hub_url="https://127.0.0.1:$port"

"$H" init --tls-dir "$scratch/tls" --host 127.0.0.1 --host localhost >/dev/null
# Any payment in suspense raises an alert at once here, so the demo's shows (a day in production).
"$H" serve --listen "127.0.0.1:$port" --tls-dir "$scratch/tls" --suspense-age-min 0 \
  >"$scratch/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -skf "$hub_url/healthz" >/dev/null && break
  sleep 0.1
done
# Ours, not something else already on the port.
kill -0 "${pids[0]}" 2>/dev/null && curl -skf "$hub_url/healthz" >/dev/null \
  || { cat "$scratch/hub.log" >&2; echo "the hub did not start (is port $port taken? HUB_PORT=…)" >&2; exit 1; }

# One set of channel and biller simulators for the three kiosks (their ledgers are the
# channels' and billers' books); each kiosk has simulated devices of its own.
mkfifo "$scratch/sim.out"
"$Y" --config config/kiosk.toml sim --divisor 100 --write-config "$scratch/sim.toml" >"$scratch/sim.out" 2>"$scratch/sim.log" &
pids+=($!)
wechat=""
while read -r name url; do
  [ "$name" = "ready" ] && break
  [ "$name" = "wechat" ] && wechat=$url
done <"$scratch/sim.out"
cat "$scratch/sim.out" >/dev/null &
pids+=($!)

halls=("徐汇区漕河泾服务大厅" "浦东新区塘桥数字小屋" "静安区彭浦24小时小屋")
kiosks=()
for n in 1 2 3; do
  id="SH-DEMO-0$n"
  kiosks+=("$id")
  dir="$scratch/$id"
  mkdir -p "$dir/data"
  # The simulators' configuration without their card devices, as this kiosk.
  awk '/^\[devices/ {skip=1} /^\[/ && !/^\[devices/ {skip=0} !skip' "$scratch/sim.toml" \
    | sed -e "s/^id = \"SIM-0001\"/id = \"$id\"/" -e "s/^number = \"9001\"/number = \"910$n\"/" >"$dir/kiosk.toml"
  printf '\n[devices]\nsimulated = true\n\n[hub]\nurl = "%s"\nship_every_s = 2\nheartbeat_every_s = 5\n' "$hub_url" >>"$dir/kiosk.toml"
  ticket=$("$H" kiosk add "$id" --hall "${halls[$((n - 1))]}" --hub-url "$hub_url" --tls-dir "$scratch/tls" | tail -n 1)
  # A production-style kiosk: staff start its journal once.
  "$Y" --config "$dir/kiosk.toml" --data-dir "$dir/data" journal init --new-kiosk --staff S001 --reason "fleet demo" \
    >/dev/null 2>>"$dir/kiosk.log"
  "$Y" --config "$dir/kiosk.toml" --data-dir "$dir/data" hub pair "$ticket" 2>>"$dir/kiosk.log"
done

pay() { # kiosk, utility, account, code
  "$Y" --config "$scratch/$1/kiosk.toml" --data-dir "$scratch/$1/data" pay --utility "$2" --account "$3" --code "$4" \
    >/dev/null 2>>"$scratch/$1/kiosk.log"
}
pay SH-DEMO-01 power 3200000010 134567890123456781
pay SH-DEMO-01 water 310000013 284567890123456782
pay SH-DEMO-02 gas 3300000027 134567890123456783
pay SH-DEMO-03 water 310000021 284567890123456784
# The last customer's phone never confirms and the channel never confirms the reversal: the
# payment ends in suspense, with a slip (exit code 3).
curl -sf -X POST "$wechat/admin/faults" -H 'content-type: application/json' \
  -d '[{"endpoint":"pay","fault":"user_paying","ms":null},{"endpoint":"reverse","fault":"status","code":503,"times":100}]' >/dev/null
status=0
pay SH-DEMO-03 power 3200000028 134567890123456785 || status=$?
[ "$status" -eq 3 ] || { echo "the suspense payment ended with exit code $status, not 3" >&2; exit 1; }

# Console accounts for the demo: an admin, and a supervisor of the first hall, with one fresh
# password printed below.
console_password=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$console_password" | "$H" operator set admin --role admin >/dev/null
echo "$console_password" | "$H" operator set hall.supervisor --role hall_supervisor --hall "${halls[0]}" >/dev/null

if $once; then
  for id in "${kiosks[@]}"; do
    "$Y" --config "$scratch/$id/kiosk.toml" --data-dir "$scratch/$id/data" hub sync >/dev/null 2>>"$scratch/$id/kiosk.log"
  done
  "$H" fleet | head -n -1
  # The day's books: the simulators are the channels and billers of every kiosk here, so
  # their files are the merchant accounts' statements (today's are not final yet).
  "$H" recon run --day "$(TZ=Asia/Shanghai date +%F)" --accounts "$scratch/sim.toml" 2>>"$scratch/recon.log" \
    || { cat "$scratch/recon.log" >&2; exit 1; }
  "$H" fleet | tail -n 1
  exit 0
fi

# Headless kiosks read commands from standard input: a FIFO this script holds open, so they
# run (shipping and beating in the background) until they are stopped.
mkfifo "$scratch/stdin"
exec 3<>"$scratch/stdin"
for id in "${kiosks[@]}"; do
  "$Y" --config "$scratch/$id/kiosk.toml" --data-dir "$scratch/$id/data" run --headless \
    <"$scratch/stdin" >"$scratch/$id/kiosk.log" 2>&1 &
  pids+=($!)
done
sleep 3
"$H" fleet
echo
echo "console: $hub_url/console — sign in as admin (or hall.supervisor, of ${halls[0]}) with $console_password"
echo "  (the hub's certificate is signed by its own CA, $scratch/tls/ca.crt: the browser asks once)"
echo "hub: $hub_url (kiosk API)"
echo "the fleet: YIZHAN_HUB_DATABASE_URL='$YIZHAN_HUB_DATABASE_URL' $H fleet"
echo "Ctrl-C stops the hub, the kiosks and PostgreSQL"
wait "${pids[0]}"
