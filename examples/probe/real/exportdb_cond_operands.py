"""ExportDB example `cond_operands`: torch.cond on a size predicate.

Source: pytorch/pytorch, torch/_export/db/examples/cond_operands.py
Adapted: only wrapped in the probe convention (model / example_inputs / dynamic_shapes);
the model, the example inputs and the dynamic_shapes are the example's own
(x: (3, 2) with Dim("dim0_x") on dim 0, y: (2,) static).
"""
import torch
from torch.export import Dim


class CondOperands(torch.nn.Module):
    """
    The operands passed to cond() must be:
    - a list of tensors
    - match arguments of `true_fn` and `false_fn`

    NOTE: If the `pred` is test on a dim with batch size < 2, it will be specialized.
    """

    def forward(self, x, y):
        def true_fn(x, y):
            return x + y

        def false_fn(x, y):
            return x - y

        return torch.cond(x.shape[0] > 2, true_fn, false_fn, [x, y])


def model():
    return CondOperands()


def example_inputs():
    return (torch.randn(3, 2), torch.randn(2))


def dynamic_shapes():
    dim0_x = Dim("dim0_x")
    return {"x": {0: dim0_x}, "y": None}
