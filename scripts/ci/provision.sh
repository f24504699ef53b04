#!/usr/bin/env bash
# Everything the tests need on a machine with no Docker and no image registry:
# a Docker engine with Compose v2, a host redis-server for the worker's tests,
# and the offline base images. Idempotent; a few seconds when all is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

bash "$here/install-docker.sh"
bash "$here/start-docker.sh"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "[provision] installing redis-server (tests run a real Redis)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
bash "$here/build-offline-images.sh"
