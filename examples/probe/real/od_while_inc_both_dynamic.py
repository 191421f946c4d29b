"""onnx-diagnostic model case `ControlFlowWhileInc` with b.size(1) made dynamic too:
torch._higher_order_ops.while_loop whose condition reads x.size(0).

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ControlFlowWhileInc)
Adapted: the case marks a.size(1) dynamic but leaves b.size(1) static although x + y ties
them (see od_while_inc.py, which keeps the original spec); here b gets {0: DYN, 1: DYN}.
"""
import torch

DYN = torch.export.Dim.DYNAMIC


class ControlFlowWhileInc(torch.nn.Module):
    def forward(self, ci, a, b):
        def cond_fn(i, x, y):
            return i < x.size(0)

        def body_fn(i, x, y):
            return i + 1, x + y, y - x

        return torch._higher_order_ops.while_loop(cond_fn, body_fn, [ci, a, b])


def model():
    return ControlFlowWhileInc()


def example_inputs():
    return (torch.tensor(1), torch.randn(2, 3), torch.randn(2, 3))


def dynamic_shapes():
    return ({}, {0: DYN, 1: DYN}, {0: DYN, 1: DYN})
