#!/bin/bash
# The lab's stand-in for a guest OS booting (the libvirt test driver runs no guest): it watches the lab's libvirt
# and, when the domain of a tier host is running and has no guest yet, "boots" it: a guest namespace with the
# domain's MAC (lab.sh guest add), a DHCP lease from the site's server (lab.sh guest dhcp: the reservation decides
# the address) and sshd on that address with the host's own host key in $ROOT/hosts/<host>/etc/ssh. On first boot
# that key comes from the VM's cloud-init seed when the module handed one in (ssh_keys.ed25519_private in the seed
# ISO's user-data, as cloud-init installs it), else the "OS" makes its own. A file $ROOT/impostor-<host> makes the
# boot ignore the seed, as a machine that took the VM's address would (the drill of a changed host key). When the
# domain is undefined, the guest is deleted with its files (the VM's disks).
# Usage: rebuild-lab-boot.sh <lab.sh> <libvirt-uri> <lab-root> <host>=<mac> ...   (runs until killed)
set -uo pipefail
lab=$1 uri=$2 root=$3; shift 3
declare -A macs
for pair in "$@"; do macs[${pair%%=*}]=${pair#*=}; done

# The ed25519 host key the module put into the domain's seed ISO (empty when it has none).
seeded_key() {
  local iso
  iso=$(virsh -c "$uri" dumpxml "$1" 2>/dev/null | grep -o "[^'\"]*-seed\.iso" | head -n 1)
  [ -n "$iso" ] && [ -r "$iso" ] || return 0
  isoinfo -R -i "$iso" -x /user-data 2>/dev/null |
    awk '/^  ed25519_private: [|]$/ { on = 1; next } on && /^    / { sub(/^    /, ""); print; next } on { exit }'
}

first_boot_key() {
  local host=$1 key=$2
  if [ ! -e "$root/impostor-$host" ] && (umask 077; seeded_key "$host" >"$key") && [ -s "$key" ]; then
    ssh-keygen -y -f "$key" >"$key.pub" && return
  fi
  rm -f "$key" "$key.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$key"
}

booted() { ip netns list | awk '{ print $1 }' | grep -qx "dlg-$1"; }

boot() {
  local host=$1 dir=$root/hosts/$1 ip
  "$lab" guest add "$host" --mac "${macs[$host]}" >/dev/null || return 1
  ip=$("$lab" guest dhcp "$host") || { echo "boot $host: no DHCP lease" >&2; return 1; }
  mkdir -p "$dir/etc/ssh" "$dir/run"
  [ -f "$dir/etc/ssh/ssh_host_ed25519_key" ] || first_boot_key "$host" "$dir/etc/ssh/ssh_host_ed25519_key"
  cat >"$dir/run/sshd_config" <<CONF
ListenAddress $ip
HostKey $dir/etc/ssh/ssh_host_ed25519_key
PidFile $dir/run/sshd.pid
AuthorizedKeysFile $root/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 100:30:200
CONF
  # sshd daemonizes inside the guest's namespace; lab.sh guest del kills whatever runs there.
  ip netns exec "dlg-$host" /usr/sbin/sshd -f "$dir/run/sshd_config" -E "$dir/run/sshd.log"
  echo "booted $host at $ip"
}

while :; do
  if defined=$(virsh -c "$uri" list --name --all 2>/dev/null) && running=$(virsh -c "$uri" list --name --state-running 2>/dev/null); then
    for host in "${!macs[@]}"; do
      if grep -qx "$host" <<<"$running"; then
        booted "$host" || boot "$host" || "$lab" guest del "$host" >/dev/null 2>&1
      elif ! grep -qx "$host" <<<"$defined" && booted "$host"; then
        "$lab" guest del "$host" >/dev/null && echo "removed $host"
      fi
    done
  fi
  sleep 0.2
done
