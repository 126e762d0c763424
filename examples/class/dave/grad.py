"""dave: the gradient has the wrong sign, and the program tries to leave a process
behind that outlives the grading (README, "Grading a class")."""
import os
import runpy
import sys

if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", "1000"])
sys.argv[1:] = ["--bug", "sign"]
runpy.run_path("examples/numpy_backprop.py", run_name="__main__")
