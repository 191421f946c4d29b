"""A model whose construction starts a process that would run for ten minutes, and writes
its pid where the test finds it: the probe's worker must take it along when it ends."""

import os
import subprocess
import sys

import torch


def model():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.environ["SHAPEFUZZ_TEST_PIDFILE"], "a") as f:
        f.write(f"{child.pid}\n")
    return torch.nn.Linear(4, 4)


def example_inputs():
    return (torch.randn(3, 4),)


def dynamic_shapes():
    return ({0: torch.export.Dim.AUTO},)
