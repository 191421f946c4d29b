import torch
from torch.export import Dim


class Chunked(torch.nn.Module):
    def forward(self, x):
        first = torch.split(x, 2, dim=0)[0]
        return first * 2


def model():
    return Chunked()


def example_inputs():
    return (torch.randn(8),)


def dynamic_shapes():
    return {"x": {0: Dim.DYNAMIC}}
