# dnsmasq in the site server: DHCP on br-mgmt, DNS for lab.deevnet.test on 10.231.0.2 and 10.231.99.1.
# It runs under supervise.sh, so SIGTERM to the pid in dnsmasq.pid acts as `systemctl restart dnsmasq`
# (needed for options that SIGHUP does not re-read, such as cname= in conf.d).

dnsmasq_start() {
  local d=$ROOT/dnsmasq
  mkdir -p "$d/conf.d" "$d/dhcp-hosts.d" "$d/records.d"
  : >"$d/dhcp-hosts"; : >"$d/records"; : >"$d/leases"
  cat >"$d/dnsmasq.conf" <<CONF
# Written by tests/lab/lab.sh. Module-owned files: dhcp-hosts and records (SIGHUP re-reads both), and those of the
# suite spaces (lab.sh space), linked into dhcp-hosts.d/ and records.d/ (SIGHUP re-reads the folders too).
interface=br-mgmt
listen-address=$SRV_IP
bind-interfaces
no-dhcp-interface=uplink
user=root
no-ping
no-resolv
no-hosts
no-poll
domain=$DOMAIN
local=/$DOMAIN/
local=/99.231.10.in-addr.arpa/
local=/25.231.10.in-addr.arpa/
# The whole lab's reverse space, also the suite spaces' own /24s: never forwarded, answered from the hosts files.
local=/231.10.in-addr.arpa/
# handmade: a record an operator configured by hand; the module must never touch it.
host-record=handmade.$DOMAIN,10.231.99.250
dhcp-range=10.231.99.100,10.231.99.150,255.255.255.0,1h
# A subnet on no interface, for reservations that only test configuration (suite space dhb): never handed out.
dhcp-range=10.231.98.100,10.231.98.150,255.255.255.0,1h
dhcp-option=option:router,10.231.99.1
dhcp-option=option:dns-server,10.231.99.1
dhcp-option=option:domain-name,$DOMAIN
dhcp-authoritative
dhcp-leasefile=$d/leases
dhcp-hostsfile=$d/dhcp-hosts
dhcp-hostsfile=$d/dhcp-hosts.d
addn-hosts=$d/records
addn-hosts=$d/records.d
pid-file=$d/dnsmasq.pid
log-facility=-
log-dhcp
log-queries
conf-dir=$d/conf.d,*.conf
CONF
  dnsmasq --test --conf-file="$d/dnsmasq.conf" >"$d/dnsmasq.log" 2>&1 || die "dnsmasq config invalid: $(log_tail "$d/dnsmasq.log")"
  spawn lab dnsmasq-supervisor "$SRV_NS" "$d/dnsmasq.log" "$LAB_DIR/lib/supervise.sh" \
    dnsmasq --keep-in-foreground --conf-file="$d/dnsmasq.conf"
}

dnsmasq_ready() {
  dig @"$SRV_IP" +time=1 +tries=1 +short A "handmade.$DOMAIN" | grep -qx 10.231.99.250 &&
    dig @10.231.99.1 +time=1 +tries=1 +short A "handmade.$DOMAIN" | grep -qx 10.231.99.250 &&
    [ -s "$ROOT/dnsmasq/dnsmasq.pid" ]
}
