# Sourced by test.sh and bench.sh: finds or starts the Postgres and Redis a run needs.
# The caller keeps `started_pids` (an array) and ends those processes in its EXIT trap.

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets POSTGRES_SERVER_URL: the machine's server when one answers on 5432, otherwise an
# embedded Postgres on $1, with its files under .data/ named after $2.
ensure_postgres() {
  local port=$1 tag=$2
  if port_answers 5432; then
    POSTGRES_SERVER_URL="postgresql://postgres@127.0.0.1:5432/postgres"
    return
  fi
  echo "[$tag] no Postgres on 127.0.0.1:5432: starting an embedded one"
  node_modules/.bin/tsx tests/support/embedded-test-postgres.ts "$port" > ".data/$tag-postgres.url" 2>".data/$tag-postgres.log" &
  started_pids+=($!)
  for _ in $(seq 1 120); do [ -s ".data/$tag-postgres.url" ] && break; sleep 0.5; done
  POSTGRES_SERVER_URL="$(head -1 ".data/$tag-postgres.url")"
  [ -n "$POSTGRES_SERVER_URL" ] || { cat ".data/$tag-postgres.log" >&2; exit 1; }
}

# Exports REDIS_URL: the machine's Redis, or Debian's redis-server started for this run.
ensure_redis() {
  local tag=$1
  [ -n "${REDIS_URL:-}" ] && return
  if ! port_answers 6379; then
    bash scripts/ensure-system-packages.sh redis-server:redis-server
    redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no > ".data/$tag-redis.log" 2>&1 &
    started_pids+=($!)
    for _ in $(seq 1 40); do port_answers 6379 && break; sleep 0.25; done
  fi
  export REDIS_URL="redis://127.0.0.1:6379"
}
