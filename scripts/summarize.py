#!/usr/bin/python3
"""Prints one line per run log (entry point of ggbench.summary; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.summary import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
