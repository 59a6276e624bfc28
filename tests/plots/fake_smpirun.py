#!/usr/bin/python3
"""Stands in for smpirun in the SMPI runner's tests: takes smpirun's options (-no-privatize, -np N,
-platform P, -hostfile H, checking that both files exist), drops the SimGrid --cfg=/--log= arguments
and runs the program with the rest, with OMPI_COMM_WORLD_SIZE=N (as fake_gg_train.py reads it); then
prints SMPI's closing line "Simulated time: ... seconds"."""
import os
import subprocess
import sys


def main(argv):
    ranks, i = 1, 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-np":
            ranks = int(argv[i + 1])
        if argv[i] in ("-platform", "-hostfile") and not os.path.isfile(argv[i + 1]):
            print(f"fake_smpirun: {argv[i]} {argv[i + 1]}: no such file", file=sys.stderr)
            return 1
        i += 1 if argv[i] == "-no-privatize" else 2
    program = [a for a in argv[i:] if not a.startswith(("--cfg=", "--log="))]
    rc = subprocess.call(program, env={**os.environ, "OMPI_COMM_WORLD_SIZE": str(ranks)})
    if rc == 0 and "--describe" not in program:
        print(f"[{0.25 * ranks:.6f}] [smpi/INFO] Simulated time: {0.25 * ranks:.6f} seconds.")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
