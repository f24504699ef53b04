#!/usr/bin/env bash
# Installs a Docker engine and the Compose v2 plugin when they are missing.
# Idempotent: every step checks first and does nothing if already satisfied.
set -euo pipefail

log() { printf '[install-docker] %s\n' "$*"; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
}

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io (engine, containerd, runc)"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io iptables >/dev/null
else
  log "engine present: $(dockerd --version)"
fi

if docker compose version >/dev/null 2>&1; then
  log "compose present: $(docker compose version --short)"
else
  # Bookworm ships only Compose v1; trixie's docker-compose is v2 and only needs
  # a newer libc than bookworm has (>= 2.34, bookworm has 2.36).
  log "installing Compose v2 from Debian trixie"
  src=/etc/apt/sources.list.d/nasiko-trixie-compose.list
  work=$(mktemp -d)
  trap 'rm -f "$src"; rm -rf "$work"' EXIT
  echo "deb http://deb.debian.org/debian trixie main" > "$src"
  apt-get update -qq
  (cd "$work" && apt-get download -qq docker-compose/trixie)
  rm -f "$src"
  apt-get update -qq
  dpkg -i "$work"/docker-compose_*.deb >/dev/null
  docker compose version
fi
