"""onnx-diagnostic model case `ControlFlowScanCDistXY`: pairwise distances computed with
torch.ops.higher_order.scan over the rows of x, carrying y; x and y share a named Dim on
their feature dim.

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ControlFlowScanCDistXY)
Adapted: wrapped only; the first of the case's _inputs (randn(3, 4), randn(5, 4)) and its
_dynamic (x_rows, y_rows, shared "dim").
"""
import torch

DIM = torch.export.Dim


class ControlFlowScanCDistXY(torch.nn.Module):
    @staticmethod
    def dist(y: torch.Tensor, scanned_x: torch.Tensor):
        sub = y - scanned_x.reshape((1, -1))
        sq = sub * sub
        rd = torch.sqrt(sq.sum(axis=1))
        # clone --> UnsupportedAliasMutationException:
        # Combine_fn might be aliasing the input!
        return [y.clone(), rd]

    def forward(self, x, y):
        _carry, out = torch.ops.higher_order.scan(
            ControlFlowScanCDistXY.dist,
            [y],
            [x],
            additional_inputs=[],
        )
        return out


def model():
    return ControlFlowScanCDistXY()


def example_inputs():
    return (torch.randn(3, 4), torch.randn(5, 4))


def dynamic_shapes():
    dim = DIM("dim")
    return {"x": {0: DIM("x_rows"), 1: dim}, "y": {0: DIM("y_rows"), 1: dim}}
