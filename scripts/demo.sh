#!/usr/bin/env bash
# The main job: sets up, builds, runs the quick comparison study (allreduce, ps, gossip, gossipgrad at
# 8 MPI ranks on Fashion-MNIST), prints a summary table and writes the figures to results/quick/plots.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
PY=/usr/bin/python3
$PY scripts/run_study.py experiments/studies/quick.json --results results
$PY plots/plot_accuracy.py results/quick --out results/quick/plots
$PY plots/plot_breakdown.py results/quick --out results/quick/plots
$PY plots/plot_consensus.py results/quick --out results/quick/plots
echo "demo: figures in results/quick/plots:"
ls -l results/quick/plots
