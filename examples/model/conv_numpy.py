#!/usr/bin/python3
"""A numpy 2-D convolution layer served to `gradcheck check --model`.

conv1 (3 filters of 2 x 3 x 3, valid, stride 1) -> tanh -> fc (1 output) -> mse over a
batch of 2 images of 2 x 5 x 5.  A convolution layer in deep learning computes a
cross-correlation, Y[b,o,i,j] = sum_{c,p,q} W[o,c,p,q] X[b,c,i+p,j+q] + bias[o], so
its weight gradient is the cross-correlation of the input with dY:
dW[o,c,p,q] = sum_{b,i,j} dY[b,o,i,j] X[b,c,i+p,j+q].

--bug flip plants the classic mistake: the weight gradient computed as a true
convolution, which is the right one with every kernel flipped (p -> 2-p, q -> 2-q)."""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gradcheck_model import serve  # noqa: E402

bug = sys.argv[sys.argv.index("--bug") + 1] if "--bug" in sys.argv else None
rng = np.random.default_rng(7)
B, C, H, K, F = 2, 2, 5, 3, 3
X = rng.standard_normal((B, C, H, H))
T = rng.standard_normal((B, 1))
OUT = H - K + 1


def windows(x):
    """(B, C, OUT, OUT, K, K): every K x K patch of every channel."""
    return np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(2, 3))


def forward(p):
    z = np.einsum("bcijpq,ocpq->boij", windows(X), p["conv1.weight"])
    z += p["conv1.bias"][None, :, None, None]
    a = np.tanh(z)
    y = a.reshape(B, -1) @ p["fc.weight"].T + p["fc.bias"]
    return z, a, y


def loss(p):
    _, _, y = forward(p)
    return np.mean((y - T) ** 2)


def grad(p):
    z, a, y = forward(p)
    dy = 2 * (y - T) / y.size
    g = {"fc.weight": dy.T @ a.reshape(B, -1), "fc.bias": dy.sum(axis=0)}
    da = (dy @ p["fc.weight"]).reshape(a.shape)
    dz = da * (1 - a ** 2)
    dw = np.einsum("boij,bcijpq->ocpq", dz, windows(X))
    if bug == "flip":
        dw = dw[:, :, ::-1, ::-1]
    g["conv1.weight"] = dw
    g["conv1.bias"] = dz.sum(axis=(0, 2, 3))
    return g


params = {
    "conv1.weight": 0.3 * rng.standard_normal((F, C, K, K)),
    "conv1.bias": 0.1 * rng.standard_normal(F),
    "fc.weight": 0.3 * rng.standard_normal((1, F * OUT * OUT)),
    "fc.bias": np.zeros(1),
}
serve(params, loss, grad, batch=B,
      layers={"conv1.weight": 1, "conv1.bias": 1, "fc.weight": 2, "fc.bias": 2})
