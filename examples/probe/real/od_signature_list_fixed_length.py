"""onnx-diagnostic model case `SignatureListFixedLength`: a list of tensors as an input,
all sharing a named batch Dim.

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class SignatureListFixedLength)
Adapted: wrapped only; first of the case's _inputs, and its _dynamic
({"x": {0: DIM("batch")}, "lx": [{0: DIM("batch")}, {0: DIM("batch")}]}).
"""
import torch

DIM = torch.export.Dim


class SignatureListFixedLength(torch.nn.Module):
    def __init__(self, n_dims: int = 3, n_targets: int = 1):
        super().__init__()
        self.linear = torch.nn.Linear(n_dims, n_targets)
        self.buff = torch.nn.parameter.Buffer(torch.tensor([0.5] * n_targets))

    def forward(self, x, lx: list):
        return (
            torch.sigmoid(self.linear(x)) - self.buff + lx[0] * lx[1].sum(axis=1, keepdim=True)
        )


def model():
    return SignatureListFixedLength()


def example_inputs():
    return (
        (torch.arange(4 * 3) + 10).reshape((-1, 3)).to(torch.float32),
        [
            (torch.arange(4) + 10).reshape((-1, 1)).to(torch.float32),
            (torch.arange(4 * 2) + 10).reshape((-1, 2)).to(torch.float32),
        ],
    )


def dynamic_shapes():
    batch = DIM("batch")
    return {"x": {0: batch}, "lx": [{0: batch}, {0: batch}]}
