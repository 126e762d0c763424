#!/usr/bin/python3
"""cs231n_two_layer.py - the loss and gradients of cs231n's TwoLayerNet (assignment 1/2,
neural_net.py) as a `gradcheck --exec` program.

    h = relu(X @ W1 + b1); scores = h @ W2 + b2           (W1 is (D, H): in_out)
    loss = mean softmax cross-entropy over the N samples (class labels y)
         + reg * (sum W1^2 + sum W2^2)                    (one year's solution)
         + 0.5 * reg * (sum W1^2 + sum W2^2)              (--half: another year's)

Case: "loss": "cross_entropy", "labels", "weight_layout": "in_out",
"regularization": {"l2": reg} or {"l2": reg, "half": true}.

--bug: the classic slip, the other version's gradient: grads['W'] += reg * W (the
gradient of 0.5 * reg * W^2) where the loss has reg * W^2, whose gradient is
2 * reg * W; with --half, 2 * reg * W where the loss has 0.5 * reg * W^2.

    gradcheck --exec examples/conventions/cs231n_two_layer.py cases/conv_cs231n_two_layer.json
    gradcheck --exec 'examples/conventions/cs231n_two_layer.py --half' cases/conv_cs231n_two_layer_half.json
"""
import json
import sys

import numpy as np


def loss(params, X, y, reg, half, bug):
    W1, b1 = params['W1'], params['b1']
    W2, b2 = params['W2'], params['b2']
    N, D = X.shape

    # forward pass
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2

    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    if half:
        reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    else:
        reg_loss = reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = data_loss + reg_loss

    # backward pass
    grads = {}
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    grads['W2'] = hidden.T.dot(dscores)
    grads['b2'] = np.sum(dscores, axis=0)
    dhidden = dscores.dot(W2.T)
    dhidden[hidden <= 0] = 0
    grads['W1'] = X.T.dot(dhidden)
    grads['b1'] = np.sum(dhidden, axis=0)
    if half:
        dreg = 2.0 if bug else 1.0
    else:
        dreg = 1.0 if bug else 2.0
    grads['W2'] += dreg * reg * W2
    grads['W1'] += dreg * reg * W1
    return loss, grads


def main():
    case = json.load(sys.stdin)
    if (case["loss"] != "cross_entropy" or "labels" not in case or len(case["layers"]) != 3
            or case.get("weight_layout") != "in_out"):
        sys.exit("cs231n_two_layer.py: needs a [D, H, C] in_out net, cross_entropy, labels")
    W, b = case["params"]["weights"], case["params"]["biases"]
    params = {'W1': np.array(W[0]), 'b1': np.array(b[0]), 'W2': np.array(W[1]),
              'b2': np.array(b[1])}
    reg = case.get("regularization", {}).get("l2", 0.0)
    L, g = loss(params, np.array(case["inputs"], dtype=float), np.array(case["labels"]), reg,
                "--half" in sys.argv[1:], "--bug" in sys.argv[1:])
    json.dump({"loss": L, "gradients": {"weights": [g['W1'].tolist(), g['W2'].tolist()],
                                        "biases": [g['b1'].tolist(), g['b2'].tolist()]}},
              sys.stdout)


if __name__ == "__main__":
    main()
