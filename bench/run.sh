#!/usr/bin/env bash
# bench/run.sh: Stafett against RabbitMQ (quorum and classic queues) and NATS JetStream on this
# machine, plus the machine's own limits, in one run. Installs the peers from Debian (no system
# service is started: bench/scripts/install_peers.sh), builds the bench clients, starts every
# server on 127.0.0.1 with its data under one temporary folder, runs the same workload through
# each, stops them by PID, prints one table and writes bench/results/latest.json. Stafett is
# measured at protocol level (stafett_bench: two agents in one process) and at product level
# (stafett_product_bench: outbox file → inbox file through the real broker and agents).
#
#   bench/run.sh [--quick] [--million] [--no-install] [--skip-peers] [--only-product]
#                [--build-dir DIR] [--out FILE] [--audit-records N]
#
# --quick: small counts, under five minutes. --million: also the 10^6-message backlog.
# --audit-records N: the audit-log bench at N records (default 10^6; 10^5 with --quick).
# --only-product: only the product-level Stafett runs (no limits, protocol level, audit, peers).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
OUT="$ROOT/bench/results/latest.json"
QUICK=0 MILLION=0 INSTALL=1 PEERS=1 ONLY_PRODUCT=0 AUDIT_RECORDS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --million) MILLION=1 ;;
    --no-install) INSTALL=0 ;;
    --skip-peers) PEERS=0 ;;
    --only-product) ONLY_PRODUCT=1 PEERS=0 ;;
    --build-dir) BUILD="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --audit-records) AUDIT_RECORDS="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# The workload, the same for every system.
WINDOW=256          # messages in flight per publisher (unconfirmed, or not yet consumed in e2e)
CREDIT=128          # deliveries in flight to the consumer: Stafett credit, AMQP prefetch, JS max_ack_pending
RATE=1000           # offered rate of the latency runs, msg/s
PRODUCT_LOW_RATE=200  # a second product-level latency run, below the product's capacity
if [ "$QUICK" -eq 1 ]; then
  COUNT=3000 NOBATCH_COUNT=600 LAT_SECONDS=10 LIMIT_SECONDS=1.5 ZMQ_COUNT=30000
  BACKLOGS="10000 100000" DRAIN=5000 AUDIT_RECORDS="${AUDIT_RECORDS:-100000}"
  PRODUCT_COUNT=2000 PRODUCT_LIMITED_COUNT=500
else
  COUNT=20000 NOBATCH_COUNT=2000 LAT_SECONDS=30 LIMIT_SECONDS=4 ZMQ_COUNT=200000
  BACKLOGS="10000 100000" DRAIN=20000 AUDIT_RECORDS="${AUDIT_RECORDS:-1000000}"
  PRODUCT_COUNT=10000 PRODUCT_LIMITED_COUNT=2000
fi
[ "$MILLION" -eq 1 ] && BACKLOGS="$BACKLOGS 1000000"
# The broker's data folder with retention on, after this many messages delivered and finished
# (none in a quick run; the target compares 10^5 with 10^6, --million).
RETENTION_SIZES="10000 100000"
[ "$QUICK" -eq 1 ] && RETENTION_SIZES=""
[ "$MILLION" -eq 1 ] && RETENTION_SIZES="100000 1000000"
RETENTION_TTL=20    # each message expires this long after its sending, seconds

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# --- install and build ------------------------------------------------------------------------
if [ "$INSTALL" -eq 1 ] && [ "$PEERS" -eq 1 ]; then
  bash "$ROOT/bench/scripts/install_peers.sh" >&2
fi
for tool in jq python3 ss pgrep cmake ninja curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed (apt-get install it)" >&2; exit 2; }
done
if [ ! -f "$BUILD/build.ninja" ]; then
  log "configuring $BUILD (release, no sanitizers)"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTAFETT_WERROR=ON \
    -DSTAFETT_BUILD_TESTS=OFF -DSTAFETT_BUILD_BENCH=ON >&2
fi
targets=(stafett-broker stafett-agent stafett stafett_product_bench)
[ "$ONLY_PRODUCT" -eq 0 ] && targets+=(stafett_bench stafett_limits stafett_audit_bench)
[ "$PEERS" -eq 1 ] && targets+=(bench_nats bench_rabbitmq)
log "building ${targets[*]}"
# STAFETT_BUILD_LOCK=FILE: take this flock around the build (a build tree shared with others).
${STAFETT_BUILD_LOCK:+flock "$STAFETT_BUILD_LOCK"} nice -n 10 cmake --build "$BUILD" --target "${targets[@]}" >&2
BROKER_BIN="$BUILD/broker/stafett-broker"
STAFETT="$BUILD/bench/stafett_bench"
LIMITS="$BUILD/bench/stafett_limits"
AUDIT_BENCH="$BUILD/bench/stafett_audit_bench"
AGENT_BIN="$BUILD/agents/stafett-agent"
STAFETT_CLI="$BUILD/tools/stafett"
PRODUCT_BENCH="$BUILD/bench/stafett_product_bench"

# --- temporary folder, processes we started, cleanup -------------------------------------------
TMP="$(mktemp -d /tmp/stafett-bench.XXXXXX)"
RESULTS="$TMP/results.jsonl"
: >"$RESULTS"
STARTED_PIDS=()
descendants() { local pid; for pid in $(pgrep -P "$1" 2>/dev/null); do descendants "$pid"; echo "$pid"; done; }
stop_pid() {  # TERM, wait up to 30 s, then KILL; and whatever it left behind
  local pid="$1" kids
  kids="$(descendants "$pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for kid in $kids; do kill -KILL "$kid" 2>/dev/null || true; done
}
cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT SECONDS
  for _ in $(seq $(($2 * 10))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  log "port $1 did not open"; return 1
}
# CPU seconds (user + system) used so far by PID and its descendants.
cpu_seconds() {
  local pid total=0 ticks
  for pid in "$1" $(descendants "$1"); do
    ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    total=$((total + ticks))
  done
  python3 -c "print($total / $(getconf CLK_TCK))"
}
# The server under test: record() adds its CPU time during the client's run (server_cpu_s). A
# space-separated list of PIDs (the product level: broker and agents) adds their sum, and each
# one's in the list's order (server_cpu_s_each).
SERVER_PID=""
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Listening sockets of PID and its children that are not on loopback (must be none).
exposed() {
  local pids; pids="$(echo "$1" $(descendants "$1") | tr ' ' '|')"
  ss -Hltnp 2>/dev/null | grep -E "pid=($pids)," | awk '{print $4}' | grep -vE '^(127\.|\[::1\]|\[::ffff:127\.)' || true
}
# Runs a bench client, appends its JSON line with LABEL and EXTRA (a JSON object) to RESULTS.
record() {  # LABEL EXTRA_JSON COMMAND...
  local label="$1" extra="$2" line
  shift 2
  log "$label"
  local pid before=() after=()
  for pid in $SERVER_PID; do before+=("$(cpu_seconds "$pid")"); done
  line="$("$@" | tail -n 1)" || { log "$label failed: $line"; line='{"error":"client failed"}'; }
  for pid in $SERVER_PID; do after+=("$(cpu_seconds "$pid")"); done
  extra="$(jq -c --argjson cpu "$(cpu_used "${before[@]}" "${after[@]}")" '. + $cpu' <<<"$extra")"
  jq -c --arg name "$label" --argjson extra "$extra" '. + {"label": $name} + $extra' <<<"$line" >>"$RESULTS" ||
    jq -c -n --arg name "$label" '{"label": $name, "error": "client printed no result"}' >>"$RESULTS"
  tail -n 1 "$RESULTS" >&2
}
# BEFORE... AFTER... (CPU seconds of the same PIDs) → {"server_cpu_s": sum[, "server_cpu_s_each": [...]]}
cpu_used() {
  python3 - "$@" <<'PY'
import json, sys
values = [float(v) for v in sys.argv[1:]]
half = len(values) // 2
each = [round(after - before, 3) for before, after in zip(values[:half], values[half:])]
out = {"server_cpu_s": round(sum(each), 3)}
if len(each) > 1:
    out["server_cpu_s_each"] = each
print(json.dumps(out))
PY
}
record_json() { jq -c -n --arg name "$1" --argjson value "$2" '$value + {"label": $name}' >>"$RESULTS"; }

log "load before: $(cat /proc/loadavg)"
record_json load_before "{\"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"

# --- the machine's limits ------------------------------------------------------------------------
if [ "$ONLY_PRODUCT" -eq 0 ]; then
  SERVER_PID=""
  record limits '{}' "$LIMITS" --dir "$TMP" --seconds "$LIMIT_SECONDS" --zmq-count "$ZMQ_COUNT"
fi

# --- Stafett, protocol level -------------------------------------------------------------------
exposed_stafett="" exposed_product=""
COUNTY="$TMP/county"
BROKER_PID=""
BROKER_URL=""
write_broker_config() {  # DIR PORT MAX_BATCH
  cat >"$1/broker.toml" <<TOML
[broker]
zmq_bind = "tcp://127.0.0.1:$2"
http_bind = ""
data_dir = "$1/data"
keys_dir = "$COUNTY/keys/broker"
trust_directory = "$COUNTY/trust/directory.json"
min_free_bytes = 0
max_publishes_per_second = 0   # no per-endpoint publish rate limit: the bench's one sender is the load
max_batch = $3
[delivery]
credit_window = $CREDIT
[log]
level = "warn"
TOML
}
start_broker() {  # NAME MAX_BATCH (a fresh data folder per NAME)
  local dir="$TMP/stafett-$1" port
  if [ ! -f "$dir/broker.toml" ]; then
    mkdir -p "$dir"
    port="$(free_port)"
    write_broker_config "$dir" "$port" "$2"
  fi
  port="$(sed -n 's/^zmq_bind = "tcp:\/\/127.0.0.1:\([0-9]*\)"/\1/p' "$dir/broker.toml")"
  "$BROKER_BIN" --config "$dir/broker.toml" >>"$dir/broker.log" 2>&1 &
  BROKER_PID=$!
  SERVER_PID=$BROKER_PID
  STARTED_PIDS+=("$BROKER_PID")
  BROKER_URL="tcp://127.0.0.1:$port"
  wait_port "$port" 60
}
stop_broker() { stop_pid "$BROKER_PID"; }
stafett_flow() { "$STAFETT" "$1" --county "$COUNTY" --broker "$BROKER_URL" --window "$WINDOW" --credit "$CREDIT" "${@:2}"; }

if [ "$ONLY_PRODUCT" -eq 0 ]; then
  "$STAFETT" county --dir "$COUNTY"
  start_broker accept 512
  record stafett_accept '{"max_batch":512}' stafett_flow accept --count "$COUNT"
  stop_broker
  start_broker nobatch 1
  record stafett_accept_no_group_commit '{"max_batch":1}' stafett_flow accept --count "$NOBATCH_COUNT"
  stop_broker
  start_broker e2e 512
  record stafett_e2e '{}' stafett_flow e2e --count "$COUNT"
  stop_broker
  start_broker latency 512
  record stafett_latency '{}' stafett_flow latency --rate "$RATE" --seconds "$LAT_SECONDS"
  exposed_stafett="$(exposed "$BROKER_PID")"
  stop_broker

  # Backlog for an offline recipient: RSS at each size, then SIGKILL, restart and recovery.
  start_broker backlog 512
  queued=0
  for size in $BACKLOGS; do
    record "stafett_backlog_fill_$size" "{\"queued_before\": $queued}" \
      stafett_flow accept --count $((size - queued)) --prefix "b$size"
    queued=$size
    sleep 2
    record_json "stafett_backlog_rss_$size" \
      "{\"queued\": $size, \"rss_kib\": $(rss_kib "$BROKER_PID"), \"data_kib\": $(du -sk "$TMP/stafett-backlog/data" | cut -f1)}"
  done
  kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  t0="$(date +%s%N)"
  start_broker backlog 512
  record stafett_recovery "{\"queued\": $queued}" \
    "$STAFETT" recover --county "$COUNTY" --broker "$BROKER_URL" --credit "$CREDIT" --t0-unix-ns "$t0" --count "$DRAIN"
  record_json stafett_recovery_rss "{\"queued\": $queued, \"rss_kib_after_restart\": $(rss_kib "$BROKER_PID")}"
  stop_broker

  # Retention: messages delivered, receipted and acknowledged, each expiring RETENTION_TTL s
  # after its sending; their states go one second after that (retention.message_grace_seconds).
  # After each step, once the broker has removed every finished message's state, the data
  # folder's size and the store's bytes per key space (stafett_store_space_bytes).
  if [ -n "$RETENTION_SIZES" ]; then
    dir="$TMP/stafett-retention" http_port="$(free_port)"
    mkdir -p "$dir"
    write_broker_config "$dir" "$(free_port)" 512
    sed -i "s|^http_bind = \"\"|http_bind = \"127.0.0.1:$http_port\"|" "$dir/broker.toml"
    printf '[retention]\nmessage_grace_seconds = 1\n' >>"$dir/broker.toml"
    start_broker retention 512
    wait_port "$http_port" 30
    metric() {  # NAME{LABELS} → its value (0 when absent)
      curl -fsS "http://127.0.0.1:$http_port/metrics" | awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}'
    }
    delivered=0
    for size in $RETENTION_SIZES; do
      record "stafett_retention_e2e_$size" "{\"delivered_before\": $delivered}" \
        stafett_flow e2e --count $((size - delivered)) --prefix "r$size" \
        --ttl-seconds "$RETENTION_TTL" --max-seconds 3600
      delivered=$size
      # Every state is due RETENTION_TTL + 1 s after its sending; allow two minutes more.
      removed=0
      for _ in $(seq $(( (RETENTION_TTL + 120) * 2 ))); do
        removed="$(metric 'stafett_retention_removed_total{what="message_state"}')"
        [ "${removed%.*}" -ge "$size" ] && break
        sleep 0.5
      done
      spaces="$(curl -fsS "http://127.0.0.1:$http_port/metrics" |
        sed -n 's/^stafett_store_space_bytes{space="\([a-z_]*\)"} \([0-9]*\)$/\1 \2/p' |
        jq -R -s -c 'split("\n") | map(select(length > 0) | split(" ") | {(.[0]): (.[1] | tonumber)}) | add')"
      [ -n "$spaces" ] && [ "$spaces" != null ] || spaces='{}'
      record_json "stafett_retention_data_$size" \
        "{\"delivered\": $size, \"states_removed\": ${removed%.*}, \"data_kib\": $(du -sk "$dir/data" | cut -f1), \"space_bytes\": $spaces}"
      tail -n 1 "$RESULTS" >&2
    done
    stop_broker
  fi
fi

# --- Stafett, product level: outbox file → inbox file through the real broker and agents --------
# Each scenario gets a fresh sandbox (`stafett county init --preset three`) with its broker and
# the flen.school and flen.social agents (region.health is not needed). Configs as `county init`
# writes them, but log level warn and, as for the protocol level, no per-endpoint publish rate
# limit (the bench's one sender is the load, not a flood) — except the run labelled
# default_rate_limit, which keeps the shipped limit. CPU is the broker's and the agents'.
PRODUCT_DIR="" PRODUCT_PIDS=""
product_base_port() {  # a base port with base .. base+15 free on loopback
  python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000)
    sockets = []
    try:
        for port in range(base, base + 16):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in sockets:
            s.close()
    print(base)
    break
PY
}
product_ready() {  # DIR SECONDS AGENT...: the broker ready, each agent connected to it
  python3 "$ROOT/bench/scripts/wait_ready.py" "$@"
}
start_product() {  # NAME off|default AGENT...: a fresh sandbox, its broker and AGENTs, ready
  local dir="$TMP/product-$1" limit="$2" pid id
  shift 2
  "$STAFETT_CLI" county init "$dir" --preset three --base-port "$(product_base_port)" >/dev/null
  sed -i 's/^level = "info"/level = "warn"/' "$dir/broker/broker.toml" "$dir"/agents/*/agent.toml
  if [ "$limit" = off ]; then
    sed -i '/^max_publishes_per_second *=/d' "$dir/broker/broker.toml"
    sed -i '/^\[broker\]/a max_publishes_per_second = 0   # bench: no per-endpoint publish rate limit' \
      "$dir/broker/broker.toml"
  fi
  PRODUCT_DIR="$dir"
  "$BROKER_BIN" --config "$dir/broker/broker.toml" >>"$dir/broker.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  PRODUCT_PIDS="$pid"
  for id in "$@"; do
    "$AGENT_BIN" --config "$dir/agents/$id/agent.toml" >>"$dir/$id.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    PRODUCT_PIDS="$PRODUCT_PIDS $pid"
  done
  SERVER_PID="$PRODUCT_PIDS"
  product_ready "$dir" 60 "$@"
}
stop_product() {  # the agents first, then the broker
  local pid
  for pid in $(echo "$PRODUCT_PIDS" | tr ' ' '\n' | tac); do stop_pid "$pid"; done
  SERVER_PID=""
}
product_exposed() { local pid; for pid in $PRODUCT_PIDS; do exposed "$pid"; done; }
product_flow() { "$PRODUCT_BENCH" "$1" --county "$PRODUCT_DIR" --max-seconds 300 "${@:2}"; }
PRODUCT_CPU='{"server_cpu_of": ["stafett-broker", "flen.school agent", "flen.social agent"]}'
BOTH=(flen.school flen.social)

start_product accept off flen.school  # recipient offline, as the protocol level's accept
record stafett_product_accept '{"server_cpu_of": ["stafett-broker", "flen.school agent"]}' \
  product_flow accept --count "$PRODUCT_COUNT" --window "$WINDOW"
stop_product
start_product e2e off "${BOTH[@]}"
record stafett_product_e2e "$PRODUCT_CPU" product_flow e2e --count "$PRODUCT_COUNT" --window "$WINDOW"
stop_product
start_product latency off "${BOTH[@]}"
record stafett_product_latency "$PRODUCT_CPU" product_flow latency --rate "$RATE" --seconds "$LAT_SECONDS"
exposed_product="$(product_exposed)"
stop_product
start_product latency_low off "${BOTH[@]}"
record "stafett_product_latency_$PRODUCT_LOW_RATE" "$PRODUCT_CPU" \
  product_flow latency --rate "$PRODUCT_LOW_RATE" --seconds "$LAT_SECONDS"
stop_product
start_product e2e_limited default "${BOTH[@]}"  # the broker's shipped publish rate limit
record stafett_product_e2e_default_rate_limit "$PRODUCT_CPU" \
  product_flow e2e --count "$PRODUCT_LIMITED_COUNT" --window "$WINDOW"
stop_product

# --- the audit log at AUDIT_RECORDS records (broker/src/audit_log + store, RocksDB on disk) -----
if [ "$ONLY_PRODUCT" -eq 0 ]; then
  SERVER_PID=""
  record stafett_audit '{}' "$AUDIT_BENCH" --dir "$TMP/audit" --records "$AUDIT_RECORDS"
  rm -rf "$TMP/audit"
fi

# --- RabbitMQ -------------------------------------------------------------------------------
exposed_rabbitmq="" exposed_nats=""
if [ "$PEERS" -eq 1 ]; then
  dir="$TMP/rabbitmq"
  mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
  RABBIT_PORT="$(free_port)" DIST_PORT="$(free_port)" EPMD_PORT="$(free_port)"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
loopback_users.guest = true
CONF
  echo '[].' >"$dir/enabled_plugins"
  epmd -address 127.0.0.1 -port "$EPMD_PORT" >"$dir/epmd.log" 2>&1 &
  EPMD_PID=$!
  STARTED_PIDS+=("$EPMD_PID")
  env HOME="$dir/home" ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_NODENAME=stafettbench@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBIT_PORT" RABBITMQ_DIST_PORT="$DIST_PORT" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/stdout.log" 2>&1 &
  RABBIT_PID=$!
  SERVER_PID=$RABBIT_PID
  STARTED_PIDS+=("$RABBIT_PID")
  log "starting RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server) on 127.0.0.1:$RABBIT_PORT"
  wait_port "$RABBIT_PORT" 180
  for type in quorum classic; do
    rabbit() { "$BUILD/bench/bench_rabbitmq" "$1" --port "$RABBIT_PORT" --queue-type "$type" --window "$WINDOW" --credit "$CREDIT" "${@:2}"; }
    record "rabbitmq_${type}_accept" '{}' rabbit accept --count "$COUNT"
    record "rabbitmq_${type}_e2e" '{}' rabbit e2e --count "$COUNT"
    record "rabbitmq_${type}_latency" '{}' rabbit latency --rate "$RATE" --seconds "$LAT_SECONDS"
  done
  exposed_rabbitmq="$(exposed "$RABBIT_PID")$(exposed "$EPMD_PID")"
  stop_pid "$RABBIT_PID"
  stop_pid "$EPMD_PID"

  # --- NATS JetStream -----------------------------------------------------------------------
  dir="$TMP/nats"
  mkdir -p "$dir"
  NATS_PORT="$(free_port)"
  nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$dir/jetstream" -l "$dir/nats.log" &
  NATS_PID=$!
  SERVER_PID=$NATS_PID
  STARTED_PIDS+=("$NATS_PID")
  log "starting NATS $(dpkg-query -W -f='${Version}' nats-server) on 127.0.0.1:$NATS_PORT"
  wait_port "$NATS_PORT" 60
  nats() { "$BUILD/bench/bench_nats" "$1" --port "$NATS_PORT" --window "$WINDOW" --credit "$CREDIT" "${@:2}"; }
  record nats_jetstream_accept '{}' nats accept --count "$COUNT"
  record nats_jetstream_e2e '{}' nats e2e --count "$COUNT"
  record nats_jetstream_latency '{}' nats latency --rate "$RATE" --seconds "$LAT_SECONDS"
  exposed_nats="$(exposed "$NATS_PID")"
  stop_pid "$NATS_PID"
fi

record_json load_after "{\"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
record_json exposure "$(jq -n --arg s "$exposed_stafett" --arg p "$exposed_product" \
  --arg r "$exposed_rabbitmq" --arg n "$exposed_nats" \
  '{stafett: $s, stafett_product: $p, rabbitmq: $r, nats: $n}')"
log "load after: $(cat /proc/loadavg)"

mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/bench/scripts/report.py" --results "$RESULTS" --out "$OUT" --quick "$QUICK" \
  --broker-config "$TMP/stafett-e2e/broker.toml" --rabbitmq-config "$TMP/rabbitmq/rabbitmq.conf" \
  --window "$WINDOW" --credit "$CREDIT" --rate "$RATE" --count "$COUNT" --latency-seconds "$LAT_SECONDS" \
  --product-count "$PRODUCT_COUNT" --product-low-rate "$PRODUCT_LOW_RATE" \
  --product-config "$TMP/product-e2e"
