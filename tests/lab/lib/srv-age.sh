# The backup identity: an age key pair (private key mode 600), an OpenSSH key that signs each backup's seal with the
# allowed-signers file that verifies it (principal deevnet-backup, namespace deevnet-backup), and an empty store.
# Both private keys are made here, fresh for every lab; none is ever committed.

age_setup() {
  mkdir -p "$ROOT/backup" "$ROOT/backups" && chmod 700 "$ROOT/backup"
  (umask 077 && age-keygen -o "$ROOT/backup/age.key" 2>/dev/null) || die "age-keygen failed"
  chmod 600 "$ROOT/backup/age.key"
  AGE_RECIPIENT=$(age-keygen -y "$ROOT/backup/age.key") || die "age-keygen -y failed"
  (umask 077 && ssh-keygen -q -t ed25519 -N '' -C deevnet-backup-lab -f "$ROOT/backup/signing.key") || die "ssh-keygen (backup signing key) failed"
  printf 'deevnet-backup namespaces="deevnet-backup" %s\n' "$(cat "$ROOT/backup/signing.key.pub")" >"$ROOT/backup/allowed_signers" ||
    die "cannot write backup/allowed_signers"
}
