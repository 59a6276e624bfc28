"""One module per figure. Each has plot(runs, out, prefix) -> [paths written] and main(argv) for its
command line (plots/plot_<name>.py, or python3 -m ggbench.figures.<name>); all.py draws them all."""
