"""gradcheck_model - serve a numpy model to `gradcheck check --model CMD`.

    from gradcheck_model import serve
    serve({"W1": W1, "b1": b1, ...}, loss_fn, grad_fn)

loss_fn(params) returns the loss (a float) for the dict of arrays it is given;
grad_fn(params) returns a dict with the gradient of every array.  serve() copies the
arrays into one flat float64 vector theta and hands loss_fn views into it, so a
request "the loss with theta_i moved by delta" costs one loss_fn call.  It then
speaks the loss protocol on stdin/stdout (README, "Check any model") until `q`.

Optional: name= (the report's name; default: the script's file name), layers=
{"W1": 1, ...} (layer numbers for the entry-layer diagnosis), batch= (names factors
of the batch size in diagnoses).  When loss_fn returns (loss, pattern), pattern (any
array, e.g. the signs of relu pre-activations) marks the pieces of a piecewise
function: an answer whose pattern differs from the one at theta says `k` (a kink).
"""
import json
import os
import sys

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def directions(seed, n):
    """The +-1 vector r of `v SEED EPS`: r_j = +1 when the top bit of the j-th output
    of splitmix64 seeded with SEED is 0, else -1."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + _GOLDEN * np.arange(1, n + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return np.where(z >> np.uint64(63), -1.0, 1.0)


def _split(value):
    if isinstance(value, tuple):
        return float(value[0]), value[1]
    return float(value), None


def _write_all(data):
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def serve_flat(tensors, theta, grad, loss, evaluate, name=None, batch=None):
    """The protocol over a flat theta: tensors is a list of {"name", "shape"[, "layer"]},
    theta a float64 vector that evaluate() reads (moved in place), grad the program's
    gradient.  evaluate() returns the loss, or (loss, pattern)."""
    header = {"name": name or os.path.splitext(os.path.basename(sys.argv[0]))[0] or "model",
              "tensors": tensors, "loss": float(loss),
              "theta": theta.tolist(), "grad": [float(g) for g in grad]}
    if batch:
        header["batch"] = int(batch)
    _, base_pattern = _split(evaluate())

    def answer(value):
        l, pattern = _split(value)
        kink = base_pattern is not None and not np.array_equal(pattern, base_pattern)
        return "%.17g%s\n" % (l, " k" if kink else "")

    _write_all((json.dumps(header) + "\n").encode())
    pending = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        out = []
        for line in lines:
            words = line.split()
            if not words:
                continue
            if words[0] == b"i":
                i, delta = int(words[1]), float(words[2])
                old = theta[i]
                theta[i] = old + delta
                try:
                    out.append(answer(evaluate()))
                finally:
                    theta[i] = old
            elif words[0] == b"v":
                r = directions(int(words[1]), theta.size)
                saved = theta.copy()
                theta += float(words[2]) * r
                try:
                    out.append(answer(evaluate()))
                finally:
                    theta[:] = saved
            elif words[0] == b"q":
                _write_all("".join(out).encode())
                return
            else:
                sys.exit("gradcheck_model: unknown request %r" % line)
        _write_all("".join(out).encode())


def serve(params, loss_fn, grad_fn, name=None, layers=None, batch=None):
    """Serves the dict of numpy arrays params (see the module's documentation)."""
    layers = layers or {}
    names = list(params)
    arrays = [np.asarray(params[k], dtype=np.float64) for k in names]
    theta = np.concatenate([a.ravel() for a in arrays])
    views, tensors, off = {}, [], 0
    for k, a in zip(names, arrays):
        views[k] = theta[off:off + a.size].reshape(a.shape)
        t = {"name": k, "shape": list(a.shape) or [1]}
        if k in layers:
            t["layer"] = int(layers[k])
        tensors.append(t)
        off += a.size
    loss, _ = _split(loss_fn(views))
    g = grad_fn(views)
    grad = np.concatenate([np.asarray(g[k], dtype=np.float64).reshape(a.shape).ravel()
                           for k, a in zip(names, arrays)])
    serve_flat(tensors, theta, grad, loss, lambda: loss_fn(views), name=name, batch=batch)
