"""A real architecture, probed: BERT from `transformers`, built from a small config with random
weights (nothing is downloaded), exported with a dynamic batch and sequence length.

    shapefuzz --python /path/to/venv-with-transformers/bin/python probe examples/probe/hf_bert_tiny.py
"""

import torch
from torch.export import Dim
from transformers import BertConfig, BertModel


def model():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=1000,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return BertModel(config)


def example_inputs():
    input_ids = torch.randint(0, 1000, (2, 8))
    attention_mask = torch.ones(2, 8, dtype=torch.int64)
    return (input_ids, attention_mask)


def dynamic_shapes():
    batch = Dim("batch", max=64)
    seq = Dim("seq", max=128)
    return {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}
