#!/usr/bin/env bash
# Starts dockerd in the background when no engine answers. There is no init
# system here, so the daemon is started by hand; a daemon killed without a
# clean stop leaves its pid file behind, which would make the next start fail.
set -euo pipefail

log() { printf '[start-docker] %s\n' "$*"; }

if docker info >/dev/null 2>&1; then
  log "engine already answering"
  exit 0
fi

pidfile=/var/run/docker.pid
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) is running but not answering yet"
  else
    log "removing stale pid file left by pid ${pid:-?}"
    rm -f "$pidfile"
  fi
fi

# containerd may also have left a stale socket/pid; dockerd starts its own.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine ready: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last log lines:"
tail -n 30 /var/log/dockerd.log >&2 || true
exit 1
