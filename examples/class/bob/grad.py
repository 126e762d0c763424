"""bob: the last layer's gradients come out twice too large (README, "Grading a class")."""
import runpy
import sys

sys.argv[1:] = ["--bug", "double-last"]
runpy.run_path("examples/numpy_backprop.py", run_name="__main__")
