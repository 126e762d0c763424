"""carol: hands in alice's work (README, "Grading a class").

Outside the sandbox this passes; inside it, alice's folder does not exist.
"""
import runpy

runpy.run_path("examples/class/alice/grad.py", run_name="__main__")
