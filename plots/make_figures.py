#!/usr/bin/python3
"""Draws every figure for a set of run logs (entry point of ggbench.figures.all; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.figures.all import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
