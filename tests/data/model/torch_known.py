#!/usr/bin/python3
"""The PyTorch adapter on numbers known by hand: y = Double(x w), L = sum y^2 with
w = (0.5, -1), x = ((1, 2), (3, 4)), where Double is a custom autograd Function 2u.
y = (-3, -5), L = 34, dL/dw = sum_b 2 y_b 2 x_b = (-72, -104).  --bug 3 makes Double's
backward return 3 g instead of 2 g: the gradient becomes (-108, -156), 1.5 times too big."""
import sys

import torch

sys.path.insert(0, "examples/model")
from gradcheck_torch import serve_module  # noqa: E402

FACTOR = 3.0 if "--bug" in sys.argv else 2.0


class Double(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        return 2 * u

    @staticmethod
    def backward(ctx, g):
        return FACTOR * g


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([0.5, -1.0]))

    def forward(self, x):
        return Double.apply(x @ self.w)


serve_module(Model(), lambda y: (y ** 2).sum(), torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
             name="torch_known")
