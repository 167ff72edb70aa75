# sshd for the site server and for guests: root login by key only, host keys recorded in the lab's known_hosts.

ssh_keys() {
  mkdir -p "$ROOT/ssh" && chmod 700 "$ROOT/ssh"
  ssh-keygen -q -t ed25519 -N '' -C deevnet-lab-client -f "$ROOT/ssh/id_ed25519" || die "ssh-keygen failed"
  cp "$ROOT/ssh/id_ed25519.pub" "$ROOT/ssh/authorized_keys"
  : >"$ROOT/ssh/known_hosts"
  # sshd refuses to start without its privilege separation directory; it is system-wide, so it stays.
  mkdir -p /run/sshd
}

# sshd_start OWNER NETNS ADDRESS DIR: host key, config and daemon in DIR; known_hosts gets "ADDRESS <key>".
sshd_start() {
  local owner=$1 ns=$2 addr=$3 dir=$4
  mkdir -p "$dir" "$ROOT/ssh/home"
  ssh-keygen -q -t ed25519 -N '' -C "deevnet-lab-$addr" -f "$dir/host_ed25519" || die "ssh-keygen (host key $addr) failed"
  # StrictModes no: DEEV_LAB_ROOT may live under a world-writable folder such as /tmp.
  # SetEnv HOME: sessions run root's login shell, which would otherwise run this machine's ~/.bashrc (pyenv and
  # the like) before every command: seconds of start-up noise on stderr and races between concurrent sessions.
  cat >"$dir/sshd_config" <<CONF
Port 22
ListenAddress $addr
AddressFamily inet
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $ROOT/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
LogLevel INFO
SetEnv HOME=$ROOT/ssh/home
CONF
  /usr/sbin/sshd -t -f "$dir/sshd_config" 2>"$dir/sshd.log" || die "sshd config for $addr is invalid: $(log_tail "$dir/sshd.log")"
  spawn "$owner" sshd "$ns" "$dir/sshd.log" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
  printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >>"$ROOT/ssh/known_hosts"
}

# A real login with strict host key checking: proves both the daemon and the recorded key.
ssh_probe() {
  ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$ROOT/ssh/known_hosts" \
    -o ConnectTimeout=2 -i "$ROOT/ssh/id_ed25519" "root@$1" true
}
