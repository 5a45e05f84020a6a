#!/usr/bin/env bash
# Installs the Debian 12 packages Warden's build and tests need. Idempotent: installs only
# what is missing, runs `apt-get update` only when something must be installed, works as
# root or through sudo.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap pkg-config g++
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libdnnl-dev libre2-dev libabsl-dev libgtest-dev libbenchmark-dev
  libsqlite3-dev libicu-dev nlohmann-json3-dev
  python3-grpcio python3-protobuf
  clang-14 libclang-rt-14-dev   # libFuzzer and sanitizer runtimes (scripts/fuzz.sh)
  openssl curl                  # TLS and metrics end-to-end tests
  )
# Node.js (for the Node client test) may come from another source (e.g. NodeSource, which
# bundles npm); install Debian's only when no `npm` command exists.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: done"
