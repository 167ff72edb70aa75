# What a started lab hands to its users: lab.env (KEY=VALUE, no export) and the tier file lab.tier.yaml.

write_lab_env() {
  local f=$ROOT/lab.env.partial
  (umask 077 && cat >"$f" <<ENV
# Written by tests/lab/lab.sh start; removed by lab.sh stop. Holds a secret (the PowerDNS API key).
DEEV_LAB_ROOT=$ROOT
DEEV_LAB_TIER=$ROOT/lab.tier.yaml
DEEV_LAB_LAB_SH=$LAB_DIR/lab.sh
DEEV_LAB_SSH_HOST=$SRV_IP
DEEV_LAB_SSH_PORT=22
DEEV_LAB_SSH_USER=root
DEEV_LAB_SSH_KEY=$ROOT/ssh/id_ed25519
DEEV_LAB_KNOWN_HOSTS=$ROOT/ssh/known_hosts
DEEV_LAB_SRV_NETNS=$SRV_NS
DEEV_LAB_KEA_NETNS=$KEA_NS
DEEV_LAB_DOMAIN=$DOMAIN
DEEV_LAB_DNSMASQ_CONF=$ROOT/dnsmasq/dnsmasq.conf
DEEV_LAB_DNSMASQ_CONFDIR=$ROOT/dnsmasq/conf.d
DEEV_LAB_DNSMASQ_HOSTS=$ROOT/dnsmasq/dhcp-hosts
DEEV_LAB_DNSMASQ_RECORDS=$ROOT/dnsmasq/records
DEEV_LAB_DNSMASQ_LEASES=$ROOT/dnsmasq/leases
DEEV_LAB_DNSMASQ_PID=$ROOT/dnsmasq/dnsmasq.pid
DEEV_LAB_KEA_CONFIG=$ROOT/kea/kea-dhcp4.conf
DEEV_LAB_KEA_SOCKET=$ROOT/kea/kea4-ctrl-socket
DEEV_LAB_KEA_LEASES=$ROOT/kea/kea-leases4.csv
DEEV_LAB_UNBOUND_PORT=5354
DEEV_LAB_UNBOUND_CONF=$ROOT/unbound/unbound.conf
DEEV_LAB_UNBOUND_INCLUDE=$ROOT/unbound/deevnet.conf
DEEV_LAB_BIND_PORT=5355
DEEV_LAB_BIND_TSIG=$ROOT/bind/tsig.key
DEEV_LAB_BIND_TSIG_NAME=deevnet-lab
DEEV_LAB_BIND_RNDC_PORT=$RNDC_PORT
DEEV_LAB_PDNS_PORT=5356
DEEV_LAB_PDNS_API=http://$SRV_IP:8081
DEEV_LAB_PDNS_API_KEY=$PDNS_API_KEY
DEEV_LAB_LIBVIRT_URI=$(libvirt_uri)
DEEV_LAB_IMAGES=$ROOT/images
DEEV_LAB_AGE_KEY=$ROOT/backup/age.key
DEEV_LAB_AGE_RECIPIENT=$AGE_RECIPIENT
DEEV_LAB_BACKUP_SIGNING_KEY=$ROOT/backup/signing.key
DEEV_LAB_BACKUP_ALLOWED_SIGNERS=$ROOT/backup/allowed_signers
DEEV_LAB_BACKUPS=$ROOT/backups
DEEV_LAB_SPACES=$SPACES_FILE
ENV
  ) || die "cannot write lab.env"
  mv "$f" "$ROOT/lab.env"
}

# The tier file: the repo's examples/lab.tier.yaml, which points at /run/deevnet-lab, with $ROOT substituted and
# the backup recipient replaced by this lab's. Until that example exists, a stand-in from tests/lab is used.
write_tier() {
  local src=$REPO_DIR/examples/lab.tier.yaml
  if [ ! -f "$src" ]; then
    src=$LAB_DIR/lab.tier.standin.yaml
    say "warning: $REPO_DIR/examples/lab.tier.yaml is missing; using the stand-in $src"
  fi
  sed -e "s#/run/deevnet-lab#$ROOT#g" \
      -e "s#\(recipient:[[:space:]]*\)[\"']\{0,1\}age1[^\"' ,}]*[\"']\{0,1\}#\1\"$AGE_RECIPIENT\"#" \
      "$src" >"$ROOT/lab.tier.yaml" || die "cannot write lab.tier.yaml"
  grep -q "recipient:[[:space:]]*\"$AGE_RECIPIENT\"" "$ROOT/lab.tier.yaml" ||
    die "could not set backup.recipient in $ROOT/lab.tier.yaml (expected 'recipient: \"age1...\"' in $src)"
}
