"""The nested model of `pytree_inputs.py`, its spec given as a
`torch.export.ShapesCollection`: each tensor's dims are assigned to the tensor itself instead
of a spec that follows the inputs' structure. A collection is keyed by the identity of the
example tensors, so `example_inputs()` returns the same ones each time it is called.

    shapefuzz probe examples/probe/shapes_collection.py
"""

import torch
from torch.export import Dim, ShapesCollection


class Fuse(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 4)

    def forward(self, feats, extra):
        x = torch.cat(feats, dim=1)  # (batch, 3 + 5, seq)
        pooled = x.mean(dim=-1)  # (batch, 8)
        return self.proj(pooled + extra["bias"]) * extra["scale"]


FEATS = [torch.randn(2, 3, 7), torch.randn(2, 5, 7)]
EXTRA = {"bias": torch.randn(2, 8), "scale": torch.randn(2, 1)}


def model():
    return Fuse()


def example_inputs():
    return (FEATS, EXTRA)


def dynamic_shapes():
    batch, seq = Dim("batch", min=2, max=64), Dim("seq", min=2, max=64)
    spec = ShapesCollection()
    for feat in FEATS:
        spec[feat] = {0: batch, 2: seq}
    spec[EXTRA["bias"]] = {0: batch}
    spec[EXTRA["scale"]] = {0: batch}
    return spec
