#!/usr/bin/env bash
# Private Redis, PostgreSQL, MariaDB, RabbitMQ and an SQS endpoint for CouponLive tests and local
# development, on 127.0.0.1 only. Everything lives under $ROOT/.data (override: COUPONLIVE_SERVICES_DIR);
# the system's default PostgreSQL cluster, MariaDB, Redis and RabbitMQ service are never touched.
# RabbitMQ is a node of our own (port, epmd, cookie, data), durable across stop-rabbitmq/start-rabbitmq;
# the SQS endpoint is fauxqs (tests/brokers/sqs-server.mjs), in memory: stop-sqs loses its queues.
#
# Usage: scripts/services.sh start|postgres|stop|status|env|reset-db|stop-postgres|start-postgres|stop-mysql|start-mysql|restart-redis|stop-redis|start-redis|stop-rabbitmq|start-rabbitmq|block-rabbitmq|unblock-rabbitmq|stop-sqs|start-sqs
# (postgres: install and start PostgreSQL only, for scripts/cluster.sh, which brings its own Redis)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${COUPONLIVE_SERVICES_DIR:-$ROOT/.data}"
REDIS_PORT="${COUPONLIVE_REDIS_PORT:-6391}"
PG_PORT="${COUPONLIVE_POSTGRES_PORT:-5433}"
MYSQL_PORT="${COUPONLIVE_MYSQL_PORT:-3307}"
RABBITMQ_PORT="${COUPONLIVE_RABBITMQ_PORT:-5673}"
RABBITMQ_EPMD_PORT="${COUPONLIVE_RABBITMQ_EPMD_PORT:-4370}"  # the system's epmd, if any, has 4369
SQS_PORT="${COUPONLIVE_SQS_PORT:-9325}"
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
RABBITMQ_BIN=/usr/lib/rabbitmq/bin  # the real scripts; /usr/sbin's wrappers switch to the system's rabbitmq user
RABBITMQ_DIR="$DATA/rabbitmq"
RABBITMQ_NODE="couponlive-$RABBITMQ_PORT@localhost"  # unique per port: instances may share one epmd
RABBITMQ_PIDFILE="$RABBITMQ_DIR/rabbitmq.pid"
RABBITMQ_LOG="$RABBITMQ_DIR/log/$RABBITMQ_NODE.log"
RABBITMQ_STARTUP_LOG="$RABBITMQ_DIR/startup.log"
RABBITMQ_TIMEOUT=60  # a boot takes ~7 s with both cores busy (the first one creates the database)
BROKERS_DIR="$ROOT/tests/brokers"
SQS_DIR="$DATA/sqs"
SQS_PIDFILE="$SQS_DIR/fauxqs.pid"
SQS_LOG="$SQS_DIR/fauxqs.log"

# Development-only credentials (not a secret; never use them outside loopback test instances).
DB_NAME=couponlive
DB_USER=couponlive
DB_PASSWORD=couponlive-dev
MQ_USER=couponlive
MQ_PASSWORD=couponlive-dev

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
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] || pkgs+=(rabbitmq-server)
  command -v ss >/dev/null || pkgs+=(iproute2)
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

# True if something accepts TCP connections on host $1, port $2.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

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

# Like wait_for, but gives up early: no live pidfile after a short grace means the server exited
# during startup (e.g. port in use). Usage: wait_started timeout grace running-check pid-function comm
wait_started() {
  local deadline=$((SECONDS + $1)) grace=$((SECONDS + $2)) running=$3 pidfn=$4 comm=$5
  until "$running"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    if [ "$SECONDS" -ge "$grace" ] && ! pid_is "$("$pidfn")" "$comm"; then return 1; fi
    sleep 0.2
  done
}

# redis writes its pidfile only once listening.
wait_redis() { wait_started "$TIMEOUT" 3 redis_running redis_pid redis-server; }

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

# ---------------------------------------------------------------- rabbitmq

# Our node's environment, for the server and rabbitmqctl alike (env "${RABBITMQ_ENV[@]}" $RABBITMQ_BIN/rabbitmqctl).
# HOME holds the node's private Erlang cookie (the first start creates it); naming absent env and
# advanced config files keeps /etc/rabbitmq out; Erlang distribution listens on loopback only.
RABBITMQ_ENV=(
  HOME="$RABBITMQ_DIR"
  RABBITMQ_NODENAME="$RABBITMQ_NODE"
  RABBITMQ_NODE_IP_ADDRESS="$HOST"
  RABBITMQ_NODE_PORT="$RABBITMQ_PORT"
  RABBITMQ_DIST_PORT=$((RABBITMQ_PORT + 20000))
  ERL_EPMD_PORT="$RABBITMQ_EPMD_PORT"
  ERL_EPMD_ADDRESS="$HOST"
  RABBITMQ_CONF_ENV_FILE="$RABBITMQ_DIR/rabbitmq-env.conf"
  RABBITMQ_CONFIG_FILE="$RABBITMQ_DIR/rabbitmq.conf"
  RABBITMQ_ADVANCED_CONFIG_FILE="$RABBITMQ_DIR/advanced.config"
  RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DIR/enabled_plugins"
  RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia"
  RABBITMQ_LOG_BASE="$RABBITMQ_DIR/log"
  RABBITMQ_PID_FILE="$RABBITMQ_PIDFILE"
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
  RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  ERL_CRASH_DUMP="$RABBITMQ_DIR/erl_crash.dump"
)

rabbitmq_pid() { if [ -f "$RABBITMQ_PIDFILE" ]; then head -n 1 "$RABBITMQ_PIDFILE"; fi; }
# The node writes its pidfile early; the AMQP listener opens last, once the database and durable queues
# are recovered. ss checks that the listener is the node's: not just anything on that port.
rabbitmq_running() {
  local pid
  pid=$(rabbitmq_pid)
  pid_is "$pid" beam.smp && ss -Hltnp "sport = :$RABBITMQ_PORT" 2>/dev/null | grep -qF "pid=$pid,"
}

# Rewritten on every start. The default user is created on the first boot of an empty database only
# (delete $RABBITMQ_DIR to change it); there is no guest user then.
write_rabbitmq_conf() {
  mkdir -p "$RABBITMQ_DIR/log"
  echo '[].' >"$RABBITMQ_DIR/enabled_plugins"  # no management plugin, nor any other
  cat >"$RABBITMQ_DIR/rabbitmq.conf" <<EOF
default_vhost = /
default_user = $MQ_USER
default_pass = $MQ_PASSWORD
default_permissions.configure = .*
default_permissions.write = .*
default_permissions.read = .*
log.console = false
log.file.level = info
EOF
}

# Our epmd refuses to go while a node (this one, or another port's instance) is registered.
stop_epmd() {
  if command -v epmd >/dev/null; then ERL_EPMD_PORT="$RABBITMQ_EPMD_PORT" epmd -kill >/dev/null 2>&1 || true; fi
}

# The startup log's last lines hold the reason a boot failed ("init terminating in do_boot ...").
rabbitmq_fail() {
  tail -n 20 "$RABBITMQ_LOG" >&2 || true
  tail -n 5 "$RABBITMQ_STARTUP_LOG" >&2 || true
  stop_epmd
  die "$1"
}

# setsid: the node outlives the caller's session, as mariadbd does. rabbitmq-server stays in the
# foreground as the parent of the Erlang VM (beam.smp), whose pid the node writes to its pidfile.
start_rabbitmq() {
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] || die "RabbitMQ is not installed (run: $0 start)"
  if rabbitmq_running; then log "rabbitmq already running (pid $(rabbitmq_pid))"; return; fi
  if ! pid_is "$(rabbitmq_pid)" beam.smp; then  # else it is still booting
    rm -f "$RABBITMQ_PIDFILE"  # stale after a crash or reboot
    write_rabbitmq_conf
    (cd "$RABBITMQ_DIR" && setsid -f env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmq-server" \
      </dev/null >"$RABBITMQ_STARTUP_LOG" 2>&1)
  fi
  wait_started "$RABBITMQ_TIMEOUT" 10 rabbitmq_running rabbitmq_pid beam.smp ||
    rabbitmq_fail "rabbitmq did not come up on $HOST:$RABBITMQ_PORT (logs: $RABBITMQ_DIR)"
  log "rabbitmq started on $HOST:$RABBITMQ_PORT (pid $(rabbitmq_pid))"
}

# SIGTERM makes the Erlang VM stop RabbitMQ cleanly, as rabbitmqctl stop does, without starting a VM for
# the CLI first (~1 s instead of ~2 s). Our epmd goes too.
stop_rabbitmq() {
  local pid
  pid=$(rabbitmq_pid)
  if pid_is "$pid" beam.smp; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for pid_gone "$pid"; then
      log "rabbitmq pid $pid ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "rabbitmq stopped"
  fi
  rm -f "$RABBITMQ_PIDFILE"
  stop_epmd
}

rabbitmq_ctl() { env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmqctl" -q "$@"; }

# A memory alarm at once (watermark 0): the broker stops reading from publishing connections, so a publish
# in flight hangs unconfirmed (the drills kill a publisher then); unblock restores the default watermark.
# The alarm goes off at the broker's next memory check (every 2.5 s): wait for it.
rabbitmq_alarmed() { env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmq-diagnostics" -q alarms 2>/dev/null | grep -q "Memory alarm"; }
block_rabbitmq() {
  rabbitmq_ctl set_vm_memory_high_watermark 0 >/dev/null
  wait_for rabbitmq_alarmed || die "rabbitmq raised no memory alarm within ${TIMEOUT} s"
  log "rabbitmq blocks publishers (memory alarm)"
}
unblock_rabbitmq() { rabbitmq_ctl set_vm_memory_high_watermark 0.4 >/dev/null; log "rabbitmq takes publishes again"; }

# ---------------------------------------------------------------- sqs (fauxqs)

sqs_pid() { if [ -f "$SQS_PIDFILE" ]; then head -n 1 "$SQS_PIDFILE"; fi; }
sqs_running() { pid_is "$(sqs_pid)" node && tcp_open "$HOST" "$SQS_PORT"; }

# The Node packages pinned by tests/brokers/package-lock.json (fauxqs and the broker check clients).
ensure_brokers_npm() {
  if [ -d "$BROKERS_DIR/node_modules" ] && ! [ "$BROKERS_DIR/package-lock.json" -nt "$BROKERS_DIR/node_modules/.package-lock.json" ]; then
    return
  fi
  command -v npm >/dev/null || die "npm not found: fauxqs needs Node.js 20 or later"
  log "installing $BROKERS_DIR's node packages with npm ci"
  (cd "$BROKERS_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# sqs-server.mjs writes its pidfile once listening.
start_sqs() {
  if sqs_running; then log "sqs (fauxqs) already running (pid $(sqs_pid))"; return; fi
  ensure_brokers_npm
  mkdir -p "$SQS_DIR"
  if ! pid_is "$(sqs_pid)" node; then
    rm -f "$SQS_PIDFILE"
    setsid -f node "$BROKERS_DIR/sqs-server.mjs" "$SQS_PORT" "$SQS_PIDFILE" </dev/null >>"$SQS_LOG" 2>&1
  fi
  if ! wait_started "$TIMEOUT" 5 sqs_running sqs_pid node; then
    tail -n 20 "$SQS_LOG" >&2 || true
    die "sqs (fauxqs) did not come up on $HOST:$SQS_PORT"
  fi
  log "sqs (fauxqs) started on $HOST:$SQS_PORT (pid $(sqs_pid))"
}

stop_sqs() {
  local pid
  pid=$(sqs_pid)
  if ! pid_is "$pid" node; then rm -f "$SQS_PIDFILE"; return; fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for pid_gone "$pid"; then
    log "sqs (fauxqs) pid $pid ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SQS_PIDFILE"
  log "sqs (fauxqs) stopped"
}

# ---------------------------------------------------------------- commands

print_env() {
  echo "export COUPONLIVE_TEST_REDIS=$HOST:$REDIS_PORT"
  echo "export COUPONLIVE_TEST_POSTGRES='Host=$HOST;Port=$PG_PORT;Username=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME'"
  echo "export COUPONLIVE_TEST_MYSQL='Server=$HOST;Port=$MYSQL_PORT;User ID=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME'"
  echo "export COUPONLIVE_TEST_RABBITMQ='amqp://$MQ_USER:$MQ_PASSWORD@$HOST:$RABBITMQ_PORT/'"
  echo "export COUPONLIVE_TEST_SQS=http://$HOST:$SQS_PORT"
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
  if rabbitmq_running; then echo "rabbitmq: running on $HOST:$RABBITMQ_PORT (pid $(rabbitmq_pid))"
  else echo "rabbitmq: stopped ($HOST:$RABBITMQ_PORT)"; rc=1; fi
  if sqs_running; then echo "sqs:      running on $HOST:$SQS_PORT (fauxqs, pid $(sqs_pid))"
  else echo "sqs:      stopped ($HOST:$SQS_PORT)"; rc=1; fi
  return "$rc"
}

need_pgbin() { PGBIN=$(pg_bindir) || die "PostgreSQL is not installed (run: $0 start)"; }

main() {
  case "${1:-}" in
    start)          ensure_installed; start_redis; start_postgres; start_mysql; start_rabbitmq; start_sqs; print_env; print_hint ;;
    postgres)       ensure_installed; start_postgres ;;
    env)            print_env ;;
    status)         need_pgbin; status ;;
    stop)           need_pgbin; stop_redis; stop_postgres fast; stop_mysql; stop_rabbitmq; stop_sqs ;;
    stop-postgres)  need_pgbin; stop_postgres immediate ;;
    stop-mysql)     stop_mysql ;;
    start-mysql)    start_mysql ;;
    start-postgres) need_pgbin; start_postgres ;;
    restart-redis)  stop_redis; start_redis ;;
    stop-redis)     stop_redis ;;
    start-redis)    start_redis ;;
    stop-rabbitmq)  stop_rabbitmq ;;
    start-rabbitmq) start_rabbitmq ;;
    block-rabbitmq) block_rabbitmq ;;
    unblock-rabbitmq) unblock_rabbitmq ;;
    stop-sqs)       stop_sqs ;;
    start-sqs)      start_sqs ;;
    reset-db)       need_pgbin; reset_db ;;
    *) echo "usage: $0 start|postgres|stop|status|env|reset-db|stop-postgres|start-postgres|stop-mysql|start-mysql|restart-redis|stop-redis|start-redis|stop-rabbitmq|start-rabbitmq|block-rabbitmq|unblock-rabbitmq|stop-sqs|start-sqs" >&2; exit 2 ;;
  esac
}

main "$@"
