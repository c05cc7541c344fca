#!/usr/bin/env bash
# Benchmarks the platform against raw dockerode in the same run (tests/bench/run-bench.ts):
# cold start to first prompt, keystroke echo, output throughput; terminals under load (echo
# with 100 active terminals, a flood and its Ctrl-C, and a separate server process's RSS
# under flood against a stated bound); then warm pools against cold starts (one student,
# and a class of 50 at once). Prints ratios and writes .data/bench-results.json; asserts
# nothing. Installs and starts whatever is missing, and stops only what it started.
# BENCH_PHASES (default raw,terminals,pool,containment,runtime,class,wire) picks the parts; runtime is runc
# against crun for a class burst (needs an engine with crun registered, see lib/engine-flags.sh);
# class is the class on one host with server and worker as separate processes: a class of
# BENCH_CLASS_SIZE (100) joining through the link and starting at once, cold beside a raw Docker
# burst of as many and from a full pool, then BENCH_IDLE_ENVIRONMENTS (300) placed and idle with
# host memory per environment and a bystander's echo p99 among them. wire is the terminal hop by
# hop: server, worker and each browser (the page's protocol) as separate processes, beside raw
# Docker (a dockerode TTY exec from a client process) and wetty (`docker exec -it` into a container
# of the same kind); keystroke echo p50/p99, throughput, echo with BENCH_WIRE_TERMINALS (100)
# typing, CPU per echo and per MB of each process from /proc, and a bystander's echo p99 while
# another terminal of the same server floods, against its quiet p99.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
mkdir -p .data
started_pids=()
cleanup() { for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

bash scripts/install.sh
bash scripts/ensure-docker.sh
node_modules/.bin/tsx runtime-worker/images/ensure-default-image.ts

if [ -z "${BENCH_POSTGRES_URL:-}" ]; then ensure_postgres 54331 bench; BENCH_POSTGRES_URL="$POSTGRES_SERVER_URL"; fi
ensure_redis bench

echo "[bench] preparing database shellroom_bench"
DATABASE_URL="$(node_modules/.bin/tsx tests/support/prepare-database.ts "$BENCH_POSTGRES_URL" shellroom_bench)"
export DATABASE_URL

node_modules/.bin/tsx tests/bench/run-bench.ts
