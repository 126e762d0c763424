#!/usr/bin/python3
"""numpy_backprop.py - a reference backpropagation for `gradcheck --exec`.

Reads a resolved case (README "Case format", as `gradcheck resolve` prints it) on
standard input and prints its gradient file (README "Check your own
implementation") on standard output:

    {"loss": L, "gradients": {"weights": [G_1 .. G_L], "biases": [g_1 .. g_L]}}

Every activation and loss of README "Case format", both weight layouts, with or without
biases, any batch size, and the keys of README "Conventions" (reduction,
regularization, labels, sample_layout, column biases).  Internally every layer is
computed as z = a @ W + b with W of shape (n_in, n_out) and a of shape (B, n_in);
out_in weights are transposed
on the way in and their gradients on the way out.

    examples/numpy_backprop.py < resolved.json
    gradcheck --exec examples/numpy_backprop.py cases/
    gradcheck --exec 'examples/numpy_backprop.py --bug sign' cases/act_tanh.json

--bug NAME plants one known bug, so that gradcheck's diagnoses can be tested:
    double-last     last layer's W and b gradients times 2
    sign            every gradient negated
    transpose       every square W_k gradient transposed
    zero-bias       first layer's bias gradient set to zero
    no-act-deriv-1  layer 1's activation derivative forgotten (f' taken as 1)
    one-element     W1[0][0] gradient times (1 + 1e-3)
    batch-twice     every gradient divided by B once more
    reg-batch       the regularization term's gradient divided by B once more

--float32 computes in float32, as float32 code does; such a gradient passes under
`gradcheck --precision single` (README "Conventions").
"""
import argparse
import json
import sys

import numpy as np

DTYPE = np.float64   # --float32: every array in float32, as float32 code computes

BUGS = ("double-last", "sign", "transpose", "zero-bias", "no-act-deriv-1",
        "one-element", "batch-twice", "reg-batch")


class CaseError(Exception):
    pass


# ---------------------------------------------------------------- activations

def parse_activation(spec):
    """"tanh" or {"name": "leaky_relu", "alpha": 0.2} -> (name, alpha)."""
    if isinstance(spec, dict):
        name, alpha = spec.get("name"), spec.get("alpha", 0.01)
    else:
        name, alpha = spec, 0.01
    if name == "linear":
        name = "identity"
    if name not in ("identity", "sigmoid", "tanh", "relu", "leaky_relu",
                    "softplus", "softmax"):
        raise CaseError("unknown activation %r" % (spec,))
    return name, float(alpha)


def sigmoid(z):
    # Two branches so that neither exp overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def act_forward(act, z):
    name, alpha = act
    if name == "identity":
        return z.copy()
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    # softmax over the output units of each sample
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def act_backward(act, z, a, da):
    """dL/dz from dL/da, where a = f(z)."""
    name, alpha = act
    if name == "identity":
        return da
    if name == "sigmoid":
        return da * a * (1.0 - a)
    if name == "tanh":
        return da * (1.0 - a * a)
    if name == "relu":
        return da * (z > 0)
    if name == "leaky_relu":
        return da * np.where(z > 0, 1.0, alpha)
    if name == "softplus":
        return da * sigmoid(z)
    # softmax: J^T da = a * (da - <da, a>) per sample
    return a * (da - (da * a).sum(axis=1, keepdims=True))


# --------------------------------------------------------------------- losses

def loss_forward(loss, y, t):
    B, m = y.shape
    if loss == "sse":
        return float(np.sum((y - t) ** 2))
    if loss == "half_sse":
        return float(0.5 * np.sum((y - t) ** 2))
    if loss == "mse":
        return float(np.sum((y - t) ** 2) / (B * m))
    if loss == "cross_entropy":
        return float(-np.sum(t * np.log(y)) / B)
    if loss == "binary_cross_entropy":
        return float(-np.sum(t * np.log(y) + (1 - t) * np.log1p(-y)) / (B * m))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -t * y)))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - t * y)) / B)
    if loss == "multiclass_hinge":
        return float(np.sum(multiclass_margins(y, t)) / B)
    raise CaseError("unknown loss %r" % (loss,))


def loss_backward(loss, y, t):
    """dL/dy."""
    B, m = y.shape
    if loss == "sse":
        return 2.0 * (y - t)
    if loss == "half_sse":
        return y - t
    if loss == "mse":
        return 2.0 * (y - t) / (B * m)
    if loss == "cross_entropy":
        return -t / y / B
    if loss == "binary_cross_entropy":
        return (-(t / y) + (1 - t) / (1 - y)) / (B * m)
    if loss == "logistic":
        return -t * sigmoid(-t * y)
    if loss == "hinge":
        return -t * (1.0 - t * y > 0) / B
    if loss == "multiclass_hinge":
        active = (multiclass_margins(y, t) > 0).astype(float)
        return (active - t * active.sum(axis=1, keepdims=True)) / B
    raise CaseError("unknown loss %r" % (loss,))


def multiclass_margins(y, t):
    """max(0, y_j - y_label + 1) for every j other than the label (t one-hot)."""
    correct = (y * t).sum(axis=1, keepdims=True)
    return np.where(t > 0, 0.0, np.maximum(0.0, y - correct + 1.0))


# The divisor each loss's own reduction uses (README "Conventions"): 1, B or B*m.
OWN_REDUCTION = {"sse": "sum", "half_sse": "sum", "logistic": "sum", "mse": "mean",
                 "binary_cross_entropy": "mean", "cross_entropy": "batch_mean",
                 "hinge": "batch_mean", "multiclass_hinge": "batch_mean"}


def divisor(reduction, B, m):
    return {"sum": 1.0, "batch_mean": float(B), "mean": float(B * m)}[reduction]


# -------------------------------------------------------------------- network

class Net:
    """A case read into numpy arrays; weights[k] is (n_in, n_out) whatever the layout."""

    def __init__(self, case):
        try:
            self.sizes = [int(n) for n in case["layers"]]
            L = len(self.sizes) - 1
            acts = case["activations"]
            if not isinstance(acts, list):
                acts = [acts] * L
            if len(acts) != L:
                raise CaseError("activations: need %d, got %d" % (L, len(acts)))
            self.acts = [parse_activation(a) for a in acts]
            self.bias = bool(case.get("bias", True))
            self.layout = case.get("weight_layout", "out_in")
            if self.layout not in ("out_in", "in_out"):
                raise CaseError("weight_layout: %r" % (self.layout,))
            self.loss = case["loss"]
            params = case["params"]
            self.weights = [self._read_weight(params["weights"][k], k) for k in range(L)]
            if self.bias:
                self.biases = [np.asarray(params["biases"][k], dtype=DTYPE).reshape(self.sizes[k + 1])
                               for k in range(L)]
            else:
                self.biases = [np.zeros(self.sizes[k + 1], dtype=DTYPE) for k in range(L)]
            self.columns = case.get("sample_layout", "rows") == "columns"
            x = np.asarray(case["inputs"], dtype=DTYPE)
            self.x = (x.reshape(self.sizes[0], -1).T if self.columns
                      else x.reshape(-1, self.sizes[0]))
            if "labels" in case:
                self.t = np.eye(self.sizes[-1], dtype=DTYPE)[np.asarray(case["labels"], dtype=int)]
            else:
                t = np.asarray(case["targets"], dtype=DTYPE)
                self.t = (t.reshape(self.sizes[-1], -1).T if self.columns
                          else t.reshape(-1, self.sizes[-1]))
            self.bias_columns = self.bias and np.ndim(params["biases"][0]) == 2
            own = OWN_REDUCTION.get(self.loss, "sum")
            B, m = self.x.shape[0], self.sizes[-1]
            self.scale = divisor(own, B, m) / divisor(case.get("reduction", own), B, m)
            reg = case.get("regularization", {})
            self.l2, self.l1 = float(reg.get("l2", 0)), float(reg.get("l1", 0))
            self.half = bool(reg.get("half", False))
            self.reg_biases = bool(reg.get("biases", False))
            d = reg.get("divide_by", "none")
            self.reg_div = 1.0 if d == "none" else float(B) if d == "batch" else float(d)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise CaseError("bad case: %s: %s" % (type(e).__name__, e))
        if self.x.shape[0] != self.t.shape[0]:
            raise CaseError("inputs and targets differ in batch size")

    def _read_weight(self, w, k):
        n_in, n_out = self.sizes[k], self.sizes[k + 1]
        shape = (n_out, n_in) if self.layout == "out_in" else (n_in, n_out)
        w = np.asarray(w, dtype=DTYPE).reshape(shape)  # a flat vector is fine when a dim is 1
        return w.T.copy() if self.layout == "out_in" else w

    def forward(self):
        """Returns (a_0 .. a_L, z_1 .. z_L); a[0] is the input batch."""
        a, z = [self.x], []
        for W, b, act in zip(self.weights, self.biases, self.acts):
            z.append(a[-1] @ W + b)
            a.append(act_forward(act, z[-1]))
        return a, z

    def backward(self, bug=None):
        """Returns (loss, dW list (n_in, n_out), db list)."""
        a, z = self.forward()
        loss = self.scale * loss_forward(self.loss, a[-1], self.t)
        da = self.scale * loss_backward(self.loss, a[-1], self.t)
        L = len(self.weights)
        dW, db = [None] * L, [None] * L
        for k in reversed(range(L)):
            if k == 0 and bug == "no-act-deriv-1":
                dz = da
            else:
                dz = act_backward(self.acts[k], z[k], a[k + 1], da)
            dW[k] = a[k].T @ dz
            db[k] = dz.sum(axis=0)
            da = dz @ self.weights[k].T
        # the regularization term (README "Conventions")
        l2 = self.l2 * (0.5 if self.half else 1.0)
        grad_div = self.reg_div * (self.x.shape[0] if bug == "reg-batch" else 1)
        pairs = list(zip(self.weights, dW))
        if self.reg_biases:
            pairs += list(zip(self.biases, db))
        for p, g in pairs:
            loss += float(l2 * np.sum(p * p) + self.l1 * np.sum(np.abs(p))) / self.reg_div
            g += (2 * l2 * p + self.l1 * np.sign(p)) / grad_div
        return loss, dW, db


# ----------------------------------------------------------------------- bugs

def plant_bug(bug, dW, db, batch):
    """Applies one of BUGS (except no-act-deriv-1 and reg-batch, which live in backward)
    in place."""
    if bug == "double-last":
        dW[-1] *= 2.0
        db[-1] *= 2.0
    elif bug == "sign":
        for g in dW + db:
            g *= -1.0
    elif bug == "transpose":
        for k, g in enumerate(dW):
            if g.shape[0] == g.shape[1]:
                dW[k] = g.T.copy()
    elif bug == "zero-bias":
        db[0][:] = 0.0
    elif bug == "one-element":
        pass  # applied in the output layout, see gradient_file
    elif bug == "batch-twice":
        for g in dW + db:
            g /= batch


def gradient_file(case, bug=None):
    net = Net(case)
    loss, dW, db = net.backward(bug)
    plant_bug(bug, dW, db, net.x.shape[0])
    out_w = [g.T if net.layout == "out_in" else g for g in dW]
    if bug == "one-element":
        out_w[0] = out_w[0].copy()
        out_w[0][0, 0] *= 1.0 + 1e-3
    grads = {"weights": [g.tolist() for g in out_w]}
    if net.bias:
        grads["biases"] = [g.reshape(-1, 1).tolist() if net.bias_columns else g.tolist()
                           for g in db]
    return {"loss": loss, "gradients": grads}


def main(argv):
    ap = argparse.ArgumentParser(description="numpy backpropagation for gradcheck --exec")
    ap.add_argument("--bug", choices=BUGS, help="plant one known bug")
    ap.add_argument("--float32", action="store_true",
                    help="compute in float32 (check with gradcheck --precision single)")
    args = ap.parse_args(argv)
    global DTYPE
    if args.float32:
        DTYPE = np.float32
    try:
        case = json.load(sys.stdin)
        out = gradient_file(case, args.bug)
    except (CaseError, json.JSONDecodeError) as e:
        print("numpy_backprop: %s" % e, file=sys.stderr)
        return 1
    # json writes floats with repr(), the shortest string that reads back exactly.
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
