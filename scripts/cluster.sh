#!/usr/bin/env bash
# The production topology on one machine, on 127.0.0.1: a replicated Redis, PostgreSQL, several
# CouponLive processes and nginx in front of them.
#
#   scripts/cluster.sh up [--sentinel] [--processes N]
#       Redis Cluster of 3 primaries with a replica each on :7000-7005 (or, with --sentinel, a primary on
#       :7100 with replicas on :7101-7102 and sentinels on :7110-7112), PostgreSQL on :5433
#       (scripts/services.sh, database couponlive_cluster), N CouponLive processes (default 3) on
#       :8101.. (HTTP) and :8201.. (gRPC), and nginx on :8100 (HTTP: REST, Connect, dashboard) and
#       :8200 (gRPC over cleartext HTTP/2).
#   scripts/cluster.sh restart   a rolling restart (after a build): each process stopped with SIGTERM (it drains),
#                                waited for and started again, one at a time, while nginx sends to the others
#   scripts/cluster.sh down      stops all of it (data is kept under .data/cluster until the next up)
#   scripts/cluster.sh status
#
# The keys and the admin password are development defaults (Development environment); never use them
# outside loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR="$ROOT/.data/cluster"
HOST=127.0.0.1
LB_HTTP=8100
LB_GRPC=8200
APP_HTTP=8101
APP_GRPC=8201
PG_PORT="${COUPONLIVE_POSTGRES_PORT:-5433}"
DB=couponlive_cluster
ADMIN_PASSWORD=cluster-operator-dev

log() { echo "cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

app_pids() { cat "$DIR"/app-*.pid 2>/dev/null || true; }

stop_apps() {
  local pid
  for pid in $(app_pids); do kill "$pid" 2>/dev/null || true; done
  for pid in $(app_pids); do
    # A stop drains (Shutdown:DrainDelay, then in-flight requests and the writer): well inside 30 s.
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$DIR"/app-*.pid
}

start_app() { # index redis postgres: one CouponLive process on its ports (its pid in app-N.pid)
  local i=$1 http=$((APP_HTTP + $1)) grpc=$((APP_GRPC + $1))
  (cd "$ROOT/src/CouponLive.Server/bin/Release/net10.0" && exec env ASPNETCORE_ENVIRONMENT=Development \
    "ConnectionStrings__Redis=$2" "ConnectionStrings__Postgres=$3" \
    "Storage__DataDirectory=$DIR/app-$i" "Rpc__GrpcUrl=http://$HOST:$grpc" \
    "Auth__SigningKey=DEVELOPMENT-ONLY cluster signing key, 32+ bytes long" "Codes__Key=DEVELOPMENT-ONLY cluster code key" \
    "Admin__Password=$ADMIN_PASSWORD" Shutdown__DrainDelay=00:00:02 \
    dotnet CouponLive.Server.dll --urls "http://$HOST:$http" >>"$DIR/app-$i.log" 2>&1) &
  echo $! >"$DIR/app-$i.pid"
}

wait_app() { # index: until the process is ready (30 s)
  local i=$1
  for _ in $(seq 150); do
    curl -sf "http://$HOST:$((APP_HTTP + i))/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$DIR/app-$i.pid")" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 30 "$DIR/app-$i.log" >&2
  die "process $i did not become ready"
}

cmd_up() {
  local sentinel=0 processes=3
  while [ $# -gt 0 ]; do
    case "$1" in
      --sentinel) sentinel=1 ;;
      --processes) processes=$2; shift ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  [ -z "$(app_pids)" ] || die "already up (run: $0 down)"
  cmd_down 2>/dev/null # leftovers of an earlier up that failed
  rm -rf "$DIR"
  mkdir -p "$DIR"
  trap 'log "up failed; stopping what was started"; cmd_down' EXIT

  local redis
  if [ "$sentinel" = 1 ]; then redis=$(scripts/redis-ha.sh sentinel "$DIR/redis" 7100)
  else redis=$(scripts/redis-ha.sh cluster "$DIR/redis" 7000 3 1); fi

  scripts/services.sh postgres >/dev/null
  PGPASSWORD=couponlive-dev psql -q -h $HOST -p "$PG_PORT" -U couponlive -d couponlive \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  local postgres="Host=$HOST;Port=$PG_PORT;Username=couponlive;Password=couponlive-dev;Database=$DB"

  log "building the server (Release)"
  dotnet build -c Release -v q -nologo src/CouponLive.Server >/dev/null
  local http_list="" grpc_list=""
  for ((i = 0; i < processes; i++)); do
    start_app "$i" "$redis" "$postgres"
    http_list+="${http_list:+,}$HOST:$((APP_HTTP + i))"
    grpc_list+="${grpc_list:+,}$HOST:$((APP_GRPC + i))"
  done
  for ((i = 0; i < processes; i++)); do wait_app "$i"; done
  scripts/nginx-lb.sh up "$DIR/nginx" "$LB_HTTP" "$LB_GRPC" "$http_list" "$grpc_list"

  echo "$redis" >"$DIR/redis-connection"
  trap - EXIT
  cat <<EOF
CouponLive is up: $processes processes behind nginx.
  HTTP (REST, Connect, dashboard): http://$HOST:$LB_HTTP   e.g. http://$HOST:$LB_HTTP/dashboard
  gRPC (h2c):                      $HOST:$LB_GRPC
  admin:                           login 'admin', password '$ADMIN_PASSWORD'
  Redis:                           $redis
  PostgreSQL:                      $postgres
  logs:                            $DIR/app-N.log, $DIR/nginx/error.log
Stop with: scripts/cluster.sh down
EOF
}

cmd_restart() { # a rolling restart: each process in turn stopped (SIGTERM: it drains), waited for and started again
  [ -f "$DIR/redis-connection" ] || die "not up"
  local redis postgres="Host=$HOST;Port=$PG_PORT;Username=couponlive;Password=couponlive-dev;Database=$DB" f i pid started
  redis=$(cat "$DIR/redis-connection")
  log "building the server (Release)"
  dotnet build -c Release -v q -nologo src/CouponLive.Server >/dev/null
  for f in "$DIR"/app-*.pid; do
    i=$(basename "$f" .pid); i=${i#app-}; pid=$(cat "$f")
    started=$(date +%s%3N)
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || die "process $i did not stop within 30 s"
    log "process $i stopped in $(( $(date +%s%3N) - started )) ms; starting it again"
    start_app "$i" "$redis" "$postgres"
    wait_app "$i"
  done
  log "restarted every process, one at a time"
}

cmd_down() {
  [ -d "$DIR" ] || return 0
  scripts/nginx-lb.sh down "$DIR/nginx" || true
  stop_apps
  scripts/redis-ha.sh down "$DIR/redis" || true
  log "down (PostgreSQL keeps running: scripts/services.sh stop)"
}

cmd_status() {
  [ -d "$DIR" ] || { echo "not up"; return 1; }
  scripts/nginx-lb.sh status "$DIR/nginx" || true
  local i=0 pid
  for f in "$DIR"/app-*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); i=$(basename "$f" .pid)
    if kill -0 "$pid" 2>/dev/null; then echo "$i: running (pid $pid)"; else echo "$i: stopped"; fi
  done
  scripts/redis-ha.sh status "$DIR/redis" || true
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) cmd_restart ;;
  *) echo "usage: $0 up [--sentinel] [--processes N] | restart | down | status" >&2; exit 2 ;;
esac
