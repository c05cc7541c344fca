#!/usr/bin/env bash
# Installs the project's npm packages (with the install-script policy in package.json's
# allowScripts) and generates the Prisma client. Cheap when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "[install] npm install"
  # `npm ci` trips over optional platform packages here; install honours the lockfile.
  npm install --strict-allow-scripts --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true
  [ -d node_modules/.bin ] || { echo "[install] npm install failed" >&2; exit 1; }
fi
if [ ! -f generated/prisma/client.ts ] || [ prisma/schema.prisma -nt generated/prisma/client.ts ]; then
  echo "[install] prisma generate"
  node_modules/.bin/prisma generate >/dev/null
fi
