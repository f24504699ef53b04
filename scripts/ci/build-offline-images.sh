#!/usr/bin/env bash
# Builds the base images an offline engine needs, because nothing can be pulled
# on these machines:
#   nasiko-offline/python:3.11-slim   Debian bookworm + python3 (debootstrap)
#   python:3.12-slim                  alias of the above, only if no real one
#                                     exists, so agent Dockerfiles build unchanged
#   nasiko-offline/redis:7            Debian's real redis-server
#   nasiko-offline/mongo-standin:7    nx-27017, a MongoDB wire-protocol server on
#                                     SQLite (a stand-in for tests, not MongoDB)
#   nasiko-offline/registry:2         Debian's docker-registry, for push/pull tests
# Each image carries a label with the hash of its recipe; an image whose label
# matches is kept, so a second run on the same machine takes a second or two.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[offline-images] %s\n' "$*"; }

BASE=nasiko-offline/python:3.11-slim
REDIS=nasiko-offline/redis:7
MONGO=nasiko-offline/mongo-standin:7
REGISTRY=nasiko-offline/registry:2
ALIAS=python:3.12-slim
LABEL=org.nasiko.offline.recipe

image_recipe() { docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }

# --- Python base -------------------------------------------------------------
# Only this section's text decides whether the base is rebuilt.
base_hash=$(sed -n '/^# --- Python base/,/^# --- Images built on the base/p' "$0" | sha256sum | cut -c1-16)
if [ "$(image_recipe "$BASE")" = "$base_hash" ]; then
  log "$BASE is current"
else
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  rootfs=$(mktemp -d /var/tmp/nasiko-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  log "debootstrap bookworm into $rootfs (about 80 s)"
  debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >/var/tmp/nasiko-debootstrap.log 2>&1 || {
      tail -n 30 /var/tmp/nasiko-debootstrap.log >&2; exit 1; }
  # The registries here are reached through hosts that need this CA bundle.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # Stand in for python:X-slim, where pip installs system-wide without a venv.
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  log "importing as $BASE"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' \
    --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL $LABEL=$base_hash org.nasiko.offline.standin-for=python:3-slim" \
    --change 'CMD ["python3"]' \
    - "$BASE" >/dev/null
  rm -rf "$rootfs"; trap - EXIT
fi

# Alias for agent Dockerfiles that say FROM python:3.12-slim. A real image of
# that name (from a registry) is never overwritten.
alias_recipe=$(image_recipe "$ALIAS")
if docker image inspect "$ALIAS" >/dev/null 2>&1 && [ -z "$alias_recipe" ]; then
  log "$ALIAS is a real image; leaving it alone"
elif [ "$alias_recipe" != "$base_hash" ]; then
  docker tag "$BASE" "$ALIAS"
  log "tagged $ALIAS -> $BASE (Debian's Python 3.11 stands in for it)"
fi

# --- Images built on the base --------------------------------------------------
build_on_base() {  # name dir
  local name=$1 dir=$2 hash
  # The base's id is part of the recipe: a new base rebuilds what sits on it.
  hash=$( (docker image inspect -f '{{.Id}}' "$BASE"; cat "$dir"/*) | sha256sum | cut -c1-16)
  if [ "$(image_recipe "$name")" = "$hash" ]; then
    log "$name is current"
    return
  fi
  log "building $name"
  DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "BASE_IMAGE=$BASE" \
    --label "$LABEL=$hash" -t "$name" "$dir" >/dev/null
}
build_on_base "$REDIS" "$here/images/redis"
build_on_base "$MONGO" "$here/images/mongo-standin"
build_on_base "$REGISTRY" "$here/images/registry"
log "done: $BASE $REDIS $MONGO $REGISTRY"
