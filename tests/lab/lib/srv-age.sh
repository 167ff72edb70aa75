# The backup identity: an age key pair (private key mode 600) and an empty backup store.

age_setup() {
  mkdir -p "$ROOT/backup" "$ROOT/backups" && chmod 700 "$ROOT/backup"
  (umask 077 && age-keygen -o "$ROOT/backup/age.key" 2>/dev/null) || die "age-keygen failed"
  chmod 600 "$ROOT/backup/age.key"
  AGE_RECIPIENT=$(age-keygen -y "$ROOT/backup/age.key") || die "age-keygen -y failed"
}
