#!/usr/bin/python3
"""A PyTorch MLP with a custom autograd Function, served to `gradcheck check --model`.

Swish(x) = x * sigmoid(x) has the derivative s + x s (1 - s), s = sigmoid(x).
Linear(4, 8) -> Swish -> Linear(8, 8) -> Swish -> Linear(8, 2), mse over a batch of 5.
--bug forget plants a backward that forgets the x s (1 - s) term."""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gradcheck_torch import serve_module  # noqa: E402

BUG = "--bug" in sys.argv and sys.argv[sys.argv.index("--bug") + 1] == "forget"


class SwishFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * (s if BUG else s + x * s * (1 - s))


class Swish(torch.nn.Module):
    def forward(self, x):
        return SwishFunction.apply(x)


torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), Swish(), torch.nn.Linear(8, 8), Swish(),
                            torch.nn.Linear(8, 2))
x = torch.randn(5, 4)
t = torch.randn(5, 2)
serve_module(model, lambda y: torch.nn.functional.mse_loss(y, t.double()), x, batch=5)
