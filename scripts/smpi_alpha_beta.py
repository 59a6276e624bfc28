#!/usr/bin/python3
"""Checks simulated pair-exchange and allreduce times against the alpha-beta formula (entry point of ggbench.alpha_beta; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.alpha_beta import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
