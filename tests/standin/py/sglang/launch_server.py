"""`python3 -m sglang.launch_server ...` reaches the stand-in engine."""
import os
import runpy
import sys

sys.argv = [sys.argv[0], "sglang"] + sys.argv[1:]
runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "..", "engine.py"), run_name="__main__")
