"""ExportDB example `scalar_output`: returns a Python int computed from a dynamic size.

Source: pytorch/pytorch, torch/_export/db/examples/scalar_output.py
("Returning scalar values from the graph is supported, in addition to Tensor outputs.
Symbolic shapes are captured and rank is specialized.")
Adapted: wrapped only; example input (3, 2) and dynamic_shapes {"x": {1: Dim("dim1_x")}}
are the example's own.
"""
import torch
from torch.export import Dim


class ScalarOutput(torch.nn.Module):
    def forward(self, x):
        return x.shape[1] + 1


def model():
    return ScalarOutput()


def example_inputs():
    return (torch.randn(3, 2),)


def dynamic_shapes():
    return {"x": {1: Dim("dim1_x")}}
