#!/usr/bin/env python3
"""Smoke test for worker.py: run every test case through one worker and summarise.

usage: python smoke.py [--json] [--strict] [case.py ...]   (default: all of test_cases/*.py)
Runs with the interpreter it is started with (use the venv that has torch).
"""

import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    args = sys.argv[1:]
    dump = "--json" in args
    strict = "--strict" in args
    args = [a for a in args if a not in ("--json", "--strict")]
    cases = args or sorted(glob.glob(os.path.join(HERE, "test_cases", "*.py")))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "worker.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if not os.environ.get("SMOKE_STDERR") else None,
        text=True,
        bufsize=1,
    )
    ready = json.loads(proc.stdout.readline())
    print(f"ready after {time.perf_counter() - t0:.2f}s: {ready}")

    def rpc(req):
        proc.stdin.write(json.dumps(req) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("worker died")
        return json.loads(line)

    print("ping:", rpc({"id": 0, "cmd": "ping"}))
    print("bad:", rpc({"id": 1, "cmd": "nope"})["error"]["message"])
    print("hook:", rpc({"id": 2, "cmd": "test_crash"}).get("ok"))

    for i, path in enumerate(cases, start=10):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as fh:
            src = fh.read()
        t = time.perf_counter()
        r = rpc({"id": i, "cmd": "check", "source": src, "name": name, "strict": strict,
                 "guard_scan_max": 64})
        wall = time.perf_counter() - t
        if dump:
            print(json.dumps(r, indent=1))
        summarize(name, r, wall)
    print("exit:", rpc({"id": 99, "cmd": "exit"}))
    print("rc:", proc.wait(timeout=10))


def summarize(name, r, wall):
    print(f"\n=== {name}  (wall {wall:.3f}s)")
    if not r.get("ok"):
        print("  REQUEST FAILED:", r.get("error"))
        return
    tm = r["timings"]
    print("  timings:", " ".join(f"{k}={v:.3f}" for k, v in tm.items()))
    ee = r["eager_export"]
    if not ee["ok"]:
        print("  eager at export sizes FAILED:", ee["error"]["type"], ee["error"]["message"][:200])
        return
    ex = r["export"]
    if ex and not ex["ok"]:
        e = ex["error"]
        print(f"  export FAILED kind={e['kind']} {e['type']}: {e['message'][:300]!r}")
    else:
        print("  export ok")
    for d in r["dims"]:
        print(f"  dim {d['name']}[{d['dim']}] size={d['size']} pinned={d['pinned']} range={d['range']}")
    if r["accepted"]:
        print("  accepted:", r["accepted"])
    for g in r["guards"]:
        print(f"  guard {g['expr']}  line={g['line']}  ({g['framework']})")
    if r["replacements"]:
        print("  replacements:", r["replacements"])
    for p in r["probes"]:
        e, x = p["eager"], p["exported"]
        es = "ok" if e["ok"] else f"ERR {e['error']['type']}: {e['error']['message'][:80]}"
        if e["ok"]:
            es += f" rep={e['repeatable']} fin={e['finite']}"
        xs = "ok" if x["ok"] else f"ERR {x['error']['type']}: {x['error']['message'][:80]}"
        tag = "edge " if p["edge"] else ""
        print(f"  {tag}probe {p['sizes']}: eager {es} | exported {xs} | match={p['match']}"
              + (f" ({p['detail']})" if p["detail"] else ""))
    if r["warnings"]:
        print("  warnings:", [w[:120] for w in r["warnings"]])
    if r["log"]:
        print("  log:", r["log"][:300].replace("\n", " | "))


if __name__ == "__main__":
    main()
