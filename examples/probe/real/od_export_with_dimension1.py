"""onnx-diagnostic model case `ExportWithDimension1`: exported with an example of size 1
on a Dim.DYNAMIC dim.

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ExportWithDimension1; its _valid input is (rand(2, 3),))
Adapted: wrapped only; example input torch.zeros((1, 3)) and dynamic_shapes
{"x": {0: DYN, 1: DYN}} are the case's own.
"""
import torch

DYN = torch.export.Dim.DYNAMIC


class ExportWithDimension1(torch.nn.Module):
    def forward(self, x):
        return x @ torch.arange(x.shape[1], dtype=torch.float32).reshape((-1, 1))


def model():
    return ExportWithDimension1()


def example_inputs():
    return (torch.zeros((1, 3), dtype=torch.float32),)


def dynamic_shapes():
    return {"x": {0: DYN, 1: DYN}}
