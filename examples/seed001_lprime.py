#!/usr/bin/python3
"""seed001_lprime.py - seed 001's L_prime as a `gradcheck --exec` program, bug included.

The notebook's network: H = sigmoid(X W1 + b1), yhat = H W2 + b2 (W1 is [2,3],
the in_out layout), and the logistic loss L = -sum log sigmoid(Y * yhat).  Its
loss function L is right, but its gradient L_prime computes

    P = Y*(W2.T.dot(H.T)+b2).T          # the notebook line: the sigmoid is missing

where L has P = sigmoid(Y*(...)), so every gradient is built from (Y*yhat - 1)*Y
instead of (sigmoid(Y*yhat) - 1)*Y.  The functions below are the notebook's, as
written; only the reading of the case and the writing of the gradient file are new.

    gradcheck --exec examples/seed001_lprime.py cases/seed001_logistic_2_3_1.json

Supports networks [n_0, H, 1], weight_layout in_out, biases, activations
[sigmoid, identity], loss logistic (targets +-1); anything else is an error.
"""
import json
import sys

import numpy as np


def sigmoid(x):
    return 1.0/(1+np.exp(-x))


# Gradient of loss function: L'(W1, b1, W2, b2).  (The notebook's code.)
def L_prime(X, Y, W1, b1, W2, b2):
    # Get dimensions.
    n = X.shape[0]

    # Calculate feed-forward values.
    H = sigmoid(W1.T.dot(X.T) + b1).T  # Shape: [n, 3].
    P = Y*(W2.T.dot(H.T)+b2).T  # Shape: [n, 1].

    # Calculate the gradients: dL/dW1, dL/db1, dL/dW2, dL/db2.
    dL_by_dW2 = H.T.dot((P-1)*Y)  # Shape: [3,1].
    dL_by_db2 = np.ones((n, 1)).T.dot((P-1)*Y)
    dL_by_dH = ((P-1)*Y).dot(W2.T)  # Shape: [n,3].
    dL_by_dW1 = X.T.dot(dL_by_dH*H*(1-H))  # Shape: [2,3].
    dL_by_db1 = (dL_by_dH*H*(1-H)).T.dot(np.ones((n, 1)))  # Shape: [3,1].
    return dL_by_dW1, dL_by_db1, dL_by_dW2, dL_by_db2


# Loss function.  (The notebook's code.)
def L(X, Y, W1, b1, W2, b2):
    H = sigmoid(W1.T.dot(X.T) + b1).T  # Shape: [n, 3].
    P = sigmoid(Y*(W2.T.dot(H.T)+b2).T)  # Shape: [n, 1].
    L = -np.sum(np.log(P))  # Shape: Scalar.
    return L


def act_name(a):
    name = a["name"] if isinstance(a, dict) else a
    return "identity" if name == "linear" else name


def read_case(case):
    """The resolved case in the notebook's shapes, or an error message."""
    sizes = case["layers"]
    acts = case["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(sizes) - 1)
    if len(sizes) != 3 or sizes[2] != 1:
        raise ValueError("only networks [n_0, H, 1] are supported, got %s" % (sizes,))
    if case.get("weight_layout", "out_in") != "in_out":
        raise ValueError("only weight_layout in_out is supported")
    if not case.get("bias", True):
        raise ValueError("the network needs biases")
    if [act_name(a) for a in acts] != ["sigmoid", "identity"]:
        raise ValueError("activations must be [sigmoid, identity]")
    if case["loss"] != "logistic":
        raise ValueError("loss must be logistic")
    n0, h = sizes[0], sizes[1]
    w, b = case["params"]["weights"], case["params"]["biases"]
    W1 = np.array(w[0], dtype=float).reshape(n0, h)
    b1 = np.array(b[0], dtype=float).reshape(h, 1)
    W2 = np.array(w[1], dtype=float).reshape(h, 1)
    b2 = np.array(b[1], dtype=float).reshape(1, 1)
    X = np.array(case["inputs"], dtype=float).reshape(-1, n0)
    Y = np.array(case["targets"], dtype=float).reshape(-1, 1)
    return X, Y, W1, b1, W2, b2


def main():
    try:
        args = read_case(json.load(sys.stdin))
    except (ValueError, KeyError, IndexError, TypeError) as e:
        print("seed001_lprime: %s" % e, file=sys.stderr)
        return 1
    dW1, db1, dW2, db2 = L_prime(*args)
    out = {"loss": float(L(*args)),
           "gradients": {"weights": [dW1.tolist(), dW2.tolist()],
                         "biases": [db1.ravel().tolist(), db2.ravel().tolist()]}}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
