"""onnx-diagnostic model case `ControlFlowCondIdentity_153832`: torch.cond whose else-branch
returns its input unchanged (the case's comment: "fails but succeeds with x.clone()").

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ControlFlowCondIdentity_153832, referencing pytorch/pytorch#153832)
Adapted: wrapped only; first of the case's _inputs (rand(3, 4), rand(3, 4)) and its
_dynamic ({"x": {0: DYN, 1: DYN}, "y": {0: DYN, 1: DYN}}).
"""
import torch

DYN = torch.export.Dim.DYNAMIC


class ControlFlowCondIdentity_153832(torch.nn.Module):
    def forward(self, x, y):
        def branch_cond_then_1(x):
            x = torch.abs(x) + 1
            return x

        def branch_cond_else_1(x):
            return x  # fails but succeeds with x.clone()

        x = torch.cond(x.sum() > 0, branch_cond_then_1, branch_cond_else_1, [x])
        return x + y


def model():
    return ControlFlowCondIdentity_153832()


def example_inputs():
    return (torch.rand((3, 4)), torch.rand((3, 4)))


def dynamic_shapes():
    return {"x": {0: DYN, 1: DYN}, "y": {0: DYN, 1: DYN}}
