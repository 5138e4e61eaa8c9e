#!/usr/bin/env bash
# Installs the peer servers and their C client libraries from Debian without letting the
# maintainer scripts start any system-wide service: a temporary /usr/sbin/policy-rc.d that
# exits 101 ("action forbidden") is in place for the duration of the install, then removed.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

packages=(nats-server libnats-dev rabbitmq-server librabbitmq-dev jq)  # jq: run.sh's results
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_peers: all present (${packages[*]})"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# bench/scripts/install_peers.sh: no service starts during this install\nexit 101\n' |
    "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  created_policy=1
fi
remove_policy() {
  if [ "$created_policy" -eq 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
}
trap remove_policy EXIT

echo "install_peers: installing ${missing[*]} (services blocked by $policy)"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${missing[@]}" >/tmp/stafett-bench-apt.log 2>&1 || {
  echo "install_peers: apt-get install failed; trying apt-get update first" >&2
  "${sudo_cmd[@]}" apt-get update -q >>/tmp/stafett-bench-apt.log 2>&1
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >>/tmp/stafett-bench-apt.log 2>&1
}

# Belt and braces: if a packaged daemon got started anyway (no policy honoured), stop it.
for daemon in rabbitmq-server beam.smp epmd nats-server; do
  if pgrep -x "$daemon" >/dev/null 2>&1; then
    echo "install_peers: warning: a system $daemon is running after the install" >&2
  fi
done
echo "install_peers: done"
