#!/bin/sh
# bench/soak.sh: autodisco under steady mixed load for a long time (issue 12) — does it stay up,
# answer everything, and keep its memory and file descriptors flat?
#
# One `autodisco serve bench/bench.yaml --journal` and, at the same time, for SOAK_SECONDS:
# The three loads together ask for half of what the peers served on one core in
# docs/BENCHMARKS.md — each a sixth of its peer's rate, since the server takes all three on one
# CPU (half of each at once would be one and a half servers' worth):
#   DNS     dnsperf at SOAK_DNS_QPS queries/s (default 35000: a sixth of knotd's ~210000), the
#           mix of dns.sh
#   HTTPS   wrk, the Autodiscover POST on SOAK_CONNECTIONS kept connections at SOAK_HTTPS_RATE
#           requests/s (default 12000: a sixth of nginx's ~71000) — wrk 4.1 has no rate option,
#           so each connection waits (a Lua delay()) CONNECTIONS/RATE between its requests
#   new     wrk, the same POST with `Connection: close` (a TLS handshake each) at
#           SOAK_NEW_RATE requests/s (default 320: a sixth of nginx's ~1900) on
#           SOAK_NEW_CONNECTIONS (2) connections
# Every SOAK_SAMPLE seconds (5) it records the server's RSS (VmRSS) and open file descriptors.
# Printed at the end: errors (DNS queries lost, HTTP statuses other than 200, socket errors) and
# flatness — the largest deviation of RSS and FD count from their median after the warm-up
# (SOAK_WARMUP seconds, default a fifth of the run, at most 60), in %. The goal: 0 errors and
# both within SOAK_FLAT_PCT (5) %; the exit status is 1 when it is missed.
#
#   bench/soak.sh                                  # 10 minutes
#   SOAK_SECONDS=60 bench/soak.sh                  # a quick look
#   AD_BIN=build/autodisco SOAK_DNS_QPS=20000 bench/soak.sh
#
# Bounded: each load tool stops by its own time limit and is killed SOAK_SECONDS + 30 s after it
# began at the latest; the EXIT trap (lib.sh) stops the server and removes the temporary directory.
set -eu
. "$(dirname "$0")/lib.sh"

need dnsperf wrk python3 taskset timeout

[ -x "$AD_BIN" ] || die "no autodisco binary at $AD_BIN (set AD_BIN or run bench/run-all.sh)"

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_SAMPLE=${SOAK_SAMPLE:-5}
SOAK_DNS_QPS=${SOAK_DNS_QPS:-35000}
SOAK_HTTPS_RATE=${SOAK_HTTPS_RATE:-12000}
SOAK_NEW_RATE=${SOAK_NEW_RATE:-320}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-64}
SOAK_FLAT_PCT=${SOAK_FLAT_PCT:-5}
warm=$((SOAK_SECONDS / 5))
[ "$warm" -le 60 ] || warm=60
SOAK_WARMUP=${SOAK_WARMUP:-$warm}
# Few connections for the handshakes: each one is closed and opened again all the time, and the
# FD samples should see the server's descriptors, not how many handshakes were in flight.
NEW_CONNECTIONS=${SOAK_NEW_CONNECTIONS:-2}
AD_PATH=/autodiscover/autodiscover.xml
NAME=autodiscover.contoso.com
HARD_LIMIT=$((SOAK_SECONDS + 30))

QUERIES=$BENCH_DIR/queries.txt # the dnsperf query list

REQUEST=$BENCH_DIR/request.xml # the POX request Outlook POSTs (MS-OXDSCLI 2.2.3)

# paced_lua writes a wrk script that POSTs the request and waits DELAY_MS after each answer.
paced_lua() {
  cat <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
local f = assert(io.open(os.getenv("BENCH_REQUEST"), "rb"))
wrk.body = f:read("*a")
f:close()
function delay()
  return $1
end
EOF
}

# delay_ms is how long each of N connections waits between requests for RATE requests/s in all.
delay_ms() {
  awk -v n="$1" -v rate="$2" 'BEGIN { d = int(1000 * n / rate + 0.5); print (d < 1 ? 1 : d) }'
}

KEEP_DELAY=$(delay_ms "$SOAK_CONNECTIONS" "$SOAK_HTTPS_RATE")
NEW_DELAY=$(delay_ms "$NEW_CONNECTIONS" "$SOAK_NEW_RATE")
paced_lua "$KEEP_DELAY" >"$BENCH_TMP/keep.lua"
paced_lua "$NEW_DELAY" >"$BENCH_TMP/new.lua"

JOURNAL=$BENCH_TMP/journal.jsonl
# the kept and the new connections all come from 127.0.0.1: above serve's default cap per client
start_autodisco "$BENCH_DIR/bench.yaml" --journal "$JOURNAL" \
  --max-conns-per-client $((SOAK_CONNECTIONS + NEW_CONNECTIONS + 16))
SERVER_PID=$AD_PID
DNS_PORT=$(ready_get dns | sed 's/.*://')
SERVER_URL=https://$(ready_get host exchange address):$(ready_get host exchange https)
note "soak: ${SOAK_SECONDS} s against pid $SERVER_PID — DNS $SOAK_DNS_QPS q/s; POST keep-alive" \
  "$SOAK_CONNECTIONS conns, ${KEEP_DELAY} ms apart (~$((SOAK_CONNECTIONS * 1000 / KEEP_DELAY))/s);" \
  "new connections $NEW_CONNECTIONS conns, ${NEW_DELAY} ms apart (~$((NEW_CONNECTIONS * 1000 / NEW_DELAY))/s)"

# shellcheck disable=SC2086 # $LOAD_CPU is a prefix of words or empty
$LOAD_CPU timeout -k 5 "$HARD_LIMIT" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$QUERIES" \
  -l "$SOAK_SECONDS" -c 4 -q 500 -T 1 -Q "$SOAK_DNS_QPS" >"$BENCH_TMP/dnsperf.out" 2>&1 &
DNS_LOAD=$!
track "$DNS_LOAD"
# shellcheck disable=SC2086
BENCH_REQUEST=$REQUEST $LOAD_CPU timeout -k 5 "$HARD_LIMIT" wrk -t1 -c "$SOAK_CONNECTIONS" \
  -d "${SOAK_SECONDS}s" --latency -H "Host: $NAME" -s "$BENCH_TMP/keep.lua" \
  "$SERVER_URL$AD_PATH" >"$BENCH_TMP/keep.out" 2>&1 &
KEEP_LOAD=$!
track "$KEEP_LOAD"
# shellcheck disable=SC2086
BENCH_REQUEST=$REQUEST $LOAD_CPU timeout -k 5 "$HARD_LIMIT" wrk -t1 -c "$NEW_CONNECTIONS" \
  -d "${SOAK_SECONDS}s" --latency -H "Host: $NAME" -H "Connection: close" \
  -s "$BENCH_TMP/new.lua" "$SERVER_URL$AD_PATH" >"$BENCH_TMP/new.out" 2>&1 &
NEW_LOAD=$!
track "$NEW_LOAD"

# Sample while all the load runs (or until the hard limit): seconds, RSS kB, open FDs.
SAMPLES=$BENCH_TMP/samples.tsv
: >"$SAMPLES"
begin=$(date +%s)
while :; do
  now=$(($(date +%s) - begin))
  kill -0 "$SERVER_PID" 2>/dev/null ||
    die "autodisco exited during the soak: $(cat "$BENCH_TMP/autodisco.err")"
  busy=1
  for p in $DNS_LOAD $KEEP_LOAD $NEW_LOAD; do
    kill -0 "$p" 2>/dev/null || busy=0
  done
  if [ "$busy" = 0 ] || [ "$now" -ge "$HARD_LIMIT" ]; then
    break
  fi
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
  fds=$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  printf '%s\t%s\t%s\n' "$now" "$rss" "$fds" >>"$SAMPLES"
  sleep "$SOAK_SAMPLE"
done
for p in $DNS_LOAD $KEEP_LOAD $NEW_LOAD; do
  wait "$p" 2>/dev/null || note "a load tool ended with an error (output below)"
done

dns=$($BENCH_REPORT dnsperf <"$BENCH_TMP/dnsperf.out") || die "dnsperf: $(tail -n 5 "$BENCH_TMP/dnsperf.out")"
keep=$($BENCH_REPORT wrk <"$BENCH_TMP/keep.out") || die "wrk: $(cat "$BENCH_TMP/keep.out")"
new=$($BENCH_REPORT wrk <"$BENCH_TMP/new.out") || die "wrk: $(cat "$BENCH_TMP/new.out")"
dns_lost=$(echo "$dns" | cut -f4)
dns_done=$(echo "$dns" | cut -f5)
# wrk: rps avg p99 requests non_2xx_3xx socket_errors
keep_errors=$(($(echo "$keep" | cut -f5) + $(echo "$keep" | cut -f6)))
new_errors=$(($(echo "$new" | cut -f5) + $(echo "$new" | cut -f6)))
errors=$((dns_lost + keep_errors + new_errors))
printf 'DNS: %s queries answered, %s lost, %s q/s\n' "$dns_done" "$dns_lost" "$(echo "$dns" | cut -f1)"
printf 'POST keep-alive: %s requests, %s errors, %s req/s, p99 %s ms\n' "$(echo "$keep" | cut -f4)" \
  "$keep_errors" "$(echo "$keep" | cut -f1)" "$(echo "$keep" | cut -f3)"
printf 'POST new connection: %s requests, %s errors, %s req/s, p99 %s ms\n' \
  "$(echo "$new" | cut -f4)" "$new_errors" "$(echo "$new" | cut -f1)" "$(echo "$new" | cut -f3)"
printf 'journal: %s MiB\n' "$(($(wc -c <"$JOURNAL") / 1048576))"

python3 - "$SAMPLES" "$SOAK_WARMUP" "$SOAK_FLAT_PCT" "$errors" <<'EOF'
import statistics, sys

path, warmup, limit, errors = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rows = [tuple(int(x) for x in line.split()) for line in open(path) if line.strip()]
after = [r for r in rows if r[0] >= warmup] or rows
ok = errors == 0
print(f"samples: {len(rows)} ({len(after)} after the {warmup} s warm-up)")
for name, col, unit in (("RSS", 1, "kB"), ("FDs", 2, "")):
    values = [r[col] for r in after]
    med = statistics.median(values)
    dev = max(abs(v - med) for v in values) * 100 / med if med else 0.0
    ok = ok and dev <= limit
    print(f"{name}: median {med:.0f}{unit}, min {min(values)}, max {max(values)}, "
          f"flatness {dev:.1f} % (max deviation from the median)")
print(f"errors: {errors}")
print("goal (0 errors, flat within %g %%): %s" % (limit, "met" if ok else "NOT met"))
sys.exit(0 if ok else 1)
EOF
