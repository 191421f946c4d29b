"""A ShapesSpec whose dims are expressions of a ShapeVar (`TensorSpec([b * 2])`): probe moves
the ShapeVar and sizes each dim by its own expression (here the expression comes first).

    shapefuzz probe examples/probe/shapes_spec_derived.py
"""

import torch
from torch.fx.experimental.dynamic_spec import STATIC, ShapesSpec, ShapeVar, TensorSpec


class Pairs(torch.nn.Module):
    def forward(self, pairs, x):
        # two rows of `pairs` per row of x, summed
        return pairs.reshape(x.shape[0], 2, -1).sum(1) + x


def model():
    return Pairs()


def example_inputs():
    return (torch.randn(8, 8), torch.randn(4, 8))


def dynamic_shapes():
    b = ShapeVar("b", max=32)
    return ShapesSpec({"pairs": TensorSpec([b * 2, STATIC]), "x": TensorSpec([b, STATIC])})
