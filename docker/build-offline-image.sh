#!/usr/bin/env bash
# Builds a Python image with no container registry: Debian's own archive through debootstrap, then
# `docker import`. This is what the tests use, and what to use on hosts that cannot reach Docker Hub.
# It is the same kind of image as docker/Dockerfile (Python 3, venv and pip) but without uv, so
# pycage installs packages with pip in a venv.
#
#   usage: sudo bash docker/build-offline-image.sh [IMAGE_NAME] [SUITE]
#   default image: pycage-offline:bookworm; default suite: bookworm (Python 3.11)
#   needs: root, debootstrap, a reachable Debian mirror (MIRROR=... to choose one), a running Docker.
set -euo pipefail

image="${1:-pycage-offline:bookworm}"
suite="${2:-bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"

if [ "$(id -u)" -ne 0 ]; then
  echo "build-offline-image: debootstrap needs root; run it with sudo" >&2
  exit 2
fi
command -v debootstrap >/dev/null || { echo "build-offline-image: install debootstrap first (apt-get install -y debootstrap)" >&2; exit 2; }

root="$(mktemp -d /tmp/pycage-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT

echo "build-offline-image: debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Smaller image, nothing that a sandboxed script needs.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

echo "build-offline-image: importing as $image"
tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  --change 'LABEL org.opencontainers.image.description="pycage offline Python image (debootstrap)"' \
  - "$image" >/dev/null
docker run --rm --network none "$image" python3 -c 'import sys, venv, ensurepip; print("build-offline-image: ok, Python", sys.version.split()[0])'
