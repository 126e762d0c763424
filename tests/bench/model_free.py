#!/usr/bin/python3
"""make bench: a loss-protocol program whose loss costs nothing (always 0), served by
examples/model/gradcheck_model.py: what is left is the protocol.  argv[1]: parameters."""
import sys

import numpy as np

sys.path.insert(0, "examples/model")
from gradcheck_model import serve_flat  # noqa: E402

n = int(sys.argv[1])
serve_flat([{"name": "theta", "shape": [n]}], np.zeros(n), np.zeros(n), 0.0, lambda: 0.0,
           name="free")
