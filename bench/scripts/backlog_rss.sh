#!/usr/bin/env bash
# Backpressure (issue 16, item 6): the sending agent with its broker unreachable keeps taking
# documents — dropped into its outbox (where they wait, durable) and POSTed over HTTP (answered
# 202 pending) — and its memory stays bounded. Drops documents in steps up to the largest COUNT,
# waits each time until the agent has journalled what it takes (every document, or
# [agent] max_pending of them: stafett_agent_outbox_backlog), and reports the documents waiting,
# the agent's RSS and peak RSS (VmHWM) at each step, and the journal's size on disk.
#
#   bench/scripts/backlog_rss.sh BUILD_DIR [COUNT...]     e.g. build/release 10000 100000
set -euo pipefail
BUILD="${1:?usage: backlog_rss.sh BUILD_DIR [COUNT...]}"
shift
COUNTS=("$@")
[ "${#COUNTS[@]}" -gt 0 ] || COUNTS=(10000 100000)
BUILD="$(cd "$BUILD" && pwd)"
TMP="$(mktemp -d /tmp/stafett-backlog.XXXXXX)"
AGENT_PID=""
cleanup() {
  [ -n "$AGENT_PID" ] && kill -KILL "$AGENT_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

base="$(python3 -c 'import random; print(random.randrange(20000, 30000, 20))')"
"$BUILD/tools/stafett" county init "$TMP/county" --preset three --base-port "$base" >/dev/null
sed -i 's/^level = "info"/level = "warn"/' "$TMP"/county/agents/*/agent.toml
# No broker is started: everything waits in the sending agent.
"$BUILD/agents/stafett-agent" --config "$TMP/county/agents/flen.school/agent.toml" \
  >>"$TMP/agent.log" 2>&1 &
AGENT_PID=$!

python3 - "$TMP/county" "$AGENT_PID" "${COUNTS[@]}" <<'PY'
import json, os, subprocess, sys, time, urllib.request
county, pid, counts = sys.argv[1], int(sys.argv[2]), [int(c) for c in sys.argv[3:]]
manifest = json.load(open(county + "/county.json"))
agent = next(a for a in manifest["agents"] if a["id"] == "flen.school")
outbox = os.path.join(county, agent["outbox"])
token = open(os.path.join(county, agent["http_token_file"])).read().strip()
data_dir = os.path.join(os.path.dirname(os.path.join(county, agent["config"])), "data")
base = "http://" + agent["http"]

def get(path):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.status, answer.read().decode()

def status(proc_key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(proc_key + ":"):
            return int(line.split()[1])
    return None

deadline = time.time() + 30
while True:
    try:
        if get("/healthz")[0] == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("the agent did not start")
    time.sleep(0.1)

def backlog():
    for line in get("/metrics")[1].splitlines():
        if line.startswith("stafett_agent_outbox_backlog "):
            return int(float(line.split()[1]))
    return 0

reason = "x" * 2000  # ~2 KiB documents, as the product bench's
dropped, steps = 0, []
for target in counts:
    started = time.time()
    while dropped < target:
        name = "doc-%07d.json" % dropped
        document = {"message_id": "backlog-%07d" % dropped, "type": "concern_report",
                    "to": ["flen.social"], "subject": {"personnummer": "19121212-1212"},
                    "body": {"description": reason}}
        temp = os.path.join(outbox, "." + name + ".tmp")
        with open(temp, "w") as f:
            f.write(json.dumps(document))
        os.rename(temp, os.path.join(outbox, name))
        dropped += 1
    # The agent journals up to max_pending (the config's, default 10,000) and leaves the rest.
    cap = 10000
    for line in open(os.path.join(county, agent["config"])):
        if line.strip().startswith("max_pending"):
            cap = int(line.split("=")[1].split("#")[0])
    while backlog() < min(target, cap):
        if time.time() - started > 3600:
            sys.exit("not journalled within an hour: %d of %d" % (backlog(), target))
        time.sleep(0.5)
    time.sleep(2)  # a rescan's worth, to see that the agent stays at its cap
    # One over HTTP as well: taken and answered 202 pending while the broker is away.
    body = json.dumps({"type": "concern_report", "to": ["flen.social"],
                       "subject": {"personnummer": "19121212-1212"},
                       "body": {"description": "over http"}}).encode()
    request = urllib.request.Request(base + "/v1/messages", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        http_status, answer_body = answer.status, json.loads(answer.read())
    journal = subprocess.run(["du", "-sk", os.path.join(data_dir, "journal")],
                             capture_output=True, text=True).stdout.split()[0]
    waiting = sum(1 for name in os.listdir(outbox) if name.endswith(".json"))
    steps.append({"waiting_in_outbox": waiting, "journalled": backlog(), "seconds_to_journal": round(time.time() - started, 1),
                  "rss_kib": status("VmRSS"), "peak_rss_kib": status("VmHWM"),
                  "journal_kib": int(journal), "http_status": http_status,
                  "http_answer_status": answer_body.get("status")})
    print(json.dumps(steps[-1]), flush=True)
flat = steps[-1]["rss_kib"] < 1.5 * steps[0]["rss_kib"] if len(steps) > 1 else None
print(json.dumps({"steps": steps, "rss_flat_within_1_5x": flat}))
PY
