"""ExportDB example `dynamic_shape_if_guard`: Python `if` on x.shape[0] == 3.

Source: pytorch/pytorch, torch/_export/db/examples/dynamic_shape_if_guard.py
Its docstring: "`if` statement with backed dynamic shape predicate will be specialized into
one particular branch and generate a guard. However, export will fail if the dimension is
marked as dynamic shape from higher level API."
Adapted: the example exports without dynamic_shapes; here every dim is Dim.AUTO (the hint
that does not fail when torch specializes). Example input kept: torch.randn(3, 2, 2).
"""
import torch
from torch.export import Dim


class DynamicShapeIfGuard(torch.nn.Module):
    def forward(self, x):
        if x.shape[0] == 3:
            return x.cos()

        return x.sin()


def model():
    return DynamicShapeIfGuard()


def example_inputs():
    return (torch.randn(3, 2, 2),)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO, 1: Dim.AUTO, 2: Dim.AUTO}}
