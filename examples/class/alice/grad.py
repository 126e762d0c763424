"""alice: the course's reference backpropagation, used as it is.

A submission of the worked example in README, "Grading a class".  The teacher shows
the course's shared code to every submission with
--allow-read examples/numpy_backprop.py; nothing else outside this folder is visible.
"""
import runpy

runpy.run_path("examples/numpy_backprop.py", run_name="__main__")
