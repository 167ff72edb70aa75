# Suite spaces: a test suite's own slice of the shared lab (tests/lab/spaces), so suites never see each other's state.
#   lab.sh space add <id>   fresh space: whatever an earlier space <id> left in its files and zones is removed first
#   lab.sh space del <id>   removes the space's files, links and zones (the suite removes its own server entries first)
#   lab.sh space show <id>  the space's values (KEY=VALUE) without changing anything
#   lab.sh space check      the table's rows are disjoint (ids, MAC prefixes, VMIDs, addresses, nets)
# What a space gets: $ROOT/spaces/<id>/ (its folder), module-owned dnsmasq files of its own (dhcp-hosts and records,
# linked into dnsmasq's dhcp-hosts.d/ and records.d/ directories, which SIGHUP re-reads), its own dnsmasq CNAME file
# (conf.d/space-<id>-cnames.conf) and Unbound include (unbound/deevnet.d/<id>.conf), with a tier: the lab tier
# rewritten into the space (lab.tier.yaml), with zones: its own BIND and PowerDNS zones (see tests/lab/spaces).

SPACES_FILE=$LAB_DIR/spaces
RNDC_PORT=953

space_rows() { awk '!/^[[:space:]]*(#|$)/ && NF >= 8' "$SPACES_FILE"; }

space_load() {  # sets S_* for the space id
  local id=${1:-} row
  [[ $id =~ ^[a-z][a-z0-9]{1,9}$ ]] || die "space: bad id '$id' (a lowercase letter, then 1-9 lowercase letters or digits)"
  row=$(space_rows | awk -v id="$id" '$1 == id') 
  [ -n "$row" ] || die "space: no space '$id' in $SPACES_FILE (every suite that uses the lab registers its space there)"
  read -r S_ID S_MAC S_VMID S_MGMT S_PLAT S_TEN S_NETS S_ZONES _ <<<"$row"
  local v; for v in S_VMID S_MGMT S_PLAT S_TEN S_NETS; do [ "${!v}" = - ] && printf -v "$v" '%s' ''; done
  S_ROOT=$ROOT/spaces/$S_ID
  S_DOMAIN=$S_ID.$DOMAIN
  S_CNAMES=$ROOT/dnsmasq/conf.d/space-$S_ID-cnames.conf
  S_UNBOUND=$ROOT/unbound/deevnet.d/$S_ID.conf
  S_UNBOUND_ZONES=$ROOT/unbound/deevnet.d/$S_ID-zones.conf
  S_REVERSE=""
  local net
  for net in ${S_NETS//,/ }; do S_REVERSE+=" $(reverse_zone "$net")"; done
  S_REVERSE=${S_REVERSE# }
  # The space's hand-made record (made "by an operator", never the module's): .250 of its first own /24, else the
  # last address of its management block.
  S_HANDMADE=""
  if [ -n "$S_NETS" ]; then S_HANDMADE=$(first_net "$S_NETS").250
  elif [ -n "$S_MGMT" ]; then S_HANDMADE=${S_MGMT%.*}.$(( ${S_MGMT##*.} + 15 )); fi
}

# 10.231.97.0/24 -> 97.231.10.in-addr.arpa
reverse_zone() { local a b c; IFS=. read -r a b c _ <<<"${1%/*}"; echo "$c.$b.$a.in-addr.arpa"; }
first_net() { local n=${1%%,*}; n=${n%/*}; echo "${n%.*}"; }

space_env() {
  cat <<ENV
DEEV_SPACE_ID=$S_ID
DEEV_SPACE_ROOT=$S_ROOT
DEEV_SPACE_DOMAIN=$S_DOMAIN
DEEV_SPACE_GUEST_PREFIX=$S_ID-
DEEV_SPACE_HOST_PREFIX=$S_ID
DEEV_SPACE_MAC_PREFIX=$S_MAC
DEEV_SPACE_VMID=$S_VMID
DEEV_SPACE_MGMT=$S_MGMT
DEEV_SPACE_PLATFORM=$S_PLAT
DEEV_SPACE_TENANT=$S_TEN
DEEV_SPACE_NETS=$S_NETS
DEEV_SPACE_DNSMASQ_HOSTS=$S_ROOT/dhcp-hosts
DEEV_SPACE_DNSMASQ_RECORDS=$S_ROOT/records
DEEV_SPACE_DNSMASQ_CNAMES=$S_CNAMES
DEEV_SPACE_UNBOUND_INCLUDE=$S_UNBOUND
DEEV_SPACE_BACKUPS=$S_ROOT/backups
ENV
  [ -n "$S_HANDMADE" ] && printf 'DEEV_SPACE_HANDMADE=%s\n' "$S_HANDMADE"
  [ "$S_ZONES" = yes ] && printf 'DEEV_SPACE_ZONES=%s\n' "$S_DOMAIN $S_REVERSE"
  space_has_tier && printf 'DEEV_SPACE_TIER=%s\n' "$S_ROOT/lab.tier.yaml"
  return 0
}

space_has_tier() { [ -n "$S_VMID" ] && [ -n "$S_MGMT" ] && [ -n "$S_PLAT" ]; }

space_add() {
  space_load "${1:-}"
  [ "$S_ID" = lab ] && die "space: 'lab' is the lab tier's own space (the Demo's); it is not handed out"
  with_state_lock
  space_remove
  mkdir -p "$S_ROOT/backups" || die "space: cannot create $S_ROOT"
  : >"$S_ROOT/dhcp-hosts"; : >"$S_ROOT/records"
  ln -s "$S_ROOT/dhcp-hosts" "$ROOT/dnsmasq/dhcp-hosts.d/$S_ID" &&
    ln -s "$S_ROOT/records" "$ROOT/dnsmasq/records.d/$S_ID" || die "space: cannot link the dnsmasq files of $S_ID"
  if [ -n "$S_HANDMADE" ]; then
    # dnsmasq answers the hand-made record from a hosts file of the space's that the module does not own.
    echo "$S_HANDMADE handmade.$S_DOMAIN" >"$S_ROOT/handmade.hosts" &&
      ln -s "$S_ROOT/handmade.hosts" "$ROOT/dnsmasq/records.d/$S_ID-handmade" || die "space: cannot link $S_ROOT/handmade.hosts"
  fi
  [ "$S_ZONES" = yes ] && space_zones_add
  space_has_tier && space_tier
  space_env >"$S_ROOT/space.env"
  dnsmasq_hup || die "space: dnsmasq did not take SIGHUP"
  cat "$S_ROOT/space.env"
}

space_del() {
  space_load "${1:-}"
  [ "$S_ID" = lab ] && die "space: 'lab' is not a suite's space"
  with_state_lock
  space_remove
  say "space $S_ID removed"
}

# Everything of the space in the lab's files and zones; tolerant of pieces that never came into being.
space_remove() {
  local restart=0 reload_unbound=0 f
  rm -f "$ROOT/dnsmasq/dhcp-hosts.d/$S_ID" "$ROOT/dnsmasq/records.d/$S_ID" "$ROOT/dnsmasq/records.d/$S_ID-handmade"
  # CNAMEs are read at start only: served CNAMEs of the space go with a restart (the module's own way to apply them).
  grep -qs '^cname=' "$S_CNAMES" && restart=1
  rm -rf "$S_CNAMES" "$S_CNAMES".*
  for f in "$S_UNBOUND" "$S_UNBOUND_ZONES"; do
    grep -qs 'local-' "$f" && reload_unbound=1
    rm -rf "$f" "$f".*
  done
  [ "$S_ZONES" = yes ] && space_zones_del
  rm -rf "$S_ROOT"
  if [ $restart = 1 ]; then dnsmasq_restart || die "space: dnsmasq did not come back after the restart"
  else dnsmasq_hup || die "space: dnsmasq did not take SIGHUP"; fi
  if [ $reload_unbound = 1 ]; then
    unbound-control -c "$ROOT/unbound/unbound.conf" reload >/dev/null || die "space: unbound-control reload failed"
  fi
  return 0
}

# SIGHUP re-reads dhcp-hosts.d/ and records.d/; while dnsmasq restarts (the pid file still names the old process)
# the signal is retried.
dnsmasq_hup() {
  local pid
  for _ in $(seq 50); do
    pid=$(cat "$ROOT/dnsmasq/dnsmasq.pid" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] && kill -HUP "$pid" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

dnsmasq_restart() {
  local old new
  old=$(cat "$ROOT/dnsmasq/dnsmasq.pid" 2>/dev/null)
  [[ $old =~ ^[0-9]+$ ]] && kill -TERM "$old" 2>/dev/null
  for _ in $(seq 100); do
    new=$(cat "$ROOT/dnsmasq/dnsmasq.pid" 2>/dev/null)
    [[ $new =~ ^[0-9]+$ ]] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null && dnsmasq_ready && return 0
    sleep 0.1
  done
  return 1
}

rndc_cmd() { rndc -k "$ROOT/bind/tsig.key" -s "$SRV_IP" -p "$RNDC_PORT" "$@"; }

pdns_api() {  # pdns_api METHOD PATH [JSON]: prints the HTTP status, then the body
  local key
  key=$(sed -n 's/^DEEV_LAB_PDNS_API_KEY=//p' "$ROOT/lab.env")
  curl -sS -m 10 -o /dev/stdout -w '\n%{http_code}' -X "$1" -H "X-API-Key: $key" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "http://$SRV_IP:8081/api/v1/servers/localhost$2"
}

# The space's own forward zone and the reverse zones of its nets in BIND, PowerDNS and Unbound, each with the
# hand-made record (dnsmasq has it from space_add).
space_zones_add() {
  local d=$S_ROOT/zones z ptr=${S_HANDMADE##*.} first_rev=${S_REVERSE%% *} out
  mkdir -p "$d"
  # BIND: zone files, then rndc addzone (allow-new-zones; the lab's TSIG key is also the rndc key).
  for z in $S_DOMAIN $S_REVERSE; do
    {
      printf '$ORIGIN %s.\n$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. ( 1 3600 600 86400 300 )\n@ IN NS ns1.%s.\n' "$z" "$DOMAIN" "$DOMAIN" "$DOMAIN"
      [ "$z" = "$S_DOMAIN" ] && echo "handmade IN A $S_HANDMADE"
      [ "$z" = "$first_rev" ] && echo "$ptr IN PTR handmade.$S_DOMAIN."
    } >"$d/$z.zone"
    out=$(rndc_cmd addzone "$z { type primary; file \"$d/$z.zone\"; journal \"$d/$z.zone.jnl\"; allow-update { key deevnet-lab; }; };" 2>&1) ||
      die "space: rndc addzone $z failed: $out"
  done
  # PowerDNS: zones and the hand-made RRsets through the HTTP API (RRsets without the module's comment).
  for z in $S_DOMAIN $S_REVERSE; do
    out=$(pdns_api POST /zones "{\"name\":\"$z.\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$DOMAIN.\"]}")
    [ "${out##*$'\n'}" = 201 ] || die "space: PowerDNS did not create $z: $out"
  done
  out=$(pdns_api PATCH "/zones/$S_DOMAIN." "{\"rrsets\":[{\"name\":\"handmade.$S_DOMAIN.\",\"type\":\"A\",\"ttl\":300,\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"$S_HANDMADE\",\"disabled\":false}]}]}")
  [ "${out##*$'\n'}" = 204 ] || die "space: PowerDNS did not take the hand-made A record: $out"
  out=$(pdns_api PATCH "/zones/$first_rev." "{\"rrsets\":[{\"name\":\"$ptr.$first_rev.\",\"type\":\"PTR\",\"ttl\":300,\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"handmade.$S_DOMAIN.\",\"disabled\":false}]}]}")
  [ "${out##*$'\n'}" = 204 ] || die "space: PowerDNS did not take the hand-made PTR record: $out"
  # Unbound: the zones (static) and the hand-made record in an include of the space's that the module does not own.
  {
    echo "# Written by lab.sh space add $S_ID: the space's zones and its hand-made record (not the module's)."
    for z in $S_DOMAIN $S_REVERSE; do echo "local-zone: \"$z.\" static"; done
    echo "local-data: \"handmade.$S_DOMAIN. 300 IN A $S_HANDMADE\""
    echo "local-data-ptr: \"$S_HANDMADE 300 handmade.$S_DOMAIN.\""
  } >"$S_UNBOUND_ZONES"
  out=$(unbound-control -c "$ROOT/unbound/unbound.conf" reload 2>&1) || die "space: unbound-control reload failed: $out"
}

space_zones_del() {
  local z
  for z in $S_DOMAIN $S_REVERSE; do
    rndc_cmd delzone -clean "$z" >/dev/null 2>&1
    pdns_api DELETE "/zones/$z." >/dev/null 2>&1
  done
  return 0
}

# The lab tier rewritten into the space: domain, MAC namespace, VMIDs, host names (dv99 -> <id>), addresses (the
# lab tier's .16-.31 block of each segment -> the space's block; a space with its own /24 moves the whole segment
# there), and the module-owned files (DHCP hosts, records, CNAMEs, backup store) -> the space's.
space_tier() {
  local src=$ROOT/lab.tier.yaml dst=$S_ROOT/lab.tier.yaml
  ID=$S_ID DOM=$S_DOMAIN MAC=$S_MAC VMID=$S_VMID MGMT=$S_MGMT PLAT=$S_PLAT TEN=$S_TEN R=$ROOT SR=$S_ROOT CN=$S_CNAMES \
    perl -pe '
      BEGIN { %base = ("10.231.99" => $ENV{MGMT}, "10.231.25" => $ENV{PLAT}, "10.231.50" => $ENV{TEN}); }
      sub mv { my ($p, $d) = @_; my $b = $base{$p}; return "$p.$d" unless $b;
               my ($bp, $bo) = $b =~ /^(\d+\.\d+\.\d+)\.(\d+)$/; return "$bp." . ($d >= 16 && $d <= 31 ? $bo + $d - 16 : $d); }
      s/\b(10\.231\.(?:99|25|50))\.(\d{1,3})\b/mv($1, $2)/ge;
      s/\blab\.deevnet\.test\b/$ENV{DOM}/g;
      s/macNamespace: "02:de:99"/macNamespace: "$ENV{MAC}"/;
      s/vmidRange: \[900, 999\]/"vmidRange: [$ENV{VMID}, " . ($ENV{VMID} + 99) . "]"/e;
      s/\bvmid: (9\d\d)\b/"vmid: " . ($ENV{VMID} + $1 - 900)/ge;
      s/\bdv99(?=[a-z]{3}\d{3}v\d\d\b)/$ENV{ID}/g;
      s#\Q$ENV{R}\E/dnsmasq/dhcp-hosts(?![\w./-])#$ENV{SR}/dhcp-hosts#g;
      s#\Q$ENV{R}\E/dnsmasq/records(?![\w./-])#$ENV{SR}/records#g;
      s#\Q$ENV{R}\E/dnsmasq/conf\.d/deevnet-cnames\.conf#$ENV{CN}#g;
      s#\Q$ENV{R}\E/backups(?![\w./-])#$ENV{SR}/backups#g;
    ' "$src" >"$dst" || die "space: cannot write $dst"
  # A lab tier that changed shape must not yield a tier that quietly still uses the lab tier's own names.
  local left
  left=$(grep -nE "dv99|\"02:de:99\"|(^|[^.a-z0-9])lab\.deevnet\.test|$ROOT/dnsmasq/(dhcp-hosts|records)([^.a-z/-]|$)|$ROOT/backups([^a-z/]|$)|vmidRange: \[900" "$dst")
  [ -z "$left" ] || die "space: the lab tier ($src) has parts the space rewrite does not know: $left"
}

space_check() {
  space_rows | awk '
    function ip(s,  a) { split(s, a, "."); return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4] }
    function claim(what, lo, hi, who,  k) {
      for (k = 1; k <= n; k++) if (lo <= chi[k] && clo[k] <= hi) { printf "%s of %s overlaps %s\n", what, who, cwho[k]; bad = 1 }
      n++; clo[n] = lo; chi[n] = hi; cwho[n] = who " (" what ")"
    }
    {
      if (ids[$1]++) { print "id " $1 " twice"; bad = 1 }
      if (macs[$2]++) { print "MAC prefix " $2 " twice"; bad = 1 }
      if ($2 !~ /^02:de:[0-9a-f][0-9a-f]$/) { print "MAC prefix " $2 " of " $1 " is not 02:de:xx"; bad = 1 }
      if ($3 != "-") claim("VMIDs", 1e12 + $3, 1e12 + $3 + 99, $1)
      for (c = 4; c <= 6; c++) if ($c != "-") {
        split($c, o, "."); inlab = ($c ~ /^10\.231\.(99|25|50)\./)
        if (inlab && (o[4] < 2 || o[4] + 15 > 254)) { print $c " of " $1 " leaves its /24"; bad = 1 }
        if (inlab && $c ~ /^10\.231\.99\./ && o[4] + 15 >= 100 && o[4] <= 150) { print $c " of " $1 " overlaps the DHCP pools"; bad = 1 }
        if (inlab) claim("addresses", ip($c), ip($c) + 15, $1)
      }
      if ($7 != "-") { m = split($7, nets, ","); for (i = 1; i <= m; i++) { net = nets[i]; sub(/\/24$/, "", net)
        if (net ~ /^10\.231\.(99|25|50|0)\./) { print "net " nets[i] " of " $1 " is a lab segment"; bad = 1 }
        claim("net", ip(net), ip(net) + 255, $1) } }
      if ($8 == "yes" && $7 == "-") { print "space " $1 " has zones but no net of its own"; bad = 1 }
    }
    END { exit bad }'
}

cmd_space() {
  local sub=${1:-}; shift || true
  case $sub in
    check) space_check && say "spaces in $SPACES_FILE are disjoint" ;;
    show) space_load "${1:-}"; space_env ;;
    add|del)
      [ -f "$ROOT/lab.env" ] || die "the lab is not running (no $ROOT/lab.env)"
      if [ "$sub" = add ]; then space_add "$@"; else space_del "$@"; fi ;;
    *) echo "usage: lab.sh space add|del|show <id> | check   (spaces: $SPACES_FILE)" >&2; exit 2 ;;
  esac
}
