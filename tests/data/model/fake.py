#!/usr/bin/python3
"""A loss-protocol program for tests/test_model.c that misbehaves on request.

L(theta) = sum_j c_j theta_j^2 with theta = (1, 2, 3), c = (1, 2, 3): the true gradient
is (2, 8, 18).  argv[1] names the behaviour (see MODES); the plain one is "ok"."""
import json
import os
import random
import sys
import time

MODES = ("ok", "die-before", "die-mid", "garbage", "nan", "drift", "silent", "slow",
         "extra", "bad-header", "not-json", "random", "exit-after-q", "kink", "scale",
         "announced-loss", "background")
mode = sys.argv[1]
assert mode in MODES, mode
theta = [1.0, 2.0, 3.0]
c = [1.0, 2.0, 3.0]


def loss(t):
    return sum(cj * tj * tj for cj, tj in zip(c, t))


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


if mode == "die-before":
    sys.stderr.write("fake: cannot load the model\n")
    sys.exit(3)
if mode == "background":
    # a grandchild in the same process group that outlives nothing: gradcheck kills it
    pid = os.fork()
    if pid == 0:
        os.close(1)
        time.sleep(300)
        os._exit(0)
    with open(sys.argv[2], "w") as f:
        f.write(str(pid))
grad = [2 * cj * tj for cj, tj in zip(c, theta)]
if mode == "scale":
    grad = [4 * g for g in grad]
header = {"name": "fake", "loss": loss(theta), "theta": theta, "grad": grad,
          "tensors": [{"name": "a", "shape": [1], "layer": 1},
                      {"name": "b", "shape": [2], "layer": 2}]}
if mode == "announced-loss":
    header["loss"] = loss(theta) + 1
if mode == "bad-header":
    header["theta"] = [1.0, 2.0]
if mode == "random":
    header["theta"] = [random.random() for _ in theta]
out("this is not JSON\n" if mode == "not-json" else json.dumps(header) + "\n")
answered = 0
for line in sys.stdin:
    words = line.split()
    if words[0] == "q":
        if mode == "extra":
            out("1\n")
        sys.exit(1 if mode == "exit-after-q" else 0)
    t = list(theta)
    if words[0] == "i":
        t[int(words[1])] += float(words[2])
    answered += 1
    value = loss(t)
    if mode == "die-mid" and answered == 4:
        sys.stderr.write("fake: crashed\n")
        sys.exit(4)
    if mode == "garbage" and answered == 3:
        out("hello\n")
        continue
    if mode == "nan" and answered == 3:
        out("nan\n")
        continue
    if mode == "drift" and answered > 1:
        value += 1e-9
    if mode == "silent" and answered == 2:
        time.sleep(60)
    if mode == "slow":
        time.sleep(0.3)
    kink = " k" if mode == "kink" and words[0] == "i" and words[1] == "1" else ""
    out("%.17g%s\n" % (value, kink))
