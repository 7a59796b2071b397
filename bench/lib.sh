# shellcheck shell=sh
# Shared by bench/dns.sh and bench/https.sh (sourced, not run): a temporary directory, the
# processes a benchmark starts and their clean-up, CPU pinning, peak memory, and the results
# file. POSIX sh; every process started here is stopped by the EXIT trap, nothing is left behind.
#
# Settings (environment):
#   AD_BIN          the autodisco binary (default: build-bench/autodisco in the source tree)
#   BENCH_SECONDS   length of each timed run (default 10)
#   BENCH_REPEAT    runs of each (case, server), interleaved between the servers (default 3)
#   BENCH_RESULTS   TSV file the rows are appended to (default: one in the temporary directory)
#   BENCH_PIN       1 (default when the machine has 2+ CPUs): server on CPU 0, load on CPU 1

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$BENCH_DIR/.." && pwd)
AD_BIN=${AD_BIN:-$SOURCE_DIR/build-bench/autodisco}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_REPORT="python3 $BENCH_DIR/report.py"

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/autodisco-bench.XXXXXX")
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_TMP/results.tsv}
BENCH_PIDS=""

if [ -z "${BENCH_PIN:-}" ]; then
  if [ "$(nproc)" -ge 2 ]; then BENCH_PIN=1; else BENCH_PIN=0; fi
fi
# Command prefixes (left unquoted where used, on purpose: empty or "taskset -c N"). Prefixes
# rather than functions, so that `$SERVER_CPU cmd &` makes $! the server's own pid (taskset
# execs the command).
# shellcheck disable=SC2034 # LOAD_CPU is used by the scripts that source this file
SERVER_CPU=""
LOAD_CPU=""
if [ "$BENCH_PIN" = 1 ]; then
  SERVER_CPU="taskset -c 0"
  # shellcheck disable=SC2034 # used by the scripts that source this file
  LOAD_CPU="taskset -c 1"
fi

die() {
  echo "bench: $*" >&2
  exit 1
}

note() {
  echo "bench: $*" >&2
}

# A TCP and UDP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
free_port() {
  python3 -c 'import socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
print(p)'
}

# Remembers a process to stop at exit.
track() {
  BENCH_PIDS="$BENCH_PIDS $1"
}

# SIGTERM to PID, then SIGKILL if it is still there after 10 s; children of PID (nginx workers)
# get the same. Only processes this script started are ever passed here.
stop_pid() {
  pid=$1
  kids=$(pgrep -P "$pid" 2>/dev/null || true)
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  for k in $kids; do
    kill -KILL "$k" 2>/dev/null || true
  done
  wait "$pid" 2>/dev/null || true
  remaining=""
  for p in $BENCH_PIDS; do
    [ "$p" = "$pid" ] || remaining="$remaining $p"
  done
  BENCH_PIDS=$remaining
}

cleanup() {
  for p in $BENCH_PIDS; do
    stop_pid "$p"
  done
  rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Peak resident memory (VmHWM, kB) of PID plus its children: the sum of per-process peaks, so
# for nginx (master + worker) it counts the pages they share twice — an upper bound.
peak_rss_kb() {
  total=0
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# CPU time (clock ticks, user + system) used so far by PID plus its children: read before and
# after a run, it tells how busy the server was — and so whether the load generator, not the
# server, was the limit.
cpu_ticks() {
  total=0
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    # Fields 14 and 15 of /proc/PID/stat; the command name (field 2) has no spaces here.
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# "cpu_pct<TAB>us_per_op" from two cpu_ticks readings, the operations done and the seconds.
cpu_cost() {
  awk -v t0="$1" -v t1="$2" -v ops="$3" -v secs="$4" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    cpu = (t1 - t0) / hz
    printf "%.0f\t%.2f\n", 100 * cpu / secs, (ops > 0 ? 1e6 * cpu / ops : 0)
  }'
}

# Seconds since a `date +%s%N` reading.
since() {
  echo "$1 $(date +%s%N)" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'
}

# Starts `autodisco serve SCENARIO` on ephemeral ports, pinned to the server CPU, and waits for
# its ready line. Extra arguments (e.g. --journal FILE) are passed on. Sets AD_PID and AD_READY
# (the JSON after "ready ").
start_autodisco() {
  scenario=$1
  shift
  out=$BENCH_TMP/autodisco.out
  : >"$out"
  # shellcheck disable=SC2086 # $SERVER_CPU is a prefix of words or empty
  $SERVER_CPU "$AD_BIN" --quiet --ca-dir "$BENCH_TMP/ca" serve "$scenario" \
    --dns 127.0.0.1:0 --https-port 0 --http-port 0 "$@" >"$out" 2>"$BENCH_TMP/autodisco.err" &
  AD_PID=$!
  track "$AD_PID"
  n=0
  until grep -q '^ready ' "$out"; do
    kill -0 "$AD_PID" 2>/dev/null || die "autodisco exited: $(cat "$BENCH_TMP/autodisco.err")"
    [ $n -lt 600 ] || die "autodisco printed no ready line within 60 s"
    sleep 0.1
    n=$((n + 1))
  done
  AD_READY=$(sed -n 's/^ready //p' "$out" | head -n 1)
}

# A field of the ready line: `ready_get dns` or `ready_get host exchange https|address`.
ready_get() {
  printf '%s\n' "$AD_READY" | $BENCH_REPORT ready "$@"
}

# Appends one result row:
#   suite case server rate/s avg_ms p99_ms peak_rss_kb server_cpu_% cpu_us_per_op note
record() {
  [ $# -eq 10 ] || die "record: 10 fields expected, got $#"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_RESULTS"
}

# The 1-minute load average: anything else running on the machine shows here.
load_now() {
  cut -d ' ' -f1 /proc/loadavg
}

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing; bench/run-all.sh installs it"
  done
}
