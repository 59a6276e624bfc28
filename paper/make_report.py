#!/usr/bin/python3
"""Regenerates paper/REPORT.md from the run logs (entry point of ggbench.report; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.report import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
