"""Time the default run's training epochs of mnist_ann.py at another commit against the working tree's, alternately.

Each round trains each version for a few epochs of the default recipe, in its own process, one BLAS thread:

    python benchmarks/compare_commits.py 417bfad --rounds 3 --epochs 3

It prints every epoch's seconds and the best epoch of each version per round. Other processes on a shared
machine only add time, so compare the best epochs of the same round.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = """
import sys
import numpy as np
import mnist_ann
X, y, _, _ = mnist_ann.load_mnist()
X, y, _, _ = mnist_ann.split_validation(X, y, 5000, 0, in_place=True)
params = mnist_ann.init_params([784, 128, 64, 10], rng=np.random.default_rng(0))
# Before issue 11, train took the optimizer's name; since, its step function.
optimizer = "momentum" if hasattr(mnist_ann, "check_softmax") else mnist_ann.momentum_step
history = mnist_ann.train(params, X, y, optimizer=optimizer, lr=0.01, epochs=int(sys.argv[1]), batch_size=32,
                          weight_decay=3e-4, beta=0.95)
print(" ".join(f"{seconds:.3f}" for seconds in history["seconds"]))
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
    return [float(seconds) for seconds in result.stdout.split()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare the working tree with, e.g. 417bfad")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as parent:
        versions = {args.commit: version_folder(args.commit, parent), "working tree": ROOT}
        for round_number in range(1, args.rounds + 1):
            for name, folder in versions.items():
                seconds = epoch_seconds(folder, args.epochs)
                print(f"round {round_number}  {name:14} epochs {' '.join(f'{s:.3f}' for s in seconds)}  "
                      f"best {min(seconds):.3f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
