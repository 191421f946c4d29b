import math
import torch
import torch.nn.functional as F

class Model(torch.nn.Module):
    def forward(self, x):
        if x.shape[0] > 4:
            v0 = torch.relu(x)
        else:
            v0 = torch.neg(x)
        return (v0,)

INPUT_NAMES = ["x"]
SYMBOLS = ["s0"]
EXPORT_SIZES = {"s0": 3}
PROBES = [{"s0": 4}, {"s0": 6}, {"s0": 2}]
EDGE_PROBES = [{"s0": 0}, {"s0": 1}]

def input_shapes(s):
    return [(s["s0"], 2)]

def make_inputs(s, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn((s["s0"], 2), generator=g, dtype=torch.float32),)

def dynamic_shapes():
    Dim = torch.export.Dim
    return {"x": {0: Dim.AUTO}}
