#!/usr/bin/env bash
# bench/scripts/ab_broker.sh: A/B of the broker's loop variants on the same load, alternated
# round by round so that every variant sees the same machine (bench/results/broker-experiments.md).
# Variants are the same stafett-broker binary with its tuning knobs (docs/DESIGN.md,
# "Performance"): STAFETT_BROKER_VERIFY_THREADS (verify-pool workers) and
# STAFETT_BROKER_COMMIT_THREAD (0: commit on the loop).
#
#   bench/scripts/ab_broker.sh BUILD_DIR [ROUNDS] [COUNT] [MODES]
#
# With BEFORE_BROKER=/path/to/an/older/stafett-broker it compares two builds instead, both with
# their default knobs: "before" (that binary) and "after" (BUILD_DIR's), alternated round by
# round against the same client (BUILD_DIR's stafett_bench) — the before/after figure of a
# change to the broker (issue 15: its CPU per message).
#
# Prints one JSON line per run: variant, mode, msgs_per_sec, broker CPU µs/msg, client CPU µs/msg.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
ROUNDS="${2:-3}" COUNT="${3:-5000}" MODES="${4:-accept e2e}"
BROKER_BIN="$BUILD/broker/stafett-broker"
STAFETT="$BUILD/bench/stafett_bench"
VARIANTS=("sequential:0:0:$BROKER_BIN" "verify_pool:1:0:$BROKER_BIN" "commit_thread:0:1:$BROKER_BIN"
  "both:1:1:$BROKER_BIN")
if [ -n "${BEFORE_BROKER:-}" ]; then
  VARIANTS=("before::1:$(realpath "$BEFORE_BROKER")" "after::1:$BROKER_BIN")
fi

TMP="$(mktemp -d /tmp/stafett-ab.XXXXXX)"
BROKER_PID=""
cleanup() {
  [ -n "$BROKER_PID" ] && kill -TERM "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
"$STAFETT" county --dir "$TMP/county" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    for variant in "${VARIANTS[@]}"; do
      IFS=: read -r name verify commit binary <<<"$variant"
      dir="$TMP/run"
      rm -rf "$dir"
      mkdir -p "$dir"
      port="$(free_port)"
      cat >"$dir/broker.toml" <<TOML
[broker]
zmq_bind = "tcp://127.0.0.1:$port"
http_bind = ""
data_dir = "$dir/data"
keys_dir = "$TMP/county/keys/broker"
trust_directory = "$TMP/county/trust/directory.json"
min_free_bytes = 0
max_publishes_per_second = 0   # no per-endpoint publish rate limit: the bench's one sender is the load
max_batch = 512
[delivery]
credit_window = 128
[log]
level = "warn"
TOML
      STAFETT_BROKER_VERIFY_THREADS="$verify" STAFETT_BROKER_COMMIT_THREAD="$commit" \
        "$binary" --config "$dir/broker.toml" >>"$dir/broker.log" 2>&1 &
      BROKER_PID=$!
      for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
      before="$(cpu_seconds "$BROKER_PID")"
      line="$("$STAFETT" "$mode" --county "$TMP/county" --broker "tcp://127.0.0.1:$port" \
        --window 256 --credit 128 --count "$COUNT" | tail -n 1)" || true
      after="$(cpu_seconds "$BROKER_PID")"
      kill -TERM "$BROKER_PID"
      wait "$BROKER_PID" 2>/dev/null || true
      BROKER_PID=""
      jq -c --arg v "$name" --arg m "$mode" --argjson r "$round" --argjson b "$before" \
        --argjson a "$after" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
        '{round: $r, variant: $v, mode: $m, msgs_per_sec: (.msgs_per_sec | round),
          broker_cpu_us_per_msg: ((($a - $b) / .count * 1e6) | round),
          client_cpu_us_per_msg: ((.client_cpu_s / .count * 1e6) | round), load: $load}' <<<"$line"
    done
  done
done
