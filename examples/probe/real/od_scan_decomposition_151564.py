"""onnx-diagnostic model case `ControlFlowScanDecomposition_151564`: a Python loop over
rows in eager, replaced by torch.ops.higher_order.scan when torch.compiler.is_exporting();
the scan body uses torch._check on data (p.item()), including an export-only check the
author documents as "not always true".

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ControlFlowScanDecomposition_151564, referencing pytorch/pytorch#151564); the same
model is in _unittests/ut_export/test_experiment_jit.py (dummy_loop / dummy_loop_with_scan).
Adapted: classmethods turned into module functions; inputs and dynamic_shapes are the
case's own (_inputs, _dynamic).
"""
import torch

DYN = torch.export.Dim.DYNAMIC


def dummy_loop(padded: torch.Tensor, pos: torch.Tensor):
    copy = torch.zeros(padded.shape)
    for i in range(pos.shape[0]):
        p = pos[i]
        copy[i, :p] = padded[i, :p]
    return copy


def dummy_loop_with_scan(padded: torch.Tensor, pos: torch.Tensor):
    def pad_row(padded, p):
        row = torch.zeros((padded.shape[0],))
        torch._check(p.item() > 0)
        torch._check(p.item() < padded.shape[0])
        # this check is not always true, we add it anyway to make this dimension >= 2
        # and avoid raising an exception about dynamic dimension in {0, 1}
        if torch.compiler.is_exporting():
            torch._check(p.item() > 1)
        row[: p.item()] = padded[: p.item()]
        return (row,)

    return torch.ops.higher_order.scan(
        pad_row,
        [],
        [padded, pos],
        [],
    )


def select_when_exporting(f, f_scan):
    return f_scan if torch.compiler.is_exporting() else f


class ControlFlowScanDecomposition_151564(torch.nn.Module):
    def forward(self, images, position):
        return select_when_exporting(dummy_loop, dummy_loop_with_scan)(images, position)


def model():
    return ControlFlowScanDecomposition_151564()


def example_inputs():
    return (torch.randn((5, 6)), torch.arange(5, dtype=torch.int64) + 1)


def dynamic_shapes():
    return {"images": {0: DYN, 1: DYN}, "position": {0: DYN}}
