#!/bin/sh
# busybox udhcpc script for lab guests: configure eth0 from the lease and write it to $LAB_LEASE_FILE.
case $1 in
  deconfig)
    ip -4 addr flush dev "$interface" ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    printf 'ip=%s\nmask=%s\nrouter=%s\ndns=%s\ndomain=%s\nhostname=%s\nserverid=%s\n' \
      "$ip" "$mask" "$router" "$dns" "$domain" "$hostname" "$serverid" >"$LAB_LEASE_FILE" ;;
esac
exit 0
