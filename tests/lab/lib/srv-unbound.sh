# Unbound on 10.231.0.2:5354: answers only lab.deevnet.test (and its reverse zones), refuses everything else,
# never recurses outside. The module owns deevnet.conf (included); unbound-control talks over a unix socket.

unbound_start() {
  local d=$ROOT/unbound
  mkdir -p "$d/deevnet.d"
  : >"$d/deevnet.conf"
  # The zones are declared here with one hand-made record the module must leave alone; deevnet.conf may add
  # local-data lines (a repeated local-zone for the same zone is only a warning).
  cat >"$d/unbound.conf" <<CONF
server:
  chroot: ""
  username: ""
  directory: "$d"
  pidfile: "$d/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  interface: $SRV_IP@5354
  port: 5354
  do-ip6: no
  access-control: 0.0.0.0/0 allow
  module-config: "iterator"
  local-zone: "." refuse
  local-zone: "$DOMAIN." static
  local-zone: "99.231.10.in-addr.arpa." static
  local-zone: "25.231.10.in-addr.arpa." static
  local-data: "handmade.$DOMAIN. 300 IN A 10.231.99.250"
  local-data-ptr: "10.231.99.250 300 handmade.$DOMAIN."
  include: "$d/deevnet.conf"
  include: "$d/deevnet.d/*.conf"
remote-control:
  control-enable: yes
  control-interface: "$d/unbound-control.sock"
  control-use-cert: no
CONF
  unbound-checkconf "$d/unbound.conf" >"$d/unbound.log" 2>&1 || die "unbound-checkconf failed: $(log_tail "$d/unbound.log")"
  spawn lab unbound "$SRV_NS" "$d/unbound.log" unbound -d -c "$d/unbound.conf"
}

unbound_ready() {
  dig @"$SRV_IP" -p 5354 +time=1 +tries=1 +short A "handmade.$DOMAIN" | grep -qx 10.231.99.250 &&
    unbound-control -c "$ROOT/unbound/unbound.conf" status
}
