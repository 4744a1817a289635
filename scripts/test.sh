#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and API/concurrency/restart tests against the real
# service on loopback. Installs and starts whatever the tests need by itself.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

# Private Redis and PostgreSQL on loopback (installed with apt when missing) for production-mode tests.
./scripts/services.sh start >/dev/null
eval "$(./scripts/services.sh env)"

# Real gRPC and Connect clients from npm for the interop tests (tests/interop, pinned by package-lock.json).
if [ ! -d tests/interop/node_modules ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

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
