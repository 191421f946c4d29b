"""The model of the seed document, written the way a user would."""
import torch


def dummy_function(idx, x_len):
    # [1, 2, 3] becomes [1, 2, 3, x_len]
    return torch.nn.functional.pad(idx, (0, 1), value=x_len)


class Model(torch.nn.Module):
    def forward(self, x, y):
        padded = dummy_function(x, y.shape[0])
        return padded.reshape((-1, 1)) + torch.arange(padded.max()).reshape((1, -1))


def model():
    return Model()


def example_inputs():
    return ((torch.arange(3) + 1).to(torch.int64), torch.tensor([0, 5], dtype=torch.int64))


def dynamic_shapes():
    return {"x": {0: torch.export.Dim.AUTO}, "y": {0: torch.export.Dim.AUTO}}
