"""onnx-diagnostic model case `ExportWithDimension0`: exported with an example of size 0
on a Dim.DYNAMIC dim.

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ExportWithDimension0; its _valid input is (rand(2, 3),))
Adapted: wrapped only; example input torch.empty((0, 3)) and dynamic_shapes
{"x": {0: DYN, 1: DYN}} are the case's own.
"""
import torch

DYN = torch.export.Dim.DYNAMIC


class ExportWithDimension0(torch.nn.Module):
    def forward(self, x):
        return x @ torch.arange(x.shape[1], dtype=torch.float32).reshape((-1, 1))


def model():
    return ExportWithDimension0()


def example_inputs():
    return (torch.empty((0, 3), dtype=torch.float32),)


def dynamic_shapes():
    return {"x": {0: DYN, 1: DYN}}
