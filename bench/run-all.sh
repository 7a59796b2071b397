#!/bin/sh
# Runs every benchmark against its peer and prints one summary table (markdown):
#   bench/dns.sh    autodisco's DNS against knotd, driven by dnsperf
#   bench/https.sh  autodisco's HTTPS host against nginx, driven by wrk
# Installs the Debian packages it needs when they are missing (apt-get; sudo when not root),
# builds autodisco (RelWithDebInfo, in build-bench/) unless AD_BIN names a binary, and stops
# everything it started, on success, failure or Ctrl-C. Only 127.0.0.0/8 is ever contacted.
#
# Settings: AD_BIN, BENCH_SECONDS (default 10), BENCH_REPEAT (default 3), BENCH_DNS_QPS,
# BENCH_CONNECTIONS, KNOT_UDP_WORKERS, BENCH_PIN (see bench/lib.sh and the scripts), and
# BENCH_KEEP=FILE to keep the raw results (TSV, one line per run).
set -eu
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$BENCH_DIR/.." && pwd)

# --- packages ----------------------------------------------------------------------------
# knot: knotd, the DNS peer; knot-dnsutils: kdig, to compare answers; nginx: the HTTPS peer;
# dnsperf, wrk: the load generators; util-linux: taskset; procps: pgrep.
want="knot knot-dnsutils dnsperf nginx wrk curl openssl python3 util-linux procps"
missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "run-all: installing$missing" >&2
  $sudo apt-get update -qq
  # shellcheck disable=SC2086 # $missing is a list of package names
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
    >/dev/null
fi
# Debian starts services from postinst where an init system runs; the benchmarks start their
# own instances on free ports, so a system knotd or nginx does not disturb them.

# --- autodisco ---------------------------------------------------------------------------
if [ -z "${AD_BIN:-}" ]; then
  build=$SOURCE_DIR/build-bench
  log=$(mktemp "${TMPDIR:-/tmp}/autodisco-bench-build.XXXXXX")
  if ! { cmake -S "$SOURCE_DIR" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    cmake --build "$build" --target autodisco tls-floor -j2; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "run-all: building autodisco failed (above); or set AD_BIN to a binary" >&2
    exit 1
  fi
  rm -f "$log"
  AD_BIN=$build/autodisco
fi
export AD_BIN

# --- the runs ----------------------------------------------------------------------------
results=$(mktemp "${TMPDIR:-/tmp}/autodisco-bench-results.XXXXXX")
child=""
cleanup() {
  # A benchmark script stops its own servers when it ends; make it end.
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -f "$results"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export BENCH_RESULTS="$results"

# In the background and waited for, so that a signal to this script reaches the trap at once.
run() {
  sh "$BENCH_DIR/$1" &
  child=$!
  wait "$child" || { echo "run-all: $1 failed" >&2; exit 1; }
  child=""
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: $(nproc) CPUs, $cpu, $(uname -sr)"
head=$(git -C "$SOURCE_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')
echo "autodisco: $AD_BIN (source tree HEAD $head, plus whatever is not committed)"
echo "peers: $(knotd -V 2>&1 | head -n 1); $(nginx -v 2>&1 | head -n 1)"
echo "load: $(dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p'); $(wrk -v 2>&1 | head -n 1 |
  cut -d ' ' -f1-2)"
echo "settings: ${BENCH_SECONDS:-10} s per run, ${BENCH_REPEAT:-3} runs per server and case"
echo

run dns.sh
run https.sh

python3 "$BENCH_DIR/report.py" table "$results"
if [ -n "${BENCH_KEEP:-}" ]; then
  cp "$results" "$BENCH_KEEP"
fi
