"""HuggingFace `apply_chunking_to_forward`: chunks the sequence dim into
shape // chunk_size pieces (torch.chunk), runs the feed-forward per chunk in a Python loop,
concatenates; raises unless the size is a multiple of chunk_size.

Source: huggingface/transformers, src/transformers/pytorch_utils.py
(apply_chunking_to_forward, verbatim) as used by BertLayer.forward /
BertLayer.feed_forward_chunk in src/transformers/models/bert/modeling_bert.py
(config.chunk_size_feed_forward, seq_len_dim = 1).
Adapted: a BertLayer reduced to its feed-forward part (Linear-GELU-Linear + residual
LayerNorm) with chunk_size_feed_forward = 2; Dim.AUTO on batch and seq (example 2 x 8).
"""
import inspect

import torch
from torch import nn
from torch.export import Dim


def apply_chunking_to_forward(forward_fn, chunk_size: int, chunk_dim: int, *input_tensors) -> torch.Tensor:
    assert len(input_tensors) > 0, f"{input_tensors} has to be a tuple/list of tensors"

    # inspect.signature exist since python 3.5 and is a python method -> no problem with backward compatibility
    num_args_in_forward_chunk_fn = len(inspect.signature(forward_fn).parameters)
    if num_args_in_forward_chunk_fn != len(input_tensors):
        raise ValueError(
            f"forward_chunk_fn expects {num_args_in_forward_chunk_fn} arguments, but only {len(input_tensors)} input "
            "tensors are given"
        )

    if chunk_size > 0:
        tensor_shape = input_tensors[0].shape[chunk_dim]
        for input_tensor in input_tensors:
            if input_tensor.shape[chunk_dim] != tensor_shape:
                raise ValueError(
                    f"All input tenors have to be of the same shape: {tensor_shape}, "
                    f"found shape {input_tensor.shape[chunk_dim]}"
                )

        if input_tensors[0].shape[chunk_dim] % chunk_size != 0:
            raise ValueError(
                f"The dimension to be chunked {input_tensors[0].shape[chunk_dim]} has to be a multiple of the chunk "
                f"size {chunk_size}"
            )

        num_chunks = input_tensors[0].shape[chunk_dim] // chunk_size

        # chunk input tensor into tuples
        input_tensors_chunks = tuple(input_tensor.chunk(num_chunks, dim=chunk_dim) for input_tensor in input_tensors)
        # apply forward fn to every tuple
        output_chunks = tuple(forward_fn(*input_tensors_chunk) for input_tensors_chunk in zip(*input_tensors_chunks))
        # concatenate output at same dimension
        return torch.cat(output_chunks, dim=chunk_dim)

    return forward_fn(*input_tensors)


class BertFeedForwardLayer(nn.Module):
    def __init__(self, hidden=8, intermediate=16, chunk_size_feed_forward=2):
        super().__init__()
        self.chunk_size_feed_forward = chunk_size_feed_forward
        self.seq_len_dim = 1
        self.intermediate = nn.Sequential(nn.Linear(hidden, intermediate), nn.GELU())
        self.output_dense = nn.Linear(intermediate, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)

    def feed_forward_chunk(self, attention_output):
        intermediate_output = self.intermediate(attention_output)
        return self.LayerNorm(self.output_dense(intermediate_output) + attention_output)

    def forward(self, attention_output):
        return apply_chunking_to_forward(
            self.feed_forward_chunk, self.chunk_size_feed_forward, self.seq_len_dim, attention_output
        )


def model():
    torch.manual_seed(0)
    return BertFeedForwardLayer()


def example_inputs():
    return (torch.randn(2, 8, 8),)


def dynamic_shapes():
    return {"attention_output": {0: Dim.AUTO, 1: Dim.AUTO}}
