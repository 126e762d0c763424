#!/usr/bin/python3
"""seed002_batch.py - seed 002's backpropagation_batch (week 43) as a `gradcheck --exec`
program, bugs included.

The notebook's batched network: z = a @ W + b (the in_out layout), cost
mse = np.mean((predict - target)**2) over all B*m numbers.  Its gradient has two bugs:

 1. mse_der divides by len(target), which for a batch is B, not B*m, and then
    dC_dW is divided by batch_size again and dC_db is the mean over the batch: the
    last layer's gradients come out m/B times the true ones (1/B too much from the
    division, m too much from mse_der).
        def mse_der(predict, target): return 2 * (predict - target) / len(target)
        dC_dW = (layer_input.T @ dC_dz) / batch_size
        dC_db = np.mean(dC_dz, axis=0)
 2. the hidden layers propagate the bias gradient (the batch MEAN of dC_dz) instead
    of the per-sample dC_dz:
        dC_da =(layer_grads[i + 1][1]) @  W.T
    so every sample gets the same upstream gradient, and the earlier layers are
    wrong by no constant factor.

The functions below are the notebook's, as written; only the reading of the case
and the writing of the gradient file are new.

    gradcheck --exec examples/seed002_batch.py cases/seed002_batch_3_5_2.json

Supports weight_layout in_out with biases, activations sigmoid and relu (the
seed's; identity and tanh too) and loss mse; anything else is an error.
"""
import json
import sys

import numpy as np


# Activation functions and derivatives.  (The notebook's code.)
def ReLU(z):
    return np.where(z > 0, z, 0)


def ReLU_der(z):
    return np.where(z > 0, 1, 0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_der(z):
    sigmoid = 1 / (1 + np.exp(-z))
    return sigmoid * (1 - sigmoid)


def identity(z):
    return z


def identity_der(z):
    return np.ones_like(z)


def tanh_der(z):
    return 1 - np.tanh(z) ** 2


ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_der), "relu": (ReLU, ReLU_der),
               "identity": (identity, identity_der), "linear": (identity, identity_der),
               "tanh": (np.tanh, tanh_der)}


def mse(predict, target):
    return np.mean((predict - target) ** 2)


def mse_der(predict, target):
    return 2 * (predict - target) / len(target)


def feed_forward_saver_batch(input_batch, layers, activation_funcs):
    layer_inputs = []
    zs = []
    a = input_batch
    for (W, b), activation_func in zip(layers, activation_funcs):
        layer_inputs.append(a)
        z = a @ W + b #Transposed
        a = activation_func(z)
        zs.append(z)
    return layer_inputs, zs, a


def backpropagation_batch(
        input, layers, activation_funcs, target, activation_ders, cost_der=mse_der
):
    layer_inputs, zs, predict = feed_forward_saver_batch(input, layers, activation_funcs)
    layer_grads = [() for layer in layers]

    batch_size = input.shape[0]

    # We loop over the layers, from the last to the first
    for i in reversed(range(len(layers))):
        layer_input, z, activation_der = layer_inputs[i], zs[i], activation_ders[i]

        if i == len(layers) - 1:
            # For last layer we use cost derivative as dC_da(L) can be computed directly
            dC_da = cost_der(predict, target)
        else:
            # For other layers we build on previous z derivative, as dC_da(i) = dC_dz(i+1) * dz(i+1)_da(i)
            W = layers[i + 1][0]
            # dC/dz from the next layer -> layer_grads[i + 1][1]
            dC_da =(layer_grads[i + 1][1]) @  W.T # Transposed

        dC_dz = dC_da * activation_der(z)
        dC_dW = (layer_input.T @ dC_dz) / batch_size #batch
        dC_db = np.mean(dC_dz, axis=0) #

        layer_grads[i] = (dC_dW, dC_db)

    return layer_grads


def read_case(case):
    sizes = case["layers"]
    n = len(sizes) - 1
    acts = case["activations"]
    acts = acts if isinstance(acts, list) else [acts] * n
    if case.get("weight_layout", "out_in") != "in_out":
        raise ValueError("only weight_layout in_out is supported")
    if not case.get("bias", True):
        raise ValueError("the network needs biases")
    if case["loss"] != "mse":
        raise ValueError("loss must be mse")
    funcs, ders = [], []
    for a in acts:
        if not isinstance(a, str) or a not in ACTIVATIONS:
            raise ValueError("unsupported activation %s" % json.dumps(a))
        funcs.append(ACTIVATIONS[a][0])
        ders.append(ACTIVATIONS[a][1])
    w, b = case["params"]["weights"], case["params"]["biases"]
    layers = [(np.array(w[k], dtype=float).reshape(sizes[k], sizes[k + 1]),
               np.array(b[k], dtype=float).reshape(sizes[k + 1])) for k in range(n)]
    inputs = np.array(case["inputs"], dtype=float).reshape(-1, sizes[0])
    targets = np.array(case["targets"], dtype=float).reshape(-1, sizes[-1])
    return inputs, layers, funcs, targets, ders


def main():
    try:
        inputs, layers, funcs, targets, ders = read_case(json.load(sys.stdin))
    except (ValueError, KeyError, IndexError, TypeError) as e:
        print("seed002_batch: %s" % e, file=sys.stderr)
        return 1
    grads = backpropagation_batch(inputs, layers, funcs, targets, ders)
    predict = feed_forward_saver_batch(inputs, layers, funcs)[2]
    out = {"loss": float(mse(predict, targets)),
           "gradients": {"weights": [g[0].tolist() for g in grads],
                         "biases": [g[1].tolist() for g in grads]}}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
