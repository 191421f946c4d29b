"""A model that takes a list and a dict of tensors, as feature-pyramid and multi-modal
models do: the spec follows the inputs' structure, one entry per tensor, as torch.export
takes it. `shapefuzz probe examples/probe/pytree_inputs.py`."""

import torch
from torch.export import Dim


class Fuse(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 4)

    def forward(self, feats, extra):
        x = torch.cat(feats, dim=1)  # (batch, 3 + 5, seq)
        pooled = x.mean(dim=-1)  # (batch, 8)
        return self.proj(pooled + extra["bias"]) * extra["scale"]


def model():
    return Fuse()


def example_inputs():
    feats = [torch.randn(2, 3, 7), torch.randn(2, 5, 7)]
    extra = {"bias": torch.randn(2, 8), "scale": torch.randn(2, 1)}
    return (feats, extra)


def dynamic_shapes():
    batch, seq = Dim("batch", min=2, max=64), Dim("seq", min=2, max=64)
    return (
        [{0: batch, 2: seq}, {0: batch, 2: seq}],
        {"bias": {0: batch}, "scale": {0: batch}},
    )
