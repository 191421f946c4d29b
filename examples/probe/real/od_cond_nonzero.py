"""onnx-diagnostic model case `ControlFlowCondNonZero`: torch.cond on image_features.numel() > 0
whose branches return data-dependent nonzero() positions, with a Python int operand.

Source: sdpython/onnx-diagnostic, onnx_diagnostic/torch_export_patches/eval/model_cases.py
(class ControlFlowCondNonZero)
Adapted: wrapped only; the first of the case's _inputs ((2, 12) int64 ids, (2, 16) float
features, 1025) and its _dynamic ({0: batch}, {0: batch, 1: seq_length}, None).
"""
import torch

DIM = torch.export.Dim


class ControlFlowCondNonZero(torch.nn.Module):
    def forward(self, input_ids, image_features, vocab_size):
        def then_branch(input_ids, image_features, vocab_size):
            input_shape = input_ids.size()
            input_ids = input_ids.view(-1, input_shape[-1])

            condition = (input_ids < 0) & (input_ids > -int(1e9))
            positions = torch.nonzero(condition, as_tuple=True)
            input_ids = input_ids.clamp_min(0).clamp_max(vocab_size)
            return (input_ids, positions[0], positions[1])

        def else_branch(input_ids, image_features, vocab_size):
            r = torch.where(torch.zeros((1, 1), dtype=torch.bool))
            return (input_ids, r[0], r[1])

        a, b, c = torch.cond(
            image_features.numel() > 0,
            then_branch,
            else_branch,
            [input_ids, image_features, vocab_size],
        )
        return a, b, c


def model():
    return ControlFlowCondNonZero()


def example_inputs():
    return (
        (torch.arange(24) - 8).reshape((2, -1)).to(torch.int64),
        torch.arange(32).reshape((2, -1)).to(torch.float32),
        1025,
    )


def dynamic_shapes():
    batch = DIM("batch")
    return ({0: batch}, {0: batch, 1: DIM("seq_length")}, None)
