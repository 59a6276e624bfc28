"""The train-test gap of a run: what over-fitting looks like in the logs, for the sample-shuffle
question (does moving samples between workers keep each replica from fitting its own shard?).

  train loss  the mean training-batch loss over the run's last evaluation interval (/steps/loss, every
              worker's batch; with gossipgrad's shuffle a worker's batch may come from a neighbour, but it
              is training data either way);
  test loss   the final test loss of the average of the replicas (/eval/averaged/loss; the model a user
              gets with train.final_average);
  gap         test loss - train loss (larger: more over-fitted).
Losses are mean cross-entropy. Over a cell's seeds: ggbench/stats.py (mean ± 95% t interval)."""
import math

import numpy as np


def train_loss(run):
    """Mean training-batch loss over the steps since the second-last evaluation (all of them if there
    was only one); NaN without /steps/loss."""
    loss = run.steps.get("loss")
    if loss is None or not len(loss):
        return math.nan
    steps = np.asarray(run.eval.get("step", []))
    start = int(steps[-2]) if len(steps) >= 2 else 0
    tail = np.asarray(loss[start:], dtype=float)
    return float(np.nanmean(tail)) if tail.size else math.nan


def test_loss(run, group="averaged"):
    return run.final("loss", group)


def gap(run, group="averaged"):
    return test_loss(run, group) - train_loss(run)
