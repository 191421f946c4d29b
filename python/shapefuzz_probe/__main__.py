"""`python -m shapefuzz_probe FILE.py [shapefuzz probe options]`: `shapefuzz probe` with this
interpreter as the worker's Python, so the model's own packages are importable."""

import os
import sys

from . import ProbeError, shapefuzz_binary


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nshapefuzz probe --help lists the options.")
        return 0
    try:
        exe = shapefuzz_binary()
    except ProbeError as e:
        print(f"shapefuzz_probe: {e}", file=sys.stderr)
        return 2
    args = [exe, "--python", sys.executable, "probe", *argv]
    os.execv(exe, args)


if __name__ == "__main__":
    sys.exit(main())
