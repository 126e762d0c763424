#!/usr/bin/python3
"""nielsen_network2.py - the gradient of Nielsen's network2.py (Neural Networks and Deep
Learning, chapter 3) as a `gradcheck --exec` program.

network2 trains on mini-batches with the cross-entropy cost and L2 weight decay:

    C = (1/m) sum_x C_x + (lmbda / (2 n)) sum_w w^2,   n = len(training_data)

update_mini_batch applies (1/m) sum nabla_w C_x + (lmbda/n) w: the data term is
averaged over the mini-batch of m samples, the weight decay uses the size n of the
whole training set.  Samples are column vectors and biases columns (n_l, 1), as in
the book.  Case: "loss": "binary_cross_entropy", "reduction": "batch_mean",
"regularization": {"l2": lmbda, "half": true, "divide_by": n}.

--bug: the classic slip of dividing the weight decay by the mini-batch size,
lmbda/len(mini_batch) * w, instead of by n.

    gradcheck --exec examples/conventions/nielsen_network2.py cases/conv_nielsen_network2.json
"""
import json
import sys

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class CrossEntropyCost(object):
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return (a - y)


class Network(object):
    def __init__(self, weights, biases):
        self.weights = [np.array(w, dtype=float) for w in weights]
        self.biases = [np.array(b, dtype=float).reshape(-1, 1) for b in biases]
        self.num_layers = len(self.weights) + 1
        self.cost = CrossEntropyCost

    def backprop(self, x, y):
        """(nabla_b, nabla_w) for one sample, the book's code."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (self.cost).delta(zs[-1], activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)

    def mini_batch_gradient(self, mini_batch, lmbda, n, bug=False):
        """What update_mini_batch subtracts, divided by eta."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        m = len(mini_batch)
        decay = lmbda / m if bug else lmbda / n
        gw = [decay * w + nw / m for w, nw in zip(self.weights, nabla_w)]
        gb = [nb / m for nb in nabla_b]
        return gb, gw

    def total_cost(self, data, lmbda, n):
        cost = 0.0
        for x, y in data:
            a = x
            for b, w in zip(self.biases, self.weights):
                a = sigmoid(np.dot(w, a) + b)
            cost += self.cost.fn(a, y) / len(data)
        cost += 0.5 * (lmbda / n) * sum(np.linalg.norm(w) ** 2 for w in self.weights)
        return cost


def main():
    case = json.load(sys.stdin)
    if (case["loss"] != "binary_cross_entropy" or case.get("weight_layout", "out_in") != "out_in"
            or case.get("sample_layout", "rows") != "rows" or not case.get("bias", True)):
        sys.exit("nielsen_network2.py: needs sigmoid layers, out_in, biases, "
                 "binary_cross_entropy, rows")
    reg = case.get("regularization", {})
    lmbda, n = reg.get("l2", 0.0), reg.get("divide_by", 1)
    net = Network(case["params"]["weights"], case["params"]["biases"])
    data = [(np.array(x, dtype=float).reshape(-1, 1), np.array(t, dtype=float).reshape(-1, 1))
            for x, t in zip(case["inputs"], case["targets"])]
    gb, gw = net.mini_batch_gradient(data, lmbda, n, bug="--bug" in sys.argv[1:])
    json.dump({"loss": net.total_cost(data, lmbda, n),
               "gradients": {"weights": [w.tolist() for w in gw],
                             "biases": [b.tolist() for b in gb]}}, sys.stdout)


if __name__ == "__main__":
    main()
