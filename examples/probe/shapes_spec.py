"""A model exported with the ShapesSpec API (torch.fx.experimental.dynamic_spec), the spec API
torch 2.15 recommends for export going forward: each ShapeVar is unbacked and never
specialized, 0 and 1 included, and its range is asserted at run time.

    shapefuzz probe examples/probe/shapes_spec.py
"""

import torch
from torch.fx.experimental.dynamic_spec import STATIC, ShapesSpec, ShapeVar, TensorSpec


class Scores(torch.nn.Module):
    def forward(self, queries, keys):
        # one score per query and key, shifted by the number of keys
        return queries @ keys.T + keys.shape[0]


def model():
    return Scores()


def example_inputs():
    return (torch.randn(4, 8), torch.randn(6, 8))


def dynamic_shapes():
    batch = ShapeVar("batch", max=32)
    keys = ShapeVar("keys")
    return ShapesSpec(
        {"queries": TensorSpec([batch, STATIC]), "keys": TensorSpec([keys, STATIC])}
    )
