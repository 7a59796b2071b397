#!/bin/sh
# DNS benchmark: the contoso.com zone of bench/bench.yaml served by `autodisco serve` (with and
# without --journal) and by knotd from a zone file with the same records, both driven by dnsperf
# over UDP on 127.0.0.1 with the same query mix:
#   A contoso.com, A autodiscover.contoso.com, SRV _autodiscover._tcp.contoso.com,
#   A of a name that does not exist (NXDOMAIN), AAAA contoso.com (NODATA).
# Two cases per server, each against a freshly started server:
#   max rate  — dnsperf as fast as the server answers (4 sockets, 100 queries in flight):
#               queries/s and average latency;
#   fixed rate — BENCH_DNS_QPS queries/s, every answer's latency logged (dnsperf -v): p50, p99.
# Rows go to $BENCH_RESULTS (see bench/lib.sh); bench/run-all.sh prints the table.
#
# Settings: BENCH_SECONDS (default 10), BENCH_REPEAT (default 3), BENCH_DNS_QPS (default 20000),
# KNOT_UDP_WORKERS (default 1: autodisco answers from one libuv loop, so knotd gets one UDP
# worker too).
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need dnsperf knotd kdig python3 taskset
[ -x "$AD_BIN" ] || die "no autodisco binary at $AD_BIN (set AD_BIN or run bench/run-all.sh)"

SCENARIO=$BENCH_DIR/bench.yaml
DNS_QPS=${BENCH_DNS_QPS:-20000}
KNOT_UDP_WORKERS=${KNOT_UDP_WORKERS:-1}
QUERIES=$BENCH_DIR/queries.txt # the dnsperf query list

# --- the servers -------------------------------------------------------------------------

# Writes knotd's configuration and the zone file. The addresses come from autodisco's ready
# line, so both servers hold the same records; SOA and NS are autodisco's synthesised ones
# (checked below by comparing every answer of the mix).
write_knot_config() {
  www=$1
  exchange=$2
  KNOT_DIR=$BENCH_TMP/knot
  KNOT_PORT=$(free_port)
  mkdir -p "$KNOT_DIR/run" "$KNOT_DIR/db" "$KNOT_DIR/zones"
  cat >"$KNOT_DIR/zones/contoso.com.zone" <<EOF
\$ORIGIN contoso.com.
@                  60  IN SOA   ns.lab.invalid. hostmaster.contoso.com. 1 3600 600 86400 60
@                  300 IN NS    ns.lab.invalid.
@                  300 IN A     $www
www                300 IN CNAME contoso.com.
autodiscover       300 IN A     $exchange
_autodiscover._tcp 300 IN SRV   0 5 443 mail.hoster.net.
EOF
  # No `user:`: knotd keeps the current user. Everything it writes stays under KNOT_DIR.
  cat >"$KNOT_DIR/knot.conf" <<EOF
server:
    rundir: "$KNOT_DIR/run"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: $KNOT_UDP_WORKERS
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$KNOT_DIR/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$KNOT_DIR/zones"
    file: "%s.zone"
zone:
  - domain: contoso.com
EOF
}

# Starts knotd pinned to the server CPU and waits until it answers. Sets KNOT_PID.
start_knotd() {
  # shellcheck disable=SC2086 # $SERVER_CPU is a prefix of words or empty
  $SERVER_CPU knotd -c "$KNOT_DIR/knot.conf" 2>"$KNOT_DIR/knotd.err" &
  KNOT_PID=$!
  track "$KNOT_PID"
  n=0
  until kdig @127.0.0.1 -p "$KNOT_PORT" +timeout=1 +retry=0 contoso.com SOA 2>/dev/null |
    grep -q 'status: NOERROR'; do
    kill -0 "$KNOT_PID" 2>/dev/null || die "knotd exited: $(cat "$KNOT_DIR/knotd.err")"
    [ $n -lt 300 ] || die "knotd did not answer within 30 s"
    sleep 0.1
    n=$((n + 1))
  done
}

# Starts SERVER (autodisco, autodisco+journal or knotd); sets SERVER_PID and SERVER_PORT.
start_server() {
  case $1 in
    autodisco)
      start_autodisco "$SCENARIO"
      SERVER_PID=$AD_PID
      SERVER_PORT=$(ready_get dns | sed 's/.*://')
      ;;
    autodisco+journal)
      JOURNAL=$BENCH_TMP/journal.jsonl
      rm -f "$JOURNAL"
      start_autodisco "$SCENARIO" --journal "$JOURNAL"
      SERVER_PID=$AD_PID
      SERVER_PORT=$(ready_get dns | sed 's/.*://')
      ;;
    knotd)
      start_knotd
      SERVER_PID=$KNOT_PID
      SERVER_PORT=$KNOT_PORT
      ;;
  esac
}

# What the journal cost on disk, for the note column.
journal_note() {
  if [ "$1" = autodisco+journal ]; then
    echo "journal $(($(wc -c <"$JOURNAL") / 1048576)) MiB, $(wc -l <"$JOURNAL") lines"
  else
    echo ""
  fi
}

# Every query of the mix (and the CNAME) must get the same answer from both servers, or the
# comparison is not the same work. Query ids differ; everything else must match.
answers() {
  while read -r name type; do
    kdig @127.0.0.1 -p "$1" +timeout=2 +retry=0 +noall +header +answer +authority \
      "$name" "$type" | sed 's/id: [0-9]*//'
  done <"$QUERIES"
  kdig @127.0.0.1 -p "$1" +timeout=2 +noall +header +answer www.contoso.com A |
    sed 's/id: [0-9]*//'
}

# --- the runs ----------------------------------------------------------------------------

# Queries dnsperf completed, from its output file $out.
completed() {
  $BENCH_REPORT dnsperf <"$out" | cut -f5
}

# dnsperf as fast as the server goes; bounded by BENCH_SECONDS and by 5 million queries.
case_max_rate() {
  out=$BENCH_TMP/dnsperf.out
  LOAD=$(load_now)
  t0=$(cpu_ticks "$SERVER_PID")
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # $LOAD_CPU is a prefix of words or empty
  $LOAD_CPU dnsperf -s 127.0.0.1 -p "$SERVER_PORT" -d "$QUERIES" -l "$BENCH_SECONDS" \
    -n 1000000 -c 4 -q 100 -T 1 >"$out" 2>&1 || die "dnsperf failed: $(tail -n 5 "$out")"
  cost=$(cpu_cost "$t0" "$(cpu_ticks "$SERVER_PID")" "$(completed)" "$(since "$start")")
  stats=$($BENCH_REPORT dnsperf <"$out")
  qps=$(echo "$stats" | cut -f1)
  avg=$(echo "$stats" | cut -f2)
  lost=$(echo "$stats" | cut -f4)
  rss=$(peak_rss_kb "$SERVER_PID")
  note="response $(echo "$stats" | cut -f3) B, lost $lost, load $LOAD"
  jn=$(journal_note "$1")
  [ -z "$jn" ] || note="$note; $jn"
  record dns "udp mix, max rate" "$1" "$qps" "$avg" "-" "$rss" "$(echo "$cost" | cut -f1)" \
    "$(echo "$cost" | cut -f2)" "$note"
  note "dns max rate  $1: $qps q/s, avg $avg ms, peak RSS $rss kB ($note)"
}

# dnsperf at DNS_QPS, every latency logged: the p99 the max-rate run cannot give.
case_fixed_rate() {
  out=$BENCH_TMP/dnsperf-v.out
  LOAD=$(load_now)
  t0=$(cpu_ticks "$SERVER_PID")
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # $LOAD_CPU is a prefix of words or empty
  $LOAD_CPU dnsperf -s 127.0.0.1 -p "$SERVER_PORT" -d "$QUERIES" -l "$BENCH_SECONDS" \
    -n 1000000 -c 4 -q 100 -T 1 -Q "$DNS_QPS" -v >"$out" 2>&1 ||
    die "dnsperf failed: $(tail -n 5 "$out")"
  cost=$(cpu_cost "$t0" "$(cpu_ticks "$SERVER_PID")" "$(completed)" "$(since "$start")")
  stats=$($BENCH_REPORT dnsperf <"$out")
  lat=$($BENCH_REPORT dnsperf-latency <"$out")
  qps=$(echo "$stats" | cut -f1)
  avg=$(echo "$stats" | cut -f2)
  p50=$(echo "$lat" | cut -f2)
  p99=$(echo "$lat" | cut -f3)
  rss=$(peak_rss_kb "$SERVER_PID")
  note="p50 $p50 ms, lost $(echo "$stats" | cut -f4), load $LOAD"
  jn=$(journal_note "$1")
  [ -z "$jn" ] || note="$note; $jn"
  record dns "udp mix, $DNS_QPS q/s" "$1" "$qps" "$avg" "$p99" "$rss" "$(echo "$cost" | cut -f1)" \
    "$(echo "$cost" | cut -f2)" "$note"
  note "dns fixed rate $1: $qps q/s, avg $avg ms, p50 $p50 ms, p99 $p99 ms, peak RSS $rss kB"
}

# Check that both servers give the same answers, then run each case on fresh servers.
start_autodisco "$SCENARIO"
write_knot_config "$(ready_get host www address)" "$(ready_get host exchange address)"
start_knotd
answers "$(ready_get dns | sed 's/.*://')" >"$BENCH_TMP/answers.autodisco"
answers "$KNOT_PORT" >"$BENCH_TMP/answers.knotd"
if ! cmp -s "$BENCH_TMP/answers.autodisco" "$BENCH_TMP/answers.knotd"; then
  diff "$BENCH_TMP/answers.autodisco" "$BENCH_TMP/answers.knotd" >&2 || true
  die "autodisco and knotd answer the query mix differently; fix the knot zone first"
fi
stop_pid "$AD_PID"
stop_pid "$KNOT_PID"
note "dns: both servers give the same answers; $BENCH_SECONDS s per run, pinning=$BENCH_PIN"

# Each case runs BENCH_REPEAT times per server, the servers taking turns, so that a burst of
# other work on the machine does not land on one server only.
for kase in case_max_rate case_fixed_rate; do
  for _ in $(seq "$BENCH_REPEAT"); do
    for server in autodisco autodisco+journal knotd; do
      start_server "$server"
      "$kase" "$server"
      stop_pid "$SERVER_PID"
    done
  done
done
