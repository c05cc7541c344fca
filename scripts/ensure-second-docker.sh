#!/usr/bin/env bash
# A second Docker engine on this machine, standing in for a second worker host in tests:
# its own data root, exec root and socket, default bridge disabled. Prints its DOCKER_HOST.
# It gets the default student image from the first engine (no registry: save | load), unless
# SHELLROOM_SECOND_DOCKER_EMPTY=1: a fresh host with nothing on it (the platform brings it images).
# SHELLROOM_SECOND_DOCKER names it (socket /run/NAME.sock, pid /run/NAME.pid, data root
# /var/lib/NAME): several can run side by side. User namespaces stay off here unless
# SHELLROOM_USERNS_REMAP says otherwise (see lib/engine-flags.sh), so a test can ask for them.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
name="${SHELLROOM_SECOND_DOCKER:-shellroom-docker-b}"
socket="/run/$name.sock"
log() { printf '[%s] %s\n' "$name" "$*" >&2; }
# shellcheck source=lib/engine-flags.sh
. "$here/scripts/lib/engine-flags.sh"
export SHELLROOM_USERNS_REMAP="${SHELLROOM_USERNS_REMAP:-off}"

answers() { [ -S "$socket" ] && curl -fsS --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

if ! answers; then
  [ "$(id -u)" = 0 ] || { echo "Starting a second dockerd needs root." >&2; exit 1; }
  mkdir -p "$here/.data"
  flags="$(engine_flags)"
  log "starting a second dockerd (data root /var/lib/$name$(engine_flags_summary))"
  # shellcheck disable=SC2086 # the flags are separate words on purpose
  setsid dockerd --host "unix://$socket" --data-root "/var/lib/$name" --exec-root "/run/$name" \
    --pidfile "/run/$name.pid" --bridge=none --iptables=false --ip-masq=false $flags \
    >"$here/.data/$name.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { tail -20 "$here/.data/$name.log" >&2; exit 1; }
fi
image=shellroom/default:1
if [ "${SHELLROOM_SECOND_DOCKER_EMPTY:-0}" != 1 ] && ! DOCKER_HOST="unix://$socket" docker image inspect "$image" >/dev/null 2>&1; then
  log "copying $image to the second engine"
  docker save "$image" | DOCKER_HOST="unix://$socket" docker load >/dev/null
fi
echo "unix://$socket"
