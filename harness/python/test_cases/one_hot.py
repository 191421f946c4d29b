import math
import torch
import torch.nn.functional as F

class Model(torch.nn.Module):
    def forward(self, idx, x):
        v0 = x.shape[0]
        v1 = F.one_hot(idx, num_classes=v0)
        v2 = v1.float() * x.sum()
        return (v2,)

INPUT_NAMES = ["idx", "x"]
SYMBOLS = ["s0", "s1"]
EXPORT_SIZES = {"s0": 4, "s1": 3}
PROBES = [{"s0": 4, "s1": 5}, {"s0": 6, "s1": 3}, {"s0": 2, "s1": 2}]
EDGE_PROBES = [{"s0": 4, "s1": 0}, {"s0": 4, "s1": 1}, {"s0": 0, "s1": 3}, {"s0": 1, "s1": 3}]

def input_shapes(s):
    return [(s["s0"],), (s["s1"],)]

def make_inputs(s, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, 2, (s["s0"],), generator=g, dtype=torch.int64)
    x = torch.rand((s["s1"],), generator=g, dtype=torch.float32)
    return (idx, x)

def dynamic_shapes():
    Dim = torch.export.Dim
    return {"idx": {0: Dim.AUTO}, "x": {0: Dim.AUTO}}
