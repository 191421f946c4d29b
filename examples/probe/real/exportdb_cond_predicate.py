"""ExportDB example `cond_predicate`: the cond predicate is a Python boolean expression on
sizes (x.dim() > 2 and x.shape[2] > 10).

Source: pytorch/pytorch, torch/_export/db/examples/cond_predicate.py
Adapted: the example exports without dynamic_shapes; here all three dims are Dim.AUTO
(example torch.randn(6, 4, 3) kept). `cond` taken from torch rather than
functorch.experimental.control_flow (same op).
"""
import torch
from torch.export import Dim


class CondPredicate(torch.nn.Module):
    """
    The conditional statement (aka predicate) passed to cond() must be one of the following:
      - torch.Tensor with a single element
      - boolean expression

    NOTE: If the `pred` is tested on a dim with batch size < 2, it will be specialized.
    """

    def forward(self, x):
        pred = x.dim() > 2 and x.shape[2] > 10

        return torch.cond(pred, lambda x: x.cos(), lambda y: y.sin(), [x])


def model():
    return CondPredicate()


def example_inputs():
    return (torch.randn(6, 4, 3),)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO, 1: Dim.AUTO, 2: Dim.AUTO}}
