"""The plain-loop baseline of BENCHMARKS.md: the same checks a campaign makes, in one Python
process, with no shapefuzz around them (no Rust, no worker process, no pipe, no JSON).

Usage: python benches/plain_loop.py DIR [--repeat]

DIR holds the worker requests `shapefuzz gen --campaign SEED --count N --requests --out DIR`
writes (`case-<seed>.request.json`, the exact request a campaign sends for that case). Each
is answered by worker.py's own check function, called directly, one after another; the
worker's GC settings are applied as the worker applies them. Prints one JSON line:
{"cases": N, "seconds": S, "cases_per_s": R}: the time of the checks, torch's import and
the first export's warm-up (one untimed check of the first case) excluded, as in a
campaign's case phase, whose workers are forked from a warmed zygote.
"""

import glob
import importlib.util
import json
import os
import sys
import time


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "shapefuzz_worker", os.path.join(here, "..", "harness", "python", "worker.py")
    )
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)  # imports torch; fd 1 now points at stderr
    out = worker._PROTO
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20000, 20, 20)
    files = sorted(glob.glob(os.path.join(sys.argv[1], "*.request.json")))
    if not files:
        print(f"{sys.argv[1]}: no *.request.json (shapefuzz gen --requests writes them)", file=sys.stderr)
        return 2
    requests = [json.load(open(f)) for f in files]
    # The first export's lazy imports are paid before the clock starts, as a campaign's
    # zygote pays them before its case phase.
    worker._check(dict(requests[0]))
    t = time.perf_counter()
    for req in requests:
        worker._check(dict(req))
    seconds = time.perf_counter() - t
    out.write(json.dumps({"cases": len(requests), "seconds": round(seconds, 3),
                          "cases_per_s": round(len(requests) / seconds, 2)}) + "\n")
    out.flush()
    worker._cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
