#!/bin/sh
# HTTPS benchmark: the `exchange` host of bench/bench.yaml served by `autodisco serve` (with and
# without --journal) and by nginx with the same leaf certificate and key (taken from autodisco's
# CA directory), the same TLS versions and key-exchange groups, and the same response bytes
# (the Autodiscover settings XML captured from autodisco, and its 404 page). wrk drives both
# over 127.0.0.0/8 in four cases, each against a freshly started server:
#   POST autodiscover, keep-alive   — the Outlook POST (MS-OXDSCLI 3.1.5.1) on 16 kept connections
#   POST autodiscover, new TLS conn — the same with `Connection: close`: a full handshake per
#                                     request (wrk never resumes sessions)
#   GET static 404, keep-alive / new TLS conn — a canned route, the cheapest answer
# autodisco parses the POSTed XML and builds its answer; nginx returns fixed bytes. That is the
# point of the comparison: what serving an Autodiscover host costs against a static server.
# Rows go to $BENCH_RESULTS (see bench/lib.sh); bench/run-all.sh prints the table.
#
# Settings: BENCH_SECONDS (default 10), BENCH_REPEAT (default 3), BENCH_CONNECTIONS (default 16).
set -eu
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need wrk nginx curl openssl python3 taskset
[ -x "$AD_BIN" ] || die "no autodisco binary at $AD_BIN (set AD_BIN or run bench/run-all.sh)"

SCENARIO=$BENCH_DIR/bench.yaml
NAME=autodiscover.contoso.com
AD_PATH=/autodiscover/autodiscover.xml
NOT_FOUND_PATH=/static-404
CONNECTIONS=${BENCH_CONNECTIONS:-16}

# The request and a wrk script that sends it.
REQUEST=$BENCH_DIR/request.xml # the POX request Outlook POSTs (MS-OXDSCLI 2.2.3)
POST_LUA=$BENCH_TMP/post.lua
cat >"$POST_LUA" <<'EOF'
-- Every request is the Autodiscover POST; the body is read once, before the run.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
local f = assert(io.open(os.getenv("BENCH_REQUEST"), "rb"))
wrk.body = f:read("*a")
f:close()
EOF

# --- the servers -------------------------------------------------------------------------

# Starts SERVER (autodisco, autodisco+journal or nginx); sets SERVER_PID and SERVER_URL.
start_server() {
  case $1 in
    autodisco | autodisco+journal)
      if [ "$1" = autodisco ]; then
        start_autodisco "$SCENARIO"
      else
        JOURNAL=$BENCH_TMP/journal.jsonl
        rm -f "$JOURNAL"
        start_autodisco "$SCENARIO" --journal "$JOURNAL"
      fi
      SERVER_PID=$AD_PID
      SERVER_URL=https://$(ready_get host exchange address):$(ready_get host exchange https)
      ;;
    nginx)
      # shellcheck disable=SC2086 # $SERVER_CPU is a prefix of words or empty
      $SERVER_CPU nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
        -g 'daemon off;' 2>"$NGINX_DIR/stderr" &
      SERVER_PID=$!
      track "$SERVER_PID"
      SERVER_URL=https://127.0.0.1:$NGINX_PORT
      n=0
      until curl -sk -o /dev/null "$SERVER_URL$NOT_FOUND_PATH"; do
        kill -0 "$SERVER_PID" 2>/dev/null || die "nginx exited: $(cat "$NGINX_DIR/stderr")"
        [ $n -lt 300 ] || die "nginx did not answer within 30 s"
        sleep 0.1
        n=$((n + 1))
      done
      ;;
  esac
}

# The response bytes of SERVER_URL, checked against the CA (so the chain is the lab's).
fetch() {
  path=$1
  file=$2
  shift 2
  host_port=${SERVER_URL#https://}
  port=${host_port##*:}
  curl -sS --cacert "$CA_PEM" --resolve "$NAME:$port:${host_port%:*}" -o "$file" \
    -w '%{http_code}' "$@" "https://$NAME:$port$path"
}

# "protocol cipher group" negotiated with SERVER_URL by an OpenSSL client like wrk's.
tls_params() {
  host_port=${SERVER_URL#https://}
  openssl s_client -connect "$host_port" -servername "$NAME" -brief </dev/null 2>&1 |
    sed -n 's/^Protocol version: //p; s/^Ciphersuite: //p; s/^Server Temp Key: //p' | paste -sd ' '
}

# nginx's configuration: one worker (autodisco is one libuv loop), the current user, everything
# under NGINX_DIR, TLS as autodisco sets it (TLS 1.2-1.3, X25519 then P-256), and `return` with
# the exact bytes autodisco sent. `return` also discards the request body unread.
write_nginx_config() {
  chain=$1
  NGINX_DIR=$BENCH_TMP/nginx
  NGINX_PORT=$(free_port)
  mkdir -p "$NGINX_DIR/tmp"
  for f in "$BENCH_TMP/body.xml" "$BENCH_TMP/body.404"; do
    ! grep -q "[\$'\\\\]" "$f" || die "$f has \$, ' or \\: cannot be an nginx string as is"
  done
  user=""
  [ "$(id -u)" -ne 0 ] || user="user $(id -un) $(id -gn);"
  # The bodies are copied with cat, not $(...), which would drop their final newline.
  {
    cat <<EOF
$user
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $chain;
    ssl_certificate_key $chain;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1;
    location = $AD_PATH {
      default_type "$(content_type "$BENCH_TMP/headers.xml")";
EOF
    printf "      return 200 '"
    cat "$BENCH_TMP/body.xml"
    printf "';\n    }\n    location / {\n"
    printf '      default_type "%s";\n' "$(content_type "$BENCH_TMP/headers.404")"
    printf "      return 404 '"
    cat "$BENCH_TMP/body.404"
    printf "';\n    }\n  }\n}\n"
  } >"$NGINX_DIR/nginx.conf"
}

# The Content-Type of a response whose headers curl saved (-D).
content_type() {
  sed -n 's/^[Cc]ontent-[Tt]ype: *//p' "$1" | tr -d '\r'
}

# --- the runs ----------------------------------------------------------------------------

# One wrk run: SERVER CASE PATH EXPECTED_STATUS [wrk options...]
run_wrk() {
  # Shell functions share variables: these names are used nowhere else.
  w_server=$1
  w_label=$2
  w_path=$3
  w_want=$4
  shift 4
  out=$BENCH_TMP/wrk.out
  w_load=$(load_now)
  t0=$(cpu_ticks "$SERVER_PID")
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # $LOAD_CPU is a prefix of words or empty
  BENCH_REQUEST=$REQUEST $LOAD_CPU wrk -t1 -c "$CONNECTIONS" -d "${BENCH_SECONDS}s" --latency \
    -H "Host: $NAME" "$@" "$SERVER_URL$w_path" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
  # rps avg_ms p99_ms requests non_2xx_3xx socket_errors, tab-separated
  stats=$($BENCH_REPORT wrk <"$out")
  rps=$(echo "$stats" | cut -f1)
  avg=$(echo "$stats" | cut -f2)
  p99=$(echo "$stats" | cut -f3)
  requests=$(echo "$stats" | cut -f4)
  non2xx=$(echo "$stats" | cut -f5)
  cost=$(cpu_cost "$t0" "$(cpu_ticks "$SERVER_PID")" "$requests" "$(since "$start")")
  rss=$(peak_rss_kb "$SERVER_PID")
  # wrk counts as errors every status outside 2xx/3xx: the 404 case expects all of them.
  if [ "$w_want" = 404 ]; then bad=$((requests - non2xx)); else bad=$non2xx; fi
  note="$requests requests, $bad not $w_want, $(echo "$stats" | cut -f6) socket errors"
  note="$note, load $w_load"
  if [ "$w_server" = nginx ]; then
    worker=$(pgrep -P "$SERVER_PID" | head -n 1)
    note="$note; worker alone $(($(peak_rss_kb "$worker") / 1024)) MiB"
  fi
  if [ "$w_server" = autodisco+journal ]; then
    note="$note; journal $(($(wc -c <"$JOURNAL") / 1048576)) MiB"
  fi
  record https "$w_label" "$w_server" "$rps" "$avg" "$p99" "$rss" "$(echo "$cost" | cut -f1)" \
    "$(echo "$cost" | cut -f2)" "$note"
  note "https $w_label $w_server: $rps req/s, avg $avg ms, p99 $p99 ms, peak RSS $rss kB ($note)"
}

run_case() {
  case $2 in
    post-keepalive)
      run_wrk "$1" "POST autodiscover, keep-alive" "$AD_PATH" 200 -s "$POST_LUA" ;;
    post-close)
      run_wrk "$1" "POST autodiscover, new TLS conn" "$AD_PATH" 200 -s "$POST_LUA" \
        -H "Connection: close" ;;
    404-keepalive)
      run_wrk "$1" "GET static 404, keep-alive" "$NOT_FOUND_PATH" 404 ;;
    404-close)
      run_wrk "$1" "GET static 404, new TLS conn" "$NOT_FOUND_PATH" 404 -H "Connection: close" ;;
  esac
}

# Capture autodisco's answers and certificate, configure nginx with them, and check that both
# send the same bytes over the same TLS parameters before measuring anything.
start_server autodisco
CA_PEM=$(ready_get ca)
[ "$(fetch "$AD_PATH" "$BENCH_TMP/body.xml" -D "$BENCH_TMP/headers.xml" -X POST \
  -H "Content-Type: text/xml" --data-binary "@$REQUEST")" = 200 ] ||
  die "autodisco did not answer the Autodiscover POST with 200"
[ "$(fetch "$NOT_FOUND_PATH" "$BENCH_TMP/body.404" -D "$BENCH_TMP/headers.404")" = 404 ] ||
  die "autodisco did not answer $NOT_FOUND_PATH with 404"
AD_TLS=$(tls_params)
CHAIN=""
for f in "$BENCH_TMP"/ca/chains/*.pem; do
  if openssl x509 -in "$f" -noout -subject | grep -q "CN *= *$NAME\$"; then CHAIN=$f; fi
done
[ -n "$CHAIN" ] || die "no chain for $NAME in $BENCH_TMP/ca/chains"
stop_pid "$AD_PID"

write_nginx_config "$CHAIN"
start_server nginx
[ "$(fetch "$AD_PATH" "$BENCH_TMP/nginx.xml" -X POST -H "Content-Type: text/xml" \
  --data-binary "@$REQUEST")" = 200 ] || die "nginx did not answer the POST with 200"
[ "$(fetch "$NOT_FOUND_PATH" "$BENCH_TMP/nginx.404")" = 404 ] || die "nginx did not 404"
cmp -s "$BENCH_TMP/body.xml" "$BENCH_TMP/nginx.xml" || die "nginx's XML differs from autodisco's"
cmp -s "$BENCH_TMP/body.404" "$BENCH_TMP/nginx.404" || die "nginx's 404 differs from autodisco's"
NGINX_TLS=$(tls_params)
[ "$AD_TLS" = "$NGINX_TLS" ] || die "TLS differs: autodisco $AD_TLS, nginx $NGINX_TLS"
stop_pid "$SERVER_PID"
note "https: same bytes, same TLS ($AD_TLS); $BENCH_SECONDS s per run, $CONNECTIONS connections," \
  "pinning=$BENCH_PIN"

# Each case runs BENCH_REPEAT times per server, the servers taking turns, so that a burst of
# other work on the machine does not land on one server only.
for kase in post-keepalive post-close 404-keepalive 404-close; do
  for _ in $(seq "$BENCH_REPEAT"); do
    for server in autodisco autodisco+journal nginx; do
      start_server "$server"
      run_case "$server" "$kase"
      stop_pid "$SERVER_PID"
    done
  done
done

# The floor: the server's side of a TLS 1.3 handshake, and of a kept-alive request, in the
# BoringSSL autodisco links, in memory with no sockets (bench/tls_floor.c, on the same certificate
# and CPU), recorded beside the cases so that the table shows them as a ratio of nginx's whole
# cost; and the handshake's public-key operations in OpenSSL, nginx's library, from `openssl
# speed`.
TLS_FLOOR=${TLS_FLOOR:-$(dirname "$AD_BIN")/bench/tls-floor}
if [ -x "$TLS_FLOOR" ]; then
  # shellcheck disable=SC2086 # $SERVER_CPU is a prefix of words or empty
  $SERVER_CPU "$TLS_FLOOR" "$CHAIN" 4000 >"$BENCH_TMP/floor" || die "tls-floor failed"
  floor() { sed -n "s/^$1 //p" "$BENCH_TMP/floor"; }
  # shellcheck disable=SC2086
  $SERVER_CPU openssl speed -seconds 2 ecdsap256 ecdhx25519 >"$BENCH_TMP/speed" 2>/dev/null ||
    die "openssl speed failed"
  ossl_sign=$(awk '/ecdsa \(nistp256\)/ { printf "%.1f", 1e6 / $(NF - 1) }' "$BENCH_TMP/speed")
  ossl_x25519=$(awk '/ecdh \(X25519\)/ { printf "%.1f", 1e6 / $NF }' "$BENCH_TMP/speed")
  if [ -z "$ossl_sign" ] || [ -z "$ossl_x25519" ]; then die "unreadable openssl speed output"; fi
  why="server side of a TLS 1.3 handshake in memory, no sockets: X25519 keypair $(floor \
x25519_keypair) + shared $(floor x25519_shared) + $(floor key_type) sign $(floor sign) µs; \
$(openssl version | cut -d ' ' -f1-2) (nginx's) on this CPU: X25519 $ossl_x25519, sign $ossl_sign µs"
  for kase in "POST autodiscover, new TLS conn" "GET static 404, new TLS conn"; do
    record https "$kase" "BoringSSL handshake alone" - - - - - "$(floor handshake_server)" "$why"
  done
  record https "GET static 404, keep-alive" "BoringSSL records alone" - - - - - \
    "$(floor request_server)" "server side of a kept-alive request in memory, no sockets: \
SSL_read of a 64-byte request, SSL_write of a 320-byte answer"
else
  note "https: no $TLS_FLOOR (cmake --build ... --target tls-floor): the handshake floor is not measured"
fi
