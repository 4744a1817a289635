#!/usr/bin/env bash
# nginx (from Debian) as the load balancer in front of several CouponLive processes, on 127.0.0.1.
#
#   scripts/nginx-lb.sh up DIR HTTP_PORT GRPC_PORT HTTP_BACKENDS [GRPC_BACKENDS]
#       HTTP_BACKENDS, GRPC_BACKENDS: comma-separated host:port lists. HTTP_PORT serves REST, Connect and
#       the dashboard over HTTP/1.1 with keep-alive connections to the processes; GRPC_PORT serves gRPC
#       (and Connect) over cleartext HTTP/2 with grpc_pass. GRPC_PORT 0 leaves it out.
#   scripts/nginx-lb.sh down DIR
#   scripts/nginx-lb.sh status DIR
set -euo pipefail

HOST=127.0.0.1

log() { echo "nginx-lb: $*" >&2; }
die() { log "error: $*"; exit 1; }

nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

ensure_installed() {
  [ -n "$(nginx_bin)" ] && return
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing nginx with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y nginx >/dev/null
}

servers() { # comma list -> "server host:port ...;" lines
  local IFS=, s
  for s in $1; do echo "    server $s max_fails=1 fail_timeout=2s;"; done
}

write_conf() {
  local dir=$1 http_port=$2 grpc_port=$3 http_backends=$4 grpc_backends=${5:-}
  mkdir -p "$dir/tmp"
  chmod 1777 "$dir/tmp" # workers may run as another user than the master
  cat >"$dir/nginx.conf" <<EOF
# Written by scripts/nginx-lb.sh.
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  client_max_body_size 256k;

  upstream couponlive {
$(servers "$http_backends")
    keepalive 256;
    keepalive_requests 1000000;
  }

  server {
    listen $HOST:$http_port backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_connect_timeout 1s;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;

    location / {
      proxy_pass http://couponlive;
    }
    # Issuing is idempotent per user (a holder gets the same coupon back), so a request whose process
    # died or stopped under it (a connect error, a reset, a 502) may be sent to another one. Other POSTs
    # (creating a campaign) are not resent.
    location ~ ^(/api/v1/campaigns/[0-9]+/issue|/couponlive\.v1\.CouponService/IssueCoupon)\$ {
      proxy_pass http://couponlive;
      proxy_next_upstream error timeout http_502 non_idempotent;
    }
    # The live view: server-sent events, unbuffered and long-lived.
    location ~ ^/api/v1/campaigns/[0-9]+/live\$ {
      proxy_pass http://couponlive;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
EOF
  if [ "$grpc_port" != 0 ] && [ -n "$grpc_backends" ]; then
    cat >>"$dir/nginx.conf" <<EOF

  upstream couponlive_grpc {
$(servers "$grpc_backends")
    keepalive 64;
  }

  server {
    listen $HOST:$grpc_port http2;
    grpc_connect_timeout 1s;
    grpc_next_upstream error timeout;
    location / {
      grpc_pass grpc://couponlive_grpc;
    }
    location = /couponlive.v1.CouponService/IssueCoupon {
      grpc_pass grpc://couponlive_grpc;
      grpc_next_upstream error timeout http_502 non_idempotent;
    }
  }
EOF
  fi
  echo "}" >>"$dir/nginx.conf"
}

pid_alive() { [ -f "$1/nginx.pid" ] && kill -0 "$(cat "$1/nginx.pid")" 2>/dev/null; }

cmd_up() {
  local dir=$1 http_port=$2
  ensure_installed
  pid_alive "$dir" && die "nginx already runs from $dir"
  write_conf "$@"
  local bin; bin=$(nginx_bin)
  "$bin" -t -q -p "$dir" -c "$dir/nginx.conf" 2>"$dir/check.log" || { cat "$dir/check.log" >&2; die "nginx refused its configuration"; }
  "$bin" -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/error.log"
  local deadline=$((SECONDS + 10))
  until curl -s -o /dev/null "http://$HOST:$http_port/" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$dir/error.log" >&2; die "nginx did not answer on $http_port"; }
    sleep 0.1
  done
  log "nginx on $HOST:$http_port (HTTP)$([ "$3" != 0 ] && echo " and $HOST:$3 (gRPC, h2c)") in front of $4"
}

cmd_down() {
  local dir=$1 pid
  pid_alive "$dir" || return 0
  pid=$(cat "$dir/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  log "nginx stopped"
}

main() {
  local command=${1:-}; shift || true
  case "$command" in
    up)     [ $# -ge 4 ] || die "usage: $0 up DIR HTTP_PORT GRPC_PORT HTTP_BACKENDS [GRPC_BACKENDS]"; cmd_up "$@" ;;
    down)   [ $# -eq 1 ] || die "usage: $0 down DIR"; cmd_down "$1" ;;
    status) [ $# -eq 1 ] || die "usage: $0 status DIR"
            if pid_alive "$1"; then echo "nginx: running (pid $(cat "$1/nginx.pid"))"; else echo "nginx: stopped"; exit 1; fi ;;
    *) echo "usage: $0 up|down|status DIR ..." >&2; exit 2 ;;
  esac
}

main "$@"
