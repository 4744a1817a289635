#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and API/concurrency/restart tests against the real
# service on loopback. Installs and starts whatever the tests need by itself.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools from Debian the tests use: promtool (package prometheus) parses /metrics; chromium runs the
# dashboard's browser test (no browser download), with a Korean font so its screenshots are readable;
# nginx balances the load-balancer drill. (redis-server, which also runs the Cluster and Sentinel
# topologies, and postgresql come with scripts/services.sh below.)
missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v chromium >/dev/null || missing+=(chromium)
[ -d /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Private Redis, PostgreSQL, MariaDB, RabbitMQ and an SQS endpoint (fauxqs, with tests/brokers' Node packages)
# on loopback, installed when missing, for production-mode and event tests.
./scripts/services.sh start >/dev/null
eval "$(./scripts/services.sh env)"

# Node packages pinned by package-lock.json: real gRPC and Connect clients (tests/interop) and
# playwright-core driving Debian's chromium (tests/browser), an OpenID Connect provider (tests/oidc).
for dir in tests/interop tests/browser tests/oidc; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT

set +e
dotnet test CouponLive.slnx "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain summary line for CI: "N passed, N failed, N skipped".
awk '/(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:")  f += $(i+1);
         if ($i == "Passed:")  p += $(i+1);
         if ($i == "Skipped:") s += $(i+1);
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' FS='[ ,]+' "$log"
exit "$status"
