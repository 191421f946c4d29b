"""ExportDB example `list_contains`: asserts of list membership on sizes.

Source: pytorch/pytorch, torch/_export/db/examples/list_contains.py
("List containment relation can be checked on a dynamic shape or constants.")
Adapted: the example exports without dynamic_shapes; here both dims are Dim.AUTO. Example
input torch.randn(3, 2) kept.
"""
import torch
from torch.export import Dim


class ListContains(torch.nn.Module):
    def forward(self, x):
        assert x.size(-1) in [6, 2]  # noqa: S101
        assert x.size(0) not in [4, 5, 6]  # noqa: S101
        assert "monkey" not in ["cow", "pig"]  # noqa: S101
        return x + x


def model():
    return ListContains()


def example_inputs():
    return (torch.randn(3, 2),)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO, 1: Dim.AUTO}}
