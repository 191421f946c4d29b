import math
import torch
import torch.nn.functional as F

class Model(torch.nn.Module):
    def forward(self, x):
        v0 = int(x.shape[0] / 2)
        v1 = x.reshape(v0, 2)
        v2 = v1 * 2.0
        return (v2,)

INPUT_NAMES = ["x"]
SYMBOLS = ["s0"]
EXPORT_SIZES = {"s0": 4}
PROBES = [{"s0": 6}, {"s0": 8}, {"s0": 5}]
EDGE_PROBES = [{"s0": 0}, {"s0": 1}]

def input_shapes(s):
    return [(s["s0"],)]

def make_inputs(s, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn((s["s0"],), generator=g, dtype=torch.float32),)

def dynamic_shapes():
    Dim = torch.export.Dim
    return {"x": {0: Dim.AUTO}}
