#!/bin/sh
# Memory per idle connection, and after a flood: the `exchange` host of bench/bench.yaml served
# by `autodisco serve` and by nginx with the same leaf certificate and key (as bench/https.sh
# sets it up). For each server, freshly started:
#   1. one connection of each kind opened and closed (lazy set-up is not counted), RSS read;
#   2. BENCH_CONNS idle plain HTTP connections opened and held (bench/conns.py), RSS read;
#      closed; then BENCH_CONNS idle TLS connections (handshake complete, nothing sent), RSS
#      read; closed. KB per connection = growth / BENCH_CONNS;
#   3. a flood: BENCH_FLOOD TLS connections opened together, then all closed; RSS read
#      BENCH_SETTLE seconds later, relative to the RSS of step 1.
# RSS is VmRSS of /proc/PID/status: autodisco's one process; nginx's worker alone (the master
# holds no connection). Memory numbers do not depend on the machine's load, so one run is
# enough. Prints a markdown table on stdout, progress on stderr.
#
# Settings: BENCH_CONNS (1000), BENCH_FLOOD (5000), BENCH_SETTLE (seconds, 5), AD_BIN.
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need nginx openssl python3
[ -x "$AD_BIN" ] || die "no autodisco binary at $AD_BIN (set AD_BIN or run bench/run-all.sh)"

CONNS=${BENCH_CONNS:-1000}
FLOOD=${BENCH_FLOOD:-5000}
SETTLE=${BENCH_SETTLE:-5}
NAME=autodiscover.contoso.com
CONNS_PY="python3 $BENCH_DIR/conns.py"
MAX=$((FLOOD + CONNS + 64))

# Every connection comes from 127.0.0.1 and many are open at once: the servers need the file
# descriptors, and autodisco's caps (512 in all, 64 per client by default) must be raised.
# shellcheck disable=SC3045 # ulimit -n and -H: dash, bash and busybox sh all have them
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck disable=SC3045
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt "$MAX" ] ||
  die "$MAX file descriptors needed, the limit is $(ulimit -n)"

# bench.yaml with a plain HTTP listener on the exchange host as well.
SCENARIO=$BENCH_TMP/memory.yaml
{
  echo "name: bench-memory"
  echo "description: bench/bench.yaml with a plain HTTP listener on the exchange host."
  echo "extends: $BENCH_DIR/bench.yaml"
  echo "hosts:"
  echo "  exchange:"
  echo "    http:"
  echo "      routes:"
  echo "        - { path: /static-404, status: 404 }"
} >"$SCENARIO"

rss_kb() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# hold HOST PORT N [--tls NAME]: opens N connections and keeps them open until `release`.
hold() {
  fifo=$BENCH_TMP/hold.fifo
  rm -f "$fifo" "$BENCH_TMP/hold.out"
  mkfifo "$fifo"
  $CONNS_PY "$@" <"$fifo" >"$BENCH_TMP/hold.out" 2>"$BENCH_TMP/hold.err" &
  HOLD_PID=$!
  track "$HOLD_PID"
  exec 3>"$fifo"
  until grep -qs '^open ' "$BENCH_TMP/hold.out"; do
    kill -0 "$HOLD_PID" 2>/dev/null || die "conns.py: $(cat "$BENCH_TMP/hold.err")"
    sleep 0.2
  done
  sleep 1 # the server reads the last handshake's Finished after the client returns
}

release() {
  exec 3>&-
  wait "$HOLD_PID" || die "conns.py: $(cat "$BENCH_TMP/hold.err")"
  stop_pid "$HOLD_PID"
}

# A server's numbers: SERVER PID HOST PLAIN_PORT TLS_PORT; prints one table row.
measure() {
  m_server=$1
  m_pid=$2
  m_host=$3
  m_plain=$4
  m_tls=$5
  hold "$m_host" "$m_plain" 1
  release
  hold "$m_host" "$m_tls" 1 --tls "$NAME"
  release
  sleep 1
  base=$(rss_kb "$m_pid")
  hold "$m_host" "$m_plain" "$CONNS"
  plain=$(rss_kb "$m_pid")
  release
  sleep 1
  before_tls=$(rss_kb "$m_pid")
  hold "$m_host" "$m_tls" "$CONNS" --tls "$NAME"
  tls=$(rss_kb "$m_pid")
  release
  note "$m_server: RSS $base kB at start, $plain kB with $CONNS plain, $tls kB with $CONNS TLS"
  hold "$m_host" "$m_tls" "$FLOOD" --tls "$NAME"
  peak=$(rss_kb "$m_pid")
  release
  sleep "$SETTLE"
  after=$(rss_kb "$m_pid")
  note "$m_server: flood of $FLOOD TLS: $peak kB open, $after kB ${SETTLE}s after closing"
  awk -v s="$m_server" -v n="$CONNS" -v f="$FLOOD" -v b="$base" -v p="$plain" -v bt="$before_tls" \
    -v t="$tls" -v pk="$peak" -v a="$after" 'BEGIN {
    printf "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %+.0f %% |\n", s, b / 1024,
      (p - b) / n, (t - bt) / n, pk / 1024, (pk - b) / f, a / 1024, 100 * (a - b) / b
  }'
}

# --- autodisco ---------------------------------------------------------------------------
start_autodisco "$SCENARIO" --max-conns "$MAX" --max-conns-per-client "$MAX"
AD_HOST=$(ready_get host exchange address)
AD_PLAIN=$(ready_get host exchange http)
AD_TLS=$(ready_get host exchange https)
CHAIN=""
for f in "$BENCH_TMP"/ca/chains/*.pem; do
  if openssl x509 -in "$f" -noout -subject | grep -q "CN *= *$NAME\$"; then CHAIN=$f; fi
done
[ -n "$CHAIN" ] || die "no chain for $NAME in $BENCH_TMP/ca/chains"
ROW_AD=$(measure autodisco "$AD_PID" "$AD_HOST" "$AD_PLAIN" "$AD_TLS")
stop_pid "$AD_PID"

# --- nginx: one worker, the same leaf, TLS as autodisco sets it (bench/https.sh) -----------
NGINX_DIR=$BENCH_TMP/nginx
NGINX_PLAIN=$(free_port)
NGINX_TLS=$(free_port)
mkdir -p "$NGINX_DIR/tmp"
user=""
[ "$(id -u)" -ne 0 ] || user="user $(id -un) $(id -gn);"
{
  echo "$user"
  echo "worker_processes 1;"
  echo "worker_rlimit_nofile $((MAX + 64));"
  echo "pid $NGINX_DIR/nginx.pid;"
  echo "error_log $NGINX_DIR/error.log warn;"
  echo "events { worker_connections $((MAX + 64)); }"
  echo "http {"
  echo "  access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do
    echo "  ${t}_temp_path $NGINX_DIR/tmp/$t;"
  done
  echo "  server {"
  echo "    listen 127.0.0.1:$NGINX_PLAIN;"
  echo "    listen 127.0.0.1:$NGINX_TLS ssl;"
  echo "    ssl_certificate $CHAIN;"
  echo "    ssl_certificate_key $CHAIN;"
  echo "    ssl_protocols TLSv1.2 TLSv1.3;"
  echo "    ssl_ecdh_curve X25519:prime256v1;"
  echo "    location / { return 404; }"
  echo "  }"
  echo "}"
} >"$NGINX_DIR/nginx.conf"
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" -g 'daemon off;' \
  2>"$NGINX_DIR/stderr" &
NGINX_PID=$!
track "$NGINX_PID"
n=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $NGINX_TLS), 1)" \
  2>/dev/null; do
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$NGINX_DIR/stderr")"
  [ $n -lt 300 ] || die "nginx did not listen within 30 s"
  sleep 0.1
  n=$((n + 1))
done
WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
[ -n "$WORKER" ] || die "no nginx worker"
ROW_NGINX=$(measure "nginx (worker)" "$WORKER" 127.0.0.1 "$NGINX_PLAIN" "$NGINX_TLS")
stop_pid "$NGINX_PID"

echo "| server | RSS at start MiB | KB per idle plain conn | KB per idle TLS conn |" \
  "RSS with $FLOOD TLS open MiB | KB per conn in the flood |" \
  "RSS ${SETTLE} s after the flood MiB | after / start |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
echo "$ROW_AD"
echo "$ROW_NGINX"
