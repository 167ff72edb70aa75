# Guests: "VMs" as network namespaces dlg-<name> whose eth0 carries the VM's MAC, attached to a segment bridge.
# State per guest in $STATE/guests/<name> (shell assignments); files in $ROOT/hosts/<name>/.

guest_usage() {
  cat >&2 <<USAGE
usage: lab.sh guest add <name> --mac <mac> [--segment management|platform|tenant-a] [--server dnsmasq|kea] [--ip a.b.c.d/24]
       lab.sh guest dhcp <name>            lease an address (busybox udhcpc), print it
       lab.sh guest ssh <name>             start sshd on the guest's address:22, print the address
       lab.sh guest http <name> <port> <dir>
       lab.sh guest exec <name> -- cmd...
       lab.sh guest del <name>
       lab.sh guest list
USAGE
  exit 2
}

guest_load() {  # sets G_* from the guest's state file
  [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] || die "bad guest name '$1' (lowercase letters, digits, '-', up to 40)"
  [ -f "$STATE/guests/$1" ] || die "no guest '$1' (see lab.sh guest list)"
  # shellcheck disable=SC1090
  . "$STATE/guests/$1"
}

guest_ip() { ip -n "dlg-$1" -4 -o addr show dev eth0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'; }

# A booting host announces its address (gratuitous ARP), and the segment's router replaces what its neighbour table
# held for that address. A guest does not, so the router's entry from an earlier guest with the same address (another
# MAC, kept as long as the table is small) would take the first packets to the gone guest: the first connection to
# the new one then waits about 8 s for neighbour probing (an SSH connect with a 5 s limit failed so). The announce,
# done here: the router's entry for <ip> becomes <mac>. Usage: guest_announce <bridge-ns> <bridge> <ip> <mac>
guest_announce() {
  ip -n "$1" neigh replace "$3" lladdr "$4" dev "$2" nud stale 2>/dev/null || true
}

guest_add() {
  local name=${1:-}; shift || true
  local mac="" segment=management server=dnsmasq addr=""
  while [ $# -gt 0 ]; do
    case $1 in
      --mac) mac=${2:-}; shift 2 ;;
      --segment) segment=${2:-}; shift 2 ;;
      --server) server=${2:-}; shift 2 ;;
      --ip) addr=${2:-}; shift 2 ;;
      *) die "guest add: unknown option '$1'" ;;
    esac
  done
  [[ $name =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] || die "bad guest name '$name' (lowercase letters, digits, '-', up to 40)"
  mac=${mac,,}
  [[ $mac =~ ^[0-9a-f]{2}(:[0-9a-f]{2}){5}$ ]] || die "guest add: --mac aa:bb:cc:dd:ee:ff is required"
  (( 0x${mac:0:2} & 1 )) && die "guest add: $mac is a multicast MAC"
  local bridge_ns=$SRV_NS bridge gateway
  case $segment in
    management) bridge=br-mgmt; gateway=10.231.99.1 ;;
    platform) bridge=br-plat; gateway=10.231.25.1 ;;
    tenant-a) bridge=br-tenant; gateway=10.231.50.1 ;;
    *) die "guest add: unknown segment '$segment' (management, platform, tenant-a)" ;;
  esac
  case $server in
    dnsmasq) ;;
    kea) [ "$segment" = management ] || die "guest add: --server kea exists only on the management segment"
         bridge_ns=$KEA_NS ;;
    *) die "guest add: unknown server '$server' (dnsmasq, kea)" ;;
  esac
  if [ -n "$addr" ]; then
    [[ $addr =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$ ]] || die "guest add: --ip must look like 10.231.25.30/24"
  fi

  with_state_lock
  [ -f "$STATE/guests/$name" ] && die "guest '$name' exists already"
  local n=$(( $(cat "$STATE/guest-counter" 2>/dev/null || echo 0) + 1 ))
  echo "$n" >"$STATE/guest-counter"
  local hostif=dlg$n ns=dlg-$name
  mkdir -p "$STATE/guests" "$ROOT/hosts/$name"
  cat >"$STATE/guests/$name" <<G
G_NAME=$name
G_NS=$ns
G_MAC=$mac
G_SEGMENT=$segment
G_SERVER=$server
G_BRIDGE_NS=$bridge_ns
G_BRIDGE=$bridge
G_HOSTIF=$hostif
G_GATEWAY=$gateway
G
  add_netns "$ns" "guest:$name"
  ip link add "$hostif" netns "$bridge_ns" type veth peer name eth0 netns "$ns" &&
    ip -n "$ns" link set eth0 address "$mac" &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$bridge_ns" link set "$hostif" master "$bridge" &&
    ip -n "$bridge_ns" link set "$hostif" up || die "guest add: cannot attach $name to $bridge in $bridge_ns"
  if [ -n "$addr" ]; then
    ip -n "$ns" addr add "$addr" dev eth0 || die "guest add: cannot set $addr"
    ip -n "$ns" route add default via "$gateway" 2>/dev/null || true
    guest_announce "$bridge_ns" "$bridge" "${addr%/*}" "$mac"
  fi
  say "guest $name: namespace $ns, $mac on $segment ($bridge in $bridge_ns)"
}

guest_dhcp() {
  guest_load "${1:-}"
  local dir=$ROOT/hosts/$G_NAME
  rm -f "$dir/lease"
  # -q: quit once bound; -n: fail without a lease; the hook configures eth0 and writes $dir/lease.
  ip netns exec "$G_NS" env LAB_LEASE_FILE="$dir/lease" busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 -A 1 \
    -x "hostname:$G_NAME" -s "$LAB_DIR/lib/udhcpc-hook.sh" >>"$dir/udhcpc.log" 2>&1
  local ip=""
  [ -f "$dir/lease" ] && ip=$(sed -n 's/^ip=//p' "$dir/lease")
  [ -n "$ip" ] || die "guest $G_NAME ($G_MAC) got no DHCP lease from $G_SERVER: $(log_tail "$dir/udhcpc.log" 3)"
  guest_announce "$G_BRIDGE_NS" "$G_BRIDGE" "$ip" "$G_MAC"
  echo "$ip"
}

guest_ssh() {
  guest_load "${1:-}"
  local ip; ip=$(guest_ip "$G_NAME")
  [ -n "$ip" ] || die "guest $G_NAME has no address yet: run 'lab.sh guest dhcp $G_NAME' or add it with --ip"
  with_state_lock
  # A previous guest may have had this address: its key must not linger in the lab's known_hosts.
  ssh-keygen -q -R "$ip" -f "$ROOT/ssh/known_hosts" >/dev/null 2>&1; rm -f "$ROOT/ssh/known_hosts.old"
  rm -rf "$ROOT/hosts/$G_NAME/ssh"
  sshd_start "guest:$G_NAME" "$G_NS" "$ip" "$ROOT/hosts/$G_NAME/ssh"
  wait_for 50 ip netns exec "$G_NS" bash -c "$(declare -f ssh_probe); ROOT='$ROOT' ssh_probe '$ip'" ||
    die "sshd in guest $G_NAME did not answer on $ip:22: $(log_tail "$ROOT/hosts/$G_NAME/ssh/sshd.log")"
  echo "$ip"
}

guest_http() {
  guest_load "${1:-}"
  local port=${2:-} dir=${3:-}
  [[ $port =~ ^[0-9]{1,5}$ ]] || die "guest http: port required"
  [ -d "$dir" ] || die "guest http: no folder '$dir'"
  with_state_lock
  spawn "guest:$G_NAME" "httpd:$port" "$G_NS" "$ROOT/hosts/$G_NAME/httpd-$port.log" busybox httpd -f -p "$port" -h "$(cd "$dir" && pwd)"
  wait_for 30 ip netns exec "$G_NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "busybox httpd in guest $G_NAME did not listen on $port"
}

guest_exec() {
  guest_load "${1:-}"; shift
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "guest exec: command missing (lab.sh guest exec <name> -- cmd...)"
  exec ip netns exec "$G_NS" "$@"
}

# A guest that leased its address gives it back (DHCPRELEASE), as a VM that shuts down cleanly would: the address is
# free at once for the next guest, and the servers' pools do not fill up with leases of guests that are gone.
guest_release() {
  local ip=$1 log=$ROOT/hosts/$G_NAME/release.log pid
  [ -n "$ip" ] && [ -f "$ROOT/hosts/$G_NAME/lease" ] || return 0
  # Bound again to the same address, then SIGTERM with -R: udhcpc unicasts the release before it exits.
  ip netns exec "$G_NS" busybox udhcpc -i eth0 -f -n -R -t 2 -T 1 -A 1 -r "$ip" -s /bin/true >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 30); do grep -q 'obtained' "$log" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  grep -q 'sending release' "$log" || say "warning: guest $G_NAME could not release $ip: $(log_tail "$log" 2)"
  return 0
}

guest_del() {
  guest_load "${1:-}"
  with_state_lock
  local ip; ip=$(guest_ip "$G_NAME")
  guest_release "$ip"
  kill_recorded "guest:$G_NAME"
  kill_netns_leftovers "$G_NS"
  ip netns del "$G_NS" 2>/dev/null   # takes the veth pair with it
  [ -n "$ip" ] && { ip -n "$G_BRIDGE_NS" neigh del "$ip" dev "$G_BRIDGE" 2>/dev/null || true; }   # forget its MAC
  grep -v "^$G_NS " "$STATE/netns" >"$STATE/netns.new"; mv "$STATE/netns.new" "$STATE/netns"
  if [ -n "$ip" ] && [ -f "$ROOT/hosts/$G_NAME/ssh/host_ed25519.pub" ]; then
    local key; key=$(cut -d' ' -f2 "$ROOT/hosts/$G_NAME/ssh/host_ed25519.pub")
    grep -v " $key\$" "$ROOT/ssh/known_hosts" >"$ROOT/ssh/known_hosts.new"; mv "$ROOT/ssh/known_hosts.new" "$ROOT/ssh/known_hosts"
  fi
  rm -rf "$ROOT/hosts/$G_NAME" "$STATE/guests/$G_NAME"
  say "guest $G_NAME removed"
}

guest_list() {
  printf '%-20s %-11s %-8s %-17s %s\n' NAME SEGMENT SERVER MAC IP
  local f
  for f in "$STATE"/guests/*; do
    [ -f "$f" ] || continue
    ( . "$f"; printf '%-20s %-11s %-8s %-17s %s\n' "$G_NAME" "$G_SEGMENT" "$G_SERVER" "$G_MAC" "$(guest_ip "$G_NAME")" )
  done
}

cmd_guest() {
  [ -f "$ROOT/lab.env" ] || die "the lab is not running (no $ROOT/lab.env)"
  local sub=${1:-}; shift || true
  case $sub in
    add) guest_add "$@" ;;
    dhcp) guest_dhcp "$@" ;;
    ssh) guest_ssh "$@" ;;
    http) guest_http "$@" ;;
    exec) guest_exec "$@" ;;
    del) guest_del "$@" ;;
    list) guest_list ;;
    *) guest_usage ;;
  esac
}
