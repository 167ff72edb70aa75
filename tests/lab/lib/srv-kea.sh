# Kea DHCPv4 in its own namespace and segment (dlab-kea, br-mgmt 10.231.99.1/24), controlled over a unix socket.

kea_start() {
  local d=$ROOT/kea
  mkdir -p "$d"
  # The "handmade" reservation stands for an entry an operator wrote by hand: the module must never touch it.
  # Subnet 2 is on no interface (nothing is handed out there): reservations that only test configuration (space dhb).
  cat >"$d/kea-dhcp4.conf" <<CONF
{
  "Dhcp4": {
    "interfaces-config": {
      "interfaces": [ "br-mgmt" ], "dhcp-socket-type": "raw",
      "service-sockets-max-retries": 50, "service-sockets-retry-wait-time": 200
    },
    "control-socket": { "socket-type": "unix", "socket-name": "$d/kea4-ctrl-socket" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$d/kea-leases4.csv", "lfc-interval": 0 },
    "valid-lifetime": 3600,
    "renew-timer": 900,
    "rebind-timer": 1800,
    "subnet4": [
      {
        "id": 1,
        "subnet": "10.231.99.0/24",
        "pools": [ { "pool": "10.231.99.100 - 10.231.99.150" } ],
        "option-data": [
          { "name": "routers", "data": "10.231.99.1" },
          { "name": "domain-name-servers", "data": "10.231.99.1" },
          { "name": "domain-name", "data": "$DOMAIN" }
        ],
        "reservations": [
          { "hw-address": "02:aa:00:00:00:01", "ip-address": "10.231.99.250", "hostname": "handmade" }
        ]
      },
      {
        "id": 2,
        "subnet": "10.231.98.0/24",
        "reservations": [ ]
      }
    ],
    "loggers": [
      { "name": "kea-dhcp4", "output_options": [ { "output": "stdout" } ], "severity": "INFO" }
    ]
  }
}
CONF
  # -t checks the interfaces too, so it must run inside the namespace.
  ip netns exec "$KEA_NS" env KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" kea-dhcp4 -t "$d/kea-dhcp4.conf" >"$d/kea.log" 2>&1 || die "kea-dhcp4 -t failed: $(log_tail "$d/kea.log")"
  spawn lab kea-dhcp4 "$KEA_NS" "$d/kea.log" env KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" kea-dhcp4 -c "$d/kea-dhcp4.conf"
}

# kea_command JSON: one command over the control socket, the answer on stdout (socat is the lab's client).
kea_command() {
  printf '%s' "$1" | socat -t 5 - "UNIX-CONNECT:$ROOT/kea/kea4-ctrl-socket"
}

kea_ready() {
  [ -S "$ROOT/kea/kea4-ctrl-socket" ] && kea_command '{ "command": "list-commands" }' | grep -q '"result": *0'
}
