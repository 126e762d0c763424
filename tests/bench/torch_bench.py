#!/usr/bin/python3
"""torch_bench.py - time torch.autograd.gradcheck on resolved gradcheck cases.

Usage: torch_bench.py CASE.json ...   (cases as `gradcheck resolve` prints them)

For each case builds the same MLP in float64 (same parameters, inputs, targets,
activations, loss) as a function of all its parameter tensors and times one
torch.autograd.gradcheck(f, params, fast_mode=False) call: the numerical Jacobian
by central differences, one full forward pass per evaluation, plus the analytic
one by backward.  Prints a comment line (# torch VERSION, N threads), then one
line per case: NAME SECONDS PASSED (torch's own thread count, its default).  Only what the
benchmark networks use is supported (out_in layout, identity/tanh/sigmoid/relu,
mse/sse/half_sse)."""
import json
import sys
import time

import torch

ACT = {
    "identity": lambda z: z,
    "linear": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}


def build(case):
    layers = case["layers"]
    acts = case["activations"]
    if isinstance(acts, str):
        acts = [acts] * (len(layers) - 1)
    if case.get("weight_layout", "out_in") != "out_in":
        raise SystemExit("torch_bench.py: only the out_in layout is supported")
    bias = case.get("bias", True)
    loss = case["loss"]
    dt = torch.float64
    x = torch.tensor(case["inputs"], dtype=dt)
    t = torch.tensor(case["targets"], dtype=dt)
    ws = [torch.tensor(w, dtype=dt, requires_grad=True) for w in case["params"]["weights"]]
    bs = [torch.tensor(b, dtype=dt, requires_grad=True)
          for b in case["params"]["biases"]] if bias else []
    params = []
    for k in range(len(ws)):
        params.append(ws[k])
        if bias:
            params.append(bs[k])
    fs = [ACT[a] for a in acts]

    def f(*p):
        a = x
        for k in range(len(ws)):
            w = p[2 * k] if bias else p[k]
            z = a @ w.T
            if bias:
                z = z + p[2 * k + 1]
            a = fs[k](z)
        s = ((a - t) ** 2).sum()
        if loss == "mse":
            return s / a.numel()
        if loss == "half_sse":
            return 0.5 * s
        if loss == "sse":
            return s
        raise SystemExit("torch_bench.py: loss %s is not supported" % loss)

    return f, tuple(params)


def main(paths):
    print("# torch %s, %d threads" % (torch.__version__, torch.get_num_threads()), flush=True)
    for path in paths:
        with open(path) as fp:
            case = json.load(fp)
        f, params = build(case)
        start = time.perf_counter()
        ok = torch.autograd.gradcheck(f, params, raise_exception=False, fast_mode=False)
        seconds = time.perf_counter() - start
        print("%s %.6f %d" % (case.get("name", path), seconds, int(bool(ok))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
