#!/usr/bin/env bash
# Replicated Redis topologies on 127.0.0.1 for CouponLive's tests, drills and scripts/cluster.sh.
# Each topology lives in its own directory (config, data, logs, pids) so several can run at once.
#
#   scripts/redis-ha.sh cluster  DIR BASE_PORT [MASTERS=3] [REPLICAS_PER_MASTER=1]
#       nodes on BASE_PORT.., created with `redis-cli --cluster create`; prints the connection string
#   scripts/redis-ha.sh sentinel DIR BASE_PORT
#       a primary on BASE_PORT, two replicas on +1 and +2, three sentinels on +10..+12 watching
#       the service "couponlive"; prints the connection string (sentinels + serviceName)
#   scripts/redis-ha.sh node     DIR PORT      one more empty cluster node (for add-node / rebalance)
#   scripts/redis-ha.sh primary  DIR           the port of the Sentinel topology's current primary
#   scripts/redis-ha.sh down     DIR           stops every process of the topology, removes nothing
#   scripts/redis-ha.sh status   DIR           one line per process
#
# Nodes keep no data on disk (no RDB, no AOF): losing a node's data is a failure the drills cause on
# purpose, and the SQL store is the arbiter. Timeouts are short (2 s) so a failover takes seconds.
set -euo pipefail

HOST=127.0.0.1
NODE_TIMEOUT_MS=${REDIS_HA_NODE_TIMEOUT_MS:-2000}
SERVICE=couponlive

log() { echo "redis-ha: $*" >&2; }
STARTING=""  # the topology being created: stopped again if creating it fails
die() {
  log "error: $*"
  [ -z "$STARTING" ] || cmd_down "$STARTING"
  exit 1
}

ensure_installed() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing redis-server with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y redis-server >/dev/null
}

cli() { local port=$1; shift; timeout 5 redis-cli -h "$HOST" -p "$port" "$@"; }

wait_until() { # seconds command...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

answers() { [ "$(cli "$1" ping 2>/dev/null)" = PONG ]; }

# start_node DIR PORT [extra config lines...]
start_node() {
  local dir=$1 port=$2; shift 2
  local node="$dir/$port"
  mkdir -p "$node"
  rm -f "$node/redis.pid"
  {
    echo "bind $HOST"
    echo "port $port"
    echo "protected-mode yes"
    echo "daemonize yes"
    echo "pidfile $node/redis.pid"
    echo "logfile $node/redis.log"
    echo "dir $node"
    echo 'save ""'
    echo "appendonly no"
    printf '%s\n' "$@"
  } >"$node/redis.conf"
  redis-server "$node/redis.conf"
  wait_until 10 answers "$port" || { tail -n 20 "$node/redis.log" >&2; die "redis on $port did not start"; }
  echo "$port" >>"$dir/ports"
}

cluster_ok() { # port expected_nodes
  local info
  info=$(cli "$1" cluster info 2>/dev/null) || return 1
  grep -q '^cluster_state:ok' <<<"$info" && grep -q "^cluster_known_nodes:$2" <<<"$info" \
    && grep -q '^cluster_slots_ok:16384' <<<"$info"
}

cluster_node_config() {
  echo "cluster-enabled yes"
  echo "cluster-config-file nodes.conf"
  echo "cluster-node-timeout $NODE_TIMEOUT_MS"
  # Other shards keep serving while one has no primary: one campaign's outage is not everyone's.
  echo "cluster-require-full-coverage no"
  echo "cluster-allow-replica-migration no"
}

cmd_cluster() {
  local dir=$1 base=$2 masters=${3:-3} replicas=${4:-1}
  local count=$((masters * (1 + replicas))) addrs=() port
  [ ! -s "$dir/ports" ] || die "$dir already holds a topology (run: $0 down $dir, then remove it)"
  mkdir -p "$dir"
  : >"$dir/ports"
  STARTING=$dir
  echo cluster >"$dir/kind"
  for ((i = 0; i < count; i++)); do
    port=$((base + i))
    mapfile -t conf < <(cluster_node_config)
    start_node "$dir" "$port" "${conf[@]}"
    addrs+=("$HOST:$port")
  done
  # Joining waits for gossip, seconds on a busy machine: not bounded by cli's 5 s.
  timeout 60 redis-cli -h "$HOST" -p "$base" --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; die "cluster create failed"; }
  for ((i = 0; i < count; i++)); do
    wait_until 30 cluster_ok $((base + i)) "$count" || die "node $((base + i)) did not see a healthy cluster"
  done
  # Replicas report themselves as synced only after their first full sync.
  wait_until 30 replicas_synced "$dir" || die "replicas did not finish their first sync"
  log "cluster of $masters primaries x $replicas replicas on $HOST:$base..$((base + count - 1))"
  connection_string "$dir"
}

replicas_synced() {
  local port
  while read -r port; do
    local info; info=$(cli "$port" info replication 2>/dev/null) || return 1
    if grep -q '^role:slave' <<<"$info"; then grep -q '^master_link_status:up' <<<"$info" || return 1; fi
  done <"$1/ports"
}

cmd_node() {
  local dir=$1 port=$2
  mapfile -t conf < <(cluster_node_config)
  start_node "$dir" "$port" "${conf[@]}"
  log "empty cluster node on $HOST:$port"
}

cmd_sentinel() {
  local dir=$1 base=$2 port
  [ ! -s "$dir/ports" ] || die "$dir already holds a topology (run: $0 down $dir, then remove it)"
  mkdir -p "$dir"
  : >"$dir/ports"
  STARTING=$dir
  echo sentinel >"$dir/kind"
  echo "$base" >"$dir/base"
  start_node "$dir" "$base"
  for i in 1 2; do start_node "$dir" $((base + i)) "replicaof $HOST $base"; done
  for i in 10 11 12; do
    port=$((base + i))
    local node="$dir/$port"
    mkdir -p "$node"
    rm -f "$node/redis.pid"
    # Sentinels rewrite their own file, so it is written afresh each time.
    cat >"$node/sentinel.conf" <<EOF
bind $HOST
port $port
daemonize yes
pidfile $node/redis.pid
logfile $node/redis.log
dir $node
sentinel monitor $SERVICE $HOST $base 2
sentinel down-after-milliseconds $SERVICE $NODE_TIMEOUT_MS
sentinel failover-timeout $SERVICE 10000
sentinel parallel-syncs $SERVICE 1
EOF
    redis-server "$node/sentinel.conf" --sentinel
    wait_until 10 answers "$port" || { tail -n 20 "$node/redis.log" >&2; die "sentinel on $port did not start"; }
    echo "$port" >>"$dir/ports"
  done
  wait_until 30 replicas_synced "$dir" || die "replicas did not finish their first sync"
  wait_until 30 sentinels_agree "$dir" "$base" || die "sentinels did not discover the replicas"
  log "primary $HOST:$base, replicas :$((base + 1)) :$((base + 2)), sentinels :$((base + 10))..:$((base + 12))"
  connection_string "$dir"
}

sentinels_agree() { # every sentinel knows the primary, 2 replicas and 2 other sentinels
  local dir=$1 base=$2
  for i in 10 11 12; do
    local info; info=$(cli $((base + i)) sentinel master "$SERVICE" 2>/dev/null) || return 1
    grep -A1 -x 'num-slaves' <<<"$info" | tail -n 1 | grep -qx 2 || return 1
    grep -A1 -x 'num-other-sentinels' <<<"$info" | tail -n 1 | grep -qx 2 || return 1
  done
}

cmd_primary() {
  local dir=$1 base
  base=$(cat "$dir/base")
  for i in 10 11 12; do
    local addr
    if addr=$(cli $((base + i)) sentinel get-master-addr-by-name "$SERVICE" 2>/dev/null) && [ -n "$addr" ]; then
      tail -n 1 <<<"$addr"
      return
    fi
  done
  die "no sentinel answered"
}

connection_string() {
  local dir=$1
  if [ "$(cat "$dir/kind")" = sentinel ]; then
    local base; base=$(cat "$dir/base")
    echo "$HOST:$((base + 10)),$HOST:$((base + 11)),$HOST:$((base + 12)),serviceName=$SERVICE"
  else
    sed "s/^/$HOST:/" "$dir/ports" | paste -sd,
  fi
}

cmd_down() {
  local dir=$1 port pid
  [ -f "$dir/ports" ] || return 0
  while read -r port; do
    pid=$(cat "$dir/$port/redis.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done <"$dir/ports"
  : >"$dir/ports"
  log "stopped the topology in $dir"
}

cmd_status() {
  local dir=$1 port
  [ -f "$dir/ports" ] || { echo "no topology in $dir"; return 1; }
  while read -r port; do
    if answers "$port"; then
      echo "$port: $(cli "$port" info replication 2>/dev/null | grep -m1 '^role:' | tr -d '\r') $(cli "$port" info server | grep -m1 '^redis_mode:' | tr -d '\r')"
    else
      echo "$port: down"
    fi
  done <"$dir/ports"
}

main() {
  local command=${1:-}; shift || true
  case "$command" in
    cluster)  [ $# -ge 2 ] || die "usage: $0 cluster DIR BASE_PORT [MASTERS] [REPLICAS]"; ensure_installed; cmd_cluster "$@" ;;
    sentinel) [ $# -eq 2 ] || die "usage: $0 sentinel DIR BASE_PORT"; ensure_installed; cmd_sentinel "$@" ;;
    node)     [ $# -eq 2 ] || die "usage: $0 node DIR PORT"; ensure_installed; cmd_node "$@" ;;
    primary)  [ $# -eq 1 ] || die "usage: $0 primary DIR"; cmd_primary "$@" ;;
    down)     [ $# -eq 1 ] || die "usage: $0 down DIR"; cmd_down "$@" ;;
    status)   [ $# -eq 1 ] || die "usage: $0 status DIR"; cmd_status "$@" ;;
    *) echo "usage: $0 cluster|sentinel|node|primary|down|status DIR ..." >&2; exit 2 ;;
  esac
}

main "$@"
