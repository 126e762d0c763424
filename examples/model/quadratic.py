#!/usr/bin/python3
"""The smallest served model: L = sum_k c_k * sum(P_k^2) for two arrays, so dL/dP_k =
2 c_k P_k.  --bug scale doubles the gradient of B; --bug sign negates it."""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gradcheck_model import serve  # noqa: E402

bug = sys.argv[sys.argv.index("--bug") + 1] if "--bug" in sys.argv else None
A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B = np.array([3.0, -2.0])


def loss(p):
    return 0.5 * np.sum(p["A"] ** 2) + 3.0 * np.sum(p["B"] ** 2)


def grad(p):
    gb = 6.0 * p["B"]
    if bug == "scale":
        gb = 2 * gb
    elif bug == "sign":
        gb = -gb
    return {"A": 1.0 * p["A"], "B": gb}


serve({"A": A, "B": B}, loss, grad, layers={"A": 1, "B": 2})
