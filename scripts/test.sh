#!/usr/bin/env bash
# Runs every test against real parts: type check, lint, import graph, unit and integration tests (vitest:
# real Docker, Postgres, Redis) and browser tests (Playwright in Debian's Chromium).
# Installs and starts whatever is missing, and stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
mkdir -p .data
started_pids=()
cleanup() { for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

bash scripts/ensure-system-packages.sh debootstrap:debootstrap chromium:chromium curl:curl cc:gcc
bash scripts/install.sh
bash scripts/ensure-docker.sh
node_modules/.bin/tsx runtime-worker/images/ensure-default-image.ts

if [ -z "${TEST_POSTGRES_URL:-}" ]; then ensure_postgres 54330 test; TEST_POSTGRES_URL="$POSTGRES_SERVER_URL"; fi
export TEST_POSTGRES_URL
ensure_redis test

# Further worker hosts are made by the tests themselves, each in a network namespace with its
# own dockerd (tests/support/worker-host.ts); they need root, iproute2, nsenter and unshare.

echo "[test] type check"
node_modules/.bin/tsc --noEmit -p tsconfig.json

echo "[test] lint"
node_modules/.bin/eslint . --max-warnings 0

echo "[test] format (prettier --check)"
node_modules/.bin/prettier --check --log-level warn "**/*.{ts,tsx,mjs,css,json}"

echo "[test] import graph (no cycles, no back arrows)"
node_modules/.bin/tsx scripts/check-graph.ts

rm -f .data/vitest-results.json .data/playwright-results.json
echo "[test] unit + integration (vitest)"
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.data/vitest-results.json

echo "[test] production build for the browser tests"
node_modules/.bin/next build > .data/next-build.log 2>&1 || { tail -60 .data/next-build.log >&2; exit 1; }

echo "[test] browser tests (Playwright, Debian's Chromium)"
# Rate limits and socket.io channels of this run stay apart from any other run's.
export SHELLROOM_REDIS_PREFIX="shellroom-e2e-$$-$(date +%s)"
DATABASE_URL="$(node_modules/.bin/tsx tests/support/prepare-database.ts "$TEST_POSTGRES_URL" shellroom_e2e)"
built_images() { docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep '^shellroom/c-' | sort || true; }
images_before="$(built_images)"
status=0
DATABASE_URL="$DATABASE_URL" node_modules/.bin/playwright test || status=$?
node_modules/.bin/tsx tests/support/remove-worker-containers.ts e2e-worker || true
# Images the browser tests built (instructors' Dockerfiles) go with them; older ones stay.
comm -13 <(echo "$images_before") <(built_images) | grep . | xargs -r docker image rm >/dev/null 2>&1 || true
node_modules/.bin/tsx tests/support/summarize-results.ts .data/vitest-results.json .data/playwright-results.json
exit "$status"
