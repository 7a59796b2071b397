#!/bin/sh
# bench/check.sh: how long `autodisco check` takes over the scenario catalogue, one client per
# scenario, with the certificate cache warm (a first run mints every chain; only later runs are
# timed). The goal (issue: check speed) is the whole catalogue under 5 s on 2 cores.
#
# Uses hyperfine when it is installed (apt-get install hyperfine), else a timed loop.
#
# Settings (environment):
#   AD_BIN        the autodisco binary (default: build-bench/autodisco in the source tree)
#   SCENARIOS     the folder to check (default: scenarios/ in the source tree)
#   CHECK_CLIENT  the client model walked in every scenario (default outlook-2016-msi)
#   CHECK_JOBS    --jobs (default: the number of CPUs)
#   BENCH_RUNS    timed runs (default 10)
set -eu

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$BENCH_DIR/.." && pwd)
AD_BIN=${AD_BIN:-$SOURCE_DIR/build-bench/autodisco}
SCENARIOS=${SCENARIOS:-$SOURCE_DIR/scenarios}
CHECK_CLIENT=${CHECK_CLIENT:-outlook-2016-msi}
CHECK_JOBS=${CHECK_JOBS:-$(nproc)}
BENCH_RUNS=${BENCH_RUNS:-10}

die() {
  echo "bench/check.sh: $*" >&2
  exit 2
}

[ -x "$AD_BIN" ] || die "no autodisco binary at $AD_BIN (set AD_BIN)"
[ -d "$SCENARIOS" ] || die "no scenario folder at $SCENARIOS"
case $BENCH_RUNS in '' | *[!0-9]*) die "BENCH_RUNS must be a number" ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/autodisco-bench-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
CA_DIR=$TMP/ca

n_files=$(find "$SCENARIOS" -name '*.yaml' ! -name '_*' | wc -l | tr -d ' ')
set -- "$AD_BIN" --quiet --ca-dir "$CA_DIR" check "$SCENARIOS" --client "$CHECK_CLIENT" \
  --jobs "$CHECK_JOBS"

# Warm the certificate cache; exit 1 (an expectation fails) still times the same work.
status=0
"$@" >"$TMP/first.txt" 2>&1 || status=$?
[ "$status" -le 1 ] || echo "note: the warm-up run exited $status (bad input in the catalogue)" >&2
summary=$(tail -n 1 "$TMP/first.txt")

echo "autodisco check: $n_files scenario files x $CHECK_CLIENT, --jobs $CHECK_JOBS, $(nproc) CPUs"
echo "first (cold) run: $summary"

if command -v hyperfine >/dev/null 2>&1; then
  cmd=""
  for a in "$@"; do
    cmd="$cmd '$a'"
  done
  hyperfine --warmup 1 --runs "$BENCH_RUNS" -i --export-json "$TMP/h.json" "$cmd"
  python3 - "$TMP/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"mean {r['mean']:.3f} s, min {r['min']:.3f} s, max {r['max']:.3f} s")
print("goal < 5 s: " + ("met" if r["mean"] < 5 else "NOT met"))
PY
  exit 0
fi

i=0
: >"$TMP/times"
while [ "$i" -lt "$BENCH_RUNS" ]; do
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  echo "$t0 $t1" >>"$TMP/times"
  i=$((i + 1))
done
awk '{ d = $2 - $1; s += d; if (NR == 1 || d < lo) lo = d; if (d > hi) hi = d }
     END { printf "%d runs: mean %.3f s, min %.3f s, max %.3f s\n", NR, s / NR, lo, hi;
           print "goal < 5 s: " ((s / NR) < 5 ? "met" : "NOT met") }' "$TMP/times"
