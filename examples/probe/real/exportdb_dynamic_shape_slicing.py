"""ExportDB example `dynamic_shape_slicing`: slices with derived bounds (n - 2, m - 1).

Source: pytorch/pytorch, torch/_export/db/examples/dynamic_shape_slicing.py
("Slices with dynamic shape arguments should be captured into the graph rather than being
baked in.")
Adapted: the example exports without dynamic_shapes; here both dims are Dim.AUTO. Example
input torch.randn(3, 2) kept.
"""
import torch
from torch.export import Dim


class DynamicShapeSlicing(torch.nn.Module):
    def forward(self, x):
        return x[: x.shape[0] - 2, x.shape[1] - 1 :: 2]


def model():
    return DynamicShapeSlicing()


def example_inputs():
    return (torch.randn(3, 2),)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO, 1: Dim.AUTO}}
