#!/bin/bash
# The Deevnet.Extended lab: real servers in network namespaces for integration tests and the Demo.
#   lab.sh start [--require-all|--best-effort]   lab.sh stop [--orphans]   lab.sh status   lab.sh guest ...
#   lab.sh space add|del|show <id> | check       (suite spaces, tests/lab/spaces)
# Run as root. Everything lives under $DEEV_LAB_ROOT (default /run/deevnet-lab); see tests/lab/README.md.
set -uo pipefail

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
for f in common net srv-ssh srv-dnsmasq srv-kea srv-unbound srv-bind srv-pdns srv-libvirt srv-age env guest space; do
  # shellcheck disable=SC1090
  . "$LIB/$f.sh"
done

REQUIRED_COMMANDS="ip:iproute2 ssh:openssh-client ssh-keygen:openssh-client /usr/sbin/sshd:openssh-server
dnsmasq:dnsmasq-base busybox:busybox kea-dhcp4:kea-dhcp4-server socat:socat unbound:unbound
unbound-checkconf:unbound unbound-control:unbound named:bind9 named-checkconf:bind9 tsig-keygen:bind9
rndc:bind9 dig:bind9-dnsutils pdns_server:pdns-server pdnsutil:pdns-server sqlite3:sqlite3 curl:curl libvirtd:libvirt-daemon
virsh:libvirt-clients qemu-img:qemu-utils age-keygen:age flock:util-linux perl:perl-base"

# True when a lab started from this root still has a live process.
lab_alive() {
  local pid st owner label
  [ -f "$STATE/procs" ] || return 1
  while read -r pid st owner label; do
    [ "$owner" = lab ] && proc_is "$pid" "$st" && return 0
  done <"$STATE/procs"
  return 1
}

teardown() {
  [ -d "$STATE" ] && { kill_recorded '*'; net_down; }
  local dir
  if [ -f "$STATE/created-dirs" ]; then
    # /run/libvirt is made by libvirtd; remove it only when we made it and no other libvirtd uses it.
    while read -r dir; do
      [ -n "$dir" ] && ! ps -C libvirtd -o stat= | grep -qv '^Z' && rm -rf "$dir"
    done <"$STATE/created-dirs"
  fi
  rm -rf "$ROOT"
}

# A failed start leaves nothing running and only $ROOT/lab.error behind.
start_failed() {
  trap - EXIT INT TERM
  local reason=$1
  say "start failed: $reason"
  say "cleaning up what was started"
  teardown
  mkdir -p "$ROOT" && printf '%s\n' "$reason" >"$ROOT/lab.error"
  exit 1
}

# await NAME LOG READY-FUNCTION: wait up to 15 s; fail at once if the server's process died.
await() {
  local name=$1 log=$2 ready=$3 pid st owner label
  for _ in $(seq 150); do
    "$ready" >/dev/null 2>&1 && return 0
    while read -r pid st owner label; do
      if [ "$label" = "$name" ] && ! proc_is "$pid" "$st"; then
        server_failed "$name" "$name exited during start: $(log_tail "$log")"; return 1
      fi
    done <"$STATE/procs"
    sleep 0.1
  done
  server_failed "$name" "$name did not come up within 15 s: $(log_tail "$log")"
}

server_failed() {
  if [ "$MODE" = best-effort ]; then say "warning: $2"; UNAVAILABLE+=" $1"; else die "$2"; fi
}

cmd_start() {
  MODE=require-all
  case ${1:-} in
    ""|--require-all) ;;
    --best-effort) MODE=best-effort ;;
    *) die "start: unknown option '$1' (--require-all, --best-effort)" ;;
  esac
  if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$ROOT" 2>/dev/null && echo "lab.sh start must run as root" >"$ROOT/lab.error" 2>/dev/null
    die "lab.sh start must run as root"
  fi
  if [ -d "$ROOT" ]; then
    lab_alive && die "a lab is already running under $ROOT; run 'lab.sh stop' first"
    [ -d "$STATE" ] && say "a stale lab under $ROOT has no live process left; cleaning it up"
    teardown
  fi
  mkdir -p "$STATE" || die "cannot create $STATE"
  chmod 755 "$ROOT"
  die() { start_failed "$*"; }
  trap 'start_failed "interrupted"' INT TERM
  trap 'start_failed "lab.sh exited unexpectedly during start"' EXIT

  local missing="" entry
  for entry in $REQUIRED_COMMANDS; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=" ${entry#*:}"
  done
  [ -z "$missing" ] || die "missing commands; install:$(printf '%s\n' $missing | sort -u | tr '\n' ' ')"

  UNAVAILABLE=""
  local t0; t0=$(date +%s%N)
  net_up
  ssh_keys
  age_setup
  sshd_start lab "$SRV_NS" "$SRV_IP" "$ROOT/ssh/srv"
  dnsmasq_start
  kea_start
  unbound_start
  bind_start
  pdns_start
  libvirt_start

  await sshd "$ROOT/ssh/srv/sshd.log" srv_ssh_ready
  await dnsmasq-supervisor "$ROOT/dnsmasq/dnsmasq.log" dnsmasq_ready
  await kea-dhcp4 "$ROOT/kea/kea.log" kea_ready
  await unbound "$ROOT/unbound/unbound.log" unbound_ready
  await named "$ROOT/bind/named.log" bind_ready
  await pdns_server "$ROOT/pdns/pdns.log" pdns_ready
  await libvirtd "$ROOT/libvirt/libvirtd.log" libvirt_ready && libvirt_hold &&
    await libvirt-holder "$ROOT/libvirt/holder.log" libvirt_held

  write_tier
  write_lab_env
  [ -z "$UNAVAILABLE" ] || echo "DEEV_LAB_UNAVAILABLE=${UNAVAILABLE# }" >>"$ROOT/lab.env"
  trap - EXIT INT TERM
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  say "started in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s; environment in $ROOT/lab.env"
}

srv_ssh_ready() { ssh_probe "$SRV_IP"; }
# The holder keeps the shared test-driver state alive once its virsh holds a socket (its connection to libvirtd).
libvirt_held() {
  local pid
  pid=$(awk '$4 == "libvirt-holder" { print $1 }' "$STATE/procs")
  [ -n "$pid" ] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'socket:'
}

cmd_stop() {
  if [ "$(id -u)" -ne 0 ]; then die "lab.sh stop must run as root"; fi
  [ "${1:-}" = --orphans ] && { stop_orphans; return; }
  if [ ! -d "$STATE" ]; then
    local left; left=$(lab_namespaces)
    [ -n "$left" ] && say "no lab state under $ROOT, but lab namespaces exist: $left; if no other lab root owns them, run 'lab.sh stop --orphans'"
  fi
  [ -d "$ROOT" ] || { say "no lab under $ROOT"; return 0; }
  teardown
  say "stopped; removed $ROOT"
}

lab_namespaces() { ip netns list | awk '$1 ~ /^(dlab-|dlg-)/ { print $1 }' | tr '\n' ' '; }

# Last resort when the state is lost: the namespace and link names are reserved for the lab, and every lab
# process runs inside one of those namespaces, so killing what runs there and deleting them removes the lab.
stop_orphans() {
  local ns
  for ns in $(lab_namespaces); do kill_netns_leftovers "$ns"; ip netns del "$ns" && say "removed namespace $ns"; done
  ip link del dlab-up 2>/dev/null && say "removed link dlab-up (and its route)"
  [ -d "$ROOT" ] && rm -rf "$ROOT" && say "removed $ROOT"
  return 0
}

cmd_status() {
  if [ ! -f "$ROOT/lab.env" ]; then
    if [ -f "$ROOT/lab.error" ]; then echo "not running: $(cat "$ROOT/lab.error")"; else echo "not running"; fi
    return 1
  fi
  local pid st owner label dead=0
  while read -r pid st owner label; do
    if proc_is "$pid" "$st"; then echo "running  $pid $owner $label"; else echo "DEAD     $pid $owner $label"; dead=1; fi
  done <"$STATE/procs"
  echo "namespaces: $(cut -d' ' -f1 "$STATE/netns" | tr '\n' ' ')"
  grep -h '^DEEV_LAB_UNAVAILABLE=' "$ROOT/lab.env" || true
  if [ $dead -eq 0 ]; then echo "lab running under $ROOT"; return 0; fi
  echo "lab degraded: some processes died"; return 2
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  guest) shift; cmd_guest "$@" ;;
  space) shift; cmd_space "$@" ;;
  *) echo "usage: lab.sh start [--require-all|--best-effort] | stop [--orphans] | status | guest ... | space ..." >&2; exit 2 ;;
esac
