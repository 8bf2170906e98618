#!/usr/bin/env bash
# Installs what StreamForge needs to build, test and demo on Debian bookworm. Idempotent:
# apt runs only when a package is missing; the test broker's wheels are fetched once.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-prometheus-client: the tests check /metrics with the reference parser. lintian: the
# package test fails on its errors (it brings man-db, with which packaging/man.sh checks the pages).
packages=(librdkafka-dev libsystemd-dev libpcre2-dev pkg-config kafkacat python3 python3-pip
          python3-prometheus-client dpkg-dev lintian)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "deps: swift 6 is required on PATH (https://swift.org/install)" >&2; exit 1; }

# Tansu, the second broker, and the librdkafka that can talk to it (DESIGN.md §8).
if [ -x scripts/tansu.sh ]; then
  scripts/tansu.sh install
fi
