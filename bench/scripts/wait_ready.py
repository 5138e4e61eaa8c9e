#!/usr/bin/env python3
"""Waits until a county's broker answers /readyz and each named agent's /healthz says
broker_connected. Exits non-zero naming the first URL that was not ready in time.

    wait_ready.py COUNTY_DIR SECONDS AGENT_ID...
"""
import json
import sys
import time
import urllib.request


def main():
    folder, seconds, ids = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    manifest = json.load(open(folder + "/county.json"))
    urls = ["http://%s/readyz" % manifest["broker"]["http"]] + [
        "http://%s/healthz" % agent["http"] for agent in manifest["agents"] if agent["id"] in ids]
    deadline = time.time() + seconds
    for url in urls:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    body = json.loads(answer.read() or b"{}") if url.endswith("healthz") else {}
                    if answer.status == 200 and body.get("broker_connected", True):
                        break
            except (OSError, ValueError):
                pass
            if time.time() > deadline:
                sys.exit("not ready: " + url)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
