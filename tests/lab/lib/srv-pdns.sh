# PowerDNS Authoritative (gsqlite3) on 10.231.0.2:5356, HTTP API on port 8081 of every address of dlab-srv: 10.231.0.2 for
# the lab's own scripts, 127.0.0.1 for the module, which reaches it as production does, through an SSH tunnel over sshd.
# The API key is random; pdns.conf holds only its scrypt hash, the plain key goes to lab.env alone.

pdns_start() {
  local d=$ROOT/pdns schema=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
  mkdir -p "$d"
  [ -f "$schema" ] || die "PowerDNS sqlite3 schema missing ($schema): install pdns-backend-sqlite3"
  sqlite3 "$d/pdns.sqlite3" <"$schema" || die "cannot create the PowerDNS database"
  PDNS_API_KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  local hashed
  hashed=$(printf '%s\n' "$PDNS_API_KEY" | pdnsutil hash-password 2>/dev/null | tail -n 1)
  [[ $hashed == '$scrypt$'* ]] || die "pdnsutil hash-password failed"
  cat >"$d/pdns.conf" <<CONF
launch=gsqlite3
gsqlite3-database=$d/pdns.sqlite3
local-address=$SRV_IP
local-port=5356
socket-dir=$d
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
webserver=yes
webserver-address=0.0.0.0
webserver-port=8081
webserver-allow-from=0.0.0.0/0
api=yes
api-key=$hashed
default-soa-content=ns1.$DOMAIN. hostmaster.@ 1 10800 3600 604800 300
CONF
  chmod 600 "$d/pdns.conf"
  local z u=(pdnsutil --config-dir="$d")
  for z in "$DOMAIN" 99.231.10.in-addr.arpa 25.231.10.in-addr.arpa; do
    "${u[@]}" create-zone "$z" "ns1.$DOMAIN" >>"$d/pdns.log" 2>&1 || die "pdnsutil create-zone $z failed: $(log_tail "$d/pdns.log")"
  done
  # handmade: a record created outside the module, which it must never touch.
  "${u[@]}" add-record "$DOMAIN" handmade A 300 10.231.99.250 >>"$d/pdns.log" 2>&1 &&
    "${u[@]}" add-record 99.231.10.in-addr.arpa 250 PTR 300 "handmade.$DOMAIN." >>"$d/pdns.log" 2>&1 ||
    die "pdnsutil add-record failed: $(log_tail "$d/pdns.log")"
  spawn lab pdns_server "$SRV_NS" "$d/pdns.log" pdns_server --config-dir="$d"
}

pdns_ready() {
  dig @"$SRV_IP" -p 5356 +time=1 +tries=1 +short A "handmade.$DOMAIN" | grep -qx 10.231.99.250 &&
    curl -fsS -m 2 -H "X-API-Key: $PDNS_API_KEY" "http://$SRV_IP:8081/api/v1/servers/localhost" >/dev/null
}
