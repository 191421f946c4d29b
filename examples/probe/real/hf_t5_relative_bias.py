"""HuggingFace T5's relative position bias: buckets computed from torch.arange(query_length)
and torch.arange(key_length), log-spaced buckets, an Embedding lookup, added to q.k scores.

Source: huggingface/transformers, src/transformers/models/t5/modeling_t5.py
(T5Attention._relative_position_bucket verbatim; T5Attention.compute_bias as in upstream,
without cache_position; the score computation of T5Attention.forward reduced to
`scores = q @ k^T + position_bias`).
Adapted: one attention module with tiny dims (d_model 16, 2 heads, d_kv 8, 32 buckets,
max_distance 128) taking hidden_states (batch, seq, d_model); Dim.AUTO on batch and seq.
"""
import math

import torch
from torch import nn
from torch.export import Dim


class T5AttentionScores(nn.Module):
    def __init__(self, d_model=16, n_heads=2, d_kv=8, num_buckets=32, max_distance=128, is_decoder=False):
        super().__init__()
        self.is_decoder = is_decoder
        self.relative_attention_num_buckets = num_buckets
        self.relative_attention_max_distance = max_distance
        self.n_heads = n_heads
        self.key_value_proj_dim = d_kv
        self.inner_dim = n_heads * d_kv
        self.q = nn.Linear(d_model, self.inner_dim, bias=False)
        self.k = nn.Linear(d_model, self.inner_dim, bias=False)
        self.relative_attention_bias = nn.Embedding(num_buckets, n_heads)

    @staticmethod
    def _relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
        relative_buckets = 0
        if bidirectional:
            num_buckets //= 2
            relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
            relative_position = torch.abs(relative_position)
        else:
            relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
        # now relative_position is in the range [0, inf)

        # half of the buckets are for exact increments in positions
        max_exact = num_buckets // 2
        is_small = relative_position < max_exact

        # The other half of the buckets are for logarithmically bigger bins in positions up to max_distance
        relative_position_if_large = max_exact + (
            torch.log(relative_position.float() / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).to(torch.long)
        relative_position_if_large = torch.min(
            relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1)
        )

        relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
        return relative_buckets

    def compute_bias(self, query_length, key_length, device=None):
        """Compute binned relative position bias"""
        if device is None:
            device = self.relative_attention_bias.weight.device
        context_position = torch.arange(query_length, dtype=torch.long, device=device)[:, None]
        memory_position = torch.arange(key_length, dtype=torch.long, device=device)[None, :]
        relative_position = memory_position - context_position  # shape (query_length, key_length)
        relative_position_bucket = self._relative_position_bucket(
            relative_position,  # shape (query_length, key_length)
            bidirectional=(not self.is_decoder),
            num_buckets=self.relative_attention_num_buckets,
            max_distance=self.relative_attention_max_distance,
        )
        values = self.relative_attention_bias(relative_position_bucket)  # shape (query_length, key_length, num_heads)
        values = values.permute([2, 0, 1]).unsqueeze(0)  # shape (1, num_heads, query_length, key_length)
        return values

    def forward(self, hidden_states):
        batch_size, seq_length = hidden_states.shape[:2]
        query_states = self.q(hidden_states).view(batch_size, -1, self.n_heads, self.key_value_proj_dim).transpose(1, 2)
        key_states = self.k(hidden_states).view(batch_size, -1, self.n_heads, self.key_value_proj_dim).transpose(1, 2)
        scores = torch.matmul(query_states, key_states.transpose(3, 2))
        key_length = key_states.shape[-2]
        position_bias = self.compute_bias(seq_length, key_length, device=scores.device)
        scores += position_bias
        return nn.functional.softmax(scores.float(), dim=-1).type_as(scores)


def model():
    torch.manual_seed(0)
    return T5AttentionScores()


def example_inputs():
    return (torch.randn(2, 12, 16),)


def dynamic_shapes():
    return {"hidden_states": {0: Dim.AUTO, 1: Dim.AUTO}}
