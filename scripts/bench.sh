#!/usr/bin/env bash
# Benchmarks the platform against raw dockerode in the same run (tests/bench/run-bench.ts):
# cold start to first prompt, keystroke echo, output throughput; then warm pools against
# cold starts (one student, and a class of 50 at once). Prints ratios and writes
# .data/bench-results.json; asserts nothing. Installs and starts whatever is missing, and
# stops only what it started. BENCH_PHASES=raw or =pool runs one half.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
mkdir -p .data
started_pids=()
cleanup() { for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bash scripts/install.sh
bash scripts/ensure-docker.sh
node_modules/.bin/tsx runtime-worker/images/ensure-default-image.ts

# Postgres: the machine's server when one answers, an embedded one otherwise.
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then :
elif port_answers 5432; then BENCH_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432/postgres"
else
  echo "[bench] no Postgres on 127.0.0.1:5432: starting an embedded one"
  node_modules/.bin/tsx tests/support/embedded-test-postgres.ts 54331 > .data/bench-postgres.url 2>.data/bench-postgres.log &
  started_pids+=($!)
  for _ in $(seq 1 120); do [ -s .data/bench-postgres.url ] && break; sleep 0.5; done
  BENCH_POSTGRES_URL="$(head -1 .data/bench-postgres.url)"
  [ -n "$BENCH_POSTGRES_URL" ] || { cat .data/bench-postgres.log >&2; exit 1; }
fi

# Redis: the machine's server, or Debian's redis-server started for this run.
if [ -z "${REDIS_URL:-}" ]; then
  if ! port_answers 6379; then
    bash scripts/ensure-system-packages.sh redis-server:redis-server
    redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no > .data/bench-redis.log 2>&1 &
    started_pids+=($!)
    for _ in $(seq 1 40); do port_answers 6379 && break; sleep 0.25; done
  fi
  export REDIS_URL="redis://127.0.0.1:6379"
fi

echo "[bench] preparing database shellroom_bench"
DATABASE_URL="$(node_modules/.bin/tsx tests/support/prepare-database.ts "$BENCH_POSTGRES_URL" shellroom_bench)"
export DATABASE_URL

node_modules/.bin/tsx tests/bench/run-bench.ts
