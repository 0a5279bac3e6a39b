#!/usr/bin/env bash
# Start-up time and memory of the real kiosk program against a minimal Slint window, both on the
# winit back end with the software renderer under Xvfb (docs/performance.md, "Kiosk UI").
#
# For each program, RUNS times (default 5): time from exec to the first frame visible on the X
# server (a pixel of the window polled on the root window: the kiosk's header #0b3d91, the
# minimal window's magenta button #c2185b), PSS after 2 s idle (/proc/PID/smaps_rollup) and peak
# RSS (VmHWM, /proc/PID/status) at that moment; prints the medians as a markdown table.
#
#   scripts/bench-ui.sh              # RUNS=5, display :97, pixel polled with XGetImage (libX11)
#   POLL=xwd scripts/bench-ui.sh     # poll with `xwd -root -silent` instead (coarser, ~30 ms)
#
# `yizhan` runs as a kiosk does (no subcommand, embedded back end: simulators, pseudo-terminal
# devices and the journal start too) with config/kiosk.toml, except `mirror = false` (one window)
# and `speech = "off"`, and a fresh --data-dir each run. Uses $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RUNS=${RUNS:-5}
DISPLAY_NO=${DISPLAY_NO:-97}
POLL=${POLL:-xlib}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}

# (a) What it needs: Xvfb, xwd, and the X libraries winit loads at run time.
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xwd >/dev/null || need+=(x11-apps)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v python3 >/dev/null || need+=(python3)
for lib in libx11-6 libx11-xcb1 libxcursor1 libxi6 libxext6 libxrender1 libxfixes3 libxrandr2 \
  libxkbcommon0 libxkbcommon-x11-0 libxcb-xkb1; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# (b) The two programs, release.
cargo build --release --locked -p yizhan >&2
cargo build --release --locked -p kiosk-ui --example minimal_window >&2
KIOSK=$TARGET/release/yizhan
MINIMAL=$TARGET/release/examples/minimal_window

# (c) Xvfb, a config with one window and no voice.
WORK=$(mktemp -d)
XVFB_PID=""
cleanup() {
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
Xvfb ":$DISPLAY_NO" -screen 0 1920x1080x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X$DISPLAY_NO" ] && break; sleep 0.05; done
[ -S "/tmp/.X11-unix/X$DISPLAY_NO" ] || { cat "$WORK/xvfb.log" >&2; echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$DISPLAY_NO"

mkdir -p "$WORK/config"
ln -s "$REPO/config/sim-keys" "$WORK/config/sim-keys"
sed -e 's/^mirror = true/mirror = false/' -e 's/^speech = "espeak-ng"/speech = "off"/' \
  config/kiosk.toml >"$WORK/config/kiosk.toml"
grep -q '^mirror = false' "$WORK/config/kiosk.toml" && grep -q '^speech = "off"' "$WORK/config/kiosk.toml" \
  || { echo "could not set mirror/speech in the copied config" >&2; exit 1; }

cat >"$WORK/measure.py" <<'EOF'
"""Launches a program RUNS times; times exec -> a pixel of its colour on the X root window;
then after 2 s idle reads PSS and VmHWM; prints one JSON line per run."""
import ctypes, json, os, signal, struct, subprocess, sys, tempfile, time

poll, x, y, colour, runs, label = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
cmd = sys.argv[7:]
want = tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))

x11 = ctypes.cdll.LoadLibrary("libX11.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XGetImage.restype = ctypes.c_void_p
x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                          ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
x11.XFree.argtypes = [ctypes.c_void_p]
dpy = x11.XOpenDisplay(None)
assert dpy, "cannot open the display"
root = x11.XDefaultRootWindow(dpy)

def pixel_xlib():
    image = x11.XGetImage(dpy, root, x, y, 1, 1, 0xFFFFFFFF, 2)  # AllPlanes, ZPixmap
    data = ctypes.c_void_p.from_address(image + 16).value  # XImage: 4 ints, then char *data
    b, g, r = ctypes.string_at(data, 3)  # 24-bit TrueColor, 32 bpp, LSB first
    x11.XFree(data)
    x11.XFree(image)
    return (r, g, b)

def pixel_xwd():
    raw = subprocess.run(["xwd", "-root", "-silent"], capture_output=True, check=True).stdout
    h = struct.unpack(">25I", raw[:100])
    header, bpp, bpl, ncolors = h[0], h[11], h[12], h[19]
    offset = header + ncolors * 12 + y * bpl + x * (bpp // 8)
    b, g, r = raw[offset:offset + 3]
    return (r, g, b)

pixel = pixel_xlib if poll == "xlib" else pixel_xwd

def kib(path, name):
    with open(path) as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1])
    return 0

for run in range(runs):
    deadline = time.monotonic() + 10
    while pixel() == want:  # the last run's window must be gone
        assert time.monotonic() < deadline, "the screen still shows the colour before launch"
        time.sleep(0.05)
    data = tempfile.mkdtemp(prefix="yizhan-bench-")
    env = dict(os.environ, YIZHAN_DATA_DIR=data)
    polls = 0
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        polls += 1
        if pixel() == want:
            painted = time.monotonic() - t0
            break
        if proc.poll() is not None:
            sys.exit(f"{label} exited before painting: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() - t0 > 30:
            proc.kill()
            sys.exit(f"{label} did not paint within 30 s")
        time.sleep(0.002)
    time.sleep(2)
    pid = proc.pid
    figures = {
        "program": label,
        "painted_ms": round(painted * 1e3, 1),
        "polls": polls,
        "pss_kib": kib(f"/proc/{pid}/smaps_rollup", "Pss:"),
        "pss_anon_kib": kib(f"/proc/{pid}/smaps_rollup", "Pss_Anon:"),
        "pss_file_kib": kib(f"/proc/{pid}/smaps_rollup", "Pss_File:"),
        "pss_shmem_kib": kib(f"/proc/{pid}/smaps_rollup", "Pss_Shmem:"),
        "rss_kib": kib(f"/proc/{pid}/status", "VmRSS:"),
        "hwm_kib": kib(f"/proc/{pid}/status", "VmHWM:"),
        "threads": kib(f"/proc/{pid}/status", "Threads:"),
    }
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    subprocess.run(["rm", "-rf", data])
    print(json.dumps(figures), flush=True)
    time.sleep(0.5)
EOF

# Interleaved, so that both programs see the same machine state: kiosk, minimal, kiosk, ...
RESULTS=$WORK/results.jsonl
for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS" >&2
  python3 "$WORK/measure.py" "$POLL" 8 8 0b3d91 1 yizhan \
    "$KIOSK" --config "$WORK/config/kiosk.toml" | tee -a "$RESULTS" >&2
  python3 "$WORK/measure.py" "$POLL" 40 80 c2185b 1 MinimalWindow "$MINIMAL" | tee -a "$RESULTS" >&2
done

python3 - "$RESULTS" "$RUNS" "$POLL" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def med(program, key):
    return statistics.median(r[key] for r in rows if r["program"] == program)
def runs(program, key, scale=1.0):
    return ", ".join(f"{r[key] / scale:.0f}" if scale == 1 else f"{r[key] / scale:.1f}" for r in rows if r["program"] == program)
print(f"Xvfb 1920x1080x24, winit + software renderer, {sys.argv[2]} runs each (interleaved), pixel polled with {sys.argv[3]}; medians.\n")
print("| figure | yizhan (kiosk, one window) | MinimalWindow |")
print("|---|---|---|")
print(f"| exec → first frame on the X server | {med('yizhan', 'painted_ms'):.0f} ms | {med('MinimalWindow', 'painted_ms'):.0f} ms |")
print(f"| PSS, 2 s idle | {med('yizhan', 'pss_kib') / 1024:.1f} MiB | {med('MinimalWindow', 'pss_kib') / 1024:.1f} MiB |")
def parts(p):
    return " / ".join(f"{med(p, k) / 1024:.1f}" for k in ("pss_anon_kib", "pss_file_kib", "pss_shmem_kib")) + " MiB"
print(f"| – anonymous / file-backed / shared memory (MIT-SHM frame) | {parts('yizhan')} | {parts('MinimalWindow')} |")
print(f"| peak RSS (VmHWM) | {med('yizhan', 'hwm_kib') / 1024:.1f} MiB | {med('MinimalWindow', 'hwm_kib') / 1024:.1f} MiB |")
print(f"| threads | {med('yizhan', 'threads'):.0f} | {med('MinimalWindow', 'threads'):.0f} |")
print()
for program in ("yizhan", "MinimalWindow"):
    print(f"{program}: painted ms per run: {runs(program, 'painted_ms')}; PSS MiB per run: {runs(program, 'pss_kib', 1024)}")
EOF
