# BIND 9 on 10.231.0.2:5355: primary for lab.deevnet.test and the two reverse zones, updatable with TSIG
# key deevnet-lab (RFC 2136, e.g. `nsupdate -k $ROOT/bind/tsig.key`). No recursion. rndc on 10.231.0.2:953 with the
# same key adds and deletes the suite spaces' zones (lab.sh space).

bind_zone() {  # bind_zone FILE ORIGIN EXTRA-RECORDS
  cat >"$1" <<ZONE
\$ORIGIN $2.
\$TTL 300
@ IN SOA ns1.$DOMAIN. hostmaster.$DOMAIN. ( 1 3600 600 86400 300 )
@ IN NS ns1.$DOMAIN.
$3
ZONE
}

bind_start() {
  local d=$ROOT/bind
  mkdir -p "$d"
  tsig-keygen -a hmac-sha256 deevnet-lab >"$d/tsig.key" && chmod 600 "$d/tsig.key" || die "tsig-keygen failed"
  # handmade: the record an operator wrote into the zone file by hand; the module must never touch it.
  bind_zone "$d/$DOMAIN.zone" "$DOMAIN" "ns1 IN A $SRV_IP
handmade IN A 10.231.99.250"
  bind_zone "$d/99.231.10.in-addr.arpa.zone" 99.231.10.in-addr.arpa "250 IN PTR handmade.$DOMAIN."
  bind_zone "$d/25.231.10.in-addr.arpa.zone" 25.231.10.in-addr.arpa ""
  local zones="" z
  for z in "$DOMAIN" 99.231.10.in-addr.arpa 25.231.10.in-addr.arpa; do
    zones+="zone \"$z\" { type primary; file \"$d/$z.zone\"; journal \"$d/$z.zone.jnl\"; allow-update { key deevnet-lab; }; };
"
  done
  cat >"$d/named.conf" <<CONF
include "$d/tsig.key";
options {
  directory "$d";
  pid-file "$d/named.pid";
  session-keyfile "$d/session.key";
  managed-keys-directory "$d";
  listen-on port 5355 { $SRV_IP; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-new-zones yes;
  new-zones-directory "$d";
};
# rndc (addzone/delzone for the suite spaces' zones) with the lab's TSIG key, inside the lab only.
controls { inet $SRV_IP port 953 allow { any; } keys { deevnet-lab; }; };
$zones
CONF
  named-checkconf -z "$d/named.conf" >"$d/named.log" 2>&1 || die "named-checkconf failed: $(log_tail "$d/named.log")"
  spawn lab named "$SRV_NS" "$d/named.log" named -g -c "$d/named.conf"
}

bind_ready() {
  dig @"$SRV_IP" -p 5355 +time=1 +tries=1 +short A "handmade.$DOMAIN" | grep -qx 10.231.99.250
}
