# Sourced by ensure-docker.sh and ensure-second-docker.sh: the isolation flags of a dockerd
# this project starts (never applied to an engine that is already running).
#   SHELLROOM_USERNS_REMAP  "default" (dockremap, created by dockerd), "user[:group]" with
#                           /etc/subuid and /etc/subgid entries, or "off"

engine_flags() {
  local remap="${SHELLROOM_USERNS_REMAP:-default}"
  if [ "$remap" != "off" ]; then printf -- '--userns-remap=%s ' "$remap"; fi
}

engine_flags_summary() {
  local remap="${SHELLROOM_USERNS_REMAP:-default}"
  if [ "$remap" != "off" ]; then printf ', userns-remap %s' "$remap"; fi
}
