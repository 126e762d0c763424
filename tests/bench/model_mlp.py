#!/usr/bin/python3
"""make bench: a numpy MLP of 19 680 parameters ([100, 150, 30], tanh, mse, batch 16)
served by examples/model/gradcheck_model.py."""
import sys

import numpy as np

sys.path.insert(0, "examples/model")
from gradcheck_model import serve  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 100))
T = rng.standard_normal((16, 30))
p = {"W1": rng.standard_normal((100, 150)) / 10, "b1": np.zeros(150),
     "W2": rng.standard_normal((150, 30)) / 12, "b2": np.zeros(30)}


def loss(q):
    y = np.tanh(X @ q["W1"] + q["b1"]) @ q["W2"] + q["b2"]
    return np.mean((y - T) ** 2)


def grad(q):
    a = np.tanh(X @ q["W1"] + q["b1"])
    dy = 2 * (a @ q["W2"] + q["b2"] - T) / T.size
    dz = (dy @ q["W2"].T) * (1 - a ** 2)
    return {"W1": X.T @ dz, "b1": dz.sum(0), "W2": a.T @ dy, "b2": dy.sum(0)}


serve(p, loss, grad, name="mlp", layers={"W1": 1, "b1": 1, "W2": 2, "b2": 2})
