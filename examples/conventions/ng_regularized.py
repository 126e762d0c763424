#!/usr/bin/python3
"""ng_regularized.py - forward, cost and backward with L2 regularization the way Ng's
deep learning course writes them (Improving Deep Neural Networks, week 1,
"Regularization"), as a `gradcheck --exec` program.

Samples are columns: X is (n_x, m), W_l is (n_l, n_{l-1}), b_l is (n_l, 1).

    cost = -1/m sum(Y log A + (1 - Y) log(1 - A))       summed over the outputs too
         + lambd/(2m) (sum W1^2 + sum W2^2)                the biases are not regularized
    dW_l = 1/m dZ_l A_{l-1}^T + (lambd/m) W_l

Case: "loss": "binary_cross_entropy", "reduction": "batch_mean",
"sample_layout": "columns", "regularization": {"l2": lambd, "half": true,
"divide_by": "batch"}.  Hidden layer relu, output sigmoid.

--bug: the classic slip dW_l = 1/m dZ_l A_{l-1}^T + lambd * W_l (the 1/m of the
regularization gradient forgotten).

    gradcheck --exec examples/conventions/ng_regularized.py cases/conv_ng_regularized.json
"""
import json
import sys

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def forward_propagation(X, parameters):
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    return A2, (Z1, A1, W1, b1, Z2, A2, W2, b2)


def compute_cost_with_regularization(A2, Y, parameters, lambd):
    m = Y.shape[1]
    W1, W2 = parameters["W1"], parameters["W2"]
    cross_entropy_cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
    L2_regularization_cost = (1 / m) * (lambd / 2) * (np.sum(np.square(W1)) +
                                                      np.sum(np.square(W2)))
    return cross_entropy_cost + L2_regularization_cost


def backward_propagation_with_regularization(X, Y, cache, lambd, bug=False):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    reg = lambd if bug else lambd / m
    dZ2 = A2 - Y
    dW2 = 1. / m * np.dot(dZ2, A1.T) + reg * W2
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T) + reg * W1
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def main():
    case = json.load(sys.stdin)
    if (case["loss"] != "binary_cross_entropy" or case.get("sample_layout") != "columns"
            or len(case["layers"]) != 3):
        sys.exit("ng_regularized.py: needs a [n_x, n_h, n_y] net, binary_cross_entropy, "
                 "sample_layout columns")
    W, b = case["params"]["weights"], case["params"]["biases"]
    parameters = {"W1": np.array(W[0]), "W2": np.array(W[1]),
                  "b1": np.array(b[0], dtype=float).reshape(-1, 1),
                  "b2": np.array(b[1], dtype=float).reshape(-1, 1)}
    X = np.array(case["inputs"], dtype=float)
    Y = np.array(case["targets"], dtype=float)
    lambd = case.get("regularization", {}).get("l2", 0.0)
    A2, cache = forward_propagation(X, parameters)
    cost = compute_cost_with_regularization(A2, Y, parameters, lambd)
    grads = backward_propagation_with_regularization(X, Y, cache, lambd,
                                                     bug="--bug" in sys.argv[1:])
    json.dump({"loss": cost, "gradients": {
        "weights": [grads["dW1"].tolist(), grads["dW2"].tolist()],
        "biases": [grads["db1"].tolist(), grads["db2"].tolist()]}}, sys.stdout)


if __name__ == "__main__":
    main()
