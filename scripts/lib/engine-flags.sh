# Sourced by ensure-docker.sh, and by tests/support/worker-host.ts for its hosts' engines: the
# isolation and runtime flags of a dockerd this project starts (never applied to an engine that
# is already running).
#   SHELLROOM_USERNS_REMAP    "default" (dockremap, created by dockerd), "user[:group]" with
#                             /etc/subuid and /etc/subgid entries, or "off"
#   SHELLROOM_DOCKER_RUNTIME  the OCI runtime containers run under by default: "runc" (the
#                             default) or "crun". runc stays the default because crun 1.8.1
#                             failed here (docs/OPERATIONS.md, "Container runtime"). crun, when
#                             installed, is registered either way, so one worker can name it
#                             per container (SHELLROOM_CONTAINER_RUNTIME).
#   SHELLROOM_CRUN            path of the crun binary (default: crun on PATH)
#   SHELLROOM_CGROUP_UNIFIED_CONTROLLERS  where a hybrid host lists cgroup2's controllers (tests)

crun_path() { if [ -n "${SHELLROOM_CRUN:-}" ]; then echo "$SHELLROOM_CRUN"; else command -v crun 2>/dev/null || true; fi; }

# Why crun cannot run containers on this host, or nothing. crun refuses a hybrid cgroup layout
# whose cgroup2 mount has controllers ("cgroups in hybrid mode not supported"): every create fails.
crun_unusable_reason() {
  local unified="${SHELLROOM_CGROUP_UNIFIED_CONTROLLERS:-/sys/fs/cgroup/unified/cgroup.controllers}"
  if [ -z "$(crun_path)" ]; then echo "crun is not installed (Debian: apt-get install crun)"; return; fi
  if [ -r "$unified" ] && [ -n "$(tr -d '[:space:]' < "$unified")" ]; then
    echo "this host mixes cgroup v1 and v2 with controllers on v2 ($(tr '\n' ' ' < "$unified")in $unified), which crun refuses"
  fi
}

# The default runtime asked for, checked: prints it, or says why not and fails.
engine_runtime() {
  local runtime="${SHELLROOM_DOCKER_RUNTIME:-runc}" reason
  case "$runtime" in
    runc) echo runc ;;
    crun)
      reason="$(crun_unusable_reason)"
      if [ -n "$reason" ]; then echo "SHELLROOM_DOCKER_RUNTIME=crun, but $reason: unset it to use runc" >&2; return 1; fi
      echo crun ;;
    *) echo "SHELLROOM_DOCKER_RUNTIME must be runc or crun, not '$runtime'" >&2; return 1 ;;
  esac
}

# Separate words on purpose (callers split them); fails when the runtime asked for cannot work.
engine_flags() {
  local remap="${SHELLROOM_USERNS_REMAP:-default}" runtime crun
  runtime="$(engine_runtime)" || return 1
  crun="$(crun_path)"
  if [ "$remap" != "off" ]; then printf -- '--userns-remap=%s ' "$remap"; fi
  if [ -n "$crun" ]; then printf -- '--add-runtime crun=%s ' "$crun"; fi
  printf -- '--default-runtime=%s ' "$runtime"
}

engine_flags_summary() {
  local remap="${SHELLROOM_USERNS_REMAP:-default}"
  if [ "$remap" != "off" ]; then printf ', userns-remap %s' "$remap"; fi
  printf ', runtime %s' "${SHELLROOM_DOCKER_RUNTIME:-runc}"
}
