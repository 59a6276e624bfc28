#!/usr/bin/python3
"""Runs a study or one config on a simulated cluster (SimGrid SMPI) (entry point of ggbench.run_smpi; see ggbench/__init__.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository root
from ggbench.run_smpi import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
