import math
import torch
import torch.nn.functional as F

class Model(torch.nn.Module):
    def forward(self, x, y):
        v0 = y.shape[0]
        v1 = F.pad(x, (0, 1), value=v0)
        return (v1,)

INPUT_NAMES = ["x", "y"]
SYMBOLS = ["s0", "s1"]
EXPORT_SIZES = {"s0": 3, "s1": 2}
PROBES = [{"s0": 3, "s1": 3}, {"s0": 5, "s1": 2}, {"s0": 7, "s1": 5}]
EDGE_PROBES = [{"s0": 3, "s1": 0}, {"s0": 3, "s1": 1}, {"s0": 0, "s1": 2}, {"s0": 1, "s1": 2}]

def input_shapes(s):
    return [(s["s0"],), (s["s1"],)]

def make_inputs(s, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.arange(s["s0"], dtype=torch.int64) + 1
    y = torch.randint(0, 10, (s["s1"],), generator=g, dtype=torch.int64)
    return (x, y)

def dynamic_shapes():
    Dim = torch.export.Dim
    return {"x": {0: Dim.DYNAMIC}, "y": {0: Dim.DYNAMIC}}
