#!/usr/bin/env bash
# The demo: a broker and three agents (flen.school, flen.social, region.health) on loopback,
# a consent recorded, a consented support request handed over end to end, the receipt, the
# operator's view and the audit trail verified. Usage: deploy/demo.sh BUILD_DIR
set -euo pipefail

build=${1:?usage: deploy/demo.sh BUILD_DIR}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stafett="$build/tools/stafett"
broker="$build/broker/stafett-broker"
agent="$build/agents/stafett-agent"
sandbox="$here/sandbox/demo"
port=${STAFETT_DEMO_PORT:-7700}
pids=()

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# wait_for DESCRIPTION SECONDS COMMAND... — polls until COMMAND succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "demo: timed out waiting for $what; logs are in $sandbox/logs" >&2
      exit 1
    fi
    sleep 0.1
  done
}

say "A fresh sandbox: keys, trust directory, configs (stafett county init)"
rm -rf "$sandbox"
mkdir -p "$(dirname "$sandbox")"
"$stafett" county init "$sandbox" --preset three --base-port "$port"
mkdir -p "$sandbox/logs"
ls -l "$sandbox"

say "Starting the broker and three agents on loopback"
"$broker" --config "$sandbox/broker/broker.toml" 2>"$sandbox/logs/broker.log" &
pids+=($!)
for id in flen.school flen.social region.health; do
  "$agent" --config "$sandbox/agents/$id/agent.toml" 2>"$sandbox/logs/$id.log" &
  pids+=($!)
done
broker_http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["broker"]["http"])' "$sandbox/county.json")
wait_for "the broker" 15 curl -sf "http://$broker_http/readyz"
for id in flen.school flen.social region.health; do
  http=$(python3 -c 'import json,sys; print([a["http"] for a in json.load(open(sys.argv[1]))["agents"] if a["id"]==sys.argv[2]][0])' "$sandbox/county.json" "$id")
  wait_for "agent $id" 15 curl -sf "http://$http/healthz"
done
"$stafett" status --config "$sandbox/operator/operator.toml"

school="$sandbox/agents/flen.school"
social="$sandbox/agents/flen.social"
valid_from=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
valid_until=$(date -u -d '+180 days' +%Y-%m-%dT%H:%M:%SZ)
consent_id="demo-consent-$(date +%s)"

say "The school records the guardians' consent (file drop into its outbox)"
cat >"$school/outbox/.consent.json.tmp" <<JSON
{"message_id": "$consent_id-grant", "type": "consent_granted", "to": ["flen.social"],
 "subject": {"personnummer": "19121212-1212"}, "consent_id": "$consent_id",
 "body": {"consent_id": "$consent_id", "parties": ["flen.school", "flen.social"],
          "purposes": ["support"], "valid_from": "$valid_from", "valid_until": "$valid_until",
          "given_by": [{"role": "guardian"}, {"role": "guardian"}, {"role": "child"}]}}
JSON
mv "$school/outbox/.consent.json.tmp" "$school/outbox/consent.json"
wait_for "the consent to be accepted" 20 test -e "$school/outbox/sent/consent.json"
wait_for "the consent to reach social services" 20 test -e "$social/inbox/$consent_id-grant.json"
echo "accepted: outbox/sent/consent.json; flen.social has inbox/$consent_id-grant.json"

say "The school asks social services for support (Bridge-style), under that consent"
message_id="demo-support-$(date +%s)"
cat >"$school/outbox/.support.json.tmp" <<JSON
{"message_id": "$message_id", "type": "support_request", "to": ["flen.social"],
 "subject": {"personnummer": "19121212-1212"}, "consent_id": "$consent_id",
 "body": {"reason": "Frånvaro från skolan sedan fyra veckor; eleven vill inte gå dit.",
          "wellbeing": {"safe": {"level": "some_concern", "text": "Oro på vägen till skolan."},
                        "included": {"level": "serious_concern", "text": "Har slutat gå på rasterna."}},
          "child_view": {"heard": true, "text": "Vill ha hjälp, men inte byta klass."}}}
JSON
mv "$school/outbox/.support.json.tmp" "$school/outbox/support.json"
wait_for "the referral to be delivered" 20 test -e "$social/inbox/$message_id.json"
echo "delivered to flen.social as inbox/$message_id.json (personnummer masked here):"
python3 - "$social/inbox/$message_id.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
pnr = doc["subject"]["personnummer"]
doc["subject"]["personnummer"] = pnr[:8] + "-****"
print(json.dumps({k: doc[k] for k in ("message_id", "type", "from", "to", "subject", "consent_id", "sent_at", "received_at")}, indent=2, ensure_ascii=False))
PY
wait_for "the delivery receipt" 20 bash -c "ls '$school/inbox' | grep -q 'receipt-$message_id'"
echo "the school's delivery receipt:"
cat "$school/inbox/"receipt-"$message_id"*.json; echo

say "Operations: stafett status and stafett track"
"$stafett" status --config "$sandbox/operator/operator.toml"
"$stafett" track "$message_id" --config "$sandbox/operator/operator.toml"

say "Audit: the child's consent trail, and the log verified against the signed tree head"
"$stafett" audit trail --config "$sandbox/auditor/auditor.toml" --subject-pnr 19121212-1212 --format table
"$stafett" audit verify --config "$sandbox/auditor/auditor.toml"

say "Demo complete. The sandbox stays in $sandbox (logs in $sandbox/logs)."
