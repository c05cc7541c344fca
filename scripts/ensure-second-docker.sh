#!/usr/bin/env bash
# A second Docker engine on this machine, standing in for a second worker host in tests:
# its own data root, exec root and socket, default bridge disabled. Prints its DOCKER_HOST.
# It gets the default student image from the first engine (no registry: save | load).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
socket=/run/shellroom-docker-b.sock
log() { printf '[docker-b] %s\n' "$*" >&2; }

answers() { [ -S "$socket" ] && curl -fsS --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

if ! answers; then
  [ "$(id -u)" = 0 ] || { echo "Starting a second dockerd needs root." >&2; exit 1; }
  mkdir -p "$here/.data"
  log "starting a second dockerd (data root /var/lib/shellroom-docker-b)"
  setsid dockerd --host "unix://$socket" --data-root /var/lib/shellroom-docker-b --exec-root /run/shellroom-docker-b \
    --pidfile /run/shellroom-docker-b.pid --bridge=none --iptables=false --ip-masq=false \
    >"$here/.data/dockerd-b.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { tail -20 "$here/.data/dockerd-b.log" >&2; exit 1; }
fi
image=shellroom/default:1
if ! DOCKER_HOST="unix://$socket" docker image inspect "$image" >/dev/null 2>&1; then
  log "copying $image to the second engine"
  docker save "$image" | DOCKER_HOST="unix://$socket" docker load >/dev/null
fi
echo "unix://$socket"
