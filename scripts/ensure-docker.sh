#!/usr/bin/env bash
# Makes sure a Docker engine answers on DOCKER_HOST (or the default socket).
# On Debian as root it installs Debian's docker.io and starts dockerd with its default
# bridge disabled: student containers use NetworkMode "none", and nothing should ever
# route to Docker's private ranges. Elsewhere it stops and says what to install.
# An engine it starts remaps user namespaces (userns-remap "default": container uids map to
# the dockremap user's subordinate range, so no student is host uid 1000), unless
# SHELLROOM_USERNS_REMAP=off. Containers run under runc unless SHELLROOM_DOCKER_RUNTIME=crun
# (see lib/engine-flags.sh; crun is installed here on Debian when asked for).
# An engine that already answers is used as it is: nothing here reconfigures it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
log() { printf '[docker] %s\n' "$*"; }

socket="${DOCKER_HOST:-unix:///var/run/docker.sock}"
socket_path="${socket#unix://}"

engine_answers() {
  [ -S "$socket_path" ] && curl -fsS --unix-socket "$socket_path" http://localhost/_ping >/dev/null 2>&1
}

# runc gives every container a session keyring, owned by the container's root. With user
# namespaces remapped, every container's root is the same host uid, and the kernel's default
# quota (200 keys, 20000 bytes per uid) then caps the host at about 200 running containers
# ("unable to create session key: disk quota exceeded"). Raising a quota changes no engine.
raise_key_quota() {
  [ "$(id -u)" = 0 ] || return 0
  local keys=/proc/sys/kernel/keys
  if [ -w "$keys/maxkeys" ] && [ "$(cat "$keys/maxkeys")" -lt 5000 ]; then echo 5000 > "$keys/maxkeys"; log "kernel.keys.maxkeys raised to 5000"; fi
  if [ -w "$keys/maxbytes" ] && [ "$(cat "$keys/maxbytes")" -lt 500000 ]; then echo 500000 > "$keys/maxbytes"; log "kernel.keys.maxbytes raised to 500000"; fi
}
raise_key_quota || log "could not raise the kernel's key quota (about 200 containers per host with userns-remap)"

if engine_answers; then
  log "engine answers on $socket_path"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's docker.io (one time)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io >/dev/null
  else
    echo "No Docker engine is reachable at $socket_path and dockerd is not installed." >&2
    echo "Install Docker Engine (Debian: 'apt-get install docker.io' as root), start it, and run this again." >&2
    exit 1
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "dockerd is installed but not running, and only root can start it here: start it (e.g. 'sudo dockerd --bridge=none &')." >&2
  exit 1
fi

mkdir -p "$here/.data"
# shellcheck source=lib/engine-flags.sh
. "$here/scripts/lib/engine-flags.sh"
if [ "${SHELLROOM_DOCKER_RUNTIME:-runc}" = crun ] && [ -z "$(crun_path)" ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian's crun (one time)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crun >/dev/null
fi
# Computed first so that a runtime that cannot work stops here, with its reason.
flags="$(engine_flags)"
log "starting dockerd (default bridge disabled$(engine_flags_summary)), log in .data/dockerd.log"
# setsid: dockerd outlives this script and is not tied to the caller's terminal; its pid
# is written so that whoever started it can end exactly that process.
# shellcheck disable=SC2086 # the flags are separate words on purpose
setsid dockerd --host "unix://$socket_path" --bridge=none --iptables=false --ip-masq=false $flags \
  --pidfile "$here/.data/dockerd.pid" >"$here/.data/dockerd.log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if engine_answers; then log "engine up"; exit 0; fi
  sleep 0.5
done
echo "dockerd did not answer within 30 s; see .data/dockerd.log:" >&2
tail -20 "$here/.data/dockerd.log" >&2
exit 1
