#!/usr/bin/python3
"""make bench: a numpy MLP x -> tanh(x W1 + b1) W2 + b2 with mse on a fixed random batch,
its gradient by backpropagation, served by examples/model/gradcheck_model.py.

    model_mlp.py [N0 N1 N2 [BATCH]]

Default [100, 150, 30], batch 16: 19 680 parameters (tests/bench/model_bench.c).
1000 1000 10 32 has 1 011 010: the million-parameter model of tests/bench/mpi_bench.sh."""
import sys

import numpy as np

sys.path.insert(0, "examples/model")
from gradcheck_model import serve  # noqa: E402

n0, n1, n2 = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (100, 150, 30)
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 16
rng = np.random.default_rng(0)
X = rng.standard_normal((batch, n0))
T = rng.standard_normal((batch, n2))
p = {"W1": rng.standard_normal((n0, n1)) / np.sqrt(n0), "b1": np.zeros(n1),
     "W2": rng.standard_normal((n1, n2)) / np.sqrt(n1), "b2": np.zeros(n2)}


def loss(q):
    y = np.tanh(X @ q["W1"] + q["b1"]) @ q["W2"] + q["b2"]
    return np.mean((y - T) ** 2)


def grad(q):
    a = np.tanh(X @ q["W1"] + q["b1"])
    dy = 2 * (a @ q["W2"] + q["b2"] - T) / T.size
    dz = (dy @ q["W2"].T) * (1 - a ** 2)
    return {"W1": X.T @ dz, "b1": dz.sum(0), "W2": a.T @ dy, "b2": dy.sum(0)}


serve(p, loss, grad, name="mlp", layers={"W1": 1, "b1": 1, "W2": 2, "b2": 2}, batch=batch)
