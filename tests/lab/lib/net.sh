# Topology: the site server namespace with its uplink and bridges, and Kea's separate segment.

add_netns() {  # add_netns NAME OWNER
  ip netns list | awk -v ns="$1" '$1 == ns { found = 1 } END { exit !found }' && die "network namespace $1 already exists (another lab, maybe with a different DEEV_LAB_ROOT?); remove it with 'ip netns del $1' if it is stale"
  record netns "$1 $2"
  ip netns add "$1" || die "cannot create network namespace $1"
  ip -n "$1" link set lo up
}

add_bridge() {  # add_bridge NETNS NAME CIDR MAC
  # A veth pair with one end as a port keeps the bridge's carrier up while no guest is attached, so servers
  # bound to it start cleanly (the dummy link type is not available in every kernel). The fixed MAC keeps the
  # bridge from taking over the lowest port MAC, which would change the gateway's MAC whenever a guest joins.
  local keep=${2#br-}-k
  ip -n "$1" link add "$2" type bridge &&
    ip -n "$1" link add "$keep" type veth peer name "${keep}p" &&
    ip -n "$1" link set "$keep" master "$2" &&
    ip -n "$1" link set "$keep" up && ip -n "$1" link set "${keep}p" up &&
    ip -n "$1" link set "$2" address "$4" &&
    ip -n "$1" addr add "$3" dev "$2" &&
    ip -n "$1" link set "$2" up || die "cannot create bridge $2 in $1"
}

bridges_running() {
  [ "$(ip -n "$SRV_NS" -br link show type bridge | grep -c LOWER_UP)" -eq 3 ] &&
    ip -n "$KEA_NS" -br link show br-mgmt | grep -q LOWER_UP
}

net_up() {
  ip link show dlab-up >/dev/null 2>&1 && die "link dlab-up already exists in the root namespace (stale lab? try 'lab.sh stop')"
  ip route show "$LAB_NET" | grep -q . && die "a route to $LAB_NET already exists in the root namespace: $(ip route show "$LAB_NET")"

  add_netns "$SRV_NS" lab
  add_netns "$KEA_NS" lab

  record links dlab-up
  ip link add dlab-up type veth peer name uplink netns "$SRV_NS" || die "cannot create veth dlab-up"
  ip addr add "$UPLINK_ROOT_IP/30" dev dlab-up && ip link set dlab-up up || die "cannot configure dlab-up"
  ip -n "$SRV_NS" addr add "$SRV_IP/30" dev uplink && ip -n "$SRV_NS" link set uplink up || die "cannot configure uplink in $SRV_NS"
  ip netns exec "$SRV_NS" sysctl -qw net.ipv4.ip_forward=1 || die "cannot enable ip_forward in $SRV_NS"

  add_bridge "$SRV_NS" br-mgmt 10.231.99.1/24 02:de:ff:00:99:01
  add_bridge "$SRV_NS" br-plat 10.231.25.1/24 02:de:ff:00:25:01
  add_bridge "$SRV_NS" br-tenant 10.231.50.1/24 02:de:ff:00:50:01
  add_bridge "$KEA_NS" br-mgmt 10.231.99.1/24 02:de:ff:01:99:01
  # Carrier comes a moment after the port: servers that open raw sockets (Kea) need it at start.
  wait_for 50 bridges_running || die "the lab bridges did not come up: $(ip -n "$SRV_NS" -br link; ip -n "$KEA_NS" -br link)"

  record routes "$LAB_NET via $SRV_IP dev dlab-up"
  ip route add "$LAB_NET" via "$SRV_IP" dev dlab-up || die "cannot add route $LAB_NET via $SRV_IP"
}

# Undo everything recorded, newest first; tolerant of pieces that never came into being.
net_down() {
  local line ns
  if [ -f "$STATE/routes" ]; then
    while read -r line; do [ -n "$line" ] && ip route del $line 2>/dev/null; done < <(tac "$STATE/routes")
  fi
  if [ -f "$STATE/netns" ]; then
    while read -r ns _; do
      [ -n "$ns" ] || continue
      kill_netns_leftovers "$ns"
      ip netns del "$ns" 2>/dev/null
    done < <(tac "$STATE/netns")
  fi
  if [ -f "$STATE/links" ]; then
    while read -r line; do [ -n "$line" ] && ip link del "$line" 2>/dev/null; done < <(tac "$STATE/links")
  fi
  return 0
}
