#!/usr/bin/python3
"""Draws the accuracy figure (entry point of ggbench.figures.accuracy; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.figures.accuracy import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
