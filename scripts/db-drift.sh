#!/usr/bin/env bash
# Fails when prisma/schema.prisma and prisma/migrations disagree (a schema change without its
# migration). With a driver adapter Prisma 6 cannot diff against a shadow database, so this
# replays the migrations into a throwaway database and asks `db push` whether the schema
# would change anything there. SHADOW_POSTGRES_URL names a server (default the local one).
set -euo pipefail
cd "$(dirname "$0")/.."
server="${SHADOW_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
scratch="shellroom_drift_$$"
on_server() { node -e "
  const pg = require('pg');
  const client = new pg.Client({ connectionString: process.argv[1] });
  client.connect().then(() => client.query(process.argv[2])).then(() => client.end(), (error) => { console.error(error.message); process.exit(1); });
" "$server" "$1"; }
on_server "CREATE DATABASE ${scratch}"
trap 'on_server "DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)" || true' EXIT
export DATABASE_URL="${server%/*}/${scratch}"
node_modules/.bin/prisma migrate deploy > /dev/null
output="$(node_modules/.bin/prisma db push --skip-generate --accept-data-loss 2>&1)"
if grep -q "already in sync" <<< "$output"; then echo "[db] schema and migrations agree"; exit 0; fi
echo "[db] the schema has changes no migration makes:" >&2
echo "$output" | grep -v "^$" | tail -20 >&2
exit 1
