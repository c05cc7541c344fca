#!/usr/bin/env bash
# Sets up and runs the whole platform on this machine: packages, Docker engine, the
# default student image, a production build, then server + one worker.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

bash scripts/ensure-system-packages.sh debootstrap:debootstrap curl:curl cc:gcc
bash scripts/install.sh
bash scripts/ensure-docker.sh
node_modules/.bin/tsx runtime-worker/images/ensure-default-image.ts
if [ "${SHELLROOM_DEV:-0}" != 1 ]; then
  echo "[build] next build"
  node_modules/.bin/next build >.data/next-build.log 2>&1 || { tail -40 .data/next-build.log >&2; exit 1; }
fi
exec node_modules/.bin/tsx scripts/platform.ts
