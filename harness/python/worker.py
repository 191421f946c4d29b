#!/usr/bin/env python3
"""shapefuzz oracle worker: a long-lived JSON-lines process (see PROTOCOL.md).

One request per line on stdin, one response per line on the protocol channel (the original
fd 1). Everything else the process prints lands on stderr.
"""

import os
import sys

# Read before torch's slow import: shapefuzz may die during it. shapefuzz passes its pid:
# one read from getppid() here would already be init's if shapefuzz died before this line.
try:
    _PARENT = int(os.environ.get("SHAPEFUZZ_PARENT_PID", ""))
except ValueError:
    _PARENT = os.getppid()

# --- protocol channel: keep a private copy of fd 1, then point fd 1 at fd 2 -----------------
_PROTO_FD = os.dup(1)
os.dup2(2, 1)
_PROTO = os.fdopen(_PROTO_FD, "w", encoding="utf-8", newline="\n")
sys.stdout = sys.stderr  # stray Python prints go to stderr as well

import importlib.util
import json
import linecache
import logging
import math
import platform
import re
import signal
import tempfile
import threading
import time
import traceback
import warnings

_TEST_HOOKS = os.environ.get("SHAPEFUZZ_WORKER_TEST_HOOKS") == "1"
sys.dont_write_bytecode = True



def _watch_parent_during_import():
    """Exit at once when shapefuzz dies while torch is imported (2 s here, 25 s on a slow
    disk), instead of finishing the import first. The kernel does it (PR_SET_PDEATHSIG):
    loading torch's libraries holds the GIL for seconds, so a thread alone would wait for
    them. The signal is armed only for the import, while the thread that spawned this
    process waits for its hello (it fires when that thread ends), and disarmed after; the
    thread is the fallback where prctl is missing, and ends with the import, so the zygote
    forks with one thread as it must."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != _PARENT:  # gone before it was armed
            os._exit(0)
    except Exception:
        libc = None
    done = threading.Event()

    def watch():
        while not done.wait(0.1):
            if os.getppid() != _PARENT:
                os._exit(0)

    thread = threading.Thread(target=watch, name="shapefuzz-import-watch", daemon=True)
    thread.start()
    return done, thread, libc


_import_watch = _watch_parent_during_import()
_t0 = time.perf_counter()
import torch  # noqa: E402

_IMPORT_S = time.perf_counter() - _t0
_import_watch[0].set()
_import_watch[1].join()
if _import_watch[2] is not None:
    _import_watch[2].prctl(1, 0, 0, 0, 0)  # disarmed: the parent watch in main() takes over

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

import torch.utils._pytree as pytree  # noqa: E402

from torch._guards import SLoc, TracingContext  # noqa: E402
from torch.export.graph_signature import InputKind  # noqa: E402
from torch.fx.experimental import symbolic_shapes as _ss  # noqa: E402
from torch.utils._sympy.value_ranges import bound_sympy  # noqa: E402
from torch._dynamo.source import TensorProperty  # noqa: E402
import sympy  # noqa: E402
from torch.utils._sympy.numbers import int_oo  # noqa: E402

# Bumped with harness/oracle/protocol.rs whenever a request or reply changes shape.
PROTOCOL_VERSION = 6
MAX_MSG = 4000
MAX_LOG = 4000
MAX_WARNINGS = 20
MAX_GUARDS = 500


def _seed_cpu(seed):
    # The CPU generator is the only one a case uses here. torch.manual_seed also seeds every
    # lazily initialised accelerator generator (cuda, xpu, mtia), at 0.1-0.45 ms a call on
    # this torch build against ~2 us for the CPU one; a case seeds ~19 times.
    torch.default_generator.manual_seed(int(seed))


def _send(obj):
    _PROTO.write(json.dumps(obj, default=str, allow_nan=False) + "\n")
    _PROTO.flush()


def _cut(s, n=MAX_MSG):
    s = str(s)
    return s if len(s) <= n else s[: n - 3] + "..."


# --- guard source lines -----------------------------------------------------------------------
class _CaseState:
    """What the ShapeEnv patch needs to know about the case being exported."""

    file = None  # absolute path of the current case file, or None when no export is running
    last_file = None  # the case file of the request being served (for tracebacks)
    envs = []  # ShapeEnvs seen during the current export (to report guards on failure)
    # `probe` of a user's model: every file outside torch, the standard library and this
    # worker is the model's code (a library's modeling file as much as the user's own), and
    # paths are shown relative to `root`.
    probe = False
    root = None
    loose = False  # compare at compiled backends' tolerance


_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def _stdlib_dirs():
    import sysconfig

    libs = {os.path.abspath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib")}
    sites = {os.path.abspath(sysconfig.get_paths()[k]) + os.sep for k in ("purelib", "platlib")}
    return tuple(libs), tuple(sites)


_STDLIB_DIRS, _SITE_DIRS = _stdlib_dirs()


def _is_user_file(fn):
    """Whether a frame's file is the model's code: the case file, or in probe mode anything
    that is not torch, the standard library or the worker."""
    if fn == _CaseState.file or fn == _CaseState.last_file:
        return fn is not None
    if not _CaseState.probe or not fn or fn.startswith("<") or fn == _THIS_FILE:
        return False
    if fn.startswith(_TORCH_DIR):
        return False
    if fn.startswith(_STDLIB_DIRS) and not fn.startswith(_SITE_DIRS):
        return False
    i = fn.rfind("site-packages" + os.sep)
    if i >= 0:
        # torch's own dependencies and backends are not the model's code
        top = fn[i + len("site-packages") + 1 :].split(os.sep, 1)[0].split(".", 1)[0]
        if top in _FRAMEWORK_PACKAGES:
            return False
    return True


_FRAMEWORK_PACKAGES = {
    "sympy", "mpmath", "numpy", "functorch", "triton", "onnx", "onnxscript", "onnxruntime",
    "onnx_ir", "ml_dtypes", "typing_extensions", "networkx", "jinja2", "filelock", "fsspec",
    "optree", "google",
}


def _is_sym_dunder(fn):
    """A frame of SymInt/SymBool's own methods (`__bool__`, `__int__`, `__index__`): the frame
    just inside a model line when Python itself asked for a concrete size."""
    return fn.endswith(os.sep + "torch" + os.sep + "__init__.py") or fn.endswith("sym_node.py")


_ORIG_GET_SLOC = _ss.ShapeEnv._get_sloc
_THIS_FILE = os.path.abspath(__file__)


def _patched_get_sloc(self, framework_loc=None):
    case_file = _CaseState.file
    if case_file is None:
        return _ORIG_GET_SLOC(self, framework_loc)
    if not any(e is self for e in _CaseState.envs):
        _CaseState.envs.append(self)
    boring = _ss.uninteresting_files()
    floc = None
    line = None
    user_file = None
    python = False
    inner = None
    stack = None
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if fn == case_file or (_CaseState.probe and _is_user_file(fn)):
            line = f.f_lineno
            user_file = fn
            # A branch on a size (`if n > 4`, `max(a, b)`) is where the model's Python takes
            # a path; an int conversion (`len(x)`, `int(n)`) is a spelling with a symbolic
            # alternative, not a decision.
            python = inner is not None and _is_sym_dunder(inner[0]) and inner[1] == "__bool__"
            if floc is None:
                floc = traceback.FrameSummary(fn, f.f_lineno, f.f_code.co_name)
            if _CaseState.probe:
                # the model's calls that led there, innermost first: a helper's line and
                # the line that called it
                stack = []
                g = f
                while g is not None and len(stack) < 6:
                    gfn = g.f_code.co_filename
                    if _is_user_file(gfn):
                        stack.append((gfn, g.f_lineno))
                    g = g.f_back
                del g
            break
        if floc is None and fn not in boring and fn != _THIS_FILE:
            floc = traceback.FrameSummary(fn, f.f_lineno, f.f_code.co_name)
        inner = (fn, f.f_code.co_name)
        f = f.f_back
    del f
    if line is None:
        # strict export: the user's frames live in dynamo's symbolic stack
        try:
            for fs in reversed(TracingContext.extract_stack()):
                if fs.filename == case_file:
                    line = fs.lineno
                    break
        except Exception:
            pass
    sloc = _ORIG_GET_SLOC(self, framework_loc if framework_loc is not None else floc)
    try:
        object.__setattr__(sloc, "_sf_line", line)
        if _CaseState.probe:
            object.__setattr__(sloc, "_sf_file", user_file)
            object.__setattr__(sloc, "_sf_python", python)
            object.__setattr__(sloc, "_sf_stack", stack)
    except Exception:
        pass
    return sloc


_ss.ShapeEnv._get_sloc = _patched_get_sloc


def _fmt_floc(floc):
    if floc is None:
        return None
    if isinstance(floc, str):
        return floc
    fn = floc.filename
    if _CaseState.probe and _is_user_file(fn):
        fn = _display_file(fn)
    elif fn == _CaseState.last_file:
        # Python in the model itself decided (an `if` on a size): no torch function did.
        fn = "model"
    else:
        i = fn.rfind("site-packages/")
        if i >= 0:
            fn = fn[i + len("site-packages/") :]
    return f"{fn}:{floc.lineno} in {floc.name}"


# --- log and warning capture ------------------------------------------------------------------
class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        try:
            self.records.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        except Exception:
            pass


_LOG_HANDLER = _ListHandler()
logging.getLogger("torch").addHandler(_LOG_HANDLER)


# --- errors -------------------------------------------------------------------------------------
def _err(e, kind=False, trace=False):
    d = {
        "type": type(e).__name__,
        "module": type(e).__module__,
        "message": _clean_paths(_cut(str(e))),
    }
    if kind:
        d["kind"] = classify(e)
    if trace:
        if _CaseState.probe:
            d["traceback"] = _user_traceback(e)  # the user's code and torch's, not the worker's
        else:
            d["traceback"] = _clean_paths(_cut_tail(_format_chain(e), MAX_TRACEBACK))
        d["case_line"] = _case_line(e)
        d["site"] = _torch_site(e)
        if _CaseState.probe:
            fn, line, python = _user_frame(e)
            d["case_file"] = _display_file(fn) if fn else None
            d["code"] = _code_at(fn, line)
            d["python"] = python
            d["raised_in_model"] = _raised_in_model(e)
    return d


def _display_file(fn):
    """A model file as the user knows it: relative to the probed file's directory, or to
    site-packages for a library's code."""
    if not fn:
        return fn
    root = _CaseState.root
    if root and fn.startswith(root + os.sep):
        return fn[len(root) + 1 :]
    i = fn.rfind("site-packages/")
    if i >= 0:
        return fn[i + len("site-packages/") :]
    return fn


def _code_at(fn, line):
    if not fn or not line:
        return None
    try:
        return _cut(linecache.getline(fn, line).strip(), 300) or None
    except Exception:
        return None


def _raised_in_model(e):
    """Whether the deepest exception of the chain was raised by a line of the model itself
    (its own `assert` or `raise`), not inside torch."""
    last = None
    for x in _chain(e):
        tb = getattr(x, "__traceback__", None)
        frames = traceback.extract_tb(tb) if tb is not None else []
        if frames:
            last = frames[-1].filename
    return last is not None and _is_user_file(last)


MAX_TRACEBACK = 12000
_SITE_PACKAGES = re.compile(r"/[^\s\"']*?/site-packages/")


def _cut_tail(s, n):
    """Keeps the end of a traceback: the innermost frames and the exception say the most."""
    return s if len(s) <= n else "...\n" + s[-(n - 4):]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# a bounded prefix: an unbounded one is quadratic on a long token
_WORKER_CASE = re.compile(r"[^\s(\"']{0,64}shapefuzz_worker_[^/\s]+/case_\d+\.py")


def _clean_paths(s):
    """No paths of this machine in what leaves the worker: the case file is `case.py`, library
    files are named from their package (`torch/...`). No terminal colours either."""
    s = _ANSI.sub("", str(s))
    if _CaseState.probe:
        if _CaseState.root:
            s = s.replace(_CaseState.root + os.sep, "")
    elif _CaseState.last_file:
        s = s.replace(_CaseState.last_file, "case.py")
    # The worker runs from a content-addressed copy in the cache directory.
    s = s.replace(_THIS_FILE, "shapefuzz/worker.py")
    s = s.replace(_TMPDIR + os.sep, "")
    # torch cuts long paths from the left ("Caused by: (mp/shapefuzz_worker_x/case_3.py:11")
    if "shapefuzz_worker_" in s:
        s = _WORKER_CASE.sub("case.py", s)
    return _SITE_PACKAGES.sub("", s)


def _chain(e):
    seen = set()
    cur = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _format_chain(e):
    try:
        return "".join(traceback.format_exception(e))
    except Exception:
        return f"{type(e).__name__}: {e}"


def _frames_of(x):
    """Frames of one exception, outermost first, then dynamo's user stack."""
    out = []
    try:
        out.extend(traceback.extract_tb(x.__traceback__))
    except Exception:
        pass
    stack = getattr(x, "real_stack", None)
    if stack:
        try:
            out.extend(stack)
        except Exception:
            pass
    return out


_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')


def _case_line(e):
    """The innermost line of the case file in the traceback of the deepest exception of the
    chain that passed through it (strict export puts the user's frames in the message)."""
    return _user_frame(e)[1]


def _user_frame(e):
    """(file, line, whether Python itself asked for a concrete value there) of the innermost
    model frame in the deepest exception of the chain that passed through the model."""
    path = _CaseState.last_file
    if not path and not _CaseState.probe:
        return None, None, False
    found = (None, None, False)
    for x in _chain(e):
        here = None
        frames = _frames_of(x)
        for k, f in enumerate(frames):
            if (path and f.filename == path) or (_CaseState.probe and _is_user_file(f.filename)):
                nxt = frames[k + 1].filename if k + 1 < len(frames) else None
                here = (f.filename, f.lineno, nxt is not None and _is_sym_dunder(nxt))
        if here is None:
            for m in _FILE_LINE.finditer(str(x)):
                if (path and m.group(1) == path) or (_CaseState.probe and _is_user_file(m.group(1))):
                    here = (m.group(1), int(m.group(2)), False)
        if here is not None:
            found = here
    return found


def _torch_site(e):
    """Where the deepest exception of the chain was raised in a library:
    `torch/<file> in <function>`, no line number, so that a site stays the same across
    patch releases."""
    site = None
    for x in _chain(e):
        for f in _frames_of(x):
            fn = f.filename
            if fn == _CaseState.last_file or fn == _THIS_FILE or _is_user_file(fn):
                continue
            i = fn.rfind("site-packages/")
            if i >= 0:
                site = f"{fn[i + len('site-packages/'):]} in {f.name}"
    return site


def _kind_one(e):
    from torch._dynamo import exc as dexc

    msg = str(e)
    if isinstance(e, dexc.UserError) and e.error_type == dexc.UserErrorType.CONSTRAINT_VIOLATION:
        return "constraint_violation"
    if isinstance(e, _ss.ConstraintViolationError):
        return "constraint_violation"
    if (
        isinstance(e, dexc.UserError)
        and e.error_type == dexc.UserErrorType.INVALID_INPUT
        and "non-tensor type" in msg
    ):
        # A dim hint on an input torch takes no hint for (a float or a bool): the spec is
        # refused up front, in torch's words.
        return "invalid_spec"
    if (
        "Constraints violated" in msg
        or "Not all values of" in msg
        or "Found the following conflicts between user-specified ranges" in msg
    ):
        return "constraint_violation"
    dd_types = [_ss.GuardOnDataDependentSymNode, _ss.PendingUnbackedSymbolNotFound]
    try:
        from torch._subclasses import fake_tensor as ft

        dd_types += [ft.DataDependentOutputException, ft.DynamicOutputShapeException]
    except Exception:
        pass
    if isinstance(e, tuple(dd_types)):
        return "data_dependent"
    if (
        "Could not guard on data-dependent expression" in msg
        or "Could not extract specialized integer from data-dependent" in msg
        or "Data-dependent branching" in msg
    ):
        return "data_dependent"
    if isinstance(e, (ValueError, TypeError)) and _raised_by_spec_checks(e):
        # ShapesSpec refusing the spec itself, in its own words ("Every IntVar used in a
        # derived expression or assumption must also appear as a bare-IntVar slot")
        return "invalid_spec"
    if isinstance(e, (dexc.Unsupported, TypeError, NotImplementedError)):
        return "unsupported"
    return "internal"


_SPEC_CHECKS = ("torch/fx/experimental/_spec_binding.py", "torch/fx/experimental/dynamic_spec.py")
_SPEC_CHECK_FUNCS = ("_finalize_spec_wiring", "_wire_spec_assumptions")


def _raised_by_spec_checks(e):
    """Whether the innermost frame of `e` is ShapesSpec's validation of a spec."""
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code
        tb = tb.tb_next
    if last is None:
        return False
    fn = last.co_filename.replace(os.sep, "/")
    return fn.endswith(_SPEC_CHECKS) or last.co_name in _SPEC_CHECK_FUNCS


def _raised_by_additional_verify(e):
    """Whether `e` came out of `AdditionalInputs.verify`: export checked the program against
    the additional example inputs and one does not fit."""
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "verify" and code.co_filename.replace(os.sep, "/").endswith(
            "torch/export/dynamic_shapes.py"
        ):
            return True
        tb = tb.tb_next
    return False


def classify(e):
    """Sub-kind of an export error; looks through __cause__/__context__ of wrappers."""
    if _raised_by_additional_verify(e):
        return "additional_refused"
    seen = set()
    cur = e
    first = None
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        k = _kind_one(cur)
        if first is None:
            first = k
        if k != "internal":
            return k
        cur = cur.__cause__ or cur.__context__
    return first or "internal"


# --- case loading -------------------------------------------------------------------------------
_TMPDIR = tempfile.mkdtemp(prefix="shapefuzz_worker_")
_SAFE = re.compile(r"[^A-Za-z0-9_]")
_counter = 0


def _load_case(source, name, rid):
    global _counter
    _counter += 1
    base = _SAFE.sub("_", str(name or "case"))[:64] or "case"
    rid_s = _SAFE.sub("_", str(rid))[:32]
    path = os.path.join(_TMPDIR, f"{base}_{rid_s}.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(source)
    modname = f"_shapefuzz_case_{_counter}_{base}"
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        _unload_case(modname, path)
        raise
    return mod, modname, path


def _unload_case(modname, path):
    sys.modules.pop(modname, None)
    try:
        os.unlink(path)
    except OSError:
        pass
    linecache.cache.pop(path, None)


# --- helpers ------------------------------------------------------------------------------------
def _clone(inputs):
    return tuple(t.clone() if isinstance(t, torch.Tensor) else t for t in inputs)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _tol(dtype):
    # Compiled backends (aoti, onnx, compile) reorder float arithmetic: ten times looser.
    k = 10.0 if _CaseState.loose else 1.0
    if dtype in (torch.float16, torch.bfloat16, torch.complex32):
        return 1e-2 * k, 1e-2 * k
    if dtype in (torch.float64, torch.complex128):
        return 1e-7 * k, 1e-7 * k
    return 1e-4 * k, 1e-5 * k


def _leaves(out):
    leaves, spec = pytree.tree_flatten(out)
    return leaves, spec


def _close_at_scale(x, y, rel):
    """Whether x and y agree within `rel` of the largest magnitude in y: how far compiled code
    that reorders a reduction may land from eager on an element where large terms cancel
    (an element near 0 in a tensor of thousands), which an element-wise tolerance calls a
    difference."""
    xf, yf = x.detach().double(), y.detach().double()
    if not bool(torch.equal(torch.isnan(xf), torch.isnan(yf))):
        return False
    finite = torch.isfinite(yf)
    if not bool(torch.equal(finite, torch.isfinite(xf))):
        return False
    if not bool(finite.any()):
        return bool(torch.equal(xf[~finite & ~torch.isnan(xf)], yf[~finite & ~torch.isnan(yf)]))
    scale = float(yf[finite].abs().max())
    return bool(((xf - yf)[finite].abs() <= rel * max(scale, 1.0)).all())


def _compare(a, b, exact=False):
    """None when a and b agree, else a one-line reason."""
    la, sa = _leaves(a)
    lb, sb = _leaves(b)
    if sa != sb:
        # the same values in another container is a difference of its own kind
        if len(la) == len(lb) and _compare(tuple(la), tuple(lb), exact) is None:
            return f"output container differs, values equal: {sa} vs {sb}"
        return f"output structure differs: {sa} vs {sb}"
    for i, (x, y) in enumerate(zip(la, lb)):
        if isinstance(x, torch.Tensor) != isinstance(y, torch.Tensor):
            return f"output {i}: {type(x).__name__} vs {type(y).__name__}"
        if not isinstance(x, torch.Tensor):
            if x != y and not (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)):
                return f"output {i}: {x!r} vs {y!r}"
            continue
        if tuple(x.shape) != tuple(y.shape):
            return f"output {i}: shape {tuple(x.shape)} vs {tuple(y.shape)}"
        if x.dtype != y.dtype:
            return f"output {i}: dtype {x.dtype} vs {y.dtype}"
        if x.numel() == 0:
            continue
        if x.is_floating_point() or x.is_complex():
            if exact:
                ok = torch.equal(x, y) or bool(
                    ((x == y) | (torch.isnan(x) & torch.isnan(y))).all()
                )
            else:
                rtol, atol = _tol(x.dtype)
                ok = torch.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
                if not ok and _CaseState.loose:
                    ok = _close_at_scale(x, y, rtol / 10)
            if not ok:
                xf, yf = x.detach().double(), y.detach().double()
                d = (xf - yf).abs()
                d = torch.where(torch.isnan(xf) & torch.isnan(yf), torch.zeros_like(d), d)
                d = torch.nan_to_num(d, nan=float("inf"))
                j = int(d.flatten().argmax())
                return (
                    f"output {i}: values differ (max abs diff {float(d.flatten()[j]):.6g} "
                    f"at flat index {j}: {float(xf.flatten()[j]):.6g} vs {float(yf.flatten()[j]):.6g})"
                )
        else:
            if not torch.equal(x, y):
                ne = (x != y).flatten()
                j = int(ne.nonzero()[0])
                return (
                    f"output {i}: values differ at flat index {j}: "
                    f"{x.flatten()[j].item()} vs {y.flatten()[j].item()} ({int(ne.sum())} differ)"
                )
    return None


def _finite(out):
    leaves, _ = _leaves(out)
    for t in leaves:
        if isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()):
            if t.numel() and not bool(torch.isfinite(t).all()):
                return False
        elif isinstance(t, float) and not math.isfinite(t):
            return False
    return True


def _runs(values):
    out = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def _int_or_none(v):
    try:
        f = float(v)
    except Exception:
        return None
    if math.isinf(f) or math.isnan(f):
        return None
    return int(v)


def _sym_range(expr, rc):
    try:
        vr = rc.get(expr) if expr in rc else bound_sympy(expr, rc)
        return [_int_or_none(vr.lower), _int_or_none(vr.upper)]
    except Exception:
        return None


# --- the check ----------------------------------------------------------------------------------
def _leaf_owners(inputs):
    """(input index, element index) of each flattened user input: a list of ints is one
    placeholder per element, as export flattens it."""
    owners = []
    for i, inp in enumerate(inputs):
        if isinstance(inp, (list, tuple)):
            owners.extend((i, k) for k in range(len(inp)))
        else:
            owners.append((i, 0))
    return owners


def _inspect_dims(ep, names, inputs):
    rc = ep.range_constraints
    user_targets = [
        s.arg.name for s in ep.graph_signature.input_specs if s.kind == InputKind.USER_INPUT
    ]
    phs = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}
    owners = _leaf_owners(inputs)
    dims = []
    shape_env = None
    for leaf, tgt in enumerate(user_targets):
        node = phs.get(tgt)
        val = node.meta.get("val") if node is not None else None
        idx, elem = owners[leaf] if leaf < len(owners) else (leaf, 0)
        if isinstance(val, (int, torch.SymInt)) and not isinstance(val, bool):
            sizes = [val]  # an int input (or list element): its one "dim" is its value
        elif isinstance(val, torch.Tensor):
            sizes = list(val.shape)
            if shape_env is None:
                fm = getattr(val, "fake_mode", None)
                shape_env = getattr(fm, "shape_env", None)
        else:
            continue
        name = names[idx] if idx < len(names) else tgt
        for d, sz in enumerate(sizes):
            entry = {"input": idx, "name": name, "dim": d + elem, "size": str(sz), "pinned": None, "range": None}
            if isinstance(sz, int):
                entry["pinned"] = int(sz)
            else:
                expr = sz.node.expr
                if expr.is_number:
                    entry["pinned"] = int(expr)
                else:
                    r = _sym_range(expr, rc)
                    entry["range"] = r
                    if r is not None and r[0] is not None and r[0] == r[1]:
                        entry["pinned"] = r[0]
            dims.append(entry)
    return dims, shape_env


def _guards_of(shape_env, names=()):
    """The shape env's guards (and the replacements the case's code caused) as reported, and
    the same guards as sympy expressions for evaluation at other sizes. Each guard names the
    input dims (`[input, dim]`) its symbols stand for."""
    guards = []
    exprs = []
    repl = {}
    if shape_env is None:
        return guards, repl, exprs
    index = {n: i for i, n in enumerate(names)}

    def dims_of(expr):
        out = []
        try:
            for sym in expr.free_symbols:
                for src in shape_env.var_to_sources.get(sym, []):
                    where = _source_of(src)
                    if where is not None and where[0] in index:
                        out.append([index[where[0]], where[1]])
                        break
        except Exception:
            pass
        return sorted(out)

    seen = set()
    covered = set()
    for g in list(shape_env.guards):
        expr = str(g.expr)
        fw = _fmt_floc(getattr(g.sloc, "framework_loc", None))
        line = getattr(g.sloc, "_sf_line", None)
        key = (expr, fw, line)
        if key in seen:
            continue
        seen.add(key)
        try:
            if g.expr.func.__name__ == "Equality":
                covered |= {str(s) for s in g.expr.free_symbols}
        except Exception:
            pass
        if len(guards) < MAX_GUARDS:
            try:
                nsym = len(g.expr.free_symbols)
            except Exception:
                nsym = 0
            entry = {"expr": expr, "framework": fw, "line": line, "symbols": nsym, "dims": dims_of(g.expr)}
            _probe_guard_fields(entry, g.sloc)
            guards.append(entry)
            exprs.append(g.expr)
    for sym, tgt in list(shape_env.replacements.items()):
        repl[str(sym)] = str(tgt)
        if str(sym) in covered:
            continue
        sloc = shape_env.replacements_slocs.get(sym)
        if sloc is None:
            continue
        line = getattr(sloc, "_sf_line", None)
        if line is None:
            continue  # not caused by the case's code (e.g. input setup)
        if len(guards) < MAX_GUARDS:
            entry = {
                "expr": f"Eq({sym}, {tgt})",
                "framework": _fmt_floc(getattr(sloc, "framework_loc", None)),
                "line": line,
                "symbols": 1,
                "dims": dims_of(sym),
            }
            _probe_guard_fields(entry, sloc)
            guards.append(entry)
            try:
                exprs.append(sympy.Eq(sym, tgt))
            except Exception:
                exprs.append(None)
    return guards, repl, exprs


def _probe_guard_fields(entry, sloc):
    """In probe mode a guard also names the model file and line that added it, the line's
    code, and whether Python itself decided there (`if n > 4`, `int(n)`) or a torch op did."""
    if not _CaseState.probe:
        return
    fn = getattr(sloc, "_sf_file", None)
    entry["file"] = _display_file(fn) if fn else None
    entry["code"] = _code_at(fn, entry.get("line"))
    entry["python"] = bool(getattr(sloc, "_sf_python", False))
    entry["decision"] = _decision_kind(entry)
    if entry["decision"] is not None:
        entry["python"] = True
    entry["stack"] = [
        {"file": _display_file(fn), "line": ln, "code": _code_at(fn, ln)}
        for fn, ln in (getattr(sloc, "_sf_stack", None) or [])
    ]


_PIECES = re.compile(r"\b(split|chunk|unbind|tensor_split|split_with_sizes|unsafe_split)\(")
_FLOORISH = re.compile(r"//|FloorDiv|CeilToInt|ceiling|floor")
_SIZE_CLASS = re.compile(r"^(Eq|Ne)\((.+), ([01])\)$|^(.+) (>=) 2$|^(.+) (>) 1$|^(.+) (<=) 1$|^(.+) (<) 2$")


def _decision_kind(entry):
    """The Python decision a guard stands for, as a generated case's IR declares them
    (`ir/region.rs`), or None: `branch` (an `if` on a size), `loop` (`range(n)`'s trip
    count), `pieces` (how many tensors split/chunk/unbind return: the structure of the
    output is static), `clamp` (whether a slice bound falls within the size), `size-class`
    (a size derived from a symbol being 0, 1 or 2+, which torch specializes by design). A
    guard that is one of these narrows the trace region; an int conversion used as a value
    (`int(n)`, `len(x)`) does not."""
    if entry.get("python"):
        return "branch"
    code = entry.get("code") or ""
    expr = entry.get("expr") or ""
    if "range(" in code and (expr.startswith("Eq(") or expr.startswith("Ne(")):
        return "loop"
    if _PIECES.search(code) and _FLOORISH.search(expr) and expr.startswith(("Eq(", "Ne(")):
        return "pieces"
    if "in _compute_slice_index" in (entry.get("framework") or ""):
        # whether a slice bound falls inside the size: the trace clamps it one way
        return "clamp"
    m = _SIZE_CLASS.match(expr)
    if m:
        inner = next(g for g in (m.group(2), m.group(4), m.group(6), m.group(8), m.group(10)) if g)
        # a size derived from a symbol, not the symbol itself (whose 0/1 is outside 2..)
        if not re.fullmatch(r"[su]\d+", inner.strip()):
            return "size-class"
    return None


# --- which guards a valuation breaks -----------------------------------------------------------
def _source_of(src):
    """(input name, dim) of a `x.size()[d]` source, (name, 0) of an int input `n`, (name, i)
    of element `ns[i]` of an int-list input, else None."""
    try:
        if getattr(src, "prop", None) is None and isinstance(getattr(src, "local_name", None), str):
            return src.local_name, 0
        if type(src).__name__ == "GetItemSource" and isinstance(
            getattr(getattr(src, "base", None), "local_name", None), str
        ) and isinstance(getattr(src, "index", None), int):
            return src.base.local_name, int(src.index)
        if getattr(src, "prop", None) != TensorProperty.SIZE:
            return None
        base = src.base
        while base is not None and not hasattr(base, "local_name"):
            base = getattr(base, "base", None)
        if base is None:
            return None
        return base.local_name, int(src.idx)
    except Exception:
        return None


def _sym_values(shape_env, mod, names, valuation):
    """torch's size symbols -> their values when the case's symbols take `valuation`."""
    shapes = mod.input_shapes(valuation)
    index = {n: i for i, n in enumerate(names)}
    vals = {}
    for sym, srcs in list(getattr(shape_env, "var_to_sources", {}).items()):
        for src in srcs:
            where = _source_of(src)
            if where is None or where[0] not in index:
                continue
            shp = shapes[index[where[0]]]
            if isinstance(shp, int):
                vals[sym] = sympy.Integer(shp)
                break
            if where[1] < len(shp):
                vals[sym] = sympy.Integer(int(shp[where[1]]))
                break
    return vals


def _moved(shape_env, mod, names, base, before, sym, n):
    """torch's size symbols' values with the case symbol `sym` moved to `n` (the others at
    `base`), and which of them changed from `before`, the values at `base`."""
    v = dict(base)
    v[sym] = n
    vals = _sym_values(shape_env, mod, names, v)
    return vals, {k for k in vals if vals[k] != before.get(k)}


def _false_guards(exprs, vals):
    """Indices of the guards that are false at these symbol values (unknown ones skipped)."""
    out = []
    for i, e in enumerate(exprs):
        if e is None:
            continue
        try:
            r = e.xreplace(vals)
            if r is sympy.false or r == sympy.false:
                out.append(i)
        except Exception:
            pass
    return out


def _nearest(runs, center, exclude):
    """Sizes in the runs, nearest to `center` first (the smaller on a tie)."""
    sizes = [n for lo, hi in runs for n in range(lo, hi + 1) if n not in exclude]
    return sorted(sizes, key=lambda n: (abs(n - center), n))


def _all_constraints(shape_env):
    """Everything the shape env concluded about sizes, as sympy booleans: its guards, every
    replacement (with or without a case line) and every narrowed symbol range. A constraint
    violation that none of these explains is not a real one."""
    out = []
    for g in list(shape_env.guards):
        out.append(g.expr)
    for sym, tgt in list(shape_env.replacements.items()):
        try:
            out.append(sympy.Eq(sym, tgt))
        except Exception:
            pass
    for sym, vr in list(getattr(shape_env, "var_to_range", {}).items()):
        try:
            lo, hi = vr.lower, vr.upper
            if _finite_int(lo) and int(lo) > 2:
                out.append(sympy.Ge(sym, lo))
            if _finite_int(hi):
                out.append(sympy.Le(sym, hi))
        except Exception:
            pass
    return out


def _finite_int(x):
    try:
        return x not in (int_oo, -int_oo, sympy.oo, -sympy.oo) and bool(x.is_Integer)
    except Exception:
        return False


def _eval_at(exprs, vals, changed):
    """(indices of the expressions false at `vals`, whether any could not be decided),
    skipping those that mention none of the `changed` symbols."""
    false, unknown = [], False
    for i, e in enumerate(exprs):
        if e is None:
            continue
        try:
            if changed is not None and not (e.free_symbols & changed):
                continue
            r = e.xreplace(vals)
            if r is sympy.false or r == sympy.false:
                false.append(i)
            elif not (r is sympy.true or r == sympy.true):
                unknown = True
        except Exception:
            unknown = True
    return false, unknown


# Sizes past the scan range at which a constraint violation may still be justified.
_LARGE_SIZES = (100, 1000, 10007)


def _witnesses(req, mod, shape_env, names, exprs, accepted):
    """Per symbol, a size inside the trace region and one outside it (both valid in eager)
    at which a guard is false, with the guards false there; with an exported program
    (`accepted`), only sizes its guards reject are tried, the nearest to the export size
    first. Also whether everything torch concluded holds at every valid size (only asked
    without a program, to tell a real constraint violation from a spurious one): True,
    False, or None when something could not be decided."""
    if shape_env is None:
        return [], None
    region = req.get("region") or {}
    valid = req.get("valid") or {}
    base = dict(mod.EXPORT_SIZES)
    out = []
    every = _all_constraints(shape_env) if accepted is None else []
    all_hold = True if accepted is None else None
    for sym in list(getattr(mod, "SYMBOLS", [])):
        here = base[sym]
        inside = _nearest(region.get(sym, []), here, {here})
        in_set = set(inside)
        outside = [n for n in _nearest(valid.get(sym, []), here, {here}) if n not in in_set]
        before = _sym_values(shape_env, mod, names, base)
        for in_region, cands in ((True, inside), (False, outside)):
            if accepted is not None:
                acc = accepted.get(sym) or []
                cands = [n for n in cands if not any(lo <= n <= hi for lo, hi in acc)][:1]
            for n in cands:
                try:
                    vals, changed = _moved(shape_env, mod, names, base, before, sym, n)
                    bad, _ = _eval_at(exprs, vals, None if accepted is not None else changed)
                except Exception:
                    bad = []
                if bad or accepted is not None:
                    out.append({"symbol": sym, "size": n, "in_region": in_region, "false_guards": bad})
                    break
        if all_hold:
            for n in [m for lo, hi in valid.get(sym, []) for m in range(lo, hi + 1)] + list(_LARGE_SIZES):
                try:
                    vals, changed = _moved(shape_env, mod, names, base, before, sym, n)
                    bad, unknown = _eval_at(every, vals, changed)
                except Exception:
                    bad, unknown = [], True
                if bad:
                    all_hold = False
                    break
                if unknown:
                    all_hold = None
                    break
    return out, all_hold


def _unproven(shape_env, exprs):
    """Indices of the guards torch cannot prove from its symbol ranges: when every guard
    holds everywhere yet export raised, these are the ones its solver tripped on."""
    out = []
    for i, e in enumerate(exprs):
        if e is None:
            continue
        try:
            r = shape_env._maybe_evaluate_static(e, axioms=())
        except Exception:
            r = None
        if not (r is sympy.true or r == sympy.true):
            out.append(i)
    return out
def _accepted(gm, mod, inputs, scan_max):
    symbols = list(getattr(mod, "SYMBOLS", []))
    base = dict(mod.EXPORT_SIZES)
    if not hasattr(gm, "_guards_fn"):
        return {s: None for s in symbols}
    gfn = gm._guards_fn
    dtypes = [t.dtype if isinstance(t, torch.Tensor) else None for t in inputs]
    acc = {}
    for sym in symbols:
        ok_sizes = []
        for n in range(0, scan_max + 1):
            s = dict(base)
            s[sym] = n
            try:
                shapes = mod.input_shapes(s)
                args = []
                for shp, dt, inp in zip(shapes, dtypes, inputs):
                    # A Python input's "shape" is its value; the guards take a list of ints
                    # flattened, as export flattens its inputs.
                    if isinstance(shp, list):
                        args.extend(shp)
                    elif isinstance(shp, (int, float)):
                        args.append(shp)
                    elif dt is not None:
                        args.append(torch.empty(tuple(shp), dtype=dt, device="meta"))
                    else:
                        args.append(inp)
                gfn(*args)
            except Exception:
                continue
            ok_sizes.append(n)
        acc[sym] = _runs(ok_sizes)
    return acc


def _accepted_alone(ep, gm, inputs, accepted, scan_max):
    """Per torch symbol, the sizes its guards accept with every other torch symbol at its
    export value. Dims tied to one generator symbol can carry independent torch symbols
    (several Dim.DYNAMIC dims of equal size): the scan along the generator symbol moves them
    together and sees only the intersection of what each accepts, which can be one size
    although no dim is pinned. Computed only when some scan accepted a single size >= 2,
    the one case where the judge needs it."""
    if not hasattr(gm, "_guards_fn"):
        return []
    def count_from_2(runs):
        return sum(b - max(a, 2) + 1 for a, b in runs if b >= 2)

    if not any(runs is not None and count_from_2(runs) == 1 for runs in accepted.values()):
        return []
    user_targets = [
        s.arg.name for s in ep.graph_signature.input_specs if s.kind == InputKind.USER_INPUT
    ]
    phs = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}
    owners = _leaf_owners(inputs)
    flat = []
    for inp in inputs:
        flat.extend(inp if isinstance(inp, (list, tuple)) else [inp])
    # Each flattened argument: ("tensor", dtype, [size exprs]) or ("value", expr or value).
    leaves = []
    hints = {}
    for leaf, tgt in enumerate(user_targets):
        node = phs.get(tgt)
        val = node.meta.get("val") if node is not None else None
        actual = flat[leaf] if leaf < len(flat) else None
        if isinstance(val, torch.Tensor) and isinstance(actual, torch.Tensor):
            sizes = []
            for sz, real in zip(val.shape, actual.shape):
                e = sympy.Integer(int(sz)) if isinstance(sz, int) else sz.node.expr
                if isinstance(e, sympy.Symbol):
                    hints[e] = int(real)
                sizes.append(e)
            leaves.append(("tensor", actual.dtype, sizes, leaf))
        elif isinstance(val, torch.SymInt) and isinstance(actual, int):
            e = val.node.expr
            if isinstance(e, sympy.Symbol):
                hints[e] = int(actual)
            leaves.append(("value", None, e, leaf))
        else:
            leaves.append(("raw", None, actual, leaf))
    out = []
    gfn = gm._guards_fn

    def value_of(x, env):
        # A bare symbol or a number needs no sympy; anything else is rebuilt with integers
        # (xreplace, not subs: no pattern matching, the same value once every symbol is a
        # number). This loop runs 65 times per symbol.
        if x.is_number:
            return int(x)
        if x in env:
            return int(env[x])
        return int(x.xreplace(env))

    for sym in sorted(hints, key=str):
        dims = []
        for kind, _, e, leaf in leaves:
            i, elem = owners[leaf] if leaf < len(owners) else (leaf, 0)
            if kind == "tensor":
                dims.extend([i, d] for d, x in enumerate(e) if x == sym)
            elif kind == "value" and e == sym:
                dims.append([i, elem])
        ok = []
        env = {k: sympy.Integer(v) for k, v in hints.items()}
        for n in range(0, scan_max + 1):
            env[sym] = sympy.Integer(n)
            try:
                args = []
                for kind, dt, e, _ in leaves:
                    if kind == "tensor":
                        shp = [value_of(x, env) for x in e]
                        if any(v < 0 for v in shp):
                            raise ValueError("negative size")
                        args.append(torch.empty(tuple(shp), dtype=dt, device="meta"))
                    elif kind == "value":
                        args.append(value_of(e, env))
                    else:
                        args.append(e)
                gfn(*args)
            except Exception:
                continue
            ok.append(n)
        out.append({"symbol": str(sym), "dims": sorted(dims), "accepted": _runs(ok)})
    return out


def _sweep_probes(req, mod, accepted, taken):
    """Sizes the exported program accepts and eager runs, beyond the case's own probes: the
    export sizes themselves, then per symbol up to `sweep` sizes spread evenly over what both
    accept (others at their export sizes). A wrong symbolic simplification can show at only a
    few sizes; this is where it is looked for. Deterministic: no timing decides anything."""
    per_symbol = int(req.get("sweep") or 0)
    if per_symbol <= 0:
        return []
    base = dict(mod.EXPORT_SIZES)
    valid = req.get("valid") or {}
    scan_max = int(req.get("guard_scan_max", 64))
    seen = {tuple(sorted(p.items())) for p in taken}
    out = []

    def add(sizes):
        key = tuple(sorted(sizes.items()))
        if key not in seen:
            seen.add(key)
            out.append(sizes)

    add(dict(base))
    for sym in getattr(mod, "SYMBOLS", []):
        runs_ok = accepted.get(sym) or []
        runs_valid = valid.get(sym) or []
        cands = [
            n for n in range(2, scan_max + 1)
            if n != base.get(sym)
            and any(a <= n <= b for a, b in runs_ok)
            and any(a <= n <= b for a, b in runs_valid)
        ]
        if len(cands) > per_symbol:
            if per_symbol == 1:
                cands = [cands[len(cands) // 2]]
            else:
                step = (len(cands) - 1) / (per_symbol - 1)
                cands = sorted({cands[round(i * step)] for i in range(per_symbol)})
        for n in cands:
            sizes = dict(base)
            sizes[sym] = n
            add(sizes)
    return out


def _apply_transform(ep, name):
    if name == "decomposed":
        return ep.run_decompositions()
    if name == "saved":
        import io

        buf = io.BytesIO()
        torch.export.save(ep, buf)
        buf.seek(0)
        return torch.export.load(buf)
    if name == "aoti":
        global _counter
        _counter += 1
        # AOTInductor checks its inputs against the program's constraints only when asked
        # (off by default for speed): judged is the program with its checks on.
        os.environ["AOTI_RUNTIME_CHECK_INPUTS"] = "1"
        # inductor's compiled objects go under the worker's scratch directory, removed with
        # the worker, not into a cache that grows with every case
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(_TMPDIR, "inductor"))
        path = os.path.join(_TMPDIR, f"aoti_{_counter}.pt2")
        try:
            pkg = torch._inductor.aoti_compile_and_package(ep, package_path=path)
            runner = torch._inductor.aoti_load_package(pkg)
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass

        def run(*args):
            # the package's outputs are the program's flattened outputs; the model's are a tuple
            out = runner(*args)
            return tuple(out) if isinstance(out, (list, tuple)) else (out,)

        return run
    if name == "onnx":
        return _onnx_runner(ep)
    raise ValueError(f"unknown transform {name!r}")


_ONNX_REGISTRIES = {}


def _memoize_onnx_registry():
    """torch.onnx.export(dynamo=True) rebuilds its op registry from torchlib at every call:
    0.26 s of the 0.41 s a small model takes here, and no public parameter takes a registry.
    The long-lived worker builds it once per opset and hands the same one back while its
    table is as built (the exporter only reads it; a registry found changed is rebuilt).
    SHAPEFUZZ_ONNX_FRESH_REGISTRY=1 turns this off."""
    if os.environ.get("SHAPEFUZZ_ONNX_FRESH_REGISTRY") == "1":
        return
    try:
        from torch.onnx._internal.exporter import _registration
    except Exception:
        return
    cls = _registration.ONNXRegistry
    build = getattr(cls.__dict__.get("from_torchlib"), "__func__", None)
    if build is None or getattr(build, "_shapefuzz_memo", False):
        return

    def shape(reg):
        return {k: tuple(id(m) for m in v) for k, v in reg.functions.items()}

    def from_torchlib(klass, opset_version=None, **kw):
        if kw or klass is not cls:
            return build(klass, *(() if opset_version is None else (opset_version,)), **kw)
        key = opset_version
        have = _ONNX_REGISTRIES.get(key)
        if have is not None and shape(have[0]) == have[1]:
            return have[0]
        reg = build(klass) if opset_version is None else build(klass, opset_version)
        _ONNX_REGISTRIES[key] = (reg, shape(reg))
        return reg

    from_torchlib._shapefuzz_memo = True
    cls.from_torchlib = classmethod(from_torchlib)


def _onnx_runner(ep):
    """The exported program through torch.onnx's exporter (given the ExportedProgram itself,
    so nothing is traced twice) and onnxruntime on CPU, called like `ep.module()`. Its
    `lost_axes` name the input dims the program keeps dynamic and the ONNX model fixes."""
    import numpy as np
    import onnxruntime

    _memoize_onnx_registry()
    onnx_program = torch.onnx.export(ep, dynamo=True, verbose=False)
    proto = onnx_program.model_proto
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    # ONNX graph inputs are the program's user inputs in order (torch.onnx's own
    # ONNXProgram.__call__ feeds them by position); their names may differ (an input that is
    # also an output becomes `x_orig`)
    feed_order = [i.name for i in session.get_inputs()]
    user = [s.arg.name for s in ep.graph_signature.input_specs if s.kind == InputKind.USER_INPUT]
    phs = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}

    def is_value(name):
        # a static Python number is baked into the program and is no ONNX input
        val = phs[name].meta.get("val") if name in phs else None
        return isinstance(val, (torch.Tensor, torch.SymInt, torch.SymFloat, torch.SymBool))

    fed = [k for k, name in enumerate(user) if is_value(name)]
    if len(fed) != len(feed_order):
        # not one ONNX input per program input: pair them by name
        fed = [user.index(n) if n in user else None for n in feed_order]
    declared = {i.name: i for i in proto.graph.input}
    lost = []
    for k, onnx_name in zip(fed, feed_order):
        if k is None:
            continue
        name, inp = user[k], declared.get(onnx_name)
        if inp is None:
            continue
        val = phs[name].meta.get("val") if name in phs else None
        if not isinstance(val, torch.Tensor):
            continue
        dims = inp.type.tensor_type.shape.dim
        for d, sz in enumerate(val.shape):
            if d >= len(dims):
                continue
            has_value = dims[d].HasField("dim_value")
            param = str(dims[d].dim_param)
            pinned = isinstance(sz, int) or sz.node.expr.is_number
            if pinned and not has_value and param:
                # a dim_param is a name onnxruntime never checks: it takes any size there,
                # and the graph computes with the pin
                lost.append(f"{name}.size({d}) is declared as dim_param {param!r}, which onnxruntime does"
                            f" not check, where the exported program pins it to {int(sz)}"
                            " (a static dim is a dim_value)")
            elif not pinned and has_value:
                lost.append(f"{name}.size({d}) is fixed to dim_value {dims[d].dim_value} where the"
                            f" exported program keeps it dynamic ({sz})")
            elif not pinned and param.isdigit():
                lost.append(f"{name}.size({d}) is declared as the constant dim_param {param!r} where the"
                            f" exported program keeps it dynamic ({sz})")

    def run(*args):
        leaves = pytree.tree_leaves(args)
        feeds = {}
        for k, name in zip(fed, feed_order):
            if k is None or k >= len(leaves):
                continue
            value = leaves[k]
            feeds[name] = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        outs = session.run(None, feeds)
        # np.array(copy=True) keeps a 0-d result 0-d (np.ascontiguousarray would make it 1-d)
        return tuple(torch.from_numpy(np.array(o, copy=True)) for o in outs)

    run.lost_axes = lost
    return run


def _backed_ranges(ep):
    """The range constraints of the input size symbols (`s*`), as text: what a backend step
    must keep. Unbacked symbols (`u*`) of intermediate values are left out."""
    out = {}
    for sym, vr in ep.range_constraints.items():
        name = str(sym)
        if name.startswith("s"):
            out[name] = [_int_or_none(vr.lower), _int_or_none(vr.upper)]
    return out


class _ProbeCache:
    """What one probe size gave in eager (its inputs, whether it ran and repeated, its
    output) and in the exported program: computed once per size for every backend of a
    check."""

    def __init__(self):
        self.eager = {}
        self.exported = {}

    @staticmethod
    def key(sizes):
        return tuple(sorted((str(k), v) for k, v in dict(sizes).items()))


class _ExportedState:
    """The exported program of a check, and what every backend step is compared with: its
    module, and the shape env that holds its guards (with their case lines)."""

    def __init__(self, ep, names, inputs, path):
        self.ep = ep
        self.path = path
        self.names = names
        self.inputs = inputs
        self._gm = None
        self._inspected = None
        self._accepted = None

    def gm(self):
        if self._gm is None:
            self._gm = self.ep.module()
        return self._gm

    def accepted(self, mod, scan_max):
        """The exported program's accepted sizes per symbol, scanned once."""
        if self._accepted is None:
            self._accepted = _accepted(self.gm(), mod, self.inputs, scan_max)
        return self._accepted

    def inspected(self):
        """(dims, shape_env) of the exported program, inspected once."""
        if self._inspected is None:
            self._inspected = _inspect_dims(self.ep, self.names, self.inputs)
        return self._inspected


def _narrowed_probes(mod, before, after):
    """Per symbol, the size nearest its export size that the exported program accepts and
    the program after a step refuses (by their guard scans), as a probe."""
    def members(runs):
        return {n for lo, hi in (runs or []) for n in range(lo, hi + 1)}

    base = dict(mod.EXPORT_SIZES)
    out = []
    for sym, runs in (before or {}).items():
        if runs is None or (after or {}).get(sym) is None:
            continue
        # 0 and 1 are judged only by their answers (see CONTRACT.md), not by a refusal
        lost = {n for n in members(runs) - members(after[sym]) if n >= 2}
        if lost:
            n = min(lost, key=lambda v: (abs(v - base[sym]), v))
            sizes = dict(base)
            sizes[sym] = n
            out.append(sizes)
    return out


def _compile_runner(model, spec, inputs, seed):
    """`torch.compile(model, dynamic_shapes=spec, fullgraph=True)` with Inductor on CPU,
    compiled at the export inputs (so that its errors are the step's), called like
    `ep.module()`. Each call records how many graphs it compiled (`recompiles`): a ShapesSpec
    promises none at a size it declares, so each one is a guard the promise rules out."""
    from torch._dynamo.utils import counters

    if not type(spec).__name__ == "ShapesSpec":
        raise _NotApplicable(
            "torch.compile's dynamic_shapes= takes a ShapesSpec, and this case's spec is "
            "the Dim API"
        )
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(_TMPDIR, "inductor"))
    torch._dynamo.reset()
    fn = torch.compile(model, dynamic_shapes=spec, fullgraph=True, backend="inductor")

    from torch._dynamo.utils import guard_failures

    def graphs():
        return int(counters["stats"]["unique_graphs"])

    def failed_guards(since):
        # torch's recompile reasons, `0/0: x.stride()[0] == x.size()[0]  # (source ...)`,
        # as the guard alone
        out = []
        for code, reasons in list(guard_failures.items()):
            for r in reasons[since.get(code, 0):]:
                for line in str(r).splitlines():
                    g = re.sub(r"^\s*-?\s*\d+/\d+:\s*", "", line).split("  #")[0].strip()
                    if g and g not in out:
                        out.append(_cut(g, 300))
        return out[:5]

    def run(*args):
        before = graphs()
        since = {k: len(v) for k, v in list(guard_failures.items())}
        try:
            out = fn(*args)
        finally:
            run.recompiles = graphs() - before
            run.failed_guards = failed_guards(since) if run.recompiles else []
        return tuple(out) if isinstance(out, (list, tuple)) else (out,)

    _seed_cpu(seed)
    first = graphs()
    fn(*_clone(inputs))
    run.compiled = graphs() - first
    run.recompiles = 0
    return run


class _NotApplicable(Exception):
    """A backend step that does not apply to the case (not a finding of any kind)."""


def _step(ep, transform, compile_args=None):
    """Applies a backend step; (result, backend record). The result is None when it raised."""
    try:
        if transform == "compile":
            stepped = _compile_runner(*compile_args)
        else:
            stepped = _apply_transform(ep, transform)
        return stepped, {"ok": True, "name": transform, "ranges": None}
    except _NotApplicable as e:
        return None, {"ok": False, "name": transform, "not_applicable": str(e), "ranges": None}
    except BaseException as e:  # torch's own step may raise anything
        err = _err(e, kind=True, trace=True)
        # Exporters wrap the error that says what went wrong ("Failed to convert ... Next
        # steps: ..."): name the innermost one.
        inner = list(_chain(e))[-1]
        if inner is not e:
            err["type"] = type(inner).__name__
            err["module"] = type(inner).__module__
            err["message"] = _clean_paths(_cut(str(inner)))
        return None, {"ok": False, "name": transform, "error": err, "ranges": None}


def _run_backend(req, subject, mod, model, base, transform, seed, scan_max, cache):
    """The part of a check after export, for the exported program (`transform` None) or one
    backend step on it: the fields of the reply it fills, and its time (`step_s`,
    `inspect_s`, `probes_s`)."""
    out = {"step_s": 0.0, "inspect_s": 0.0, "probes_s": 0.0}
    names, inputs = base.names, base.inputs
    # guards a step records are attributed to the case's lines, as during export
    _CaseState.file = base.path
    ep = base.ep
    reference = None
    compiled = None
    if transform:
        t = time.perf_counter()
        stepped, out["backend"] = _step(
            base.ep, transform, (model, _case_spec(mod, inputs), inputs, seed)
        )
        out["step_s"] = round(time.perf_counter() - t, 6)
        if stepped is None:
            out.update(dims=[], accepted={}, alone=[], guards=[], replacements={}, witnesses=[],
                       unproven=[], probes=[])
            return out
        reference = base.gm()
        if isinstance(stepped, torch.export.ExportedProgram):
            before, after = _backed_ranges(base.ep), _backed_ranges(stepped)
            if before != after:
                out["backend"]["ranges"] = [before, after]
            if transform == "saved":
                # a loaded program is the saved one: its guards (as torch prints them into
                # the program's input check) must come back the same
                g0 = list(getattr(base.ep, "_guards_code", []) or [])
                g1 = list(getattr(stepped, "_guards_code", []) or [])
                if sorted(g0) != sorted(g1):
                    out["backend"]["guards"] = [
                        [_cut(g, 300) for g in g0 if g not in g1][:20],
                        [_cut(g, 300) for g in g1 if g not in g0][:20],
                    ]
            ep = stepped
        else:
            # a compiled runner: no program to inspect, the export's guards say what it
            # should accept, and the probes run the runner
            compiled = stepped
            out["backend"]["lost_axes"] = list(getattr(stepped, "lost_axes", []))
            if getattr(stepped, "compiled", None) is not None:
                out["backend"]["graphs"] = int(stepped.compiled)

    t = time.perf_counter()
    if ep is base.ep:
        out["dims"], shape_env = base.inspected()
        gm = base.gm()
    else:
        out["dims"], _ = _inspect_dims(ep, names, inputs)
        gm = ep.module()
    # the guards, with their lines, live in the export's own shape env
    shape_env = base.inspected()[1]
    if shape_env is None and _CaseState.envs:
        shape_env = _CaseState.envs[-1]
    out["guards"], out["replacements"], exprs = _guards_of(shape_env, names)
    if subject is not None:
        req["region"] = subject.region(shape_env, out["guards"], exprs)
    _CaseState.file = None
    if ep is base.ep:
        out["accepted"] = base.accepted(mod, scan_max)
    else:
        out["accepted"] = _accepted(gm, mod, inputs, scan_max)
    narrowed = []
    if reference is not None and compiled is None:
        try:
            narrowed = _narrowed_probes(mod, base.accepted(mod, scan_max), out["accepted"])
        except Exception:
            narrowed = []
    try:
        out["alone"] = _accepted_alone(ep, gm, inputs, out["accepted"], scan_max)
    except Exception:
        out["alone"] = []
    try:
        out["witnesses"], _ = _witnesses(req, mod, shape_env, names, exprs, out["accepted"])
    except Exception:
        out["witnesses"] = []
    out["inspect_s"] = round(time.perf_counter() - t, 6)

    t = time.perf_counter()
    if subject is not None:
        req["region_probes"] = subject.region_probes(req.get("region") or {})
    extra = [p for p in (req.get("region_probes") or []) if isinstance(p, dict)]
    normal = getattr(mod, "PROBES", []) or []
    edge = getattr(mod, "EDGE_PROBES", []) or []
    # sizes the step's program refuses and the exported program accepts, run for real
    extra = extra + [p for p in narrowed if p not in extra and p not in normal and p not in edge]
    try:
        sweep = _sweep_probes(req, mod, out["accepted"] or {}, list(normal) + list(edge) + extra)
    except Exception:
        sweep = []
    out["probes"] = []
    # compiled backends answer within a looser tolerance (see _tol)
    _CaseState.loose = compiled is not None
    try:
        for kind, probes in (("normal", normal), ("edge", edge), ("region", extra), ("sweep", sweep)):
            for sizes in probes:
                _mark("probing", backend=transform or "export", sizes=dict(sizes))
                try:
                    res = _probe(mod, model, compiled or gm, sizes, kind, seed, reference, cache,
                                 exported=reference is None)
                except BaseException as e:  # _probe guards itself; this is a last resort
                    res = {"sizes": sizes, "kind": kind, "eager": {"ok": False, "error": _err(e)},
                           "exported": None, "match": None, "detail": None}
                if res["exported"] is not None and not res["exported"]["ok"] and shape_env is not None:
                    try:
                        res["false_guards"] = _false_guards(exprs, _sym_values(shape_env, mod, names, dict(sizes)))
                    except Exception:
                        pass
                out["probes"].append(res)
    finally:
        _CaseState.loose = False
    out["probes_s"] = round(time.perf_counter() - t, 6)
    return out


def _eager_repeats(model, inputs, seed, first):
    """Whether eager gives `first` again on the same inputs and seed: a mismatch with a
    model that does not is no finding about the program."""
    try:
        _seed_cpu(seed)
        again = model(*_clone(inputs))
        return _compare(first, again, exact=True) is None
    except BaseException:  # case code may raise anything
        return False


def _probe(mod, model, gm, sizes, kind, seed, reference=None, cache=None, exported=False):
    """Runs eager and `gm` at one probe size and compares them; with `reference` (the
    exported program, when `gm` is a backend's), that too. `cache` holds eager's results and
    the exported program's per size, so several backends share one eager run; `exported`
    says `gm` is the exported program itself."""
    res = {"sizes": sizes, "kind": kind, "eager": None, "exported": None, "match": None, "detail": None}
    declared_at = getattr(mod, "declared_at", None)
    declared = declared_at(dict(sizes)) if declared_at is not None else None
    if declared is not None:
        # a user's ShapesSpec assumptions: sizes breaking one are outside the promise
        res["declared"] = declared
    key = _ProbeCache.key(sizes) if cache is not None else None
    hit = cache.eager.get(key) if cache is not None else None
    if hit is not None:
        inputs, eager_res, eager_out = hit
        res["eager"] = dict(eager_res)
    else:
        eager_out = None
        try:
            inputs = _as_tuple(mod.make_inputs(dict(sizes), seed=0))
            _seed_cpu(seed)
            eager_out = model(*_clone(inputs))
            # whether eager repeats itself is asked only of a mismatch (below): where the
            # outputs agree, a non-deterministic model cannot make a false finding
            res["eager"] = {"ok": True, "repeatable": None, "finite": _finite(eager_out)}
        except BaseException as e:  # case code may raise anything
            eager_out = None
            res["eager"] = {"ok": False, "error": _err(e)}
            inputs = None
        if cache is not None:
            cache.eager[key] = (inputs, dict(res["eager"]), eager_out)
    exp_out = None
    try:
        if inputs is None:
            inputs = _as_tuple(mod.make_inputs(dict(sizes), seed=0))
        _seed_cpu(seed)
        exp_out = gm(*_clone(inputs))
        res["exported"] = {"ok": True}
    except BaseException as e:  # case code may raise anything
        res["exported"] = {"ok": False, "error": _err(e)}
    recompiles = getattr(gm, "recompiles", None)
    if recompiles is not None:
        res["exported"]["recompiles"] = int(recompiles)
        if recompiles:
            res["exported"]["failed_guards"] = list(getattr(gm, "failed_guards", []))
    if exported and cache is not None:
        cache.exported[key] = (dict(res["exported"]), exp_out)
    if eager_out is not None and res["exported"]["ok"]:
        try:
            detail = _compare(eager_out, exp_out)
        except BaseException as e:  # case code may raise anything
            detail = f"compare failed: {type(e).__name__}: {_cut(e, 300)}"
        res["match"] = detail is None
        res["detail"] = detail
        if detail is not None and res["eager"].get("repeatable") is None:
            res["eager"]["repeatable"] = _eager_repeats(model, inputs, seed, eager_out)
            if cache is not None:
                cache.eager[key][1]["repeatable"] = res["eager"]["repeatable"]
    if reference is not None and inputs is not None:
        # the exported program before the backend step, at the same inputs
        known = cache.exported.get(key) if cache is not None else None
        if known is not None:
            ran, ref_out = known
        else:
            try:
                _seed_cpu(seed)
                ref_out = reference(*_clone(inputs))
                ran = {"ok": True}
            except BaseException as e:  # case code may raise anything
                ref_out = None
                ran = {"ok": False, "error": _err(e)}
        if ran["ok"]:
            match = None
            if eager_out is not None:
                try:
                    match = _compare(eager_out, ref_out) is None
                except BaseException:
                    match = None
            if match is False and res["eager"].get("repeatable") is None:
                res["eager"]["repeatable"] = _eager_repeats(model, inputs, seed, eager_out)
                if cache is not None:
                    cache.eager[key][1]["repeatable"] = res["eager"]["repeatable"]
            res["reference"] = {"ok": True, "match": match}
        else:
            res["reference"] = {"ok": False, "match": None, "error": ran.get("error")}
    return res


def _check_suggested_fix(req, mod, model, inputs, strict, error):
    """torch's constraint-violation message promises that its "Suggested fixes" make export
    succeed; apply them with torch's own helper and export again."""
    msg = str(getattr(error, "msg", None) or error)
    if "Suggested fixes" not in msg:
        return None
    fix = {"suggested": _clean_paths(_cut(msg[msg.index("Suggested fixes"):], 1500)),
           "refined": None, "export_ok": None, "error": None}
    try:
        from torch.export.dynamic_shapes import refine_dynamic_shapes_from_suggested_fixes

        args = _clone(inputs)
        spec = _case_spec(mod, args)
        if isinstance(spec, (torch.export.AdditionalInputs, torch.export.ShapesCollection)):
            # the fixes are about the Dim spec torch built from the examples or the collection
            spec = spec.dynamic_shapes(model, args)
        refined = refine_dynamic_shapes_from_suggested_fixes(msg, spec)
        fix["refined"] = _cut(repr(refined), 1000)
    except BaseException as e:  # torch's own helper failing on torch's own message
        fix["error"] = _err(e, kind=True, trace=True)
        fix["stage"] = "refine"
        return fix
    try:
        _seed_cpu(int(req.get("seed", 0) or 0))
        torch.export.export(model, _clone(inputs), dynamic_shapes=refined, strict=strict,
                            **_export_kwargs(mod))
        fix["export_ok"] = True
    except BaseException as e:  # case code may raise anything
        fix["export_ok"] = False
        fix["error"] = _err(e, kind=True, trace=True)
        fix["stage"] = "export"
    return fix


_EXPORT_KWARGS = ("prefer_deferred_runtime_asserts_over_guards",)


def _case_spec(mod, inputs):
    """A case's dynamic_shapes for these very inputs: a ShapesCollection is keyed by the
    identity of the tensors export is given, so its module takes them
    (`DYNAMIC_SHAPES_TAKE_INPUTS`)."""
    if getattr(mod, "DYNAMIC_SHAPES_TAKE_INPUTS", False):
        return mod.dynamic_shapes(inputs)
    return mod.dynamic_shapes()


def _export_kwargs(mod):
    """The export options a case asks for (`EXPORT_KWARGS`), only those shapefuzz knows."""
    kw = getattr(mod, "EXPORT_KWARGS", None) or {}
    return {k: bool(v) for k, v in dict(kw).items() if k in _EXPORT_KWARGS}


def _mark(what, **fields):
    """A line on stderr saying what the worker does now: if torch kills the process (a
    segfault in compiled code), the harness reads the last one to tell at which probe."""
    try:
        sys.stderr.write(f"shapefuzz-worker: {what} {json.dumps(fields, sort_keys=True)}\n")
        sys.stderr.flush()
    except Exception:
        pass


def _check(req, subject=None):
    """The check of PROTOCOL.md, on a rendered case (`source`), or on a user's model behind
    the same contract (`subject`, from `probe`): then the trace region is not given but
    derived from the guards Python itself decided on."""
    rid = req.get("id")
    _mark("checking")
    seed = int(req.get("seed", 0) or 0)
    strict = bool(req.get("strict", False))
    timings = {"load": 0.0, "eager": 0.0, "export": 0.0, "inspect": 0.0, "probes": 0.0}
    resp = {
        "id": rid,
        "ok": True,
        "timings": timings,
        "eager_export": None,
        "export": None,
        "dims": [],
        "accepted": {},
        "alone": [],
        "guards": [],
        "replacements": {},
        "witnesses": [],
        "guards_hold": None,
        "unproven": [],
        "fix": None,
        "probes": [],
    }
    _seed_cpu(seed)

    t = time.perf_counter()
    if subject is None:
        mod, modname, path = _load_case(req["source"], req.get("name"), rid)
    else:
        mod, modname, path = subject, None, subject.path
    _CaseState.last_file = path
    try:
        model = mod.Model().eval()
        names = list(getattr(mod, "INPUT_NAMES", []))
        inputs = _as_tuple(mod.make_inputs(dict(mod.EXPORT_SIZES), seed=0))
        timings["load"] = round(time.perf_counter() - t, 6)

        t = time.perf_counter()
        try:
            _seed_cpu(seed)
            model(*_clone(inputs))
            resp["eager_export"] = {"ok": True}
        except BaseException as e:  # case code may raise anything
            resp["eager_export"] = {"ok": False, "error": _err(e)}
        timings["eager"] = round(time.perf_counter() - t, 6)
        if not resp["eager_export"]["ok"]:
            return resp

        ep = _export_case(req, subject, mod, model, names, inputs, path, resp)
        if ep is None:
            return resp
        _run_backends(req, subject, mod, model, _ExportedState(ep, names, inputs, path), resp)
        return resp
    finally:
        _CaseState.file = None
        _CaseState.envs = []
        _CaseState.loose = False
        if strict or "compile" in (req.get("transforms") or [req.get("transform")]):
            try:
                torch._dynamo.reset()
            except Exception:
                pass
        if subject is None:
            _unload_case(modname, path)
        _CaseState.last_file = None


def _export_case(req, subject, mod, model, names, inputs, path, resp):
    """torch.export of the case at its example sizes: the program, or None with the error
    classified, the guards recorded before it (and the sizes they rule out), and for a
    constraint violation the check of torch's suggested fixes."""
    seed = int(req.get("seed", 0) or 0)
    strict = bool(req.get("strict", False))
    timings = resp["timings"]
    t = time.perf_counter()
    _CaseState.file = path
    _CaseState.envs = []
    ep = None
    failed = None
    try:
        _seed_cpu(seed)
        args = _clone(inputs)
        ep = torch.export.export(
            model, args, dynamic_shapes=_case_spec(mod, args), strict=strict,
            **_export_kwargs(mod)
        )
        resp["export"] = {"ok": True}
    except BaseException as e:  # case code may raise anything
        resp["export"] = {"ok": False, "error": _err(e, kind=True, trace=True)}
        _CaseState.file = None
        # guards recorded before the failure, with their case lines, and the sizes
        # they rule out
        if _CaseState.envs:
            try:
                env = max(_CaseState.envs, key=lambda s: len(s.guards))
                resp["guards"], resp["replacements"], exprs = _guards_of(env, names)
                if subject is not None:
                    req["region"] = subject.region(env, resp["guards"], exprs)
                resp["witnesses"], resp["guards_hold"] = _witnesses(
                    req, mod, env, names, exprs, None
                )
                if resp["guards_hold"]:
                    resp["unproven"] = _unproven(env, exprs)
            except Exception:
                pass
        if resp["export"]["error"]["kind"] == "constraint_violation":
            failed = e
    finally:
        timings["export"] = round(time.perf_counter() - t, 6)
    if failed is not None:
        # Outside the handler, so that what the fix raises is not chained to the error.
        t = time.perf_counter()
        resp["fix"] = _check_suggested_fix(req, mod, model, inputs, strict, failed)
        timings["export"] += round(time.perf_counter() - t, 6)
    return ep


def _run_backends(req, subject, mod, model, base, resp):
    """The exported program, then each backend step on it (`transform`, or several in
    `transforms`): what is inspected and probed is the step's result, with the exported
    program run beside it at every probe (`reference`). Eager runs once per probe size for
    all of them (`cache`)."""
    seed = int(req.get("seed", 0) or 0)
    scan_max = int(req.get("guard_scan_max", 64))
    timings = resp["timings"]
    cache = _ProbeCache()
    transforms = req.get("transforms")
    if isinstance(transforms, list):
        resp.update(_run_backend(req, subject, mod, model, base, None, seed, scan_max, cache))
        resp["backends"] = {}
        for name in transforms:
            part = _run_backend(req, subject, mod, model, base, str(name), seed, scan_max, cache)
            part["timings"] = {
                "load": timings["load"], "eager": timings["eager"],
                "export": round(timings["export"] + part.pop("step_s", 0.0), 6),
                "inspect": part.pop("inspect_s", 0.0), "probes": part.pop("probes_s", 0.0),
            }
            resp["backends"][str(name)] = part
    else:
        resp.update(_run_backend(req, subject, mod, model, base, req.get("transform"), seed, scan_max, cache))
    timings["export"] = round(timings["export"] + resp.pop("step_s", 0.0), 6)
    timings["inspect"] = resp.pop("inspect_s", 0.0)
    timings["probes"] = resp.pop("probes_s", 0.0)


# --- probe: a user's own model ------------------------------------------------------------------
class ProbeSetupError(Exception):
    """The user's file or entry point does not follow the probe convention."""


def _spec_kind(spec):
    """(kind, detail) of one dim's entry in a dynamic_shapes spec: kind is static, auto,
    dynamic, named or derived."""
    import torch.export.dynamic_shapes as tds

    if spec is None or isinstance(spec, int) or isinstance(spec, tds._StaticDim):
        return "static", None
    if isinstance(spec, tds._DimHint):
        t = str(getattr(spec, "type", spec))
        kind = "auto" if "AUTO" in t else "dynamic" if "DYNAMIC" in t else "static"
        return kind, spec
    if isinstance(spec, tds._DerivedDim):
        return "derived", spec
    if isinstance(spec, tds.Dim):
        return "named", spec
    IntVar = _dynamic_spec("IntVar")
    if IntVar is not None and isinstance(spec, IntVar):
        return "var", spec  # ShapesSpec: a ShapeVar (or IntVar) of its own
    if isinstance(spec, torch.SymInt):
        # ShapesSpec: a dim that is an expression of one ShapeVar (`TensorSpec([b * 2])`)
        free = spec.node.expr.free_symbols
        if len(free) != 1:
            raise ProbeSetupError(
                f"the ShapesSpec expression {_expr_text(spec.node.expr)}: probe takes a dim of one ShapeVar so far"
            )
        return "var_expr", spec
    raise ProbeSetupError(f"unsupported dynamic_shapes entry {spec!r}")


def _expr_text(expr):
    """A ShapesSpec expression or assumption (its sympy form) as its user named the
    ShapeVars: `2*batch`, without the uids torch gives their symbols (`batch#3`)."""
    return re.sub(r"#\d+", "", str(expr))


def _dynamic_spec(name):
    """A class of torch's ShapesSpec API, or None on a torch without it (probe takes any
    torch)."""
    try:
        import torch.fx.experimental.dynamic_spec as ds
    except ImportError:
        return None
    return getattr(ds, name, None)


def _var_text(var):
    args = [repr(var.name)]
    if var.min is not None and not (type(var).__name__ == "ShapeVar" and var.min == 0):
        args.append(f"min={var.min}")
    if var.max is not None:
        args.append(f"max={var.max}")
    return f"{type(var).__name__}({', '.join(args)})"


def _bound(v, default):
    """A Dim's min/max as an int, or `default` for none/infinity (and for torch's old
    sys.maxsize - 1 stand-in for it, which no i64 consumer should see)."""
    try:
        if v is None or v in (int_oo, sympy.oo):
            return default
        n = int(v)
        return default if abs(n) >= 2**62 else n
    except Exception:
        return default


def _spec_text(kind, spec):
    if kind in ("auto", "dynamic"):
        base = "Dim.AUTO" if kind == "auto" else "Dim.DYNAMIC"
        lo, hi = _bound(getattr(spec, "min", None), None), _bound(getattr(spec, "max", None), None)
        args = ", ".join(x for x in (f"min={lo}" if lo is not None else "", f"max={hi}" if hi is not None else "") if x)
        return f"{base}({args})" if args else base
    if kind == "named":
        return repr(spec)
    if kind == "derived":
        return str(getattr(spec, "__name__", spec))
    return "static"


def _collection_as_dict(model, inputs, dyn):
    """A user's ShapesCollection as the dict it stands for: it is keyed by the identity of
    the example tensors, and export and every probe take copies of them."""
    if not isinstance(dyn, torch.export.ShapesCollection):
        return dyn
    try:
        return dyn.dynamic_shapes(model, tuple(inputs))
    except ValueError as e:
        raise ProbeSetupError(
            "dynamic_shapes() returns a ShapesCollection keyed by other tensors than the ones"
            f" example_inputs() returns ({e}): key it by those very tensors"
        ) from None


class _Subject:
    """A user's model behind the rendered-module contract (PROTOCOL.md), so that the check
    runs on it unchanged: one symbol per named Dim, and one per example size among the dims
    marked Dim.AUTO or Dim.DYNAMIC (dims of equal example size move together, as tied dims
    of a real model usually do); derived dims follow their root."""

    def __init__(self, path, model, inputs, dyn, factory, scan_max, names, labels=None):
        self.path = path
        self._model = model
        self._inputs = inputs
        self._dyn = dyn
        self._factory = factory
        self.scan_max = scan_max
        self.INPUT_NAMES = names
        # how the user writes each input (`xs[0]` for a leaf of a list input)
        self.LABELS = list(labels) if labels is not None else list(names)
        self.SYMBOLS = []
        self.EXPORT_SIZES = {}
        self.symbols = []  # what the Rust side reports: spec, range, dims
        self._dims = {}  # (input, dim) -> (symbol, derived fn or None)
        self._assumptions = []  # ShapesSpec's, as torch SymBools over its ShapeVars
        self._var_symbol = {}  # a ShapeVar's sympy symbol -> its symbol here
        self._build()
        self._compile_assumptions()
        self.PROBES = []
        self.EDGE_PROBES = []
        self._valid = {}

    def Model(self):
        return self._model

    def dynamic_shapes(self):
        return self._dyn

    def _per_input_specs(self):
        n = len(self._inputs)
        ds = self._dyn
        if ds is None:
            return [None] * n
        if isinstance(ds, torch.export.AdditionalInputs):
            raise ProbeSetupError(
                "AdditionalInputs is not probed yet: return the spec it infers,"
                " examples.dynamic_shapes(model(), example_inputs())"
            )
        spec_types = tuple(
            t for t in (_dynamic_spec("ShapesSpec"), _dynamic_spec("ParamsSpec")) if t is not None
        )
        if spec_types and isinstance(ds, spec_types):
            # ShapesSpec: its parameters by name, as a dict spec
            params = ds
            if type(ds).__name__ == "ShapesSpec":
                # relations between the ShapeVars, asserted at run time
                self._assumptions = list(ds.assumptions or [])
                params = getattr(ds, "_params", None)
            if params is None:
                return [None] * n
            if getattr(params, "_varargs", None) or getattr(params, "_varkw", None):
                raise ProbeSetupError("ShapesSpec *args / **kwargs entries are not probed yet")
            ds = dict(getattr(params, "_named_args", {}) or {})
        if isinstance(ds, dict):
            out = [None] * n
            for k, v in ds.items():
                if k not in self.INPUT_NAMES:
                    raise ProbeSetupError(
                        f"dynamic_shapes() names {k!r}, which is not a parameter of forward {self.INPUT_NAMES}"
                    )
                out[self.INPUT_NAMES.index(k)] = v
            return out
        if isinstance(ds, (list, tuple)):
            if len(ds) != n:
                raise ProbeSetupError(
                    f"dynamic_shapes() has {len(ds)} entries for {n} example inputs"
                )
            return list(ds)
        raise ProbeSetupError("dynamic_shapes() must return a dict keyed by forward's parameter names, a tuple, or None")

    def _build(self):
        self._check_input_kinds()
        specs = self._per_input_specs()
        by_key = {}
        var_of = self._shape_vars(specs)
        for i, (inp, spec) in enumerate(zip(self._inputs, specs)):
            if spec is None:
                continue
            is_int, items = self._dim_items(i, inp, spec)
            for d, dspec in items:
                if not is_int and (not isinstance(d, int) or not (0 <= d < inp.dim())):
                    raise ProbeSetupError(f"input {self.LABELS[i]!r} has no dim {d!r}")
                self._add_dim(i, d, dspec, int(inp) if is_int else int(inp.shape[d]), is_int,
                              by_key, var_of)
        self._check_examples()

    def _check_input_kinds(self):
        """Only tensors, Python numbers and lists of numbers are inputs a probe takes."""
        for i, inp in enumerate(self._inputs):
            ok = isinstance(inp, (torch.Tensor, bool, int, float, type(None))) or (
                isinstance(inp, (list, tuple)) and all(isinstance(v, (int, float)) for v in inp)
            )
            if not ok:
                raise ProbeSetupError(
                    f"input {self.LABELS[i]!r} is a {type(inp).__name__}; probe takes tensors,"
                    " Python numbers, and lists, tuples and dicts of tensors (wrap the model so"
                    " that forward takes its tensors one by one)"
                )

    @staticmethod
    def _shape_vars(specs):
        """ShapeVars (IntVars) by their sympy symbol, for the expressions built from them."""
        IntVar = _dynamic_spec("IntVar")
        var_of = {}
        if IntVar is None:
            return var_of
        for spec in specs:
            leaves = spec.values() if isinstance(spec, dict) else spec
            if isinstance(spec, IntVar):
                leaves = [spec]
            try:
                for leaf in leaves or []:
                    if isinstance(leaf, IntVar):
                        var_of[leaf.sympy_sym] = leaf
            except TypeError:
                pass
        return var_of

    def _dim_items(self, i, inp, spec):
        """(is_int, [(dim, spec)]) of an input that has a spec."""
        is_int = isinstance(inp, int) and not isinstance(inp, bool)
        if not isinstance(inp, torch.Tensor) and not is_int:
            raise ProbeSetupError(
                f"dynamic_shapes() gives a spec for input {self.LABELS[i]!r}, a {type(inp).__name__}; probe varies tensor dims and int inputs"
            )
        if is_int:
            # an int input's one "dim" is its value, with the hint torch takes for it
            # (Dim.AUTO / Dim.DYNAMIC; named Dims are refused by torch for ints)
            return is_int, [(0, spec)]
        if isinstance(spec, dict):
            return is_int, list(spec.items())
        if isinstance(spec, (list, tuple)) or type(spec).__name__ == "TensorSpec":
            return is_int, list(enumerate(spec))
        raise ProbeSetupError(f"the spec of input {self.LABELS[i]!r} is neither a dict nor a tuple")

    def _add_dim(self, i, d, dspec, size, is_int, by_key, var_of):
        """One dim (or int input) with a spec: the symbol it moves with (a new one for a new
        named Dim, ShapeVar or hinted example size), and how its size follows the symbol's."""
        kind, obj = _spec_kind(dspec)
        if kind == "static":
            return
        fn = None
        derived_text = None
        if kind == "var_expr":
            (free,) = obj.node.expr.free_symbols
            root = var_of.get(free)
            if root is None:
                raise ProbeSetupError(
                    f"the ShapesSpec expression {_expr_text(obj.node.expr)} uses a ShapeVar that no dim or int carries alone"
                )
            expr = obj.node.expr
            fn = lambda n, e=expr, v=free: int(e.xreplace({v: sympy.Integer(int(n))}))
            derived_text = _expr_text(obj.node.expr)
            kind, obj = "var", root
        if kind == "var":
            key = ("var", id(obj))
        elif kind == "named":
            key = ("named", obj.__name__)
        elif kind == "derived":
            key = ("named", obj.root.__name__)
            fn = obj.fn
        else:
            key = ("hint", size)
        if key not in by_key:
            by_key[key] = self._new_symbol(kind, obj, size, derived_text)
        sym, entry = by_key[key]
        root = obj.root if kind == "derived" else obj
        self._describe_symbol(entry, kind, obj, root)
        label = f"{self.LABELS[i]} (an int input)" if is_int else f"{self.LABELS[i]}.size({d})"
        entry["dims"].append({"input": i, "dim": d, "label": label, "size": size,
                              "derived": str(obj.__name__) if kind == "derived" else derived_text})
        self._dims[(i, d)] = (sym, fn)
        if kind == "derived" and sym not in self.EXPORT_SIZES:
            # solve the root from a derived dim: the smallest root giving this size
            for r in range(0, 4 * size + 8):
                try:
                    if int(fn(r)) == size:
                        self.EXPORT_SIZES[sym] = r
                        break
                except Exception:
                    pass
            else:
                raise ProbeSetupError(f"no size of {getattr(root, '__name__', None) or root.name} gives {label} = {size}")
        if kind != "derived" and derived_text is None:
            if self.EXPORT_SIZES.get(sym) not in (None, size):
                raise ProbeSetupError(
                    f"{label} is {size} but other dims of {entry['text']} are {self.EXPORT_SIZES[sym]}"
                )
            # a ShapeVar's own dim after an expression of it gives its example
            self.EXPORT_SIZES.setdefault(sym, size)

    def _new_symbol(self, kind, obj, size, derived_text):
        """(symbol, entry) for a new symbol; a derived dim's root gets its example later."""
        sym = f"s{len(self.SYMBOLS)}"
        self.SYMBOLS.append(sym)
        if kind == "var":
            self._var_symbol[obj.sympy_sym] = sym
        entry = {"name": sym, "spec": kind if kind != "derived" else "named",
                 "text": _spec_text(kind if kind != "derived" else "named", obj if kind != "derived" else obj.root),
                 "lo": None, "hi": None, "example": size, "dims": []}
        self.symbols.append(entry)
        # the root's example size is the one the derived dims were built from
        if kind != "derived" and derived_text is None:
            self.EXPORT_SIZES[sym] = size
        return sym, entry

    @staticmethod
    def _describe_symbol(entry, kind, obj, root):
        """A symbol's spec, its text and its bounds, from the dim just added to it."""
        if kind == "var":
            entry["spec"] = "var"
            entry["text"] = _var_text(obj)
            entry["lo"] = _bound(obj.min, 0)
            entry["hi"] = _bound(obj.max, None)
        elif kind in ("named", "derived"):
            entry["spec"] = "named"
            entry["text"] = repr(root)
            entry["lo"] = _bound(getattr(root, "min", None), 0)
            entry["hi"] = _bound(getattr(root, "max", None), None)
        elif kind == "dynamic" and entry["spec"] == "auto":
            entry["spec"] = "dynamic"
            entry["text"] = _spec_text(kind, obj)
        if kind in ("auto", "dynamic"):
            lo = _bound(getattr(obj, "min", None), None)
            hi = _bound(getattr(obj, "max", None), None)
            if lo is not None:
                entry["lo"] = lo
            if hi is not None:
                entry["hi"] = hi

    def _check_examples(self):
        """Every symbol has an example, and every derived dim's size follows from it."""
        for entry in self.symbols:
            if entry["name"] not in self.EXPORT_SIZES:
                raise ProbeSetupError(
                    f"{entry['text']} sizes only dims derived from it: give it a dim or int of its own"
                )
            # a symbol's example is its root's size, whichever of its dims came first
            entry["example"] = self.EXPORT_SIZES[entry["name"]]
            for dim in entry["dims"]:
                sym, fn = self._dims[(dim["input"], dim["dim"])]
                if fn is not None and int(fn(self.EXPORT_SIZES[sym])) != dim["size"]:
                    raise ProbeSetupError(
                        f"{dim['label']} is {dim['size']}, but {dim['derived']} is {int(fn(self.EXPORT_SIZES[sym]))} at the example"
                    )

    def _compile_assumptions(self):
        """ShapesSpec's assumptions over this subject's symbols: each a sympy relation and the
        symbol each of its ShapeVars is; their text goes to the Rust side, and every
        symbol's sizes that keep them (the others at their examples)."""
        compiled, texts = [], []
        for a in self._assumptions:
            expr = getattr(getattr(a, "node", None), "expr", None)
            if expr is None:
                raise ProbeSetupError(f"the ShapesSpec assumption {a!r} is not a relation of ShapeVars")
            names = {}
            for v in expr.free_symbols:
                if v not in self._var_symbol:
                    raise ProbeSetupError(
                        f"the ShapesSpec assumption {_expr_text(expr)} uses a ShapeVar no dim or int carries"
                    )
                names[v] = self._var_symbol[v]
            compiled.append((expr, names))
            texts.append(_expr_text(expr))
        self._assume = compiled
        self.assumption_texts = texts
        if not compiled:
            return
        for entry in self.symbols:
            ok = []
            for n in range(0, self.scan_max + 1):
                v = dict(self.EXPORT_SIZES)
                v[entry["name"]] = n
                if self.declared_at(v):
                    ok.append(n)
            entry["assumed"] = _runs(ok)

    def declared_at(self, valuation):
        """Whether sizes keep every ShapesSpec assumption; None without assumptions."""
        if not self._assume:
            return None
        for expr, names in self._assume:
            subs = {v: sympy.Integer(int(valuation.get(name, self.EXPORT_SIZES[name])))
                    for v, name in names.items()}
            try:
                if not bool(expr.xreplace(subs)):
                    return False
            except Exception:
                return False
        return True

    def input_shapes(self, valuation):
        shapes = []
        for i, inp in enumerate(self._inputs):
            if not isinstance(inp, torch.Tensor):
                # a Python input's "shape" is its value (PROTOCOL.md): the guard function
                # takes it as it is, a list of ints flattened; an int with a spec takes its
                # symbol's size
                hit = self._dims.get((i, 0))
                if hit is not None:
                    sym, _ = hit
                    shapes.append(int(valuation[sym]))
                    continue
                shapes.append(list(inp) if isinstance(inp, (list, tuple)) else inp)
                continue
            shp = list(inp.shape)
            for d in range(len(shp)):
                hit = self._dims.get((i, d))
                if hit is not None:
                    sym, fn = hit
                    n = valuation[sym]
                    shp[d] = int(fn(n)) if fn is not None else int(n)
            shapes.append(tuple(shp))
        return shapes

    def make_inputs(self, valuation, seed=0):
        if dict(valuation) == self.EXPORT_SIZES:
            return tuple(self._inputs)  # export and its probes use the user's own examples
        shapes = self.input_shapes(valuation)
        if self._factory is not None:
            # tensors get their shape, an int input with a spec its value, the rest None
            return _as_tuple(self._factory([
                s if isinstance(x, torch.Tensor) or (i, 0) in self._dims else None
                for i, (s, x) in enumerate(zip(shapes, self._inputs))
            ]))
        key = ",".join(f"{k}={valuation[k]}" for k in sorted(valuation))
        g = torch.Generator().manual_seed(hash_key(key) ^ seed)
        out = []
        for shp, ex in zip(shapes, self._inputs):
            if isinstance(ex, torch.Tensor):
                out.append(_like(ex, shp, g))
            elif isinstance(ex, int) and not isinstance(ex, bool) and isinstance(shp, int):
                out.append(shp)  # an int input with a spec: its symbol's value
            else:
                out.append(ex)
        return tuple(out)

    def choose_probes(self, valid):
        """Around the example, below and above it, large, and 0/1: each symbol alone (the
        others at their example sizes) at sizes eager runs, then all together one above."""
        base = dict(self.EXPORT_SIZES)
        normal, seen = [], set()

        def add(v):
            k = tuple(sorted(v.items()))
            if k not in seen and k != tuple(sorted(base.items())):
                seen.add(k)
                normal.append(v)

        for sym in self.SYMBOLS:
            ok = {n for lo, hi in valid.get(sym, []) for n in range(lo, hi + 1)}
            here = base[sym]
            for n in (here + 1, here - 1, 2, 2 * here, max(4 * here, 16), self.scan_max):
                if n in ok:
                    v = dict(base)
                    v[sym] = n
                    add(v)
        together = {s: base[s] + 1 for s in self.SYMBOLS}
        if len(self.SYMBOLS) > 1:
            add(together)
        self.PROBES = normal
        self.EDGE_PROBES = []
        for sym in self.SYMBOLS:
            for n in (0, 1):
                v = dict(base)
                v[sym] = n
                self.EDGE_PROBES.append(v)

    def region(self, shape_env, guards, exprs):
        """Per symbol, the sizes in 2..scan_max at which every guard Python itself decided
        on (an `if`, `int()`, `range()` on a size in the model's code) still holds: where the
        model takes the path it took at the example sizes."""
        full = [[2, self.scan_max]]
        if shape_env is None:
            return {s: full for s in self.SYMBOLS}
        py = [e if g.get("python") else None for g, e in zip(guards, exprs)]
        if not any(e is not None for e in py):
            return {s: full for s in self.SYMBOLS}
        base = dict(self.EXPORT_SIZES)
        names = self.INPUT_NAMES
        before = _sym_values(shape_env, self, names, base)
        out = {}
        for sym in self.SYMBOLS:
            ok = []
            for n in range(2, self.scan_max + 1):
                try:
                    vals, changed = _moved(shape_env, self, names, base, before, sym, n)
                    bad, _ = _eval_at(py, vals, changed)
                except Exception:
                    bad = []
                if not bad:
                    ok.append(n)
            out[sym] = _runs(ok)
        return out

    def region_probes(self, region):
        """Just outside the trace region, where eager runs: an unguarded Python decision
        shows there as a wrong result."""
        base = dict(self.EXPORT_SIZES)
        out = []
        for sym in self.SYMBOLS:
            ok = {n for lo, hi in self._valid.get(sym, []) for n in range(lo, hi + 1)}
            for lo, hi in region.get(sym, []):
                for n in (lo - 1, hi + 1):
                    if n in ok and not any(a <= n <= b for a, b in region.get(sym, [])):
                        v = dict(base)
                        v[sym] = n
                        if v not in out:
                            out.append(v)
        return out


def hash_key(text):
    import zlib

    return zlib.crc32(text.encode())


def _like(ex, shape, g):
    """A tensor of `shape` like the example: its dtype, and values in the example's range
    (integer inputs are usually indices, which must stay valid)."""
    return _like_cpu(ex.detach().cpu(), shape, g).to(ex.device)


def _like_cpu(ex, shape, g):
    dt = ex.dtype
    if ex.numel() == 0:
        return torch.zeros(shape, dtype=dt)
    if dt == torch.bool:
        return torch.rand(shape, generator=g) < float(ex.float().mean())
    flat = ex.detach().flatten()
    if dt.is_floating_point or dt.is_complex:
        x = flat.double() if not dt.is_complex else flat.real.double()
        lo, hi = float(x.min()), float(x.max())
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
            return torch.full(shape, float(flat[0].real if dt.is_complex else flat[0]), dtype=dt)
        t = torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo
        return t.to(dt)
    lo, hi = int(flat.min()), int(flat.max())
    return torch.randint(lo, hi + 1, shape, generator=g, dtype=torch.int64).to(dt)


def _forward_names(model, n):
    import inspect

    try:
        params = [
            p for p in inspect.signature(model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        names = [p.name for p in params][:n]
    except (TypeError, ValueError):
        names = []
    return names + [f"args_{i}" for i in range(len(names), n)]


def _user_traceback(e):
    """The exception as Python prints it, with the worker's own frames left out: what the
    user sees is their code and torch's, never shapefuzz's."""
    try:
        te = traceback.TracebackException.from_exception(e)
        seen, todo = set(), [te]
        while todo:
            x = todo.pop()
            if x is None or id(x) in seen:
                continue
            seen.add(id(x))
            x.stack = traceback.StackSummary.from_list(
                [f for f in x.stack if f.filename != _THIS_FILE and not f.filename.startswith("<frozen")]
            )
            todo += [x.__cause__, x.__context__]
        return _clean_paths(_cut_tail("".join(te.format()), MAX_TRACEBACK))
    except Exception:
        return _clean_paths(f"{type(e).__name__}: {e}")


def _probe_load(req):
    """The model, example inputs, dynamic_shapes and input factory of a probe file or entry
    point. The user's code runs here, in the worker."""
    global _counter
    for p in reversed([str(x) for x in (req.get("sys_path") or [])]):
        if p not in sys.path:
            sys.path.insert(0, p)
    path = req.get("path")
    entry = req.get("entry")
    if path:
        _counter += 1
        modname = f"_shapefuzz_probe_{_counter}"
        spec = importlib.util.spec_from_file_location(modname, path)
        if spec is None:
            raise ProbeSetupError(f"{path} cannot be imported as a Python file")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        where = os.path.basename(path)
        parts = None
    else:
        modpath, _, fn = str(entry).partition(":")
        mod = importlib.import_module(modpath)
        path = getattr(mod, "__file__", None)
        where = entry
        parts = None
        if fn:
            target = getattr(mod, fn, None)
            if not callable(target):
                raise ProbeSetupError(f"{modpath} has no function {fn!r}")
            got = target()
            if isinstance(got, dict):
                parts = got
            elif isinstance(got, (tuple, list)) and len(got) in (3, 4):
                parts = dict(zip(("model", "example_inputs", "dynamic_shapes", "make_inputs"), got))
            else:
                raise ProbeSetupError(
                    f"{entry}() must return (model, example_inputs, dynamic_shapes) or a dict with those keys"
                )
    if parts is None:
        missing = [n for n in ("model", "example_inputs", "dynamic_shapes") if not callable(getattr(mod, n, None))]
        if missing:
            raise ProbeSetupError(
                f"{where} defines no {', '.join(f'{m}()' for m in missing)}: a probe file defines model(), "
                "example_inputs() and dynamic_shapes(), and may define make_inputs(shapes)"
            )
        parts = {
            "model": mod.model(),
            "example_inputs": mod.example_inputs(),
            "dynamic_shapes": mod.dynamic_shapes(),
            "make_inputs": getattr(mod, "make_inputs", None),
        }
    model = parts.get("model")
    if not isinstance(model, torch.nn.Module):
        raise ProbeSetupError(f"model() returned {type(model).__name__}, not a torch.nn.Module")
    inputs = parts.get("example_inputs")
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    if not isinstance(inputs, (tuple, list)):
        raise ProbeSetupError("example_inputs() must return a tuple of positional inputs")
    factory = parts.get("make_inputs")
    if factory is not None and not callable(factory):
        raise ProbeSetupError("make_inputs must be a function of the input shapes")
    return path, model, tuple(inputs), parts.get("dynamic_shapes"), factory


_EXPORT_BRANCH = re.compile(r"\b(is_exporting|is_compiling|is_dynamo_compiling)\s*\(")


def _export_branch(model, path):
    """Whether the model's own code asks if it is being exported or compiled
    (`torch.compiler.is_exporting()`, `is_compiling()`): then it may run other code under
    export on purpose, and a different result there is its intent. Read from the probe file
    and the source files of the model's classes (its own and its submodules')."""
    import inspect

    files = {path} if path else set()
    try:
        for m in model.modules():
            fn = inspect.getsourcefile(type(m))
            if fn and _is_user_file(fn):
                files.add(fn)
    except Exception:
        pass
    for fn in files:
        try:
            with open(fn, encoding="utf-8", errors="replace") as fh:
                if _EXPORT_BRANCH.search(fh.read(4 << 20)):
                    return True
        except OSError:
            continue
    return False


def _holds_tensors(x):
    return isinstance(x, (list, tuple, dict)) and any(
        isinstance(v, torch.Tensor) for v in pytree.tree_leaves(x)
    )


def _top_level_specs(dyn, names, n):
    """The dynamic_shapes of each positional input, from a spec keyed by forward's
    parameter names or given in order (or None)."""
    if dyn is None:
        return [None] * n
    if isinstance(dyn, dict):
        unknown = [k for k in dyn if k not in names]
        if unknown:
            raise ProbeSetupError(
                f"dynamic_shapes() names {unknown[0]!r}, which is not a parameter of forward {names}"
            )
        return [dyn.get(k) for k in names]
    if isinstance(dyn, (list, tuple)) and len(dyn) == n:
        return list(dyn)
    raise ProbeSetupError(
        f"dynamic_shapes() must return a dict keyed by forward's parameter names {names}, a tuple of {n} entries, or None"
    )


class _FlatModel(torch.nn.Module):
    """The user's model behind one positional parameter per tensor: a model that takes
    lists, tuples or dicts of tensors is probed through this view, so each tensor is an
    input of its own with its own spec (the same tensors and specs torch.export flattens
    the inputs to). The model itself runs on the original structure."""

    def __init__(self, model, tree):
        super().__init__()
        self.inner = model
        self._tree = tree

    def _run(self, *leaves):
        return self.inner(*pytree.tree_unflatten(list(leaves), self._tree))


def _flat_view(model, inputs, dyn, factory):
    """For a model with pytree inputs (lists, tuples, dicts holding tensors): the model as
    `_FlatModel` with a forward of one named parameter per leaf, the leaves, their specs
    (torch's own matching of a spec to its input's structure), parameter names, labels as
    the user writes them (`xs[0]`, `batch['ids']`), and the input factory on leaves.
    None when no input holds tensors in a container."""
    import keyword

    if not any(_holds_tensors(x) for x in inputs):
        return None
    top = _forward_names(model, len(inputs))
    specs = _top_level_specs(dyn, top, len(inputs))
    specs = [
        pytree.tree_map(lambda _: None, x) if sp is None and _holds_tensors(x) else sp
        for x, sp in zip(inputs, specs)
    ]
    with_path, tree = pytree.tree_flatten_with_path(list(inputs))
    try:
        leaf_specs = tree.flatten_up_to(specs)
    except (ValueError, TypeError) as e:
        raise ProbeSetupError(
            f"dynamic_shapes() does not follow the structure of the example inputs ({e}): a list, tuple or dict input takes a spec of the same structure, one entry per tensor"
        ) from e
    labels, params = [], []
    for path, _ in with_path:
        first, rest = path[0], path[1:]
        name = top[first.idx] if hasattr(first, "idx") else str(first)
        labels.append(name + pytree.keystr(rest))
        ident = re.sub(r"\W+", "_", labels[-1]).strip("_")
        if not ident.isidentifier() or keyword.iskeyword(ident):
            ident = f"arg{len(params)}"  # a dict key that is no identifier (`"class"`, `"x²"`)
        while ident in params:
            ident += "_"
        params.append(ident)
    leaves = [v for _, v in with_path]
    flat = _FlatModel(model, tree)
    # forward with one named parameter per leaf: the names torch gives the placeholders
    # and sources (`L['xs_0']`), which the check maps back to the leaves
    ns = {}
    exec(f"def forward(self, {', '.join(params)}):\n    return self._run({', '.join(params)})\n", ns)
    flat.forward = ns["forward"].__get__(flat)
    flat_factory = None
    if factory is not None:
        def flat_factory(shapes):
            made = factory(pytree.tree_unflatten(list(shapes), tree))
            return pytree.tree_leaves(list(_as_tuple(made)))
    return flat, tuple(leaves), tuple(leaf_specs), params, labels, flat_factory


def _probe_user(req):
    """`probe`: load the user's model (stage `load`), map its spec to symbols (`spec`), find
    the sizes eager runs at (`scan`), then the check of a case, and say which stage failed."""
    rid = req.get("id")
    scan_max = int(req.get("guard_scan_max", 64))
    seed = int(req.get("seed", 0) or 0)
    _CaseState.probe = True
    root = req.get("root")
    _CaseState.root = os.path.abspath(root) if root else None
    stage = "load"

    def enter(name):
        # On stderr, so that a hang or crash can say how far the probe got.
        print(f"shapefuzz-probe stage: {name}", file=sys.stderr, flush=True)
        return name

    enter(stage)
    try:
        _seed_cpu(seed)
        t = time.perf_counter()
        try:
            path, model, inputs, dyn, factory = _probe_load(req)
            _CaseState.last_file = path
            stage = enter("spec")
            model.eval()
            dyn = _collection_as_dict(model, inputs, dyn)
            flat = _flat_view(model, inputs, dyn, factory)
            labels = None
            if flat is not None:
                model, inputs, dyn, names, labels, factory = flat
            else:
                names = _forward_names(model, len(inputs))
            subject = _Subject(path, model, inputs, dyn, factory, scan_max, names, labels)
            load_s = time.perf_counter() - t
            stage = enter("eager")
            t = time.perf_counter()
            # Eager at the examples first: a model that does not run is the user's to fix.
            _seed_cpu(seed)
            model(*_clone(inputs))
            stage = enter("scan")
            valid = {}
            base = dict(subject.EXPORT_SIZES)
            for sym in subject.SYMBOLS:
                ok = []
                for n in range(2, scan_max + 1):
                    v = dict(base)
                    v[sym] = n
                    try:
                        args = subject.make_inputs(v)
                        _seed_cpu(seed)
                        model(*_clone(args))
                    except Exception:
                        continue
                    ok.append(n)
                valid[sym] = _runs(ok)
            scan_s = time.perf_counter() - t
        except BaseException as e:  # the user's code may raise anything
            if isinstance(e, KeyboardInterrupt):
                raise
            err = _err(e)
            err["traceback"] = _user_traceback(e)
            fn, line, _ = _user_frame(e)
            err["case_file"] = _display_file(fn) if fn else None
            err["case_line"] = line
            err["code"] = _code_at(fn, line)
            return {"id": rid, "ok": True, "stage": stage, "error": err}
        subject._valid = valid
        subject.choose_probes(valid)
        sub = {
            "file": _display_file(path) if path else None,
            "inputs": [
                {"name": n, "shape": list(x.shape) if isinstance(x, torch.Tensor) else None,
                 "dtype": str(x.dtype).replace("torch.", "") if isinstance(x, torch.Tensor) else type(x).__name__}
                for n, x in zip(subject.LABELS, inputs)
            ],
            "flattened": flat is not None,
            "symbols": subject.symbols,
            "assumptions": subject.assumption_texts,
            "export_sizes": base,
            "valid": valid,
            "factory": factory is not None,
            "scan_max": scan_max,
            "export_branch": _export_branch(model, path),
        }
        req = dict(req)
        req["valid"] = valid
        req["region"] = {s: [[2, scan_max]] for s in subject.SYMBOLS}
        enter("export")
        resp = _check(req, subject=subject)
        if flat is not None:
            # the dims as the user writes them, not the flat view's parameter names
            label_of = dict(zip(subject.INPUT_NAMES, subject.LABELS))
            for d in resp.get("dims") or []:
                if isinstance(d, dict) and d.get("name") in label_of:
                    d["name"] = label_of[d["name"]]
        resp["timings"]["load"] = round(load_s, 6)
        resp["timings"]["scan"] = round(scan_s, 6)
        sub["region"] = req.get("region")
        resp["stage"] = "done"
        resp["subject"] = sub
        return resp
    finally:
        _CaseState.probe = False
        _CaseState.root = None
        _CaseState.last_file = None



def _env_info(req):
    """torch's own environment report, for the versions block of a bug report."""
    from torch.utils import collect_env

    return {"id": req.get("id"), "ok": True, "text": _clean_paths(collect_env.get_pretty_env_info())}


def _eager_agree(req):
    """Whether two renderings of a case compute the same thing in eager PyTorch: at every
    size given, both models (built under the same seed) on the first one's inputs, compared
    as the probes compare (values within tolerance, shapes, dtypes, structure). A workaround
    must keep the model's outputs, not only export cleanly."""
    rid = req.get("id")
    seed = int(req.get("seed", 0) or 0)
    loaded = []
    try:
        for key in ("source", "other"):
            loaded.append(_load_case(req[key], f"agree_{key}", rid))
        (a, _, _), (b, _, _) = loaded
        _seed_cpu(seed)
        model_a = a.Model().eval()
        _seed_cpu(seed)
        model_b = b.Model().eval()
        for sizes in req.get("sizes", []):
            try:
                inputs = _as_tuple(a.make_inputs(dict(sizes), seed=0))
                _seed_cpu(seed)
                out_a = model_a(*_clone(inputs))
            except BaseException:  # case code may raise anything: eager refuses, not compared
                continue
            try:
                _seed_cpu(seed)
                out_b = model_b(*_clone(inputs))
            except BaseException as e:  # case code may raise anything
                return {"id": rid, "ok": True, "agree": False, "sizes": sizes,
                        "detail": f"the other model raises: {_cut(str(e), 300)}"}
            why = _compare(out_a, out_b)
            if why is not None:
                return {"id": rid, "ok": True, "agree": False, "sizes": sizes, "detail": why}
        return {"id": rid, "ok": True, "agree": True}
    finally:
        for _, modname, path in loaded:
            _unload_case(modname, path)


# --- main loop ----------------------------------------------------------------------------------
def _handle(req):
    cmd = req.get("cmd")
    rid = req.get("id")
    if cmd == "ping":
        return {"id": rid, "ok": True}
    if cmd == "exit":
        _send({"id": rid, "ok": True})
        _cleanup()
        _PROTO.close()
        os._exit(0)
    if cmd in ("test_crash", "test_hang", "test_garbage", "test_oom"):
        if not _TEST_HOOKS:
            return {"id": rid, "ok": False,
                    "error": {"type": "PermissionError", "module": "builtins",
                              "message": f"{cmd} needs SHAPEFUZZ_WORKER_TEST_HOOKS=1 at start-up"}}
        if cmd == "test_garbage":
            # Bytes that are not UTF-8 on the protocol channel, then a normal reply.
            os.write(_PROTO_FD, b"\xff\xfe not utf-8 \x80\n")
            return {"id": rid, "ok": True}
        if cmd == "test_oom":
            # Grow without end, touching every page, until the pool stops the worker.
            blocks = []
            while True:
                blocks.append(b"x" * (64 << 20))
                time.sleep(0.01)
        if cmd == "test_crash":
            os.kill(os.getpid(), signal.SIGKILL)
        while True:
            time.sleep(3600)
    if cmd == "check":
        return _check(req)
    if cmd == "probe":
        return _probe_user(req)
    if cmd == "env_info":
        return _env_info(req)
    if cmd == "eager_agree":
        return _eager_agree(req)
    raise ValueError(f"unknown cmd {cmd!r}")


def _serve_one(line):
    rid = None
    _LOG_HANDLER.records = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            rid = req.get("id")
            resp = _handle(req)
        except BaseException as e:  # noqa: B036 - the worker must survive anything
            resp = {"id": rid, "ok": False, "error": _err(e)}
            tb = "".join(traceback.format_exception(e)[-6:])
            resp["error"]["message"] = _cut(f"{e}\n{tb}", MAX_MSG)
    ws = []
    for w in caught:
        s = _cut(f"{w.category.__name__}: {w.message}", 1000)
        if s not in ws:
            ws.append(s)
        if len(ws) >= MAX_WARNINGS:
            break
    resp["warnings"] = ws
    log = "\n".join(_LOG_HANDLER.records)
    resp["log"] = log[-MAX_LOG:] if len(log) > MAX_LOG else log
    _LOG_HANDLER.records = []
    try:
        _send(resp)
    except (TypeError, ValueError):
        # non-finite floats or odd types somewhere: send a sanitised copy
        _send(_sanitize(resp))


def _sanitize(o):
    if isinstance(o, dict):
        return {str(k): _sanitize(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_sanitize(v) for v in o]
    if isinstance(o, bool) or o is None or isinstance(o, (int, str)):
        return o
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    return str(o)


def _die_with_parent():
    """Exit when shapefuzz is gone. The worker runs in its own process group (so a Ctrl-C
    lets it finish its case), so nothing else stops it when shapefuzz is killed; a busy
    worker never reads the closed stdin. The parent's death shows as a new parent pid."""
    def watch():
        while True:
            if os.getppid() != _PARENT:
                _cleanup()
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="shapefuzz-parent-watch", daemon=True).start()


def main():
    _die_with_parent()
    # Everything imported so far lives as long as the worker: keep the collector off it, and
    # collect the young generation less often (GC pauses were 11.5% of worker time).
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20000, 20, 20)
    _send({"ready": True, "protocol": PROTOCOL_VERSION, "torch": torch.__version__, "python": platform.python_version(),
           "pid": os.getpid(), "import_s": round(_IMPORT_S, 3), "tmp": _TMPDIR})
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        _serve_one(line.decode("utf-8", errors="replace"))
    _cleanup()


def _cleanup():
    try:
        import shutil

        shutil.rmtree(_TMPDIR, ignore_errors=True)
    except Exception:
        pass


# --- zygote -------------------------------------------------------------------------------------
# `worker.py --zygote` imports torch and warms the check path once, then forks workers on
# request (PROTOCOL.md, "Zygote"). A forked worker is the same worker as a spawned one: it
# serves the same loop on a socket of its own, so a crash, hang or memory blow-up of a case
# takes down that worker alone; the zygote never runs a case after its warm-up. It reaps its
# children and reports each exit status, since it, not shapefuzz, is their parent.
def _zygote_warm(req):
    t = time.perf_counter()
    ok = True
    if _TEST_HOOKS and req.get("test_thread"):
        # What some torch build or extension might do at import: a thread that stays.
        threading.Thread(target=time.sleep, args=(3600,), name="shapefuzz-test-thread", daemon=True).start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for step in req.get("imports") or []:
                if isinstance(step, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", step):
                    try:
                        importlib.import_module(step)
                    except Exception:
                        pass
            if isinstance(req.get("request"), dict):
                resp = _handle(dict(req["request"], id=None))
                ok = bool(resp.get("ok"))
        except BaseException:  # noqa: B036 - a failed warm-up only means a slower first case
            ok = False
    _LOG_HANDLER.records = []
    return {"warmed": ok, "s": round(time.perf_counter() - t, 3)}


def _zygote_child(sock_path, tmp):
    """In the forked child: connect the protocol channel and stderr to shapefuzz's socket,
    then serve as a worker."""
    global _PARENT, _TMPDIR
    import socket

    try:
        chans = []
        for tag in (b"io\n", b"err\n"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
            s.sendall(tag)
            chans.append(s)
        io_sock, err_sock = chans
        # Requests arrive on fd 0 and replies leave on the protocol fd; both become the socket.
        # sys.stdin never read from the zygote's pipe, so it holds nothing buffered.
        os.dup2(io_sock.fileno(), 0)
        os.dup2(io_sock.fileno(), _PROTO_FD)
        os.dup2(err_sock.fileno(), 2)
        os.dup2(2, 1)
        io_sock.close()
        err_sock.close()
    except BaseException:  # noqa: B036 - nobody is listening: there is no worker to be
        os._exit(3)
    _PARENT = os.getppid()
    _TMPDIR = tmp
    try:
        main()
    finally:
        os._exit(0)


def _kill_group(pid):
    """Kill a forked worker and its process group (what its cases started)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _zygote():
    import gc
    import select
    import shutil

    gc.collect()
    gc.set_threshold(20000, 20, 20)
    children = {}  # pid -> its scratch directory, removed when it is reaped
    _send({"ready": True, "zygote": True, "protocol": PROTOCOL_VERSION, "torch": torch.__version__,
                  "python": platform.python_version(), "pid": os.getpid(), "import_s": round(_IMPORT_S, 3),
                  "tmp": _TMPDIR})
    pending = b""
    alive = True
    while alive:
        if os.getppid() != _PARENT:
            break
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            shutil.rmtree(children.pop(pid, ""), ignore_errors=True)
            # What the worker's cases started and left running goes with it. Its group
            # keeps the number from reuse while any member lives.
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            if os.WIFSIGNALED(status):
                text = f"killed by signal {os.WTERMSIG(status)}"
            else:
                text = f"exit code {os.waitstatus_to_exitcode(status)}"
            _send({"exited": pid, "status": text})
        ready, _, _ = select.select([0], [], [], 0.05)
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                continue
            if not isinstance(req, dict):
                continue
            cmd = req.get("cmd")
            if cmd == "warm":
                _send(_zygote_warm(req))
            elif cmd == "fork":
                # A fork copies only the calling thread: with another one running (some
                # torch build or extension started it), a lock it held would stay locked
                # in the child forever. Refuse, and shapefuzz spawns its workers instead.
                try:
                    threads = len(os.listdir("/proc/self/task"))
                except OSError:
                    threads = threading.active_count()
                if threads > 1:
                    _send({"forked": None, "token": req.get("token"),
                                  "error": f"the zygote runs {threads} threads"})
                    continue
                tmp = tempfile.mkdtemp(prefix="shapefuzz_worker_")
                # What a child inherits must be flushed, and what lives as long as the
                # zygote is frozen, so that the child's collections never touch (and copy)
                # the shared pages.
                sys.stderr.flush()
                gc.collect()
                gc.freeze()
                pid = os.fork()
                if pid == 0:
                    # A process group of its own: killing the worker kills what the case
                    # started too (subprocesses of a probed model), never the zygote.
                    os.setpgid(0, 0)
                    _zygote_child(str(req.get("socket", "")), tmp)
                try:
                    os.setpgid(pid, pid)  # also from here, so no kill can come before it
                except OSError:
                    pass
                children[pid] = tmp
                _send({"forked": pid, "token": req.get("token")})
            elif cmd == "kill":
                # Only a child not yet reaped: its pid cannot have been reused.
                pid = req.get("pid")
                if isinstance(pid, int) and pid in children:
                    _kill_group(pid)
            elif cmd == "exit":
                alive = False
                break
    for pid in list(children):
        _kill_group(pid)
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        shutil.rmtree(children.pop(pid), ignore_errors=True)
    _cleanup()
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        _zygote()
    else:
        main()
