"""The seed document's pad, with its two tensors in one list input: `F.pad(xs[0], (0, 1),
value=xs[1].shape[0])` pins `xs[1].size(0)`, asked for as Dim.AUTO, to its example size.
`shapefuzz probe examples/probe/pytree_pad.py`."""

import torch
from torch.export import Dim


class PadWithSize(torch.nn.Module):
    def forward(self, xs):
        return torch.nn.functional.pad(xs[0], (0, 1), value=xs[1].shape[0])


def model():
    return PadWithSize()


def example_inputs():
    return ([torch.randn(3), torch.randn(5)],)


def dynamic_shapes():
    return ([{0: Dim.AUTO}, {0: Dim.AUTO}],)
