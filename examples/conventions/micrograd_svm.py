#!/usr/bin/python3
"""micrograd_svm.py - a scalar autograd engine and MLP in the style of micrograd
(engine.py, nn.py) and its demo's loss, as a `gradcheck --exec` program.

    scores = [model(x) for x in X]                        relu hidden, linear output
    data_loss = sum((1 + -y * score).relu()) / len(X)     svm max-margin, y = +-1
    reg_loss = alpha * sum(p * p for p in model.parameters())   biases included

Case: "loss": "hinge", "regularization": {"l2": alpha, "biases": true}.

--bug: the classic slip in Value.__pow__'s backward, self.grad += out.grad *
self.data**(other - 1) with the factor `other` forgotten, so the gradient of
alpha * p**2 comes out alpha * p instead of 2 * alpha * p.

    gradcheck --exec examples/conventions/micrograd_svm.py cases/conv_micrograd_svm.json
"""
import json
import sys

BUG = "--bug" in sys.argv[1:]


class Value:
    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, other):
        out = Value(self.data ** other, (self,))

        def _backward():
            if BUG:
                self.grad += self.data ** (other - 1) * out.grad
            else:
                self.grad += other * self.data ** (other - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,))

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1


class Neuron:
    def __init__(self, w, b, nonlin):
        self.w = [Value(x) for x in w]
        self.b = Value(b)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    def __init__(self, weights, biases):
        self.layers = [[Neuron(w, b, k < len(weights) - 1) for w, b in zip(W, B)]
                       for k, (W, B) in enumerate(zip(weights, biases))]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x


def main():
    case = json.load(sys.stdin)
    if case["loss"] != "hinge" or case.get("weight_layout", "out_in") != "out_in":
        sys.exit("micrograd_svm.py: needs an out_in net with relu hidden layers and hinge")
    model = MLP(case["params"]["weights"], case["params"]["biases"])
    alpha = case.get("regularization", {}).get("l2", 0.0)
    X, Y = case["inputs"], [t[0] for t in case["targets"]]
    scores = [model(x) for x in X]
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    params = [p for layer in model.layers for n in layer for p in n.parameters()]
    reg_loss = alpha * sum((p ** 2 for p in params))
    total_loss = data_loss + reg_loss
    total_loss.backward()
    json.dump({"loss": total_loss.data, "gradients": {
        "weights": [[[w.grad for w in n.w] for n in layer] for layer in model.layers],
        "biases": [[n.b.grad for n in layer] for layer in model.layers]}}, sys.stdout)


if __name__ == "__main__":
    main()
