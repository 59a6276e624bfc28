#!/usr/bin/python3
"""Runs a study or one config under mpirun and collects the logs (entry point of ggbench.run_study; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.run_study import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
