#!/usr/bin/env bash
# The system programs the tests start for real, from Debian's packages: redis-server (the shared
# token cache), nginx (the load balancer in front of three replicas), Go (the Go client's tests),
# Chromium (the /docs page in a browser), Node.js and npm (the TypeScript client). Installs what
# is missing when it can (root and apt-get); otherwise names what to install, and fails.
set -euo pipefail
declare -A NEED=(
  [redis-server]=redis-server
  [nginx]=nginx-light
  [go]=golang-go
  [chromium]=chromium
  [node]=nodejs
  [npm]=npm
)
missing=()
for program in "${!NEED[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$program" ]; then
    missing+=("${NEED[$program]}")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing from Debian's packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nginx-light's package starts a daemon on port 80; the tests start their own.
  if command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1 || true; fi
  exit 0
fi
echo "the tests need these Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
exit 1
