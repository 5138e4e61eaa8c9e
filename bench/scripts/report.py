#!/usr/bin/env python3
"""bench/scripts/report.py: turns run.sh's results.jsonl into the table and latest.json.

Every figure in the output is one that a client measured in this run; ratios are Stafett
divided by the peer (above 1.0 means Stafett is faster for throughput, slower for latency).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess


def sh(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - a missing tool only loses a detail of the machine
        return ""


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    return {
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "tmp_filesystem": sh("df -T /tmp | tail -1 | awk '{print $1\" \"$2}'"),
        "virtualisation": sh("systemd-detect-virt 2>/dev/null") or "unknown",
        "versions": {
            "rabbitmq-server": sh("dpkg-query -W -f='${Version}' rabbitmq-server"),
            "erlang": sh("dpkg-query -W -f='${Version}' erlang-base"),
            "nats-server": sh("dpkg-query -W -f='${Version}' nats-server"),
            "librabbitmq": sh("dpkg-query -W -f='${Version}' librabbitmq-dev"),
            "libnats": sh("dpkg-query -W -f='${Version}' libnats-dev"),
            "rocksdb": sh("dpkg-query -W -f='${Version}' librocksdb-dev"),
            "libzmq": sh("dpkg-query -W -f='${Version}' libzmq3-dev"),
            "libsodium": sh("dpkg-query -W -f='${Version}' libsodium-dev"),
            "stafett_commit": sh("git -C '%s' rev-parse --short HEAD" % os.path.dirname(
                os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
        },
    }


def get(rows, label, *path):
    value = rows.get(label)
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def per_message(record, field):
    """CPU microseconds per message of one run, from a CPU-seconds FIELD."""
    if not record or record.get(field) is None or not record.get("count"):
        return None
    return round(record[field] / record["count"] * 1e6, 1)


def read_text(folder, name):
    if not folder or not os.path.exists(os.path.join(folder, name)):
        return None
    with open(os.path.join(folder, name)) as text:
        return text.read()


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def fmt(value, digits=0, scale=1.0):
    if value is None:
        return "—"
    return f"{value * scale:,.{digits}f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--broker-config")
    parser.add_argument("--rabbitmq-config")
    parser.add_argument("--product-config", help="the product-level sandbox folder")
    for name in ("window", "credit", "rate", "count", "latency-seconds", "product-count",
                 "product-low-rate"):
        parser.add_argument("--" + name, type=float)
    args = parser.parse_args()

    rows = {}
    with open(args.results) as results:
        for line in results:
            line = line.strip()
            if line:
                record = json.loads(line)
                rows[record["label"]] = record

    systems = [
        ("stafett", "Stafett (protocol level: seal+sign / verify+open+signed receipt per msg; "
                    "fsync per group commit)"),
        ("stafett_product", "Stafett (product level: outbox file → real agents and broker → "
                            "inbox file; server CPU = broker + both agents)"),
        ("rabbitmq_quorum", "RabbitMQ quorum queue (durable, persistent, confirms, manual acks; "
                            "fsync before confirm)"),
        ("rabbitmq_classic", "RabbitMQ classic queue (durable, persistent, confirms, manual acks; "
                             "fsync before confirm)"),
        ("nats_jetstream", "NATS JetStream (file, work-queue, durable pull, explicit acks; "
                           "fsync on a timer only, NOT per message)"),
    ]
    figures = {}
    for key, _ in systems:
        figures[key] = {
            "accept_msgs_per_sec": get(rows, f"{key}_accept", "msgs_per_sec"),
            "e2e_msgs_per_sec": get(rows, f"{key}_e2e", "msgs_per_sec"),
            "latency_at_rate": get(rows, f"{key}_latency", "e2e_latency"),
            "accept_latency_at_rate": get(rows, f"{key}_latency", "accept_latency"),
            "consumed_at_rate": get(rows, f"{key}_latency", "consumed"),
            "e2e_server_cpu_us_per_msg": per_message(rows.get(f"{key}_e2e"), "server_cpu_s"),
            "e2e_client_cpu_us_per_msg": per_message(rows.get(f"{key}_e2e"), "client_cpu_s"),
        }
    product_low_rate = int(args.product_low_rate) if args.product_low_rate else None
    p = figures["stafett_product"]
    p["latency_at_low_rate"] = get(rows, f"stafett_product_latency_{product_low_rate}",
                                   "e2e_latency")
    p["consumed_at_low_rate"] = get(rows, f"stafett_product_latency_{product_low_rate}",
                                    "consumed")
    p["low_rate_msgs_per_sec"] = product_low_rate
    # The same e2e run with the broker's shipped per-endpoint publish rate limit left on.
    p["e2e_msgs_per_sec_default_rate_limit"] = get(rows, "stafett_product_e2e_default_rate_limit",
                                                   "msgs_per_sec")
    p["e2e_latency_default_rate_limit"] = get(rows, "stafett_product_e2e_default_rate_limit",
                                              "e2e_latency")
    product_e2e = rows.get("stafett_product_e2e") or {}
    p["e2e_server_cpu_us_per_msg_each"] = (
        dict(zip(product_e2e.get("server_cpu_of", []),
                 [round(cpu / product_e2e["count"] * 1e6, 1)
                  for cpu in product_e2e.get("server_cpu_s_each", [])]))
        if product_e2e.get("count") else None)
    s = figures["stafett"]
    q = figures["rabbitmq_quorum"]
    n = figures["nats_jetstream"]
    c = figures["rabbitmq_classic"]

    def p99(fig):
        return (fig["latency_at_rate"] or {}).get("p99_us")

    ratios = {
        "e2e_throughput_vs_rabbitmq_quorum": ratio(s["e2e_msgs_per_sec"], q["e2e_msgs_per_sec"]),
        "e2e_throughput_vs_rabbitmq_classic": ratio(s["e2e_msgs_per_sec"], c["e2e_msgs_per_sec"]),
        "e2e_throughput_vs_nats_jetstream": ratio(s["e2e_msgs_per_sec"], n["e2e_msgs_per_sec"]),
        "accept_throughput_vs_rabbitmq_quorum": ratio(s["accept_msgs_per_sec"],
                                                      q["accept_msgs_per_sec"]),
        "accept_throughput_vs_nats_jetstream": ratio(s["accept_msgs_per_sec"],
                                                     n["accept_msgs_per_sec"]),
        "p99_latency_vs_rabbitmq_quorum": ratio(p99(s), p99(q)),
        "p99_latency_vs_rabbitmq_classic": ratio(p99(s), p99(c)),
        "p99_latency_vs_nats_jetstream": ratio(p99(s), p99(n)),
        # The product level ÷ the protocol level: what the agents' files, journals and local
        # checks cost on top of the protocol.
        "product_e2e_throughput_vs_protocol": ratio(p["e2e_msgs_per_sec"], s["e2e_msgs_per_sec"]),
        "product_e2e_throughput_vs_rabbitmq_quorum": ratio(p["e2e_msgs_per_sec"],
                                                           q["e2e_msgs_per_sec"]),
        "product_p99_latency_vs_protocol": ratio(p99(p), p99(s)),
        # The physical anchor (issue 16): the naive careful loop, one fsync per 2 KiB file and
        # one folder fsync per 64, on this machine in this run.
        "product_e2e_throughput_vs_file_handoff_limit": ratio(
            p["e2e_msgs_per_sec"],
            ((rows.get("limits") or {}).get("file_handoff") or {}).get("files_per_sec")),
    }

    backlog = []
    for label, record in rows.items():
        if label.startswith("stafett_backlog_rss_"):
            backlog.append({"queued": record["queued"], "rss_kib": record["rss_kib"],
                            "data_kib": record.get("data_kib")})
    backlog.sort(key=lambda item: item["queued"])
    # Retention (issue 16): the data folder after N messages delivered and finished, split into
    # the audit log's key spaces (kept whole: docs/PRIVACY.md) and the rest (message states,
    # envelopes, queues, expiry index, dead letters, consents: what retention bounds).
    audit_spaces = {"audit", "merkle", "heads", "trail", "trail_map"}
    retention = []
    for label, record in rows.items():
        if label.startswith("stafett_retention_data_"):
            spaces = record.get("space_bytes") or {}
            retention.append({
                "delivered": record["delivered"], "states_removed": record.get("states_removed"),
                "data_kib": record["data_kib"], "space_bytes": spaces,
                "audit_log_bytes": sum(v for k, v in spaces.items() if k in audit_spaces),
                "other_bytes": sum(v for k, v in spaces.items() if k not in audit_spaces)})
    retention.sort(key=lambda item: item["delivered"])
    broker = {
        "accept_group_commit_msgs_per_sec": s["accept_msgs_per_sec"],
        "accept_no_group_commit_msgs_per_sec": get(rows, "stafett_accept_no_group_commit",
                                                   "msgs_per_sec"),
        "backlog_rss": backlog,
        "retention_data": retention,
        "recovery": {k: v for k, v in (rows.get("stafett_recovery") or {}).items()
                     if k not in ("system", "mode", "label")},
        "rss_kib_after_restart": get(rows, "stafett_recovery_rss", "rss_kib_after_restart"),
    }
    limits = {k: v for k, v in (rows.get("limits") or {}).items() if k not in ("system", "label")}
    audit = {k: v for k, v in (rows.get("stafett_audit") or {}).items()
             if k not in ("system", "label", "server_cpu_s")}

    targets = {
        "e2e_throughput_at_least_rabbitmq_quorum": (
            None if ratios["e2e_throughput_vs_rabbitmq_quorum"] is None
            else ratios["e2e_throughput_vs_rabbitmq_quorum"] >= 1.0),
        "p99_at_most_rabbitmq_quorum": (
            None if ratios["p99_latency_vs_rabbitmq_quorum"] is None
            else ratios["p99_latency_vs_rabbitmq_quorum"] <= 1.0),
        "backlog_memory_flat": None,
        "product_e2e_at_least_file_handoff_limit": (
            None if ratios["product_e2e_throughput_vs_file_handoff_limit"] is None
            else ratios["product_e2e_throughput_vs_file_handoff_limit"] >= 1.0),
    }
    if len(retention) >= 2:
        # Ten times the traffic, with retention on: the data folder within 2x.
        targets["retention_data_within_2x"] = (
            retention[-1]["data_kib"] <= 2 * retention[0]["data_kib"])
    if len(backlog) >= 2:
        # "Flat": ten times the backlog costs less than 1.5x the memory.
        targets["backlog_memory_flat"] = backlog[-1]["rss_kib"] < 1.5 * backlog[0]["rss_kib"]

    configs = {
        "workload": {
            "payload_bytes": 2048,
            "publish_window": args.window,
            "consumer_credit": args.credit,
            "throughput_messages": args.count,
            "latency_offered_rate_msgs_per_sec": args.rate,
            "latency_seconds": args.latency_seconds,
            "latency_measured_from": "each message's scheduled send time (no coordinated omission)",
            "latency_measured_to": "the consumer has processed the message and sent its ack",
            "one_sender_one_recipient": True,
            "fresh_server_state_per_run": "Stafett: a new broker and data folder per scenario; "
                                          "RabbitMQ: queue deleted and declared; NATS: stream "
                                          "deleted and added",
        },
        "stafett_broker_toml": open(args.broker_config).read() if args.broker_config and
        os.path.exists(args.broker_config) else None,
        "rabbitmq_conf": open(args.rabbitmq_config).read() if args.rabbitmq_config and
        os.path.exists(args.rabbitmq_config) else None,
        "rabbitmq": "x-queue-type quorum|classic, durable queue, delivery_mode 2, confirm.select, "
                    "basic.qos prefetch = credit, basic.consume no_ack=false, basic.ack per message",
        "nats": "nats-server -js -sd TMP (file storage), stream retention WorkQueue, "
                "js_PublishAsync (MaxPending = window), durable pull consumer AckExplicit, "
                "MaxAckPending = credit, Fetch(batch = credit), natsMsg_Ack per message; "
                "JetStream 2.9 fsyncs on a timer (2 min), not per message",
        "stafett_product": {
            "what": "stafett county init --preset three (log level warn, publish rate limit as "
                    "below; otherwise as written); "
                    "stafett-broker and the flen.school and flen.social stafett-agent processes; "
                    "stafett_product_bench drops support_request documents (2 KiB body.reason) "
                    "into flen.school's outbox (.name.tmp, rename to name.json) and watches "
                    "flen.social's inbox with inotify; a fresh sandbox per scenario",
            "broker_publish_rate_limit": "off (max_publishes_per_second = 0) but in the run "
                                         "labelled default_rate_limit",
            "throughput_messages": args.product_count,
            "e2e_window": args.window,
            "latency_offered_rates_msgs_per_sec": [args.rate, args.product_low_rate],
            "latency_measured_to": "the inotify event of the recipient's inbox file",
            "broker_toml": read_text(args.product_config, "broker/broker.toml"),
            "agent_toml": read_text(args.product_config, "agents/flen.school/agent.toml"),
        },
        "stafett": "stafett-broker with the broker.toml above (fsync on, group commit "
                   "max_batch 512; max_batch 1 for the no-group-commit run); client seals and "
                   "signs each message, verifies and opens each delivery, signs each receipt, "
                   "acks each RECEIPT",
    }

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": bool(args.quick),
        "machine": machine(),
        "load": {"before": get(rows, "load_before", "loadavg"),
                 "after": get(rows, "load_after", "loadavg")},
        "non_loopback_listeners": rows.get("exposure"),
        "figures": figures,
        "ratios": ratios,
        "targets_met": targets,
        "broker": broker,
        "audit": audit,
        "limits": limits,
        "configs": configs,
        "raw": rows,
    }
    with open(args.out, "w") as out:
        json.dump(report, out, indent=2, sort_keys=False)
        out.write("\n")

    lines = []
    lines.append(f"Stafett bench — {report['date']} — {'quick' if args.quick else 'full'} run — "
                 f"load {report['load']['before']} → {report['load']['after']}")
    lines.append("")
    lines.append(f"{'system':<18} {'accept msg/s':>13} {'e2e msg/s':>10} "
                 f"{'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'srv µs/msg':>10} "
                 f"{'cli µs/msg':>10}")
    for key, note in systems:
        fig = figures[key]
        lat = fig["latency_at_rate"] or {}
        lines.append(f"{key:<18} {fmt(fig['accept_msgs_per_sec']):>13} "
                     f"{fmt(fig['e2e_msgs_per_sec']):>10} "
                     f"{fmt(lat.get('p50_us'), 2, 1e-3):>8} {fmt(lat.get('p99_us'), 2, 1e-3):>8} "
                     f"{fmt(lat.get('p999_us'), 2, 1e-3):>9} "
                     f"{fmt(fig['e2e_server_cpu_us_per_msg']):>10} "
                     f"{fmt(fig['e2e_client_cpu_us_per_msg']):>10}")
    lines.append(f"(latency: end to end at an offered {fmt(args.rate)} msg/s, from the scheduled "
                 f"send time; CPU: server and client CPU time per message in the e2e run)")
    if p["e2e_msgs_per_sec"] is not None or p["latency_at_rate"]:
        low = p["latency_at_low_rate"] or {}
        lines.append(f"stafett_product at {fmt(product_low_rate)} msg/s offered: p50 "
                     f"{fmt(low.get('p50_us'), 2, 1e-3)} ms, p99 {fmt(low.get('p99_us'), 2, 1e-3)} "
                     f"ms, p99.9 {fmt(low.get('p999_us'), 2, 1e-3)} ms, max "
                     f"{fmt(low.get('max_us'), 2, 1e-3)} ms; at {fmt(args.rate)} msg/s "
                     f"{fmt(p['consumed_at_rate'])} of {fmt(args.rate * (args.latency_seconds or 0))}"
                     f" arrived")
        each = p["e2e_server_cpu_us_per_msg_each"] or {}
        lines.append("stafett_product e2e CPU µs/msg: " + ", ".join(
            f"{name} {value:,.0f}" for name, value in each.items()))
        limited = p["e2e_latency_default_rate_limit"] or {}
        lines.append(f"stafett_product e2e with the broker's default publish rate limit: "
                     f"{fmt(p['e2e_msgs_per_sec_default_rate_limit'])} msg/s, p50 "
                     f"{fmt(limited.get('p50_us'), 2, 1e-3)} ms, max "
                     f"{fmt(limited.get('max_us'), 2, 1e-3)} ms (drop → inbox)")
    lines.append("")
    for key, note in systems:
        lines.append(f"  {key}: {note}")
    lines.append("")
    lines.append("ratios (Stafett ÷ peer): " + ", ".join(
        f"{k}={v}" for k, v in ratios.items() if v is not None))
    lines.append("targets: " + ", ".join(f"{k}={v}" for k, v in targets.items()))
    lines.append("")
    lines.append(f"broker: accept with group commit {fmt(broker['accept_group_commit_msgs_per_sec'])}"
                 f" msg/s, without (max_batch=1) "
                 f"{fmt(broker['accept_no_group_commit_msgs_per_sec'])} msg/s")
    for item in backlog:
        lines.append(f"broker: {item['queued']:>9,} queued for an offline endpoint: RSS "
                     f"{item['rss_kib'] / 1024:,.1f} MiB, data {(item['data_kib'] or 0) / 1024:,.1f} MiB")
    for item in retention:
        lines.append(f"broker: {item['delivered']:>9,} delivered with retention on "
                     f"({item['states_removed'] or 0:,} states removed): data "
                     f"{item['data_kib'] / 1024:,.1f} MiB; store: audit log "
                     f"{item['audit_log_bytes'] / 2**20:,.1f} MiB, the rest "
                     f"{item['other_bytes'] / 2**20:,.1f} MiB")
    rec = broker["recovery"]
    if rec:
        lines.append(f"broker: SIGKILL with {fmt(get(rows, 'stafett_recovery', 'queued'))} queued → "
                     f"WELCOME after {fmt(rec.get('welcome_after_start_s'), 2)} s, first DELIVER "
                     f"after {fmt(rec.get('first_deliver_after_start_s'), 2)} s, backlog drains at "
                     f"{fmt(rec.get('drain_msgs_per_sec'))} msg/s; RSS after restart "
                     f"{fmt((broker['rss_kib_after_restart'] or 0) / 1024, 1)} MiB")
    if audit.get("append"):
        ap = audit["append"]
        inc = audit.get("inclusion_proof", {})
        con = audit.get("consistency_proof", {})
        tr = audit.get("trail_query", {})
        lines.append("")
        lines.append(f"audit log at {audit['records']:,} records: append {fmt(ap.get('records_per_s'))}"
                     f" records/s with the Merkle tree ({audit.get('batch')} per fsynced batch; "
                     f"{fmt(ap.get('append_cpu_us_per_record'), 1)} µs CPU in Append, "
                     f"{fmt(ap.get('process_cpu_us_per_record'), 1)} µs CPU in all per record)")
        lines.append(f"audit log: inclusion proof p50 {fmt(inc.get('p50_us'), 0)} µs, p99 "
                     f"{fmt(inc.get('p99_us'), 0)} µs; consistency proof p50 "
                     f"{fmt(con.get('p50_us'), 0)} µs, p99 {fmt(con.get('p99_us'), 0)} µs; "
                     f"reopen {fmt(audit.get('reopen_audit_log_ms'), 1)} ms (+ RocksDB "
                     f"{fmt(audit.get('reopen_store_ms'), 0)} ms)")
        lines.append(f"audit log: trail of one child ({fmt(tr.get('records_mean'), 1)} records) "
                     f"p50 {fmt(tr.get('p50_us'), 2, 1e-3)} ms, p99 {fmt(tr.get('p99_us'), 2, 1e-3)}"
                     f" ms; data {fmt((audit.get('data_bytes') or 0) / 2**20, 0)} MiB")
    if limits:
        fd = limits.get("fdatasync", {})
        rk = limits.get("rocksdb", {})
        cr = limits.get("crypto", {})
        zq = limits.get("zmq", {})
        lines.append("")
        fh = limits.get("file_handoff", {})
        lines.append(f"limits: file hand-off (2 KiB file, fsync, rename; folder fsync per 64) "
                     f"{fmt(fh.get('files_per_sec'))} files/s")
        lines.append(f"limits: fdatasync {fmt(fd.get('syncs_per_sec'))}/s; RocksDB sync puts "
                     f"{fmt(rk.get('sync_single_puts_per_sec'))}/s, 64-batches "
                     f"{fmt(rk.get('sync_batch64_values_per_sec'))} values/s")
        lines.append("limits: libsodium µs/op: " + ", ".join(
            f"{k[:-3]} {v:.1f}" for k, v in cr.items()))
        lines.append(f"limits: ZeroMQ DEALER→ROUTER→DEALER with acks, 2 KiB, window "
                     f"{zq.get('window')}: plain {fmt(zq.get('plain_roundtrips_per_sec'))}/s, "
                     f"CURVE {fmt(zq.get('curve_roundtrips_per_sec'))}/s")
    exposure = rows.get("exposure") or {}
    bad = {k: v for k, v in exposure.items() if k != "label" and v}
    lines.append("")
    lines.append("listeners beyond loopback: " + (json.dumps(bad) if bad else "none"))
    lines.append(f"written: {args.out}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
