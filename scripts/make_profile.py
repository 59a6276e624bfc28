#!/usr/bin/python3
"""Measures a model of this engine layer by layer and writes a proxy profile, in one command:

  /usr/bin/python3 scripts/make_profile.py --model lenet --input 28,28,1 --classes 10 --batch 64 \
      --out experiments/profiles/lenet_cpu.json

--model is a named model (lenet, cifarnet, resnet20) or a JSON model file. Builds gg_profile
(experiments/profile_main.cpp) in --build-dir if needed, runs it on one thread, checks the result and
prints a summary. The profile then drives a proxy model under SMPI:
  /usr/bin/python3 scripts/run_smpi.py experiments/configs/quick.json --profile experiments/profiles/lenet_cpu.json --ranks 64"""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, help="H,W,C of one sample, e.g. 28,28,1")
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    a = ap.parse_args()
    binary = os.path.join(a.build_dir, "experiments", "gg_profile")
    if not os.access(binary, os.X_OK):
        print(f"make_profile: building {binary} ...", file=sys.stderr)
        rc = subprocess.call(["cmake", "--build", a.build_dir, "-j2", "--target", "gg_profile"])
        if rc != 0:
            sys.exit(f"make_profile: error: could not build gg_profile in {a.build_dir} (configure it first: "
                     f"cmake --preset release)")
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "OPENBLAS_NUM_THREADS": str(a.threads)}
    cmd = [binary, "--model", a.model, "--input", a.input, "--classes", str(a.classes), "--batch", str(a.batch),
           "--reps", str(a.reps), "--threads", str(a.threads), "--out", a.out]
    rc = subprocess.call(cmd, env=env)
    if rc != 0:
        sys.exit(rc)
    prof = json.load(open(a.out))
    if not prof.get("layers") or any(l["forward_s"] < 0 or l["backward_s"] < 0 for l in prof["layers"]):
        sys.exit(f"make_profile: error: {a.out}: no layers or negative times")
    params = sum(l["params"] for l in prof["layers"])
    print(f"{a.out}: {len(prof['layers'])} layers, {params} parameters, "
          f"{1e3 * prof['total_forward_s']:.2f} ms forward + {1e3 * prof['total_backward_s']:.2f} ms backward "
          f"at batch {a.batch} ({a.batch / (prof['total_forward_s'] + prof['total_backward_s']):.0f} images/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
