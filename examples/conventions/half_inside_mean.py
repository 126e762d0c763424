#!/usr/bin/python3
"""half_inside_mean.py - a tutorial's regression network from scratch, with the λ/2
inside the mean, as a `gradcheck --exec` program.

    J = 1/(2N) [ sum_i (y_hat_i - y_i)^2 + lambda * sum W^2 ]

(the regularized cost of linear regression, grown a tanh hidden layer), so
dJ/dW = 1/N [ dW_data + lambda W ].  Samples are rows, W_l is (n_l, n_{l-1}).
Case: "loss": "half_sse", "reduction": "batch_mean", "regularization":
{"l2": lambda, "half": true, "divide_by": "batch"}.

--bug: the classic slip of adding lambda * W outside the 1/N.

    gradcheck --exec examples/conventions/half_inside_mean.py cases/conv_half_inside_mean.json
"""
import json
import sys

import numpy as np


class Net:
    def __init__(self, W1, b1, W2, b2, lam):
        self.W1, self.b1 = np.array(W1), np.array(b1)
        self.W2, self.b2 = np.array(W2), np.array(b2)
        self.lam = lam

    def forward(self, X):
        self.X = X
        self.h = np.tanh(X @ self.W1.T + self.b1)
        return self.h @ self.W2.T + self.b2

    def cost(self, X, y):
        N = X.shape[0]
        err = self.forward(X) - y
        return (np.sum(err ** 2) + self.lam * (np.sum(self.W1 ** 2) + np.sum(self.W2 ** 2))) / (2 * N)

    def gradients(self, X, y, bug=False):
        N = X.shape[0]
        err = self.forward(X) - y
        dW2 = err.T @ self.h
        db2 = err.sum(axis=0)
        dh = (err @ self.W2) * (1 - self.h ** 2)
        dW1 = dh.T @ X
        db1 = dh.sum(axis=0)
        if bug:
            return dW1 / N + self.lam * self.W1, db1 / N, dW2 / N + self.lam * self.W2, db2 / N
        return ((dW1 + self.lam * self.W1) / N, db1 / N,
                (dW2 + self.lam * self.W2) / N, db2 / N)


def main():
    case = json.load(sys.stdin)
    if case["loss"] != "half_sse" or len(case["layers"]) != 3:
        sys.exit("half_inside_mean.py: needs a [n0, H, m] net with half_sse")
    W, b = case["params"]["weights"], case["params"]["biases"]
    net = Net(W[0], b[0], W[1], b[1], case.get("regularization", {}).get("l2", 0.0))
    X, y = np.array(case["inputs"], dtype=float), np.array(case["targets"], dtype=float)
    gW1, gb1, gW2, gb2 = net.gradients(X, y, bug="--bug" in sys.argv[1:])
    json.dump({"loss": net.cost(X, y), "gradients": {
        "weights": [gW1.tolist(), gW2.tolist()], "biases": [gb1.tolist(), gb2.tolist()]}},
        sys.stdout)


if __name__ == "__main__":
    main()
