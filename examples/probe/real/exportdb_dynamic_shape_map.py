"""ExportDB example `dynamic_shape_map`: functorch map() over the first dim of xs.

Source: pytorch/pytorch, torch/_export/db/examples/dynamic_shape_map.py
("functorch map() maps a function over the first tensor dimension.")
Adapted: the example exports without dynamic_shapes; here xs's dims and y's dim are
Dim.AUTO. Example inputs kept: (torch.randn(3, 2), torch.randn(2)).
"""
import torch
from torch.export import Dim
from functorch.experimental.control_flow import map


class DynamicShapeMap(torch.nn.Module):
    def forward(self, xs, y):
        def body(x, y):
            return x + y

        return map(body, xs, y)


def model():
    return DynamicShapeMap()


def example_inputs():
    return (torch.randn(3, 2), torch.randn(2))


def dynamic_shapes():
    return {"xs": {0: Dim.AUTO, 1: Dim.AUTO}, "y": {0: Dim.AUTO}}
