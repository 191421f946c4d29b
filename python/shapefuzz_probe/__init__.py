"""Call `shapefuzz probe` from Python: from a test suite, or as `python -m shapefuzz_probe`.

The probe itself runs in the shapefuzz binary and its worker, which import your model file in
a separate process; this module only starts it with this interpreter (so the worker sees the
same packages and torch as your tests) and returns its JSON report.

    from shapefuzz_probe import probe, assert_no_bugs

    report = probe("tests/export_spec.py")            # the report as a dict
    assert_no_bugs("tests/export_spec.py")            # raises AssertionError on a torch bug
    assert_no_bugs("mypkg.export:build", classes=("bug", "portability"))

The binary is `$SHAPEFUZZ`, else `shapefuzz` on PATH.
"""

import json
import os
import shutil
import subprocess
import sys

__all__ = ["probe", "assert_no_bugs", "ProbeError", "shapefuzz_binary"]


class ProbeError(RuntimeError):
    """shapefuzz could not probe the model: its code raised, hung or crashed before it could
    be judged, or shapefuzz itself failed. The message is shapefuzz's."""


def shapefuzz_binary():
    exe = os.environ.get("SHAPEFUZZ") or shutil.which("shapefuzz")
    if not exe:
        raise ProbeError(
            "no shapefuzz binary: set SHAPEFUZZ=/path/to/shapefuzz or put it on PATH "
            "(cargo install --path . in a shapefuzz checkout)"
        )
    return exe


def _args(target, scan_max=None, sweep=None, strict=False, timeout=None, python=None):
    text = os.fspath(target)
    # a file that exists (or ends in .py) is a file, even with a ':' in its path
    is_entry = not os.path.exists(text) and not text.endswith(".py")
    args = [shapefuzz_binary(), "--python", python or sys.executable, "probe"]
    args += ["--entry", str(target)] if is_entry else [os.fspath(target)]
    if scan_max is not None:
        args += ["--scan-max", str(int(scan_max))]
    if sweep is not None:
        args += ["--sweep", str(int(sweep))]
    if strict:
        args.append("--strict")
    if timeout is not None:
        # a bare number is seconds to shapefuzz; a string is passed as written ("2m")
        args += ["--timeout", timeout if isinstance(timeout, str) else str(float(timeout))]
    return args


def probe(target, *, scan_max=None, sweep=None, strict=False, timeout=None, python=None):
    """Probes a model file (`path/to/model.py`) or entry point (`module:function`) and
    returns shapefuzz's JSON report as a dict (keys: outcome, verdict, class, findings, dims,
    error, ...). Raises ProbeError when shapefuzz itself could not run."""
    args = _args(target, scan_max, sweep, strict, timeout, python) + ["--json"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise ProbeError(lines[-1] if lines else f"shapefuzz exited with {done.returncode}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as e:
        raise ProbeError(f"shapefuzz printed no JSON report: {e}") from None


def assert_no_bugs(target, classes=("bug",), **kwargs):
    """Probes `target` and raises AssertionError, with the findings, when any finding is of
    one of `classes` (bug, portability, expected); ProbeError when the model could not be
    probed. Returns the report otherwise."""
    report = probe(target, **kwargs)
    if report.get("error"):
        err = report["error"]
        raise ProbeError(f"{report['target']}: could not probe (stage {err['stage']}): {err['message']}")
    bad = [f for f in report.get("findings", []) if f.get("class") in classes]
    if bad:
        lines = [f"{report['target']}: {len(bad)} finding(s) of class {', '.join(classes)}:"]
        for f in bad:
            lines.append(f"  {f['class']} ({f['contract']}): {f['message']}")
            for fr in (f.get("culprit") or {}).get("stack", []):
                lines.append(f"    at {fr.get('file')}:{fr.get('line')}: {fr.get('code') or ''}")
        raise AssertionError("\n".join(lines))
    return report
