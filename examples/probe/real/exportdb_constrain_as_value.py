"""ExportDB example `constrain_as_value_example`: torch._check on a data-dependent value
(x.item()), then a Python branch on it.

Source: pytorch/pytorch, torch/_export/db/examples/constrain_as_value_example.py
("If the value is not known at tracing time, you can provide hint so that we can trace
further. Please look at torch._check API.")
Adapted: the example exports without dynamic_shapes; here y's dims are Dim.AUTO (x is a
0-d tensor, no dims). Example inputs kept: (torch.tensor(4), torch.randn(5, 5)).
"""
import torch
from torch.export import Dim


class ConstrainAsValueExample(torch.nn.Module):
    def forward(self, x, y):
        a = x.item()
        torch._check(a >= 0)
        torch._check(a <= 5)

        if a < 6:
            return y.sin()
        return y.cos()


def model():
    return ConstrainAsValueExample()


def example_inputs():
    return (torch.tensor(4), torch.randn(5, 5))


def dynamic_shapes():
    return {"x": None, "y": {0: Dim.AUTO, 1: Dim.AUTO}}
