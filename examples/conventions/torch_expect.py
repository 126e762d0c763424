#!/usr/bin/python3
"""torch_expect.py - writes the convention cases, cases/conv_*.json, with their
`expect` blocks computed by torch autograd, a second implementation independent of
gradcheck: each loss is written out below from the formula in README "Conventions",
and torch differentiates it.

    /usr/bin/python3 examples/conventions/torch_expect.py   # rewrites cases/conv_*.json

The parameters and data are rounded to two decimals so that a reader can follow them.
"""
import json
import os

import numpy as np
import torch

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cases")
torch.set_default_dtype(torch.float64)


def draw(rng, *shape):
    return np.round(rng.normal(size=shape), 2)


def act(name, z):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "identity": lambda v: v, "softmax": lambda v: torch.softmax(v, dim=1)}[name](z)


def forward(W, b, X, acts, layout):
    """X: (B, n0) rows; W[k] in the case's layout; returns the output (B, nL)."""
    a = X
    for k, (w, name) in enumerate(zip(W, acts)):
        z = a @ (w.T if layout == "out_in" else w)
        if b is not None:
            z = z + b[k]
        a = act(name, z)
    return a


def write(name, comment, case, loss_fn, columns_bias=False):
    """loss_fn(W, b, X, T) -> the case's loss written out; fills case's expect."""
    layout = case.get("weight_layout", "out_in")
    W = [torch.tensor(w, requires_grad=True) for w in case["params"]["weights"]]
    b = None
    if case.get("bias", True):
        b = [torch.tensor(np.ravel(v), requires_grad=True) for v in case["params"]["biases"]]
    X = np.array(case["inputs"], dtype=float)
    if case.get("sample_layout") == "columns":
        X = X.T
    X = torch.tensor(X)
    if "labels" in case:
        T = torch.zeros(len(case["labels"]), case["layers"][-1])
        T[range(len(case["labels"])), case["labels"]] = 1
    else:
        T = np.array(case["targets"], dtype=float)
        T = torch.tensor(T.T if case.get("sample_layout") == "columns" else T)
    L = loss_fn(W, b, X, T, layout)
    L.backward()
    grads = {"weights": [w.grad.tolist() for w in W]}
    if b is not None:
        grads["biases"] = [[[x] for x in v.grad.tolist()] if columns_bias else v.grad.tolist()
                           for v in b]
    out = {"_comment": comment}
    out.update(case)
    out["expect"] = {"loss": L.item(), "gradients": grads, "tolerance": 1e-9}
    with open(os.path.join(CASES, "conv_" + name + ".json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def sq(ts):
    return sum((t * t).sum() for t in ts)


def nonzero(a):
    """a with exact zeros moved to 0.01: an l1 step from w = 0 would be a kink."""
    a = np.asarray(a)
    return np.where(a == 0, 0.01, a)


def main():
    rng = np.random.default_rng(11)

    # Nielsen's network2: sigmoid layers, cross-entropy summed over outputs, averaged
    # over the mini-batch (m = 3), plus lambda/(2n) sum w^2 with n = 50000 the
    # training-set size; column vectors and column biases.
    lam, n = 5.0, 50000
    case = {"layers": [3, 4, 2], "activations": "sigmoid", "loss": "binary_cross_entropy",
            "reduction": "batch_mean",
            "regularization": {"l2": lam, "half": True, "divide_by": n},
            "params": {"weights": [draw(rng, 4, 3).tolist(), draw(rng, 2, 4).tolist()],
                       "biases": [draw(rng, 4, 1).tolist(), draw(rng, 2, 1).tolist()]},
            "inputs": draw(rng, 3, 3).tolist(), "targets": [[1, 0], [0, 1], [1, 0]]}

    def nielsen(W, b, X, T, layout):
        A = forward(W, b, X, ["sigmoid", "sigmoid"], layout)
        data = -(T * torch.log(A) + (1 - T) * torch.log(1 - A)).sum() / X.shape[0]
        return data + lam / (2 * n) * sq(W)
    write("nielsen_network2", "Nielsen, Neural Networks and Deep Learning, network2.py: "
          "mini-batch cross-entropy plus lambda/(2n) sum w^2, n the training-set size "
          "(expect: torch autograd, torch_expect.py)", case, nielsen, columns_bias=True)

    # cs231n's two-layer net: X (N, D) @ W1 (D, H), relu, scores, softmax loss averaged
    # over N, class labels; reg * sum W^2 (one version) or 0.5 * reg * sum W^2 (other).
    for half in (False, True):
        reg = 0.1
        case = {"layers": [4, 5, 3], "activations": ["relu", "softmax"],
                "loss": "cross_entropy", "weight_layout": "in_out",
                "regularization": {"l2": reg, "half": half},
                "params": {"weights": [draw(rng, 4, 5).tolist(), draw(rng, 5, 3).tolist()],
                           "biases": [draw(rng, 5).tolist(), draw(rng, 3).tolist()]},
                "inputs": draw(rng, 4, 4).tolist(), "labels": [0, 2, 1, 2]}

        def cs231n(W, b, X, T, layout, half=half, reg=reg):
            P = forward(W, b, X, ["relu", "softmax"], layout)
            data = -(T * torch.log(P)).sum() / X.shape[0]
            return data + (0.5 if half else 1.0) * reg * sq(W)
        write("cs231n_two_layer" + ("_half" if half else ""),
              "cs231n assignment 2 two-layer net: softmax loss / N plus "
              + ("0.5 * reg * sum W^2" if half else "reg * sum W^2")
              + " (expect: torch autograd, torch_expect.py)", case, cs231n)

    # Ng's deep learning course: samples as columns, X (n0, m), W (n_l, n_{l-1}),
    # b (n_l, 1); cost -1/m sum(Y log A + (1 - Y) log(1 - A)) summed over the outputs,
    # plus lambda/(2m) sum W^2, biases not regularized.
    lam = 0.7
    case = {"layers": [3, 4, 2], "activations": ["relu", "sigmoid"],
            "loss": "binary_cross_entropy", "reduction": "batch_mean",
            "sample_layout": "columns",
            "regularization": {"l2": lam, "half": True, "divide_by": "batch"},
            "params": {"weights": [draw(rng, 4, 3).tolist(), draw(rng, 2, 4).tolist()],
                       "biases": [draw(rng, 4, 1).tolist(), draw(rng, 2, 1).tolist()]},
            "inputs": draw(rng, 3, 5).tolist(),
            "targets": [[1, 0, 0, 1, 1], [0, 1, 1, 0, 1]]}

    def ng(W, b, X, T, layout):
        A = forward(W, b, X, ["relu", "sigmoid"], layout)
        m = X.shape[0]
        data = -(T * torch.log(A) + (1 - T) * torch.log(1 - A)).sum() / m
        return data + lam / (2 * m) * sq(W)
    write("ng_regularized", "Ng, Improving Deep Neural Networks, regularization "
          "assignment: samples as columns, cross-entropy summed over the outputs / m, "
          "plus lambda/(2m) sum W^2 without biases (expect: torch autograd, "
          "torch_expect.py)", case, ng, columns_bias=True)

    # A tutorial's regression net: J = 1/(2N) [sum (y_hat - y)^2 + lambda sum W^2],
    # the lambda/2 inside the 1/N.
    lam = 0.3
    case = {"layers": [2, 3, 1], "activations": ["tanh", "identity"], "loss": "half_sse",
            "reduction": "batch_mean",
            "regularization": {"l2": lam, "half": True, "divide_by": "batch"},
            "params": {"weights": [draw(rng, 3, 2).tolist(), draw(rng, 1, 3).tolist()],
                       "biases": [draw(rng, 3).tolist(), draw(rng, 1).tolist()]},
            "inputs": draw(rng, 4, 2).tolist(), "targets": draw(rng, 4, 1).tolist()}

    def inside(W, b, X, T, layout):
        Y = forward(W, b, X, ["tanh", "identity"], layout)
        return (((Y - T) ** 2).sum() + lam * sq(W)) / (2 * X.shape[0])
    write("half_inside_mean", "a tutorial's regression net: J = 1/(2N) [sum (y_hat - y)^2 "
          "+ lambda sum W^2] (expect: torch autograd, torch_expect.py)", case, inside)

    # micrograd's demo: an MLP of scalar Values, the svm max-margin loss averaged over
    # the batch, alpha * sum p^2 over every parameter, biases included.
    alpha = 1e-2
    case = {"layers": [2, 4, 1], "activations": ["relu", "identity"], "loss": "hinge",
            "regularization": {"l2": alpha, "biases": True},
            "params": {"weights": [draw(rng, 4, 2).tolist(), draw(rng, 1, 4).tolist()],
                       "biases": [draw(rng, 4).tolist(), draw(rng, 1).tolist()]},
            "inputs": draw(rng, 5, 2).tolist(), "targets": [[1], [-1], [1], [-1], [1]]}

    def micrograd(W, b, X, T, layout):
        S = forward(W, b, X, ["relu", "identity"], layout)
        data = torch.relu(1 - T * S).sum() / X.shape[0]
        return data + alpha * (sq(W) + sq(b))
    write("micrograd_svm", "micrograd's demo: svm max-margin loss averaged over the batch "
          "plus alpha * sum p^2 over every parameter, biases included (expect: torch "
          "autograd, torch_expect.py)", case, micrograd)

    # A lasso-style regression notebook: the squared errors summed over the batch (no
    # 1/N) plus mu * sum |W|.
    mu = 0.05
    case = {"layers": [3, 4, 2], "activations": ["tanh", "identity"], "loss": "sse",
            "reduction": "sum", "regularization": {"l1": mu},
            "params": {"weights": [nonzero(draw(rng, 4, 3)).tolist(),
                                   nonzero(draw(rng, 2, 4)).tolist()],
                       "biases": [draw(rng, 4).tolist(), draw(rng, 2).tolist()]},
            "inputs": draw(rng, 3, 3).tolist(), "targets": draw(rng, 3, 2).tolist()}

    def lasso(W, b, X, T, layout):
        Y = forward(W, b, X, ["tanh", "identity"], layout)
        return ((Y - T) ** 2).sum() + mu * sum(w.abs().sum() for w in W)
    write("l1_sum", "a lasso-style regression: squared errors summed over the batch plus "
          "mu * sum |W| (expect: torch autograd, torch_expect.py)", case, lasso)

    # cs231n's multiclass SVM loss on a two-layer net: sum over j != y of
    # max(0, s_j - s_y + 1), averaged over N, plus reg * sum W^2.
    reg = 0.05
    case = {"layers": [4, 5, 3], "activations": ["relu", "identity"],
            "loss": "multiclass_hinge", "weight_layout": "in_out",
            "regularization": {"l2": reg},
            "params": {"weights": [draw(rng, 4, 5).tolist(), draw(rng, 5, 3).tolist()],
                       "biases": [draw(rng, 5).tolist(), draw(rng, 3).tolist()]},
            "inputs": draw(rng, 4, 4).tolist(), "labels": [2, 0, 1, 1]}

    def svm(W, b, X, T, layout):
        S = forward(W, b, X, ["relu", "identity"], layout)
        correct = (S * T).sum(dim=1, keepdim=True)
        margins = torch.relu(S - correct + 1) * (1 - T)
        return margins.sum() / X.shape[0] + reg * sq(W)
    write("multiclass_svm", "cs231n's multiclass SVM loss: sum over j != y of "
          "max(0, s_j - s_y + 1) / N plus reg * sum W^2, class labels (expect: torch "
          "autograd, torch_expect.py)", case, svm)

    # The numpy idiom 0.5 * np.mean((y - t) ** 2): the mean over every output of
    # every sample.
    case = {"layers": [2, 3, 2], "activations": ["sigmoid", "identity"],
            "loss": "half_sse", "reduction": "mean",
            "params": {"weights": [draw(rng, 3, 2).tolist(), draw(rng, 2, 3).tolist()],
                       "biases": [draw(rng, 3).tolist(), draw(rng, 2).tolist()]},
            "inputs": draw(rng, 4, 2).tolist(), "targets": draw(rng, 4, 2).tolist()}

    def half_mean(W, b, X, T, layout):
        Y = forward(W, b, X, ["sigmoid", "identity"], layout)
        return 0.5 * ((Y - T) ** 2).mean()
    write("half_mean", "numpy's 0.5 * np.mean((y - t) ** 2): the mean over every output "
          "of every sample (expect: torch autograd, torch_expect.py)", case, half_mean)

    # Softmax cross-entropy summed over the batch, not averaged:
    # -np.sum(np.log(p[range(N), y])).
    case = {"layers": [3, 4, 3], "activations": ["tanh", "softmax"],
            "loss": "cross_entropy", "reduction": "sum",
            "params": {"weights": [draw(rng, 4, 3).tolist(), draw(rng, 3, 4).tolist()],
                       "biases": [draw(rng, 4).tolist(), draw(rng, 3).tolist()]},
            "inputs": draw(rng, 5, 3).tolist(), "labels": [0, 1, 2, 2, 1]}

    def ce_sum(W, b, X, T, layout):
        P = forward(W, b, X, ["tanh", "softmax"], layout)
        return -(T * torch.log(P)).sum()
    write("ce_sum_labels", "softmax cross-entropy summed over the batch, "
          "-np.sum(np.log(p[range(N), y])), class labels (expect: torch autograd, "
          "torch_expect.py)", case, ce_sum)


if __name__ == "__main__":
    main()
