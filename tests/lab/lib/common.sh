# Shared helpers for lab.sh: the root folder, the state it keeps, locking, starting and stopping processes.
# Everything the lab creates is written down under $STATE before it is created, so `stop` can undo a
# half-finished start, and nothing it did not create is ever touched.

ROOT=${DEEV_LAB_ROOT:-/run/deevnet-lab}
STATE=$ROOT/state
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
SRV_NS=dlab-srv
KEA_NS=dlab-kea
SRV_IP=10.231.0.2
UPLINK_ROOT_IP=10.231.0.1
LAB_NET=10.231.0.0/16
DOMAIN=lab.deevnet.test

say() { printf 'lab: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A file under $STATE holding one record per line; append atomically under the state lock.
record() { printf '%s\n' "$2" >>"$STATE/$1"; }

# Serialise every change of the state (guest add/del may run in parallel from tests).
with_state_lock() {
  exec {LOCK_FD}>>"$STATE/lock"
  flock "$LOCK_FD"
}

# Field 22 of /proc/PID/stat: start time in clock ticks; with the pid it names one process for good.
# A zombie (state Z/X) counts as gone: an unreaped child of a dead parent must not look like a running lab.
proc_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  set -- $stat
  case $1 in Z|X) return 1 ;; esac
  echo "${20}"
}

# True when PID is still the very process we recorded (not a recycled pid).
proc_is() { [ "$(proc_starttime "$1" 2>/dev/null)" = "$2" ]; }

# spawn OWNER LABEL NETNS|- LOG CMD...: start CMD in the background inside NETNS, record its pid.
# Inherited descriptors above 2 are closed first: a caller's `flock` descriptor would otherwise be held by the
# daemons for their whole life and the next `flock ... lab.sh stop` would wait forever.
spawn() {
  local owner=$1 label=$2 ns=$3 log=$4; shift 4
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    if [ "$ns" = - ]; then exec "$@"; else exec ip netns exec "$ns" "$@"; fi
  ) </dev/null >>"$log" 2>&1 &
  local pid=$! st
  st=$(proc_starttime "$pid") || st=0
  record procs "$pid $st $owner $label"
  SPAWNED_PID=$pid
}

# Kill the recorded processes whose owner matches the pattern, TERM first, KILL after a grace period.
kill_recorded() {
  local pattern=$1 pid st owner label alive=() keep=()
  [ -f "$STATE/procs" ] || return 0
  while read -r pid st owner label; do
    [ -n "$pid" ] || continue
    if [[ $owner == $pattern ]]; then
      if proc_is "$pid" "$st"; then kill -TERM "$pid" 2>/dev/null && alive+=("$pid:$st"); fi
    else
      keep+=("$pid $st $owner $label")
    fi
  done <"$STATE/procs"
  local i entry
  for i in $(seq 50); do
    local still=()
    for entry in "${alive[@]}"; do proc_is "${entry%%:*}" "${entry#*:}" && still+=("$entry"); done
    alive=("${still[@]}")
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
  done
  for entry in "${alive[@]}"; do say "pid ${entry%%:*} ignored SIGTERM; killing"; kill -KILL "${entry%%:*}" 2>/dev/null; done
  printf '%s\n' "${keep[@]}" | grep -v '^$' >"$STATE/procs.new" || true
  mv "$STATE/procs.new" "$STATE/procs"
}

# Kill whatever still runs inside a namespace we created (session children of sshd, a udhcpc someone left):
# every process in these namespaces was started through the lab.
kill_netns_leftovers() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
  [ -n "$pids" ] || return 0
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 20); do pids=$(ip netns pids "$ns" 2>/dev/null); [ -z "$pids" ] && return 0; sleep 0.1; done
  kill -KILL $pids 2>/dev/null || true
}

# Wait until a command succeeds, up to N tenths of a second.
wait_for() {
  local tenths=$1; shift
  for _ in $(seq "$tenths"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  "$@" >/dev/null 2>&1
}

# Last lines of a log, for error messages.
log_tail() { [ -f "$1" ] && tail -n "${2:-5}" "$1" | tr '\n' ' ' | cut -c1-600; }
