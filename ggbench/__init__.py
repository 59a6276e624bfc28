"""GossipGraD-Bench's Python tools, one importable package. Library modules:

  registry.py     asks the built trainer what it knows (`gg_train --describe`, cached per process):
                  algorithm names in registry order, specs, defaults, server ranks
  spec.py         answers from one algorithm spec: defaults, effective options, labels, servers, checks
  runlog.py       loads HDF5 run logs (core/log/SCHEMA.md) into Run objects; labels and order
  style.py        the figures' look: colours from the registry (algorithm, variant), save, setup
  figures/        one module per figure (accuracy, breakdown, efficiency, consensus, ablation,
                  scaling, platforms) and all.py drawing the first five
  summary.py      the one-line-per-run table
  study.py        study files: validation against the registry, sweep expansion into runs
  launch.py       one run with log file and timeout
  launchers/      where runs run, the study's "launcher" block: keys.py (keys, defaults, checks),
                  mpirun.py (kinds local and hostfile), slurm.py (srun, job states), batch.py (sbatch
                  scripts, submission, waiting)
  run_status.py   each run's outcome (status.json): written by the runners, read by the summary
  runner.py       what both study runners share: command line, plan, run loop, summary at the end
  run_study.py    the study runner: mpirun, srun or sbatch
  smpi.py         SMPI pieces: settings, platforms, proxy models, smpirun command line
  run_smpi.py     the SMPI study runner
  alpha_beta.py   the simulated network's alpha-beta check
  report.py       paper/REPORT.md from the run logs
  cpu_speed.py    the CPU engine's lenet step next to PyTorch CPU's (a benchmark)

Commands: every module with a main() runs as `python3 -m ggbench.<module>` from the repository root,
and keeps its documented script path, a thin entry point that puts the repository root on sys.path
(the one place that does) and calls main():
  scripts/run_study.py      -> ggbench.run_study        scripts/run_smpi.py   -> ggbench.run_smpi
  scripts/summarize.py      -> ggbench.summary          scripts/smpi_alpha_beta.py -> ggbench.alpha_beta
  plots/plot_<figure>.py    -> ggbench.figures.<figure> plots/make_figures.py -> ggbench.figures.all
  paper/make_report.py      -> ggbench.report           scripts/bench_cpu_vs_torch.py -> ggbench.cpu_speed
No module of the package changes sys.path. Use /usr/bin/python3 (h5py, numpy, matplotlib); the study
runners themselves need only the standard library."""
