#!/usr/bin/env bash
# tests/deploy/check.sh: shell-level checks of what deploy/ ships for operators — the systemd
# units, the Prometheus rules and scrape config, the Grafana dashboard — and of cmake/Install.cmake
# listing them. Prints each check; exits non-zero if any fails. Installs nothing.
#
# Requires, on Debian 12 (see tests/deploy/README.md for keeping apt from starting Prometheus):
#   apt-get install -y --no-install-recommends prometheus systemd python3
# (promtool comes with prometheus; systemd-analyze, systemd-sysusers and systemd-tmpfiles with
# systemd; python3 is also among deploy/setup.sh's packages.)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

rules=deploy/prometheus/stafett.rules.yml
rules_test=tests/deploy/stafett.rules.test.yml
scrape=deploy/prometheus/prometheus.yml
dashboard=deploy/grafana/stafett-dashboard.json
units_dir=deploy/systemd
install_rules=cmake/Install.cmake
metric_sources=(broker/src/metrics.cc agents/src/metrics.cc)
# Highest acceptable `systemd-analyze security` exposure, in tenths as --threshold takes it
# (0 = locked down, 100 = none); the units score 1.6 (16) on systemd 252.
max_exposure=20

passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check NAME COMMAND...: runs the command, prints ok/FAIL, and its output on failure.
check() {
  local name=$1
  shift
  if "$@" >"$work/out" 2>&1; then
    printf 'ok    %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$work/out"
    failed=$((failed + 1))
  fi
}

skip() { printf 'skip  %s (%s)\n' "$1" "$2"; }

missing=()
for tool in promtool systemd-analyze systemd-sysusers systemd-tmpfiles python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "tests/deploy/check.sh: missing ${missing[*]}; install with:" >&2
  echo "  apt-get install -y --no-install-recommends prometheus systemd python3" >&2
  exit 2
fi

# --- Prometheus -------------------------------------------------------------------------------

check "promtool check rules $rules" promtool check rules "$rules"
check "promtool test rules $rules_test (every alert fires, and stays quiet on its near miss)" \
  promtool test rules "$rules_test"
check "promtool check config $scrape" promtool check config "$scrape"

# --- Grafana ----------------------------------------------------------------------------------

check "python3 -m json.tool $dashboard" python3 -m json.tool "$dashboard"

# Every panel uses the $datasource variable, ids are unique, and every query parses as PromQL
# (written, with Grafana's variables filled in, as recording rules for promtool to check).
dashboard_queries() {
  python3 - "$dashboard" "$work/dashboard.rules.yml" <<'EOF'
import json, sys
dashboard = json.load(open(sys.argv[1]))
names = [v["name"] for v in dashboard["templating"]["list"]]
assert "datasource" in names, "no datasource variable"
ids, exprs = set(), []
for panel in dashboard["panels"]:
    assert panel["id"] not in ids, f"duplicate panel id {panel['id']}"
    ids.add(panel["id"])
    if panel["type"] == "row":
        continue
    assert panel["datasource"]["uid"] == "${datasource}", f"panel {panel['title']!r}: datasource"
    assert panel["targets"], f"panel {panel['title']!r}: no query"
    for target in panel["targets"]:
        assert target["datasource"]["uid"] == "${datasource}", f"panel {panel['title']!r}: target datasource"
        exprs.append(target["expr"])
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, expr in enumerate(exprs):
        expr = (expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
                    .replace("$endpoint", ".*"))
        assert "$" not in expr, f"unknown variable in {expr!r}"
        out.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}\n")
print(f"{len(ids)} panels, {len(exprs)} queries")
EOF
  promtool check rules "$work/dashboard.rules.yml"
}
check "$dashboard: datasource variable, unique panel ids, every query is valid PromQL" \
  dashboard_queries

# --- Metric names -----------------------------------------------------------------------------

# Every stafett_* name used by the rules, their tests and the dashboard is one the broker or the
# agent exports (histogram series by their base name).
metric_names() {
  local name base unknown=0
  for name in $(grep -ohE '\bstafett_[a-z0-9_]+' "$rules" "$rules_test" "$dashboard" | sort -u); do
    base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")
    if ! grep -qwF "$base" "${metric_sources[@]}"; then
      echo "$name: not exported by ${metric_sources[*]}"
      unknown=1
    fi
  done
  return "$unknown"
}
check "metric names in rules, rule tests and dashboard exist in ${metric_sources[*]}" metric_names

# --- systemd ----------------------------------------------------------------------------------

mapfile -t units < <(find "$units_dir" -maxdepth 1 \( -name '*.service' -o -name '*.timer' \) | sort)
services=()
for unit in "${units[@]}"; do
  [[ $unit == *.service ]] && services+=("$(basename "$unit")")
done

# systemd-analyze verify checks that ExecStart= binaries exist and are executable, and on
# Debian 12 (systemd 252) its --root= does not apply to unit files given by path. So the units
# are copied with /usr/local/bin/ pointing at stub executables; nothing else changes.
# verify exits 0 on unknown keys and unparsable values (it only logs them), so any output fails.
mkdir -p "$work/bin" "$work/units"
for binary in stafett stafett-broker stafett-agent; do
  printf '#!/bin/sh\nexit 0\n' >"$work/bin/$binary"
  chmod 755 "$work/bin/$binary"
done
for unit in "${units[@]}"; do
  sed "s|/usr/local/bin/|$work/bin/|g" "$unit" >"$work/units/$(basename "$unit")"
done
verify_units() {
  (cd "$work/units" && systemd-analyze verify "$@") >"$work/verify" 2>&1 || {
    cat "$work/verify"
    return 1
  }
  if [[ -s $work/verify ]]; then
    cat "$work/verify"
    return 1
  fi
}
check "systemd-analyze verify ${units[*]##*/}" verify_units "${units[@]##*/}"

exposure() {
  (cd "$work/units" && systemd-analyze security --offline=yes --threshold="$max_exposure" "$@")
}
check "systemd-analyze security --offline: exposure at most $((max_exposure / 10)).$((max_exposure % 10)) for ${services[*]}" \
  exposure "${services[@]}"

# Both tools read a relative file name under --root, hence "$root/".
mkdir -p "$work/root/etc"
check "systemd-sysusers $units_dir/stafett.sysusers.conf (into an empty root)" \
  systemd-sysusers --root="$work/root" "$root/$units_dir/stafett.sysusers.conf"
if [[ $(id -u) -eq 0 ]]; then
  check "systemd-tmpfiles --create $units_dir/stafett.tmpfiles.conf (into that root)" \
    systemd-tmpfiles --root="$work/root" --create "$root/$units_dir/stafett.tmpfiles.conf"
else
  skip "systemd-tmpfiles --create $units_dir/stafett.tmpfiles.conf" "needs root to chown"
fi

# --- Installation -----------------------------------------------------------------------------

listed_in_install() {
  local file unlisted=0
  for file in "${units[@]}" "$units_dir"/*.conf "$rules" "$scrape" "$dashboard"; do
    if ! grep -qF "$file" "$install_rules"; then
      echo "$file: not installed by $install_rules"
      unlisted=1
    fi
  done
  return "$unlisted"
}
check "every unit, sysusers/tmpfiles file, rule file and dashboard is listed in $install_rules" \
  listed_in_install

echo "$passed passed, $failed failed"
((failed == 0))
