#!/usr/bin/env bash
# Stafett's one set-up script: installs the Debian packages it needs (idempotent, quiet),
# builds, and then runs the demo or the whole test suite.
#
#   deploy/setup.sh demo    install, build (release) and run the three-endpoint demo
#   deploy/setup.sh test    install, build (dev: ASan+UBSan, warnings as errors) and run every test
#   deploy/setup.sh deps    install the packages only
#   deploy/setup.sh build   install and build the release binaries
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

packages=(
  build-essential cmake ninja-build pkg-config git python3 curl clang-format
  libzmq3-dev cppzmq-dev libsodium-dev librocksdb-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev libvalijson-dev libtomlplusplus-dev
  libcli11-dev libcpp-httplib-dev libprotobuf-dev protobuf-compiler
  chromium poppler-utils nodejs libssl-dev openssl rsyslog rsyslog-gnutls
)

say() { printf '==> %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "all ${#packages[@]} Debian packages present"
    return
  fi
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  # Maintainer scripts must not start system-wide services (rsyslog is only the SIEM feed
  # test's collector, which the test runs itself): deny service starts during the install.
  local policy=/usr/sbin/policy-rc.d had_policy=0 status=0
  [[ -e $policy ]] && had_policy=1
  if ((had_policy == 0)); then
    $sudo sh -c "printf '#!/bin/sh\\nexit 101\\n' >$policy && chmod +x $policy"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
  if ((status == 0)); then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || status=$?
  fi
  if ((had_policy == 0)); then $sudo rm -f "$policy"; fi
  return "$status"
}

# The browser and FHIR tests' npm packages, pinned by their package-lock.json: Playwright and
# axe-core for the console's browser test (Debian's chromium is the browser: npm never downloads
# one), the FHIR R4 JSON Schema and @medplum/core's validator for the FHIR tests. Without npm
# those tests say so and skip (under CI=true they fail instead).
install_test_tools() {
  if ! command -v npm >/dev/null; then
    say "npm not found: the console's browser test and the FHIR validation tests will skip"
    return
  fi
  local dir
  for dir in tests/console tests/fhir; do
    say "npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  done
}

jobs=$(nproc 2>/dev/null || echo 2)

# build PRESET [TARGET...]: configure and build (everything, or just the named targets).
build() {
  local preset=$1
  shift
  say "configuring and building ($preset${*:+: $*})"
  cmake --preset "$preset" >/dev/null
  if (($# > 0)); then
    cmake --build --preset "$preset" -j "$jobs" --target "$@"
  else
    cmake --build --preset "$preset" -j "$jobs"
  fi
}

binaries=(stafett stafett-broker stafett-agent)

case "${1:-}" in
  deps)
    install_packages
    ;;
  build)
    install_packages
    build release "${binaries[@]}"
    ;;
  demo)
    install_packages
    build release "${binaries[@]}"
    exec "$here/deploy/demo.sh" "$here/build/release"
    ;;
  test)
    install_packages
    install_test_tools
    build dev
    say "running the test suite (ASan+UBSan)"
    ctest --preset dev -j "$jobs"
    ;;
  *)
    echo "usage: deploy/setup.sh demo|test|deps|build" >&2
    exit 2
    ;;
esac
