#!/usr/bin/env bash
# Private Redis, PostgreSQL and MariaDB for CouponLive tests and local development, on 127.0.0.1 only.
# Everything lives under $ROOT/.data (override: COUPONLIVE_SERVICES_DIR); the system's default
# PostgreSQL cluster, MariaDB and Redis are never touched.
#
# Usage: scripts/services.sh start|postgres|stop|status|env|reset-db|stop-postgres|start-postgres|stop-mysql|start-mysql|restart-redis|stop-redis|start-redis
# (postgres: install and start PostgreSQL only, for scripts/cluster.sh, which brings its own Redis)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${COUPONLIVE_SERVICES_DIR:-$ROOT/.data}"
REDIS_PORT="${COUPONLIVE_REDIS_PORT:-6391}"
PG_PORT="${COUPONLIVE_POSTGRES_PORT:-5433}"
MYSQL_PORT="${COUPONLIVE_MYSQL_PORT:-3307}"
HOST=127.0.0.1
TIMEOUT=30

REDIS_DIR="$DATA/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
PGDATA="$DATA/postgres"
PG_LOG="$PGDATA/server.log"
MYSQL_DIR="$DATA/mariadb"
MYSQL_DATA="$MYSQL_DIR/data"
MYSQL_PIDFILE="$MYSQL_DIR/mariadb.pid"
MYSQL_LOG="$MYSQL_DIR/mariadb.log"

# Development-only credentials (not a secret; never use them outside loopback test instances).
DB_NAME=couponlive
DB_USER=couponlive
DB_PASSWORD=couponlive-dev

log() { echo "services: $*" >&2; }
die() { log "error: $*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Unix sockets are limited to ~107 bytes; deep checkouts fall back to a port-specific /tmp dir.
pg_socket_dir() {
  local dir="$DATA/pg-socket"
  if [ $((${#dir} + 20)) -gt 100 ]; then dir="/tmp/couponlive-pg-$PG_PORT"; fi
  echo "$dir"
}

mysql_socket() {
  local sock="$MYSQL_DIR/mariadb.sock"
  if [ ${#sock} -gt 100 ]; then sock="/tmp/couponlive-mariadb-$MYSQL_PORT.sock"; fi
  echo "$sock"
}

# ---------------------------------------------------------------- installation

pg_bindir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

apt_install() {
  local sudo=()
  if ! is_root; then
    command -v sudo >/dev/null || die "not root and no sudo: install $* manually"
    sudo=(sudo)
  fi
  log "installing $* with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y "$@" >/dev/null
}

ensure_installed() {
  local pkgs=()
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server)
  pg_bindir >/dev/null || pkgs+=(postgresql)
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null || pkgs+=(mariadb-server)
  if [ ${#pkgs[@]} -gt 0 ]; then apt_install "${pkgs[@]}"; fi
  PGBIN=$(pg_bindir) || die "PostgreSQL binaries not found under /usr/lib/postgresql"
}

# ---------------------------------------------------------------- helpers

# Wait (bounded) until "$@" succeeds.
wait_for() {
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# A zombie counts as gone: a container's PID 1 may take a while to reap daemons.
pid_gone() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# True if pid is alive and its command name is $2 (guards against pids reused after a reboot).
pid_is() {
  local pid=$1 name=$2
  [ -n "$pid" ] && ! pid_gone "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# ---------------------------------------------------------------- redis

redis_cli() { timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" "$@"; }
redis_pid() { if [ -f "$REDIS_PIDFILE" ]; then head -n 1 "$REDIS_PIDFILE"; fi; }
redis_running() { pid_is "$(redis_pid)" redis-server && [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

write_redis_conf() {
  mkdir -p "$REDIS_DIR"
  # No persistence on purpose: PostgreSQL is the arbiter and losing Redis data is a tested failure.
  cat >"$REDIS_DIR/redis.conf" <<EOF
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PIDFILE
logfile $REDIS_LOG
dir $REDIS_DIR
save ""
appendonly no
EOF
}

# Like wait_for, but gives up early: redis writes its pidfile only once listening, so no live
# pidfile after a short grace means it exited during startup (e.g. port in use).
wait_redis() {
  local deadline=$((SECONDS + TIMEOUT)) grace=$((SECONDS + 3))
  until redis_running; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    if [ "$SECONDS" -ge "$grace" ] && ! pid_is "$(redis_pid)" redis-server; then return 1; fi
    sleep 0.2
  done
}

start_redis() {
  if redis_running; then log "redis already running (pid $(redis_pid))"; return; fi
  rm -f "$REDIS_PIDFILE"  # stale after a crash or reboot
  write_redis_conf
  redis-server "$REDIS_DIR/redis.conf"
  if ! wait_redis; then
    tail -n 20 "$REDIS_LOG" >&2 || true
    die "redis did not come up on $HOST:$REDIS_PORT"
  fi
  log "redis started on $HOST:$REDIS_PORT (pid $(redis_pid))"
}

stop_redis() {
  local pid
  pid=$(redis_pid)
  if ! pid_is "$pid" redis-server; then rm -f "$REDIS_PIDFILE"; return; fi
  redis_cli shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for pid_gone "$pid"; then
    log "redis pid $pid ignored shutdown; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$REDIS_PIDFILE"
  log "redis stopped"
}

# ---------------------------------------------------------------- postgres

# initdb and the server refuse to run as root, so root delegates to the postgres OS user.
# cd / avoids "could not change directory" noise when the caller's cwd is private.
run_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pgctl() { run_pg "$PGBIN/pg_ctl" -D "$PGDATA" "$@"; }
pg_pid() { if [ -f "$PGDATA/postmaster.pid" ]; then head -n 1 "$PGDATA/postmaster.pid"; fi; }
pg_ready() { "$PGBIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2; }
pg_running() { pid_is "$(pg_pid)" postgres; }

# Superuser access over the trusted local socket.
pg_admin() {
  run_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir)" -p "$PG_PORT" -U postgres "$@"
}

# The postgres user must be able to reach $DATA; grant traversal only (x, not r) where missing.
ensure_traversable() {
  is_root || return 0
  runuser -u postgres -- test -x "$DATA" && return 0
  local dir="$DATA"
  while [ "$dir" != / ]; do
    if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
      log "granting the postgres user traversal of $dir"
      if command -v setfacl >/dev/null; then setfacl -m u:postgres:x "$dir"; else chmod o+x "$dir"; fi
    fi
    dir=$(dirname "$dir")
  done
}

prepare_pg_dirs() {
  local sock
  sock=$(pg_socket_dir)
  mkdir -p "$PGDATA" "$sock"
  chmod 700 "$PGDATA" "$sock"
  if is_root; then chown postgres:postgres "$PGDATA" "$sock"; fi
  ensure_traversable
}

init_cluster() {
  [ -f "$PGDATA/PG_VERSION" ] && return
  log "creating PostgreSQL cluster in $PGDATA"
  run_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
}

# Rewritten on every start so port/socket env overrides take effect.
write_pg_conf() {
  local include="include 'couponlive.conf'"
  grep -qxF "$include" "$PGDATA/postgresql.conf" ||
    echo "$include" | run_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
  run_pg tee "$PGDATA/couponlive.conf" >/dev/null <<EOF
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$(pg_socket_dir)'
fsync = on                  # durability is under test
synchronous_commit = on
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
EOF
  run_pg tee "$PGDATA/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   $HOST/32  scram-sha-256
EOF
}

# After a reboot postmaster.pid may name a pid now used by an unrelated process.
clear_stale_pg_lock() {
  [ -f "$PGDATA/postmaster.pid" ] || return 0
  pg_running && return 0
  log "removing stale postmaster.pid"
  rm -f "$PGDATA/postmaster.pid" "$(pg_socket_dir)/.s.PGSQL.$PG_PORT.lock"
}

pg_fail() { tail -n 20 "$PG_LOG" >&2 || true; die "$1"; }

start_pg_server() {
  if pg_running && pg_ready; then log "postgres already running (pid $(pg_pid))"; return; fi
  clear_stale_pg_lock
  if ! pg_running; then
    write_pg_conf
    pgctl -l "$PG_LOG" -w -t "$TIMEOUT" start >/dev/null || pg_fail "pg_ctl start failed"
  fi
  wait_for pg_ready || pg_fail "postgres did not answer on $HOST:$PG_PORT within ${TIMEOUT}s"
  log "postgres started on $HOST:$PG_PORT (pid $(pg_pid))"
}

ensure_role_and_db() {
  pg_admin -d postgres <<EOF
SELECT 'CREATE ROLE $DB_USER LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'; -- CREATEDB: each test server gets a database of its own
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
EOF
}

start_postgres() {
  prepare_pg_dirs
  init_cluster
  start_pg_server
  ensure_role_and_db
}

# mode: fast (clean) or immediate (simulated crash).
stop_postgres() {
  local mode=$1
  if ! pg_running; then clear_stale_pg_lock; return; fi
  pgctl stop -m "$mode" -w -t "$TIMEOUT" >/dev/null
  log "postgres stopped ($mode)"
}

reset_db() {
  pg_running || die "postgres is not running (run: $0 start)"
  # WITH (FORCE) terminates other sessions first.
  pg_admin -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)"
  ensure_role_and_db
  log "database $DB_NAME recreated"
}

# ---------------------------------------------------------------- mariadb

mysql_pid() { if [ -f "$MYSQL_PIDFILE" ]; then head -n 1 "$MYSQL_PIDFILE"; fi; }
mysql_running() { pid_is "$(mysql_pid)" mariadbd; }
mysql_ready() { timeout 5 mariadb-admin --no-defaults --socket="$(mysql_socket)" -u root ping >/dev/null 2>&1; }

# Root over the private socket (unix_socket authentication: the OS user that initialized the data dir).
mysql_admin() { mariadb --no-defaults --socket="$(mysql_socket)" -u root "$@"; }

init_mysql() {
  [ -d "$MYSQL_DATA/mysql" ] && return
  log "creating MariaDB data directory in $MYSQL_DATA"
  mkdir -p "$MYSQL_DATA"
  mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$MYSQL_DATA" --skip-test-db >"$MYSQL_DIR/install.log" 2>&1 ||
    { tail -n 20 "$MYSQL_DIR/install.log" >&2; die "mariadb-install-db failed"; }
}

mysql_fail() { tail -n 20 "$MYSQL_LOG" >&2 || true; die "$1"; }

# --no-defaults: the system's my.cnf (its datadir, socket, port 3306) is never read. skip-name-resolve: TCP
# clients are matched by address, so 'couponlive'@'%' is found for 127.0.0.1. setsid: the server outlives
# the caller's session, as redis-server and pg_ctl daemonize themselves.
start_mysql() {
  if mysql_running && mysql_ready; then log "mariadb already running (pid $(mysql_pid))"; return; fi
  mkdir -p "$MYSQL_DIR"
  init_mysql
  if ! mysql_running; then
    rm -f "$MYSQL_PIDFILE" "$(mysql_socket)"  # stale after a crash or reboot
    setsid -f mariadbd --no-defaults --user="$(id -un)" --datadir="$MYSQL_DATA" \
      --port="$MYSQL_PORT" --bind-address="$HOST" --socket="$(mysql_socket)" --pid-file="$MYSQL_PIDFILE" \
      --log-error="$MYSQL_LOG" --skip-name-resolve --max-connections=500 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_nopad_bin \
      --innodb-flush-log-at-trx-commit=1 </dev/null >/dev/null 2>&1  # durability is under test
  fi
  wait_for mysql_ready || mysql_fail "mariadb did not answer on $(mysql_socket) within ${TIMEOUT}s"
  wait_for mysql_running || mysql_fail "mariadb wrote no pid file"
  mysql_admin <<EOF
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
-- Every privilege, CREATE and DROP of databases included: each test gets a database of its own.
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%';
EOF
  log "mariadb started on $HOST:$MYSQL_PORT (pid $(mysql_pid))"
}

stop_mysql() {
  local pid
  pid=$(mysql_pid)
  if ! pid_is "$pid" mariadbd; then rm -f "$MYSQL_PIDFILE"; return; fi
  timeout 30 mariadb-admin --no-defaults --socket="$(mysql_socket)" -u root shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for pid_gone "$pid"; then
    log "mariadb pid $pid ignored shutdown; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$MYSQL_PIDFILE"
  log "mariadb stopped"
}

# ---------------------------------------------------------------- commands

print_env() {
  echo "export COUPONLIVE_TEST_REDIS=$HOST:$REDIS_PORT"
  echo "export COUPONLIVE_TEST_POSTGRES='Host=$HOST;Port=$PG_PORT;Username=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME'"
  echo "export COUPONLIVE_TEST_MYSQL='Server=$HOST;Port=$MYSQL_PORT;User ID=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME'"
}

print_hint() {
  cat <<EOF
# Run the service against these instances:
#   ConnectionStrings__Redis=$HOST:$REDIS_PORT \\
#   ConnectionStrings__Postgres='Host=$HOST;Port=$PG_PORT;Username=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME' \\
#   dotnet run --project src/CouponLive.Server
EOF
}

status() {
  local rc=0
  if redis_running; then echo "redis:    running on $HOST:$REDIS_PORT (pid $(redis_pid))"
  else echo "redis:    stopped ($HOST:$REDIS_PORT)"; rc=1; fi
  if pg_running && pg_ready; then echo "postgres: running on $HOST:$PG_PORT (pid $(pg_pid))"
  else echo "postgres: stopped ($HOST:$PG_PORT)"; rc=1; fi
  if mysql_running && mysql_ready; then echo "mariadb:  running on $HOST:$MYSQL_PORT (pid $(mysql_pid))"
  else echo "mariadb:  stopped ($HOST:$MYSQL_PORT)"; rc=1; fi
  return "$rc"
}

need_pgbin() { PGBIN=$(pg_bindir) || die "PostgreSQL is not installed (run: $0 start)"; }

main() {
  case "${1:-}" in
    start)          ensure_installed; start_redis; start_postgres; start_mysql; print_env; print_hint ;;
    postgres)       ensure_installed; start_postgres ;;
    env)            print_env ;;
    status)         need_pgbin; status ;;
    stop)           need_pgbin; stop_redis; stop_postgres fast; stop_mysql ;;
    stop-postgres)  need_pgbin; stop_postgres immediate ;;
    stop-mysql)     stop_mysql ;;
    start-mysql)    start_mysql ;;
    start-postgres) need_pgbin; start_postgres ;;
    restart-redis)  stop_redis; start_redis ;;
    stop-redis)     stop_redis ;;
    start-redis)    start_redis ;;
    reset-db)       need_pgbin; reset_db ;;
    *) echo "usage: $0 start|postgres|stop|status|env|reset-db|stop-postgres|start-postgres|stop-mysql|start-mysql|restart-redis|stop-redis|start-redis" >&2; exit 2 ;;
  esac
}

main "$@"
