#!/usr/bin/python3
"""fd_check.py - an independent finite-difference check of an --exec program.

Used to validate the example programs and cases without gradcheck itself: it runs
the program exactly as `gradcheck --exec` would (resolved case on stdin, gradient
file on stdout) and compares every element with a five-point finite difference of
its own forward pass, written separately from numpy_backprop.py and evaluated in
extended precision (numpy.longdouble), so that the numeric side is accurate to far
below the 1e-7 tolerance.  It knows the keys of README "Conventions" (reduction,
regularization, labels, sample_layout, the hinge losses).

    examples/fd_check.py cases/
    examples/fd_check.py --exec 'examples/seed002_batch.py' cases/seed002_batch_3_5_2.json

Cases without explicit params/inputs/targets are resolved with `./gradcheck
resolve` when that works; otherwise (gradcheck not built yet) with a numpy
stand-in of the init/data blocks: different numbers than gradcheck's, same network.
Per tensor it prints the max relative error and the least-squares ratio
analytic/numeric; exit status 1 when any element fails.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

LD = np.longdouble
HERE = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------- independent forward

def act_name(spec):
    if isinstance(spec, dict):
        return spec["name"].replace("linear", "identity"), LD(spec.get("alpha", 0.01))
    return spec.replace("linear", "identity"), LD("0.01")


def apply_act(name, alpha, z):
    """z is one sample's pre-activation vector (longdouble)."""
    if name == "identity":
        return z
    if name == "sigmoid":
        return LD(1) / (LD(1) + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, LD(0))
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if name == "softplus":
        return np.log1p(np.exp(z))
    if name == "softmax":
        e = np.exp(z - np.max(z))
        return e / np.sum(e)
    raise ValueError(name)


def sample_loss(loss, y, t):
    """The per-sample sum before the 1/B or 1/(B m) factor."""
    if loss in ("sse", "mse"):
        return np.sum((y - t) ** 2)
    if loss == "half_sse":
        return np.sum((y - t) ** 2) / 2
    if loss == "cross_entropy":
        return -np.sum(t * np.log(y))
    if loss == "binary_cross_entropy":
        return -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y))
    if loss == "logistic":
        return np.sum(np.log1p(np.exp(-t * y)))
    if loss == "hinge":
        return np.sum(np.maximum(LD(0), 1 - t * y))
    if loss == "multiclass_hinge":
        correct = np.sum(t * y)
        return np.sum((1 - t) * np.maximum(LD(0), y - correct + 1))
    raise ValueError(loss)


# The reduction each loss has unless the case states one (README "Conventions").
OWN_REDUCTION = {"sse": "sum", "half_sse": "sum", "logistic": "sum", "mse": "mean",
                 "binary_cross_entropy": "mean", "cross_entropy": "batch_mean",
                 "hinge": "batch_mean", "multiclass_hinge": "batch_mean"}


class Model:
    """Parameters as one flat longdouble vector theta: W1, b1, W2, b2, ... with each
    W_k row-major in the case's layout (the same order gradcheck reports)."""

    def __init__(self, case):
        self.sizes = case["layers"]
        L = len(self.sizes) - 1
        acts = case["activations"]
        acts = acts if isinstance(acts, list) else [acts] * L
        self.acts = [act_name(a) for a in acts]
        self.bias = case.get("bias", True)
        self.in_out = case.get("weight_layout", "out_in") == "in_out"
        self.loss = case["loss"]
        self.reduction = case.get("reduction", OWN_REDUCTION[self.loss])
        self.reg = case.get("regularization", {})
        self.shapes, chunks = [], []
        for k in range(L):
            n_in, n_out = self.sizes[k], self.sizes[k + 1]
            shape = (n_in, n_out) if self.in_out else (n_out, n_in)
            self.shapes.append(("W%d" % (k + 1), shape))
            chunks.append(np.array(case["params"]["weights"][k], dtype=float).reshape(-1))
            if self.bias:
                self.shapes.append(("b%d" % (k + 1), (n_out,)))
                chunks.append(np.array(case["params"]["biases"][k], dtype=float).reshape(-1))
        self.theta = np.concatenate(chunks).astype(LD)
        columns = case.get("sample_layout", "rows") == "columns"
        x = np.array(case["inputs"], dtype=float)
        self.x = (x.reshape(self.sizes[0], -1).T if columns
                  else x.reshape(-1, self.sizes[0])).astype(LD)
        if "labels" in case:
            self.t = np.eye(self.sizes[-1])[np.array(case["labels"], dtype=int)].astype(LD)
        else:
            t = np.array(case["targets"], dtype=float)
            self.t = (t.reshape(self.sizes[-1], -1).T if columns
                      else t.reshape(-1, self.sizes[-1])).astype(LD)

    def unpack(self, theta):
        out, pos = {}, 0
        for name, shape in self.shapes:
            n = int(np.prod(shape))
            out[name] = theta[pos:pos + n].reshape(shape)
            pos += n
        return out

    def preacts_and_loss(self, theta):
        p = self.unpack(theta)
        total, pre = LD(0), []
        for x, t in zip(self.x, self.t):
            a = x
            for k, (name, alpha) in enumerate(self.acts):
                W = p["W%d" % (k + 1)]
                z = (a @ W) if self.in_out else (W @ a)   # W is (in,out) or (out,in)
                if self.bias:
                    z = z + p["b%d" % (k + 1)]
                if name in ("relu", "leaky_relu"):
                    pre.append(z)
                a = apply_act(name, alpha, z)
            total += sample_loss(self.loss, a, t)
        B, m = self.x.shape[0], self.sizes[-1]
        total /= {"sum": 1, "batch_mean": B, "mean": B * m}[self.reduction]
        return pre, total + self.penalty(p, B)

    def penalty(self, p, B):
        """The regularization term: (l2 (1/2 if half) sum w^2 + l1 sum |w|) / D."""
        if not self.reg:
            return LD(0)
        names = [n for n, _ in self.shapes if n[0] == "W" or self.reg.get("biases", False)]
        sq = sum(np.sum(p[n] ** 2) for n in names)
        ab = sum(np.sum(np.abs(p[n])) for n in names)
        l2 = LD(self.reg.get("l2", 0)) * (LD("0.5") if self.reg.get("half", False) else 1)
        by = self.reg.get("divide_by", "none")
        D = 1 if by == "none" else B if by == "batch" else by
        return (l2 * sq + LD(self.reg.get("l1", 0)) * ab) / D

    def loss_at(self, theta):
        return self.preacts_and_loss(theta)[1]


# ------------------------------------------------------------------ resolving

def stand_in_resolve(case):
    """A numpy stand-in for gradcheck's init/data expansion (other numbers)."""
    case = dict(case)
    sizes, L = case["layers"], len(case["layers"]) - 1
    in_out = case.get("weight_layout", "out_in") == "in_out"
    if "params" not in case:
        init = case.get("init", {})
        rng = np.random.RandomState(init.get("seed", 0))
        dist, scale = init.get("distribution", "normal"), init.get("scale", 1.0)
        ws, bs = [], []
        for k in range(L):
            n_in, n_out = sizes[k], sizes[k + 1]
            if dist == "uniform":
                w = rng.uniform(-1, 1, (n_out, n_in))
            elif dist == "xavier":
                w = rng.normal(0, np.sqrt(2.0 / (n_in + n_out)), (n_out, n_in))
            elif dist == "he":
                w = rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in))
            else:
                w = rng.normal(size=(n_out, n_in))
            ws.append((scale * (w.T if in_out else w)).tolist())
            bs.append((0.1 * scale * rng.normal(size=n_out)).tolist())
        case["params"] = {"weights": ws}
        if case.get("bias", True):
            case["params"]["biases"] = bs
    if "inputs" not in case:
        d = case["data"]
        rng = np.random.RandomState(d["seed"] + 1000)
        B, m = d["batch"], sizes[-1]
        case["inputs"] = rng.normal(size=(B, sizes[0])).tolist()
        loss = case["loss"]
        if loss == "cross_entropy":
            t = np.eye(m)[rng.randint(0, m, B)]
        elif loss == "binary_cross_entropy":
            t = rng.randint(0, 2, (B, m)).astype(float)
        elif loss == "logistic":
            t = 2.0 * rng.randint(0, 2, (B, m)) - 1.0
        else:
            t = rng.normal(size=(B, m))
        case["targets"] = t.tolist()
    return case


def resolve(path, case):
    if all(k in case for k in ("params", "inputs", "targets")):
        return case, "explicit"
    gc = os.path.join(HERE, "..", "gradcheck")
    if os.access(gc, os.X_OK):
        r = subprocess.run([gc, "resolve", path], capture_output=True, text=True)
        if r.returncode == 0:
            return json.loads(r.stdout), "gradcheck resolve"
    return stand_in_resolve(case), "numpy stand-in"


# ------------------------------------------------------------------- checking

def numeric_gradient(model, theta):
    """Five-point rule per element; NaN where a relu kink lies within 2h."""
    g = np.empty(theta.shape, dtype=LD)
    base_pre, _ = model.preacts_and_loss(theta)
    for i in range(theta.size):
        h = LD("1e-4") * max(LD(1), abs(theta[i]))
        f, kink = {}, False
        for s in (-2, -1, 1, 2):
            th = theta.copy()
            th[i] += s * h
            pre, f[s] = model.preacts_and_loss(th)
            kink |= any(np.any(np.sign(p) != np.sign(q)) for p, q in zip(pre, base_pre))
        g[i] = np.nan if kink else (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * h)
    return g


def flatten_grad(model, gf):
    chunks = []
    for k in range(len(model.acts)):
        chunks.append(np.array(gf["gradients"]["weights"][k], dtype=float).reshape(-1))
        if model.bias:
            chunks.append(np.array(gf["gradients"]["biases"][k], dtype=float).reshape(-1))
    return np.concatenate(chunks)


def check_case(path, cmd, rtol, atol, verbose):
    with open(path) as f:
        case = json.load(f)
    resolved, how = resolve(path, case)
    r = subprocess.run(["/bin/sh", "-c", cmd], input=json.dumps(resolved),
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print("%-36s ERROR exit %d: %s" % (os.path.basename(path), r.returncode, r.stderr.strip()))
        return False
    gf = json.loads(r.stdout)
    model = Model(resolved)
    a = flatten_grad(model, gf)
    n = numeric_gradient(model, model.theta).astype(float)
    loss = float(model.loss_at(model.theta))
    ok_all = True
    lines, pos = [], 0
    for name, shape in model.shapes:
        size = int(np.prod(shape))
        aa, nn = a[pos:pos + size], n[pos:pos + size]
        pos += size
        live = ~np.isnan(nn)
        diff = np.abs(aa - nn)
        scale = np.maximum(np.abs(aa), np.abs(nn))
        ok = ~live | (diff <= atol + rtol * scale)
        rel = np.where(live & (scale > 0), diff / np.where(scale > 0, scale, 1), 0.0)
        nn_l, aa_l = nn[live], aa[live]
        denom = float(nn_l @ nn_l)
        ratio = float(aa_l @ nn_l) / denom if denom > 0 else float("nan")
        ok_all &= bool(ok.all())
        lines.append("    %-3s %-8s max_rel %.2e  ratio a/n %+.6f  fail %d  kink %d"
                     % (name, "x".join(map(str, shape)), rel.max(initial=0.0), ratio,
                        int((~ok).sum()), int((~live).sum())))
    gl = gf.get("loss")
    loss_ok = gl is None or abs(gl - loss) <= 1e-9 * max(1.0, abs(loss))
    print("%-36s %s  loss %.17g%s  [%s]" % (os.path.basename(path),
          "PASS" if ok_all and loss_ok else "FAIL", loss,
          "" if loss_ok else " (program said %r)" % gl, how))
    if verbose or not ok_all:
        print("\n".join(lines))
    return ok_all and loss_ok


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exec", dest="cmd", default=os.path.join(HERE, "numpy_backprop.py"))
    ap.add_argument("--rtol", type=float, default=1e-7)
    ap.add_argument("--atol", type=float, default=1e-12)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args(argv)
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json"))
        else:
            files.append(p)
    ok = all([check_case(f, args.cmd, args.rtol, args.atol, args.verbose) for f in files])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
