#!/usr/bin/python3
"""Draws the per-platform figures (entry point of ggbench.figures.platforms; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.figures.platforms import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
