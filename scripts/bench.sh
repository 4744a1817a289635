#!/usr/bin/env bash
# Benchmarks the service on loopback and appends the results to docs/benchmarks.md.
# For each mode (embedded; production with the private Redis and PostgreSQL of scripts/services.sh;
# mysql: production with the same Redis and the private MariaDB) it starts a Release server process and
# measures, in one run:
#   ceiling     wrk on GET /health/live of the same process (the bare HTTP stack)
#   sell-out    the load tool's stampede: BENCH_SELLOUT coupons (100,000), as many fresh users
#   winners     wrk on the sold-out campaign with the tokens of 20,000 of its winners, rotated (clicking again)
#   after       wrk on the issue endpoint of the sold-out campaign, rotating pre-minted tokens of people who never won
#   connect     the same answers through the Connect protocol (JSON, HTTP/1.1; wrk, rotating tokens)
#   grpc        the same answers through gRPC (h2load, 8 connections x 8 streams, one late user's token)
#   sell-out RS256  the load tool's sell-out with an identity provider's RS256 tokens (each fresh user's verified once)
#   wrk sell-out    a sell-out driven by wrk: fresh users, each wrk thread on its own part of the token list,
#               time to sold out read from the campaign's committed counter
#   half-max    the load tool's constant rate at half of "after" (latency from intended send times)
# and, in production mode, the same service as three processes behind nginx (scripts/nginx-lb.sh):
#   nginx x3 ceiling, sell-out and after, compared with the one process reached directly above
#   events      production: the sell-out again with its events published to the private RabbitMQ (a queue bound and
#               consumed by the load tool through the run),
#               against the sell-out without a transport; how soon after the run nothing is pending
# with the CPU time of the server process(es), Redis and the SQL store (and nginx) per phase
# (/proc/<pid>/stat), per request, and Redis's memory per holder after the sell-out.
#
# Usage: scripts/bench.sh [embedded|production|mysql|all|events]   (default all: the three modes in one run;
#        events: production's ceiling and sell-out, then the events phase only, for work on the relay)
# Honours COUPONLIVE_REDIS_PORT / COUPONLIVE_POSTGRES_PORT / COUPONLIVE_MYSQL_PORT like scripts/services.sh, and
# BENCH_SECONDS (10), BENCH_SELLOUT (100000), BENCH_CONNECTIONS (64, wrk and half-max),
# BENCH_SELLOUT_CONNECTIONS (256, the stampede), BENCH_NO_APPEND=1 (print only), and BENCH_PERF=1: record
# `perf record -g` of the server during the sell-out and after-sell-out phases into artifacts/bench/<time>/
# (JIT frames named; the profiler's cost skews that run's numbers, so nothing is appended).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODES=${1:-all}
PERF=${BENCH_PERF:-}
[ -z "$PERF" ] || BENCH_NO_APPEND=1
SECONDS_PER_PHASE=${BENCH_SECONDS:-10}
SELLOUT=${BENCH_SELLOUT:-100000}
CONNS=${BENCH_CONNECTIONS:-64}
SELLOUT_CONNS=${BENCH_SELLOUT_CONNECTIONS:-256}  # a crowd: more concurrent clicks than wrk connections
TOKENS_N=20000
REDIS_PORT="${COUPONLIVE_REDIS_PORT:-6391}"
PG_PORT="${COUPONLIVE_POSTGRES_PORT:-5433}"
MYSQL_PORT="${COUPONLIVE_MYSQL_PORT:-3307}"
PG_BENCH="Host=127.0.0.1;Port=$PG_PORT;Username=couponlive;Password=couponlive-dev;Database=couponlive_bench"
MYSQL_BENCH="Server=127.0.0.1;Port=$MYSQL_PORT;User ID=couponlive;Password=couponlive-dev;Database=couponlive_bench"
STAMP=$(date -u +%Y%m%d-%H%M%S)
OUT="$ROOT/artifacts/bench/$STAMP"
HZ=$(getconf CLK_TCK)
mkdir -p "$OUT"

log() { echo "bench: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ tools and build

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y "${missing[@]}" >/dev/null
fi
command -v jq >/dev/null || die "jq is needed to read the load tool's report (apt-get install jq)"

log "building Release"
dotnet build -c Release -v q -nologo src/CouponLive.LoadTest >/dev/null
SERVER_DIR="$ROOT/src/CouponLive.Server/bin/Release/net10.0"
LOADTOOL=(dotnet "$ROOT/src/CouponLive.LoadTest/bin/Release/net10.0/CouponLive.LoadTest.dll")

# Fresh random keys per run, so the server can run in the Production environment (which refuses
# the DEVELOPMENT-ONLY keys). They live only in this process's environment.
SIGNING_KEY=$(head -c 48 /dev/urandom | base64 -w0)
CODE_KEY=$(head -c 32 /dev/urandom | base64 -w0)
ADMIN_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 -w0 | tr -d '/+=')"
export COUPONLIVE_SIGNING_KEY="$SIGNING_KEY" COUPONLIVE_ADMIN_PASSWORD="$ADMIN_PASSWORD"

"${LOADTOOL[@]}" tokens --users "$TOKENS_N" --user-prefix late --out "$OUT/tokens.txt" >/dev/null
# The load tool's sell-out crowd is winner-0.. (every one of them wins: as many users as coupons); the
# winners phase rotates the tokens of the first 20,000 of them (fewer in a smaller sell-out).
"${LOADTOOL[@]}" tokens --users $((SELLOUT < TOKENS_N ? SELLOUT : TOKENS_N)) --user-prefix winner --out "$OUT/winners.txt" >/dev/null
# The wrk sell-out's fresh crowd: a fifth more users than coupons, so no wrk thread runs out before the sell-out.
[ "$MODES" = events ] || "${LOADTOOL[@]}" tokens --users $((SELLOUT * 6 / 5)) --user-prefix crowd --out "$OUT/crowd.txt" >/dev/null

# An identity provider's RS256 tokens for the RS256 sell-out: a fresh RSA key, the server trusts its public half
# (Auth:Issuers:0:PublicKeyPem), the load tool signs one token per fresh user with the private half.
RS256_ISSUER=https://idp.bench.example
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/rs256-key.pem" 2>/dev/null
openssl pkey -in "$OUT/rs256-key.pem" -pubout -out "$OUT/rs256-public.pem" 2>/dev/null
[ "$MODES" = events ] || log "minting $SELLOUT RS256 tokens"
[ "$MODES" = events ] || "${LOADTOOL[@]}" tokens --users "$SELLOUT" --user-prefix rs --rs256-key "$OUT/rs256-key.pem" --issuer "$RS256_ISSUER" --out "$OUT/rs256-tokens.txt" >/dev/null

# ------------------------------------------------------------------ helpers

cpu_ticks() { # utime+stime of a pid (fields 14, 15; strip "pid (comm) " first)
  if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; else echo 0; fi
}
tree_ticks() { # a process and its children (PostgreSQL's postmaster and backends, nginx's master and workers)
  local total=0 p
  [ -n "${1:-}" ] || { echo 0; return; }
  for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(cpu_ticks "$p"))); done
  echo "$total"
}
servers_ticks() { local total=0 p; for p in $SERVER_PID ${EXTRA_PIDS:-}; do total=$((total + $(cpu_ticks "$p"))); done; echo "$total"; }
# columns: 1 server(s), 2 redis, 3 the SQL store (PostgreSQL or MariaDB), 4 nginx
snapshot() { echo "$(servers_ticks) $(cpu_ticks "${REDIS_PID:-}") $(tree_ticks "${SQL_PID:-}") $(tree_ticks "${NGINX_PID:-}")"; }
# µs of CPU per request between two snapshots, for column $3 (1 server, 2 redis, 3 SQL store)
us_per_req() { awk -v a="$1" -v b="$2" -v k="$3" -v n="$4" -v hz="$HZ" 'BEGIN {
  split(a, x, " "); split(b, y, " "); if (n <= 0) { print "-"; exit }
  printf "%.1f", (y[k] - x[k]) / hz * 1e6 / n }'; }

wrk_run() { # url [lua] [tokens file]; prints "requests req_per_s p50_ms p99_ms non2xx"
  local url=$1 script=${2:-} tokens=${3:-$OUT/tokens.txt} out
  out=$(TOKENS="$tokens" BODY="${BODY:-}" wrk -t2 -c"$CONNS" -d"${SECONDS_PER_PHASE}s" --timeout 10s --latency ${script:+-s "$script"} "$url")
  echo "$out" >>"$OUT/wrk.log"
  wrk_numbers <<<"$out"
}
wrk_numbers() { # wrk's output on stdin
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    / requests in / { n = $1 }
    /Requests\/sec:/ { r = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%d %.0f %.2f %.2f %d\n", n, r, p50, p99, bad }'
}

gc_stats() { # url: the server's GC pause seconds and gen0/1/2 collections so far (System.Runtime metrics)
  curl -sf "$1/metrics" | awk '
    /^dotnet_gc_pause_time_seconds_total/ { p = $NF }
    /^dotnet_gc_collections_total.*gen0/ { g0 = $NF } /^dotnet_gc_collections_total.*gen1/ { g1 = $NF } /^dotnet_gc_collections_total.*gen2/ { g2 = $NF }
    END { printf "%s %d %d %d\n", (p == "" ? 0 : p), g0, g1, g2 }'
}
gc_delta() { # two gc_stats lines: "GC paused N ms (gen0 a, gen1 b, gen2 c)"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "GC paused %.0f ms (gen0 %d, gen1 %d, gen2 %d)", (y[1] - x[1]) * 1000, y[2] - x[2], y[3] - x[3], y[4] - x[4] }'
}

SERVER_PID=""
EXTRA_PIDS=""
NGINX_PID=""
stop_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}
stop_server() {
  local pid
  [ -z "$NGINX_PID" ] || scripts/nginx-lb.sh down "$OUT/nginx" >/dev/null 2>&1 || true
  for pid in $SERVER_PID $EXTRA_PIDS; do stop_pid "$pid"; done
  SERVER_PID=""; EXTRA_PIDS=""; NGINX_PID=""
}
trap stop_server EXIT

wait_ready() { # port pid log
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 30 "$3" >&2
  die "the server did not become ready on port $1"
}

start_server() { # mode port [log name] [grpc port]: the server process; the first one's pid is SERVER_PID, others go to EXTRA_PIDS
  local mode=$1 port=$2 name=${3:-$1} grpc=${4:-} data="$OUT/$1-data-$2"
  mkdir -p "$data"
  local env=(ASPNETCORE_ENVIRONMENT=Production "Storage__DataDirectory=$data" "Auth__SigningKey=$SIGNING_KEY"
             "Codes__Key=$CODE_KEY" "Admin__Password=$ADMIN_PASSWORD" Logging__LogLevel__Default=Warning
             "Logging__LogLevel__Microsoft.Hosting.Lifetime=Warning" "Rpc__GrpcUrl=${grpc:+http://127.0.0.1:$grpc}")
  # The per-user issue limit stays on (its cost is part of every phase) but so wide it never refuses:
  # the gRPC phase repeats one user's token.
  env+=(RateLimits__IssuePerUserBurst=1000000 RateLimits__IssuePerUserPerSecond=1000000)
  # No load balancer waits on a stop between phases.
  env+=(Shutdown__DrainDelay=00:00:00)
  # A trusted identity provider is configured in every phase (its tokens are routed by iss), as a deployment with one has it.
  env+=("Auth__Issuers__0__PublicKeyPem=$(cat "$OUT/rs256-public.pem")" "Auth__Issuers__0__Issuer=$RS256_ISSUER" Auth__Issuers__0__Audience=couponlive)
  # The events phase's transport (empty elsewhere: transport none, the feed only).
  env+=("${EVENTS_ENV[@]}")
  # The perf map names JIT frames; W^X double mapping would hide them behind memfd:doublemapper.
  [ -z "$PERF" ] || env+=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
  # Each production mode has keys of its own in the shared Redis (campaign ids restart in each database).
  case "$mode" in
    production) env+=("ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT" "Redis__KeyPrefix=bench$STAMP-$mode" "ConnectionStrings__Postgres=$PG_BENCH;Maximum Pool Size=50") ;;
    mysql) env+=("ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT" "Redis__KeyPrefix=bench$STAMP-$mode" "ConnectionStrings__MySql=$MYSQL_BENCH;Maximum Pool Size=50") ;;
  esac
  (cd "$SERVER_DIR" && exec env "${env[@]}" dotnet CouponLive.Server.dll --urls "http://127.0.0.1:$port" >"$OUT/$name-server.log" 2>&1) &
  local pid=$!
  if [ -z "$SERVER_PID" ]; then SERVER_PID=$pid; else EXTRA_PIDS="$EXTRA_PIDS $pid"; fi
  wait_ready "$port" "$pid" "$OUT/$name-server.log"
}

# Warm-up (not reported): a small sale and its late crowd JIT every path of the phases after it and open the
# pools. Every process a phase compares is warmed the same way, so JIT and tiering cost the same in each.
warm_up() { # url name
  "${LOADTOOL[@]}" stampede --url "$1" --quantity 20000 --users 30000 --user-prefix "$2" --connections "$SELLOUT_CONNS" --start-in 1 --quiet \
    --out "$OUT/$2" >/dev/null
  TOKENS="$OUT/tokens.txt" wrk -t2 -c"$CONNS" -d3s -s scripts/bench/issue.lua "$1/api/v1/campaigns/$(jq -r .campaignId "$OUT/$2/report.json")/issue" >/dev/null
  wrk -t2 -c"$CONNS" -d2s "$1/health/live" >/dev/null
  sleep 1
}

EVENTS_ENV=()
PERF_PID=""
perf_start() { # phase name
  [ -n "$PERF" ] || return 0
  command -v perf >/dev/null || die "BENCH_PERF needs perf (apt-get install linux-perf)"
  perf record -q -F 999 -g -p "$SERVER_PID" -o "$OUT/$1.perf" >/dev/null 2>&1 &
  PERF_PID=$!
}
perf_stop() {
  [ -n "$PERF_PID" ] || return 0
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
}

ROWS=()
row() { ROWS+=("$(printf '| %-10s | %-28s | %9s | %8s | %8s | %6s | %9s | %9s | %9s | %s |' "$@")"); }

# ------------------------------------------------------------------ one mode

bench_mode() {
  local mode=$1 port=$2 url check
  url="http://127.0.0.1:$port"
  case "$mode" in
    production)
      eval "$(./scripts/services.sh start 2>/dev/null | grep '^export')"
      REDIS_PID=$(head -n 1 .data/redis/redis.pid)
      SQL_PID=$(head -n 1 .data/postgres/postmaster.pid)
      PGPASSWORD=couponlive-dev psql -q -h 127.0.0.1 -p "$PG_PORT" -U couponlive -d couponlive \
        -c "DROP DATABASE IF EXISTS couponlive_bench WITH (FORCE)" -c "CREATE DATABASE couponlive_bench" >/dev/null
      check=(--postgres "$PG_BENCH") ;;
    mysql)
      eval "$(./scripts/services.sh start 2>/dev/null | grep '^export')"
      REDIS_PID=$(head -n 1 .data/redis/redis.pid)
      SQL_PID=$(head -n 1 .data/mariadb/mariadb.pid)
      mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u couponlive -pcouponlive-dev \
        -e "DROP DATABASE IF EXISTS couponlive_bench; CREATE DATABASE couponlive_bench CHARACTER SET utf8mb4"
      check=(--mysql "$MYSQL_BENCH") ;;
    *)
      REDIS_PID=""; SQL_PID=""
      check=(--sqlite "$OUT/$mode-data-$port/couponlive.db") ;;
  esac
  start_server "$mode" "$port" "$mode" $((port + 100))
  log "$mode: server pid $SERVER_PID on $url (gRPC on $((port + 100)))"

  warm_up "$url" "$mode-warmup"

  log "$mode: ceiling (GET /health/live, ${SECONDS_PER_PHASE}s)"
  local s0 s1 w n rps p50 p99 bad
  s0=$(snapshot); w=$(wrk_run "$url/health/live"); s1=$(snapshot)
  read -r n rps p50 p99 bad <<<"$w"
  local ceiling=$rps
  row "$mode" "ceiling: GET /health/live" "$rps" "$p50" "$p99" "1.00" "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" "wrk -c$CONNS; non-2xx $bad"

  log "$mode: sell-out ($SELLOUT coupons, $SELLOUT fresh users, $SELLOUT_CONNS connections)"
  local g0 g1; g0=$(gc_stats "$url")
  perf_start "$mode-sellout"; s0=$(snapshot)
  "${LOADTOOL[@]}" stampede --url "$url" --quantity "$SELLOUT" --users "$SELLOUT" --user-prefix winner --retry-share 0 --connections "$SELLOUT_CONNS" \
    --start-in 2 --max-duration 120 --quiet --out "$OUT/$mode-sellout" "${check[@]}" >"$OUT/$mode-sellout.log" || true
  s1=$(snapshot); perf_stop; g1=$(gc_stats "$url")
  local rep="$OUT/$mode-sellout/report.json" campaign soldout passed
  [ -f "$rep" ] || { cat "$OUT/$mode-sellout.log" >&2; die "no sell-out report"; }
  campaign=$(jq -r .campaignId "$rep"); soldout=$(jq -r '.soldOutAfterSeconds // "never"' "$rep"); passed=$(jq -r .passed "$rep")
  n=$(jq -r .requests "$rep"); rps=$(jq -r '.throughput | floor' "$rep")
  row "$mode" "sell-out: $SELLOUT coupons, c$SELLOUT_CONNS" "$rps" "$(jq -r .latency.p50Ms "$rep")" "$(jq -r .latency.p99Ms "$rep")" \
    "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "sold out in ${soldout} s; invariants passed: $passed; tool CPU $(jq -r .clientCpuMicrosPerRequest "$rep") µs/req; $(gc_delta "$g0" "$g1")"
  eval "SOLDOUT_$mode=$soldout; PASSED_$mode=$passed; REDIS_SELLOUT_$mode=$(us_per_req "$s0" "$s1" 2 "$n"); COUPON_CPU_$mode=$(us_per_req "$s0" "$s1" 1 "$n")"
  if [ "$mode" = production ]; then
    # Bytes of the holders hash per holder (user ids like lt18a...-12345, values "seq:atMs:window").
    local bytes
    bytes=$(redis-cli -p "$REDIS_PORT" memory usage "bench$STAMP-$mode:{c:$campaign}:holders" samples 0 | tr -d '\r')
    REDIS_BYTES_PER_HOLDER=$(awk -v b="$bytes" -v n="$SELLOUT" 'BEGIN { printf "%.0f", b / n }')
    log "production: Redis holders hash $bytes bytes for $SELLOUT holders ($REDIS_BYTES_PER_HOLDER bytes each)"
  fi

  if [ "$MODES" = events ]; then bench_events "$port" "$ceiling"; stop_server; return; fi

  log "$mode: winners clicking again (POST issue, rotating $TOKENS_N winners' tokens, ${SECONDS_PER_PHASE}s)"
  perf_start "$mode-winners"; s0=$(snapshot); w=$(wrk_run "$url/api/v1/campaigns/$campaign/issue" scripts/bench/issue.lua "$OUT/winners.txt"); s1=$(snapshot); perf_stop
  read -r n rps p50 p99 bad <<<"$w"
  row "$mode" "winners again: POST issue" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" "wrk -c$CONNS; each answer is the winner's own coupon; non-2xx $bad of $n"
  eval "WINNERS_$mode=$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')"

  log "$mode: after sell-out (POST issue, rotating $TOKENS_N tokens, ${SECONDS_PER_PHASE}s)"
  perf_start "$mode-after"; s0=$(snapshot); w=$(wrk_run "$url/api/v1/campaigns/$campaign/issue" scripts/bench/issue.lua); s1=$(snapshot); perf_stop
  read -r n rps p50 p99 bad <<<"$w"
  local after=$rps after_cpu
  after_cpu=$(us_per_req "$s0" "$s1" 1 "$n")
  row "$mode" "after sell-out: POST issue" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$after_cpu" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" "wrk -c$CONNS; 409 answers $bad of $n"
  eval "RATIO_$mode=$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }'); CPU_$mode=$after_cpu"

  log "$mode: after sell-out through Connect (JSON over HTTP/1.1, rotating $TOKENS_N tokens, ${SECONDS_PER_PHASE}s)"
  s0=$(snapshot); w=$(BODY="{\"campaignId\":\"$campaign\"}" wrk_run "$url/couponlive.v1.CouponService/IssueCoupon" scripts/bench/issue.lua); s1=$(snapshot)
  read -r n rps p50 p99 bad <<<"$w"
  row "$mode" "after sell-out: Connect JSON" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "$(awk -v a="$rps" -v d="$after" 'BEGIN { printf "%.2f", a / d }') of REST; non-2xx $bad of $n"
  eval "CONNECT_$mode=$(awk -v a="$rps" -v d="$after" 'BEGIN { printf "%.2f", a / d }')"

  log "$mode: after sell-out through gRPC (h2load, 8 connections x 8 streams, ${SECONDS_PER_PHASE}s)"
  # IssueCouponRequest { campaign_id } as one gRPC frame: tag 0x0a, length, the id's digits.
  printf '\x00\x00\x00\x00'"$(printf '\\x%02x' $((${#campaign} + 2)))"'\x0a'"$(printf '\\x%02x' ${#campaign})"'%s' "$campaign" >"$OUT/grpc-request.bin"
  local late; late=$(head -n 1 "$OUT/tokens.txt")
  local h2=(h2load -c 8 -m 8 -d "$OUT/grpc-request.bin" -H 'content-type: application/grpc' -H 'te: trailers'
            -H "authorization: Bearer $late" "http://127.0.0.1:$((port + 100))/couponlive.v1.CouponService/IssueCoupon")
  "${h2[@]}" -n 20000 >/dev/null
  s0=$(snapshot); w=$("${h2[@]}" -D "$SECONDS_PER_PHASE" | tee -a "$OUT/h2load.log"); s1=$(snapshot)
  n=$(awk '/^requests:/ {print $8}' <<<"$w"); rps=$(awk '/^finished in/ {printf "%.0f", $4}' <<<"$w")
  row "$mode" "after sell-out: gRPC" "$rps" "$(awk '/^time for request:/ {print $6}' <<<"$w")" "-" "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "$(awk -v a="$rps" -v d="$after" 'BEGIN { printf "%.2f", a / d }') of REST; one token repeated (cached), h2load mean in the p50 column"

  log "$mode: sell-out with RS256 tokens ($SELLOUT coupons, $SELLOUT fresh users, each token verified once)"
  s0=$(snapshot)
  "${LOADTOOL[@]}" stampede --url "$url" --quantity "$SELLOUT" --users "$SELLOUT" --token-file "$OUT/rs256-tokens.txt" --retry-share 0 \
    --connections "$SELLOUT_CONNS" --start-in 2 --max-duration 120 --quiet --out "$OUT/$mode-sellout-rs256" "${check[@]}" >"$OUT/$mode-sellout-rs256.log" || true
  s1=$(snapshot)
  rep="$OUT/$mode-sellout-rs256/report.json"
  if [ -f "$rep" ]; then
    n=$(jq -r .requests "$rep"); rps=$(jq -r '.throughput | floor' "$rep")
    row "$mode" "sell-out RS256: $SELLOUT coupons" "$rps" "$(jq -r .latency.p50Ms "$rep")" "$(jq -r .latency.p99Ms "$rep")" \
      "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
      "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
      "sold out in $(jq -r '.soldOutAfterSeconds // "never"' "$rep") s; invariants passed: $(jq -r .passed "$rep"); the HS256 sell-out above is the same but for the signature"
  else
    log "$mode: no RS256 sell-out report"; cat "$OUT/$mode-sellout-rs256.log" >&2
  fi

  bench_wrk_sellout "$mode" "$url"

  local half=$((after / 2))
  log "$mode: half of max ($half req/s for ${SECONDS_PER_PHASE}s, load tool, open model)"
  g0=$(gc_stats "$url"); s0=$(snapshot)
  "${LOADTOOL[@]}" rate --url "$url" --campaign "$campaign" --token-file "$OUT/tokens.txt" --users "$TOKENS_N" --rate "$half" \
    --duration "$SECONDS_PER_PHASE" --connections "$CONNS" --quiet --out "$OUT/$mode-half" "${check[@]}" >"$OUT/$mode-half.log" || true
  s1=$(snapshot); g1=$(gc_stats "$url")
  rep="$OUT/$mode-half/report.json"
  n=$(jq -r .requests "$rep"); rps=$(jq -r '.throughput | floor' "$rep")
  local hp99; hp99=$(jq -r .latency.p99Ms "$rep")
  row "$mode" "half of max: POST issue" "$rps" "$(jq -r .latency.p50Ms "$rep")" "$hp99" \
    "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "load tool, $half req/s open model (tool CPU $(jq -r .clientCpuMicrosPerRequest "$rep") µs/req); p99.9 $(jq -r .latency.p999Ms "$rep") ms; $(gc_delta "$g0" "$g1")"
  eval "HALFP99_$mode=$hp99"

  [ "$mode" != production ] || bench_nginx "$port" "$ceiling" "$after"
  [ "$mode" != production ] || bench_events "$port" "$ceiling"
  stop_server
}

# ------------------------------------------------------------------ the sell-out with its events on RabbitMQ

bench_events() { # port ceiling: the sell-out again, one process, its events published to the private RabbitMQ
  local port=$1 ceiling=$2 url="http://127.0.0.1:$1" exchange="couponlive.events.bench$STAMP" queue broker s0 s1 k0 k1 n rps rep
  queue="$exchange.all"
  if ! node tests/brokers/amqp-consumer.mjs bind "$COUPONLIVE_TEST_RABBITMQ" "$exchange" "$queue" >/dev/null; then
    log "production: RabbitMQ unreachable: no events phase"; return
  fi
  # One relay per database: the process without a transport goes first (a clean stop hands the lease over).
  stop_server
  EVENTS_ENV=(Events__Transport=rabbitmq "ConnectionStrings__RabbitMq=$COUPONLIVE_TEST_RABBITMQ" "Events__Exchange=$exchange")
  start_server production "$port" production-events
  EVENTS_ENV=()
  broker=$(head -n 1 .data/rabbitmq/rabbitmq.pid)
  log "production: sell-out with its events on RabbitMQ ($SELLOUT coupons, exchange $exchange, a queue bound to it)"
  warm_up "$url" production-events-warmup
  wait_drained "$url"
  # The backlog every 0.5 s through the sale and its drain (elapsed ms, pending), for the record.
  local admin sampler
  admin=$(curl -sf -H 'Content-Type: application/json' -d "{\"loginId\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$url/api/v1/auth/token" | jq -r .accessToken)
  (t0=$(date +%s%3N); for _ in $(seq 600); do
     echo "$(( $(date +%s%3N) - t0 )) $(curl -sf -H "Authorization: Bearer $admin" "$url/api/v1/events/backlog" | jq -r .pending)"; sleep 0.5
   done) >"$OUT/production-events-backlog.txt" 2>/dev/null &
  sampler=$!
  s0=$(snapshot); k0=$(tree_ticks "$broker")
  "${LOADTOOL[@]}" stampede --url "$url" --quantity "$SELLOUT" --users "$SELLOUT" --user-prefix evwinner --retry-share 0 --connections "$SELLOUT_CONNS" \
    --start-in 2 --max-duration 120 --quiet --out "$OUT/production-events" --postgres "$PG_BENCH" \
    --rabbitmq "$COUPONLIVE_TEST_RABBITMQ" --events-queue "$queue" >"$OUT/production-events.log" || true
  s1=$(snapshot); k1=$(tree_ticks "$broker")
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  rep="$OUT/production-events/report.json"
  if [ ! -f "$rep" ]; then log "production: no events sell-out report"; cat "$OUT/production-events.log" >&2; return; fi
  n=$(jq -r .requests "$rep"); rps=$(jq -r '.throughput | floor' "$rep")
  EVENTS_DRAINED=$(jq -r '.invariants.events.drainedAfterSeconds // "never"' "$rep")
  EVENTS_COUPON_CPU=$(us_per_req "$s0" "$s1" 1 "$n")
  row production "sell-out, RabbitMQ events" "$rps" "$(jq -r .latency.p50Ms "$rep")" "$(jq -r .latency.p99Ms "$rep")" \
    "$(awk -v a="$rps" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$EVENTS_COUPON_CPU" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "sold out in $(jq -r '.soldOutAfterSeconds // "never"' "$rep") s; invariants passed: $(jq -r .passed "$rep"); $(jq -r '.invariants.queue.issuedEvents' "$rep") issued events consumed from the queue ($(jq -r '.invariants.queue.duplicates' "$rep") duplicates, $(jq -r '.invariants.queue.eventsWithoutRow' "$rep") without their row), nothing pending $EVENTS_DRAINED s after the run (peak backlog $(awk '$2 > m { m = $2 } END { print m + 0 }' "$OUT/production-events-backlog.txt"), every 0.5 s in production-events-backlog.txt); RabbitMQ $(awk -v a="$k0" -v b="$k1" -v n="$n" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }') µs/req; server CPU $(awk -v a="$EVENTS_COUPON_CPU" -v b="$COUPON_CPU_production" 'BEGIN { printf "%.2f", a / b }') of the sell-out without a transport"
  node tests/brokers/amqp-consumer.mjs delete "$COUPONLIVE_TEST_RABBITMQ" "$queue" >/dev/null || true
}

wait_drained() { # url: until the outbox has nothing pending (at most 60 s), so the warm-up's events are not measured
  local admin pending
  admin=$(curl -sf -H 'Content-Type: application/json' -d "{\"loginId\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$1/api/v1/auth/token" | jq -r .accessToken)
  for _ in $(seq 600); do
    pending=$(curl -sf -H "Authorization: Bearer $admin" "$1/api/v1/events/backlog" | jq -r .pending) || pending=-1
    [ "$pending" != 0 ] || return 0
    sleep 0.1
  done
  log "production: the warm-up's events did not drain within 60 s"
}

# ------------------------------------------------------------------ a sell-out driven by wrk

bench_wrk_sellout() { # mode url
  local mode=$1 url=$2 admin opens_ms now_ms campaign issued=0 wpid s0 s1 t1 w n
  log "$mode: wrk sell-out ($SELLOUT coupons, fresh users, $SELLOUT_CONNS connections, each wrk thread on its own part of the tokens)"
  admin=$(curl -sf -H 'Content-Type: application/json' -d "{\"loginId\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$url/api/v1/auth/token" | jq -r .accessToken)
  opens_ms=$(( $(date +%s%3N) + 2000 ))
  campaign=$(curl -sf -H 'Content-Type: application/json' -H "Authorization: Bearer $admin" "$url/api/v1/campaigns" -d "{\"name\":\"wrk-sellout\",\"totalQuantity\":$SELLOUT,
    \"issueStartsAt\":\"$(date -u -d "@${opens_ms:0:-3}.${opens_ms: -3}" +%Y-%m-%dT%H:%M:%S.%3NZ)\",\"issueEndsAt\":\"$(date -u -d "@$((opens_ms / 1000 + 600))" +%Y-%m-%dT%H:%M:%SZ)\"}" | jq -r .id)
  [ -n "$campaign" ] && [ "$campaign" != null ] || die "could not create the wrk sell-out campaign"
  now_ms=$(date +%s%3N); sleep "$(awk -v d=$((opens_ms - now_ms)) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1000 }')"
  s0=$(snapshot)
  TOKENS="$OUT/crowd.txt" wrk -t2 -c"$SELLOUT_CONNS" -d60s --timeout 10s --latency -s scripts/bench/sellout.lua \
    "$url/api/v1/campaigns/$campaign/issue" >"$OUT/$mode-wrk-sellout.log" 2>&1 &
  wpid=$!
  # The committed counter (GET /campaigns/{id} reads the store), every 50 ms, for at most 60 s.
  for _ in $(seq 1200); do
    issued=$(curl -sf -H "Authorization: Bearer $admin" "$url/api/v1/campaigns/$campaign" | jq -r .issuedCount) || issued=0
    [ "$issued" -lt "$SELLOUT" ] || break
    sleep 0.05
  done
  s1=$(snapshot); t1=$(date +%s%3N)
  kill -INT "$wpid" 2>/dev/null || true; wait "$wpid" || true
  w=$(wrk_numbers <"$OUT/$mode-wrk-sellout.log")
  read -r n _ p50 p99 bad <<<"$w"
  local secs; secs=$(awk -v a="$opens_ms" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
  [ "$issued" -ge "$SELLOUT" ] || secs=never
  row "$mode" "wrk sell-out: $SELLOUT coupons" "$(awk -v n="$SELLOUT" -v s="$secs" 'BEGIN { if (s == "never") print "-"; else printf "%.0f", n / s }')" "$p50" "$p99" "-" \
    "$(us_per_req "$s0" "$s1" 1 "$SELLOUT")" "$(us_per_req "$s0" "$s1" 2 "$SELLOUT")" "$(us_per_req "$s0" "$s1" 3 "$SELLOUT")" \
    "sold out in $secs s by the committed counter ($issued issued); CPU per coupon to that instant; req/s = coupons / time; wrk sent $n, non-2xx $bad"
  eval "WRK_SOLDOUT_$mode=$secs"
}

# ------------------------------------------------------------------ three processes behind nginx

bench_nginx() { # port of the running server, its ceiling and after-sell-out rates
  local port=$1 direct_ceiling=$2 direct_after=$3 lb_port=18190 url s0 s1 w n rps p50 p99 bad
  start_server production $((port + 1)) production-2
  start_server production $((port + 2)) production-3
  scripts/nginx-lb.sh up "$OUT/nginx" "$lb_port" 0 "127.0.0.1:$port,127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2))" 2>/dev/null
  NGINX_PID=$(cat "$OUT/nginx/nginx.pid")
  url="http://127.0.0.1:$lb_port"
  log "production: three processes behind nginx on $url"
  # Warm-up of the two new processes (JIT, pools), not reported.
  "${LOADTOOL[@]}" stampede --url "$url" --quantity 20000 --users 30000 --connections "$SELLOUT_CONNS" --start-in 1 --quiet \
    --out "$OUT/nginx-warmup" >/dev/null
  wrk -t2 -c"$CONNS" -d3s "$url/health/live" >/dev/null
  sleep 1

  log "production: nginx x3 ceiling (GET /health/live, ${SECONDS_PER_PHASE}s)"
  s0=$(snapshot); w=$(wrk_run "$url/health/live"); s1=$(snapshot)
  read -r n rps p50 p99 bad <<<"$w"
  row "nginx x3" "ceiling: GET /health/live" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v c="$direct_ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "/ceil. against one process reached directly; nginx $(us_per_req "$s0" "$s1" 4 "$n") µs/req; non-2xx $bad"

  log "production: nginx x3 sell-out ($SELLOUT coupons)"
  s0=$(snapshot)
  "${LOADTOOL[@]}" stampede --url "$url" --quantity "$SELLOUT" --users "$SELLOUT" --retry-share 0 --connections "$SELLOUT_CONNS" \
    --start-in 2 --max-duration 120 --quiet --out "$OUT/nginx-sellout" "${check[@]}" >"$OUT/nginx-sellout.log" || true
  s1=$(snapshot)
  local rep="$OUT/nginx-sellout/report.json" campaign
  [ -f "$rep" ] || { cat "$OUT/nginx-sellout.log" >&2; die "no nginx sell-out report"; }
  campaign=$(jq -r .campaignId "$rep"); n=$(jq -r .requests "$rep"); rps=$(jq -r '.throughput | floor' "$rep")
  row "nginx x3" "sell-out: $SELLOUT coupons, c$SELLOUT_CONNS" "$rps" "$(jq -r .latency.p50Ms "$rep")" "$(jq -r .latency.p99Ms "$rep")" \
    "$(awk -v a="$rps" -v c="$direct_ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "sold out in $(jq -r '.soldOutAfterSeconds // "never"' "$rep") s; invariants passed: $(jq -r .passed "$rep"); nginx $(us_per_req "$s0" "$s1" 4 "$n") µs/req"

  log "production: nginx x3 after sell-out (POST issue, ${SECONDS_PER_PHASE}s)"
  s0=$(snapshot); w=$(wrk_run "$url/api/v1/campaigns/$campaign/issue" scripts/bench/issue.lua); s1=$(snapshot)
  read -r n rps p50 p99 bad <<<"$w"
  row "nginx x3" "after sell-out: POST issue" "$rps" "$p50" "$p99" "$(awk -v a="$rps" -v c="$direct_ceiling" 'BEGIN { printf "%.2f", a / c }')" \
    "$(us_per_req "$s0" "$s1" 1 "$n")" "$(us_per_req "$s0" "$s1" 2 "$n")" "$(us_per_req "$s0" "$s1" 3 "$n")" \
    "$(awk -v a="$rps" -v d="$direct_after" 'BEGIN { printf "%.2f", a / d }') of one process direct; nginx $(us_per_req "$s0" "$s1" 4 "$n") µs/req; 409 answers $bad of $n"
}

case "$MODES" in
  all) bench_mode embedded 18181; bench_mode production 18182; bench_mode mysql 18185 ;;
  embedded) bench_mode embedded 18181 ;;
  production) bench_mode production 18182 ;;
  mysql) bench_mode mysql 18185 ;;
  events) bench_mode production 18182 ;;
  *) die "usage: scripts/bench.sh [embedded|production|mysql|all|events]" ;;
esac

# ------------------------------------------------------------------ report

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "-" || v == "never") { print "n/a"; exit }
  ok = (op == "ge") ? (v + 0 >= t) : (v + 0 < t); print ok ? "met" : "MISSED" }'; }
{
  echo
  echo "## Run $(date -u '+%Y-%m-%d %H:%M UTC') ($MODES)"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr), .NET $(dotnet --version);" \
       "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Phases of ${SECONDS_PER_PHASE} s; wrk and the load tool share the machine with the server."
  echo
  echo "Server µs/req sums every server process of the row (three behind nginx). /ceil. is against the same mode's ceiling of one process reached directly."
  echo "production runs on PostgreSQL, mysql on MariaDB $(mariadbd --version 2>/dev/null | awk '{print $3}' | cut -d- -f1); the sql column is that store's CPU."
  echo
  echo "| mode       | phase                        |     req/s |   p50 ms |   p99 ms | /ceil. | server µs/req | redis µs/req | sql µs/req | notes |"
  echo "|------------|------------------------------|-----------|----------|----------|--------|-----------|-----------|-----------|-------|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Targets:"
  for m in embedded production mysql; do
    v="RATIO_$m"; [ -n "${!v:-}" ] || continue
    s="SOLDOUT_$m"; ws="WRK_SOLDOUT_$m"; h="HALFP99_$m"; c="CPU_$m"; cc="COUPON_CPU_$m"; r="REDIS_SELLOUT_$m"; wi="WINNERS_$m"; co="CONNECT_$m"
    echo "- $m: winners again ${!wi} of ceiling (>= 0.8: $(verdict "${!wi}" 0.8 ge)); late crowd ${!v} of ceiling (>= 0.8: $(verdict "${!v}" 0.8 ge));" \
         "sell-out of $SELLOUT in ${!s} s by the load tool, ${!ws} s by wrk (< 3 s: $(verdict "${!s}" 3 lt), $(verdict "${!ws}" 3 lt));" \
         "server CPU ${!cc} µs per durable coupon (<= 35: $(verdict "${!cc}" 35.01 lt)), ${!c} µs per late-crowd request;" \
         "p99 at half of max ${!h} ms (< 10 ms: $(verdict "${!h}" 10 lt)); Connect JSON ${!co} of REST (>= 0.9: $(verdict "${!co}" 0.9 ge))$(
         [ "$m" != embedded ] && echo "; Redis ${!r} µs/admission in the sell-out")$(
         [ "$m" = production ] && echo "; Redis holders hash ${REDIS_BYTES_PER_HOLDER:-?} bytes per holder")$(
         [ "$m" = production ] && echo "; events on RabbitMQ: nothing pending ${EVENTS_DRAINED:-?} s after the sell-out (<= 2 s: $(verdict "${EVENTS_DRAINED:--}" 2.01 lt)), server CPU per coupon ${EVENTS_COUPON_CPU:-?} µs")"
  done
  [ "$MODES" != events ] || echo "- events: nothing pending ${EVENTS_DRAINED:-?} s after the sell-out (<= 2 s: $(verdict "${EVENTS_DRAINED:--}" 2.01 lt));" \
    "server CPU per coupon ${EVENTS_COUPON_CPU:-?} µs against ${COUPON_CPU_production:-?} µs without a transport" \
    "($(awk -v a="${EVENTS_COUPON_CPU:-0}" -v b="${COUPON_CPU_production:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'); <= 1.10)"
  echo
  echo "Reproduce: \`COUPONLIVE_REDIS_PORT=$REDIS_PORT COUPONLIVE_POSTGRES_PORT=$PG_PORT COUPONLIVE_MYSQL_PORT=$MYSQL_PORT scripts/bench.sh $MODES\` (raw output: artifacts/bench/$STAMP/)."
} | tee "$OUT/summary.md"

if [ "${BENCH_NO_APPEND:-}" != 1 ]; then
  [ -f docs/benchmarks.md ] || printf '# Benchmarks\n\nAppended by `scripts/bench.sh`; see the end of the file for the latest run.\n' >docs/benchmarks.md
  cat "$OUT/summary.md" >>docs/benchmarks.md
  log "appended to docs/benchmarks.md"
fi
