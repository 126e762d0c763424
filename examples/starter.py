#!/usr/bin/python3
"""starter.py - a template for checking your own backpropagation with gradcheck.

gradcheck runs this program once per case (`./gradcheck --exec ./my_backprop.py
CASE.json`): the resolved case arrives as JSON on standard input, and the program
prints a gradient file on standard output.  Copy it, put your code in `backprop()`
and keep the rest.

As shipped, backprop() handles a network with a single weight layer, the identity
activation and the half_sse loss (0.5 * sum of squared errors), in either weight
layout, with or without biases; anything else is refused with a message.
"""
import json
import sys

import numpy as np


def backprop(case, weights, biases, X, T):
    """Returns (loss, weight gradients, bias gradients) for one batch.

    weights[k] is W_(k+1) in the case's weight_layout ("out_in": shape (n_out, n_in),
    z = W a + b; "in_out": shape (n_in, n_out), z = a W + b); biases[k] has shape
    (n_out,), or biases is None when the case has "bias": false.  X is (B, n_0),
    T is (B, n_L).  Each gradient has the shape of its parameter.
    """
    acts = case["activations"]
    if len(weights) != 1 or acts not in ("identity", ["identity"]) or case["loss"] != "half_sse":
        sys.exit("starter.py: only one identity layer with half_sse; put your own code here")
    in_out = case.get("weight_layout", "out_in") == "in_out"
    A = weights[0] if in_out else weights[0].T       # (n_in, n_out)
    Y = X @ A + (biases[0] if biases is not None else 0.0)
    E = Y - T                                        # dL/dY
    loss = 0.5 * float(np.sum(E * E))
    dA = X.T @ E
    dW = dA if in_out else dA.T
    db = E.sum(axis=0) if biases is not None else None
    return loss, [dW], None if biases is None else [db]


def main():
    case = json.load(sys.stdin)
    params = case["params"]
    weights = [np.array(w, dtype=float) for w in params["weights"]]
    biases = params.get("biases")
    if biases is not None:
        biases = [np.array(b, dtype=float) for b in biases]
    X = np.array(case["inputs"], dtype=float)
    T = np.array(case["targets"], dtype=float)
    loss, dW, db = backprop(case, weights, biases, X, T)
    grads = {"weights": [g.tolist() for g in dW]}
    if db is not None:
        grads["biases"] = [g.tolist() for g in db]
    # json writes floats with repr(), so gradcheck reads back exactly these numbers
    json.dump({"loss": loss, "gradients": grads}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
