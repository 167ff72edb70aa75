#!/bin/bash
# supervise.sh CMD...: run CMD in the foreground and start it again whenever it exits, until this script gets
# SIGTERM/SIGINT (then it stops CMD and exits). The lab uses it where a real site would use `systemctl restart`.
child=
stopping=
on_stop() { stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; }
trap on_stop TERM INT
while [ -z "$stopping" ]; do
  "$@" &
  child=$!
  wait "$child"; rc=$?   # returns early when a trapped signal arrives
  if [ -n "$stopping" ]; then wait "$child" 2>/dev/null; break; fi
  echo "supervise: '$1' exited with $rc; restarting" >&2
  sleep 0.3
done
