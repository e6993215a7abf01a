"""Time the default run's training epochs of mnist_ann.py at another commit against the working tree's, alternately.

Each round trains each version for a few epochs of the default recipe, in its own process, one BLAS thread:

    python benchmarks/compare_commits.py 417bfad --rounds 3 --epochs 3

It prints every epoch's seconds, the best epoch of each version per round and its CPU seconds per epoch,
then a summary. The two versions take turns, and which goes first alternates from round to round, so that a
machine growing busier does not favour either. Other processes on a shared machine only add time, so compare
the best epochs of the same round; the CPU clock, which counts only the process's own turns, is the steadier
figure when the machine is busy.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = """
import sys
import time
import numpy as np
import mnist_ann
X, y, _, _ = mnist_ann.load_mnist()
X, y, _, _ = mnist_ann.split_validation(X, y, 5000, 0, in_place=True)
params = mnist_ann.init_params([784, 128, 64, 10], rng=np.random.default_rng(0))
# Before issue 11, train took the optimizer's name; since, its step function.
optimizer = "momentum" if hasattr(mnist_ann, "check_softmax") else mnist_ann.momentum_step
cpu = time.process_time()
history = mnist_ann.train(params, X, y, optimizer=optimizer, lr=0.01, epochs=int(sys.argv[1]), batch_size=32,
                          weight_decay=3e-4, beta=0.95)
cpu = (time.process_time() - cpu) / int(sys.argv[1])
print(" ".join(f"{seconds:.3f}" for seconds in history["seconds"]), f"cpu {cpu:.3f}")
"""


def version_folder(commit, parent):
    """A folder holding mnist_ann.py as it was at commit, with the repository's data beside it."""
    folder = Path(parent) / commit
    folder.mkdir()
    source = subprocess.run(["git", "show", f"{commit}:mnist_ann.py"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    (folder / "mnist_ann.py").write_text(source)
    (folder / "data").symlink_to(ROOT / "data")
    return folder


def epoch_seconds(folder, epochs):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", ONE_RUN, str(epochs)], cwd=folder, env=env, capture_output=True,
                            text=True, check=True)
    *seconds, _, cpu = result.stdout.split()
    return [float(s) for s in seconds], float(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare the working tree with, e.g. 417bfad")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as parent:
        versions = {args.commit: version_folder(args.commit, parent), "working tree": ROOT}
        bests, cpus = {name: [] for name in versions}, {name: [] for name in versions}
        for round_number in range(1, args.rounds + 1):
            names = list(versions) if round_number % 2 else list(versions)[::-1]  # take turns first
            for name in names:
                seconds, cpu = epoch_seconds(versions[name], args.epochs)
                bests[name].append(min(seconds))
                cpus[name].append(cpu)
                print(f"round {round_number}  {name:14} epochs {' '.join(f'{s:.3f}' for s in seconds)}  "
                      f"best {min(seconds):.3f} s  CPU {cpu:.3f} s/epoch", flush=True)
    old, new = bests[args.commit], bests["working tree"]
    print(f"best epoch over all rounds: {args.commit} {min(old):.3f} s, working tree {min(new):.3f} s "
          f"(working tree / {args.commit}: {min(new) / min(old):.3f})")
    print(f"median of the rounds' best epochs: {statistics.median(old):.3f} s and {statistics.median(new):.3f} s "
          f"({statistics.median(new) / statistics.median(old):.3f}); the working tree was faster in "
          f"{sum(n < o for o, n in zip(old, new))} of {len(old)} rounds")
    print(f"least CPU per epoch: {min(cpus[args.commit]):.3f} s and {min(cpus['working tree']):.3f} s "
          f"({min(cpus['working tree']) / min(cpus[args.commit]):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
