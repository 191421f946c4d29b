"""A ShapesSpec with an assumption (`n % 2 == 0`): torch may use it while tracing and asserts
it at run time, so probe holds the program to the sizes that keep it and checks that the
others are refused.

    shapefuzz probe examples/probe/shapes_spec_assumed.py
"""

import torch
from torch.fx.experimental.dynamic_spec import STATIC, ShapesSpec, ShapeVar, TensorSpec


class Halves(torch.nn.Module):
    def forward(self, x):
        # the sequence folds into two halves multiplied together
        a, b = x.reshape(2, x.shape[0] // 2, -1).unbind(0)
        return a * b


def model():
    return Halves()


def example_inputs():
    return (torch.randn(6, 4),)


def dynamic_shapes():
    n = ShapeVar("n", max=40)
    return ShapesSpec({"x": TensorSpec([n, STATIC])}, assumptions=[n % 2 == 0])
