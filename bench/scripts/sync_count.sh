#!/usr/bin/env bash
# Syncs per message at the product level: the broker and both agents run under `strace -f -c`
# (only fsync, fdatasync, syncfs, sync_file_range, msync) while stafett_product_bench hands N
# documents from flen.school's outbox to flen.social's inbox (e2e), then the counts per process
# and per message are printed. The broker's fdatasync count is its commits (one synced RocksDB
# write each).
#
#   bench/scripts/sync_count.sh BUILD_DIR [COUNT [WINDOW]]     e.g. build/release 1000 256
#
# Any build works (the counts do not depend on the optimisation level); the figures quoted in
# bench/README.md are from it.
set -euo pipefail
BUILD="${1:?usage: sync_count.sh BUILD_DIR [COUNT [WINDOW]]}"
COUNT="${2:-1000}"
WINDOW="${3:-256}"
BUILD="$(cd "$BUILD" && pwd)"
for tool in strace python3; do
  command -v "$tool" >/dev/null || { echo "sync_count.sh: $tool is needed" >&2; exit 2; }
done
TMP="$(mktemp -d /tmp/stafett-syncs.XXXXXX)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

base="$(python3 -c 'import random; print(random.randrange(20000, 30000, 20))')"
"$BUILD/tools/stafett" county init "$TMP/county" --preset three --base-port "$base" >/dev/null
sed -i 's/^level = "info"/level = "warn"/' "$TMP/county/broker/broker.toml" \
  "$TMP"/county/agents/*/agent.toml
sed -i '/^max_publishes_per_second *=/d' "$TMP/county/broker/broker.toml"
sed -i '/^\[broker\]/a max_publishes_per_second = 0' "$TMP/county/broker/broker.toml"

traced() {  # NAME COMMAND...: COMMAND under strace, its summary in $TMP/NAME.strace
  local name="$1"
  shift
  strace -f -c --seccomp-bpf -e trace=fsync,fdatasync,syncfs,sync_file_range,msync \
    -o "$TMP/$name.strace" "$@" >>"$TMP/$name.log" 2>&1 &
  PIDS+=("$!")
}
traced broker "$BUILD/broker/stafett-broker" --config "$TMP/county/broker/broker.toml"
traced sender "$BUILD/agents/stafett-agent" --config "$TMP/county/agents/flen.school/agent.toml"
traced recipient "$BUILD/agents/stafett-agent" \
  --config "$TMP/county/agents/flen.social/agent.toml"

python3 "$(dirname "$0")/wait_ready.py" "$TMP/county" 60 flen.school flen.social

"$BUILD/bench/stafett_product_bench" e2e --county "$TMP/county" --count "$COUNT" \
  --window "$WINDOW" --max-seconds 600 >"$TMP/bench.json"
# The traced programs are the children of strace: stop them, and strace writes its summary.
for pid in "${PIDS[@]}"; do
  pkill -TERM -P "$pid" 2>/dev/null || true
done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

python3 - "$TMP" "$COUNT" <<'PY'
import json, os, sys
folder, count = sys.argv[1], int(sys.argv[2])
bench = json.load(open(os.path.join(folder, "bench.json")))
result = {"messages": count, "e2e_msg_per_s": bench.get("msgs_per_sec")}
total_agents = 0
for name in ("sender", "recipient", "broker"):
    calls = {}
    for line in open(os.path.join(folder, name + ".strace")):
        fields = line.split()
        if len(fields) >= 5 and fields[-1] in ("fsync", "fdatasync", "syncfs", "sync_file_range", "msync"):
            calls[fields[-1]] = int(fields[3])
    result[name] = {"calls": calls, "per_message": round(sum(calls.values()) / count, 3)}
    if name != "broker":
        total_agents += sum(calls.values())
result["agents_syncs_per_message"] = round(total_agents / count, 3)
result["broker_commits_per_message"] = round(result["broker"]["calls"].get("fdatasync", 0) / count, 3)
print(json.dumps(result, indent=2))
PY
