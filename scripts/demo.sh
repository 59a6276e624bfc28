#!/usr/bin/env bash
# The main job: sets up, builds, runs the quick comparison study (allreduce, ps, gossip, gossipgrad at
# 8 MPI ranks, lenet on Fashion-MNIST, 2 epochs), prints the summary table and writes the figures
# (PNG and PDF) to results/quick/figures/. About 6-10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
/usr/bin/python3 scripts/run_study.py experiments/studies/quick.json --results results
echo "demo: figures:"
ls -l results/quick/figures
