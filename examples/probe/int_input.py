"""An int input with its own spec: `n` says how many rows of `x` to keep and pads the rest.

    shapefuzz probe examples/probe/int_input.py
"""

import torch
from torch.export import Dim


class KeepRows(torch.nn.Module):
    def forward(self, x, n):
        kept = x[:n]
        return torch.nn.functional.pad(kept, (0, 0, 0, x.shape[0] - n)) * 2


def model():
    return KeepRows()


def example_inputs():
    return (torch.randn(8, 3), 5)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO}, "n": Dim.DYNAMIC}
