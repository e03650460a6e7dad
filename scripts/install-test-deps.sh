#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: the SIP peers and
# audio tools from Debian's packages, and staticcheck from the Go module proxy.
# Safe to run again: it skips what is already there.
set -euo pipefail

need=()
command -v sipp    >/dev/null 2>&1 || need+=(sip-tester)
command -v sox     >/dev/null 2>&1 || need+=(sox)
command -v ffmpeg  >/dev/null 2>&1 || need+=(ffmpeg)
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

GOBIN="$(go env GOPATH)/bin"
if [ ! -x "$GOBIN/staticcheck" ]; then
  echo "installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.7.0
fi
