"""ExportDB example `cond_branch_class_method`: torch.cond whose branches are methods,
predicate on x.shape[0].

Source: pytorch/pytorch, torch/_export/db/examples/cond_branch_class_method.py
Adapted: the example exports without dynamic_shapes; here x's dim 0 is Dim.AUTO (the way
a user asks "make this dynamic"), example input kept (torch.randn(3)). `cond` imported
from torch rather than functorch.experimental.control_flow (same op).
"""
import torch
from torch.export import Dim


class MySubModule(torch.nn.Module):
    def foo(self, x):
        return x.cos()

    def forward(self, x):
        return self.foo(x)


class CondBranchClassMethod(torch.nn.Module):
    """
    This example demonstrates using class method in cond().

    NOTE: If the `pred` is tested on a dim with batch size < 2, it will be specialized.
    """

    def __init__(self) -> None:
        super().__init__()
        self.subm = MySubModule()

    def bar(self, x):
        return x.sin()

    def forward(self, x):
        return torch.cond(x.shape[0] <= 2, self.subm.forward, self.bar, [x])


def model():
    return CondBranchClassMethod()


def example_inputs():
    return (torch.randn(3),)


def dynamic_shapes():
    return {"x": {0: Dim.AUTO}}
