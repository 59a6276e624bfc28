#!/usr/bin/python3
"""lenet training speed of the CPU engine next to PyTorch CPU's, in one run (entry point of
ggbench.cpu_speed; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.cpu_speed import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
