# libvirtd with only the test driver, its sockets under $ROOT/libvirt, plus a holder connection: the test
# driver's state lives as long as one client stays connected, so every virsh sees the same domains.

libvirt_uri() { echo "test+unix:///default?socket=$ROOT/libvirt/libvirt-sock"; }

libvirt_start() {
  local d=$ROOT/libvirt
  mkdir -p "$d/drivers" "$ROOT/images"
  [ -e /run/libvirt ] || record created-dirs /run/libvirt
  cat >"$d/libvirtd.conf" <<CONF
unix_sock_dir = "$d"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tcp = 0
listen_tls = 0
CONF
  # An empty driver dir loads no hypervisor driver except the built-in test driver (the QEMU one would fail).
  # In the site server's namespace like every other lab process, so nothing of the lab runs outside its namespaces.
  spawn lab libvirtd "$SRV_NS" "$d/libvirtd.log" env LIBVIRT_DRIVER_DIR="$d/drivers" libvirtd -f "$d/libvirtd.conf" -p "$d/libvirtd.pid"
  # Two tiny templates to clone from ("newest by version order" is 1.2).
  qemu-img create -q -f qcow2 "$ROOT/images/lab-base-1.0.qcow2" 64M &&
    qemu-img create -q -f qcow2 "$ROOT/images/lab-base-1.2.qcow2" 64M || die "qemu-img create failed"
}

libvirt_hold() {
  local d=$ROOT/libvirt
  mkfifo "$d/holder.fifo"
  spawn lab libvirt-holder-feed "$SRV_NS" /dev/null sh -c "exec sleep 2147483647 >'$d/holder.fifo'"
  spawn lab libvirt-holder "$SRV_NS" "$d/holder.log" sh -c "exec virsh -q -c '$(libvirt_uri)' <'$d/holder.fifo'"
}

libvirt_ready() { virsh -q -c "$(libvirt_uri)" uri; }
