"""gradcheck_torch - serve a PyTorch module to `gradcheck check --model CMD`.

    from gradcheck_torch import serve_module
    serve_module(module, loss_fn, inputs)

checks the module's autograd gradient (every parameter that requires grad, custom
torch.autograd.Function backwards included) against finite differences of its own
forward pass, in float64: the module and the inputs are converted with .double(), the
parameters become views into one flat vector theta, the header's gradient comes from
loss_fn(module(*inputs)).backward(), and every request is one forward pass under
torch.no_grad().  loss_fn(output) returns a scalar tensor; inputs is a tensor or a
tuple of them.  layers: True (default) numbers the modules that own parameters in
the order of module.named_parameters() (1, 2, ...; for the entry-layer diagnosis),
a dict {"0.weight": 1, ...} gives them, False gives none.  name and batch as for
gradcheck_model.serve.
"""
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gradcheck_model import serve_flat  # noqa: E402


def serve_module(module, loss_fn, inputs, name=None, layers=True, batch=None):
    torch.set_num_threads(1)      # the copies of --jobs are the parallelism
    module = module.double()
    inputs = tuple(x.double() if torch.is_tensor(x) and x.is_floating_point() else x
                   for x in (inputs if isinstance(inputs, tuple) else (inputs,)))
    named = [(k, p) for k, p in module.named_parameters() if p.requires_grad]
    theta = torch.cat([p.detach().reshape(-1) for _, p in named]).clone()
    tensors, owners, off = [], {}, 0
    for k, p in named:
        n = p.numel()
        p.data = theta[off:off + n].view_as(p)
        off += n
        t = {"name": k, "shape": list(p.shape) or [1]}
        if layers is True:
            t["layer"] = owners.setdefault(k.rsplit(".", 1)[0], len(owners) + 1)
        elif layers and k in layers:
            t["layer"] = int(layers[k])
        tensors.append(t)
    module.zero_grad()
    loss = loss_fn(module(*inputs))
    loss.backward()
    grad = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for _, p in named])

    def evaluate():
        with torch.no_grad():
            return float(loss_fn(module(*inputs)))

    serve_flat(tensors, theta.numpy(), grad.numpy(), float(loss.detach()), evaluate,
               name=name, batch=batch)
