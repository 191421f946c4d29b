"""torchvision's FeaturePyramidNetwork (+ LastLevelMaxPool): top-down pathway that
F.interpolate's each coarser map to the next finer map's size (size=feat_shape), and an
extra max_pool2d(x, 1, 2, 0) level (derived size (n - 1) // 2 + 1).

Source: pytorch/vision, torchvision/ops/feature_pyramid_network.py
(FeaturePyramidNetwork.__init__/forward and LastLevelMaxPool, verbatim apart from the
input plumbing).
Adapted: torchvision's forward takes an OrderedDict[str, Tensor]; probe takes tensors one by
one, so forward(feat0, feat1, feat2) builds that OrderedDict and returns the output values
as a tuple. in_channels_list [4, 8, 16], out_channels 4; feature maps of a batch-2 image
(16x16, 8x8, 4x4), every batch/spatial dim Dim.AUTO.
"""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn
from torch.export import Dim


class ExtraFPNBlock(nn.Module):
    def forward(self, results, x, names):
        pass


class LastLevelMaxPool(ExtraFPNBlock):
    """
    Applies a max_pool2d on top of the last feature map
    """

    def forward(self, x, y, names):
        names.append("pool")
        x.append(F.max_pool2d(x[-1], 1, 2, 0))
        return x, names


class FeaturePyramidNetwork(nn.Module):
    def __init__(self, in_channels_list, out_channels, extra_blocks=None):
        super().__init__()
        self.inner_blocks = nn.ModuleList()
        self.layer_blocks = nn.ModuleList()
        for in_channels in in_channels_list:
            if in_channels == 0:
                continue
            inner_block_module = nn.Conv2d(in_channels, out_channels, 1)
            layer_block_module = nn.Conv2d(out_channels, out_channels, 3, padding=1)
            self.inner_blocks.append(inner_block_module)
            self.layer_blocks.append(layer_block_module)

        # initialize parameters now to avoid modifying the initialization of top_blocks
        for m in self.children():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.constant_(m.bias, 0)

        if extra_blocks is not None:
            assert isinstance(extra_blocks, ExtraFPNBlock)
        self.extra_blocks = extra_blocks

    def forward(self, x):
        # unpack OrderedDict into two lists for easier handling
        names = list(x.keys())
        x = list(x.values())

        last_inner = self.inner_blocks[-1](x[-1])
        results = []
        results.append(self.layer_blocks[-1](last_inner))
        for feature, inner_block, layer_block in zip(
            x[:-1][::-1], self.inner_blocks[:-1][::-1], self.layer_blocks[:-1][::-1]
        ):
            if not inner_block:
                continue
            inner_lateral = inner_block(feature)
            if torch.is_tensor(last_inner):
                feat_shape = inner_lateral.shape[-2:]
            else:
                feat_shape = None
            inner_top_down = F.interpolate(last_inner, size=feat_shape, mode="nearest")
            last_inner = inner_lateral + inner_top_down
            results.insert(0, layer_block(last_inner))

        if self.extra_blocks is not None:
            results, names = self.extra_blocks(results, x, names)

        # make it back an OrderedDict
        out = OrderedDict([(k, v) for k, v in zip(names, results)])

        return out


class FPNFromTensors(nn.Module):
    def __init__(self):
        super().__init__()
        self.fpn = FeaturePyramidNetwork([4, 8, 16], 4, extra_blocks=LastLevelMaxPool())

    def forward(self, feat0, feat1, feat2):
        out = self.fpn(OrderedDict([("feat0", feat0), ("feat1", feat1), ("feat2", feat2)]))
        return tuple(out.values())


def model():
    torch.manual_seed(0)
    return FPNFromTensors()


def example_inputs():
    return (torch.rand(2, 4, 16, 16), torch.rand(2, 8, 8, 8), torch.rand(2, 16, 4, 4))


def dynamic_shapes():
    a = Dim.AUTO
    return {
        "feat0": {0: a, 2: a, 3: a},
        "feat1": {0: a, 2: a, 3: a},
        "feat2": {0: a, 2: a, 3: a},
    }
