"""Where one training step's time goes: each part of mnist_ann's training loop, timed separately.

    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py  # batch 32, momentum 0.95, 3 epochs
    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py --optimizer adam

The loop is train_epoch's (the plain step of benchmarks/speed_table.py), with a clock between
the parts: gathering the batch, the forward pass, the loss and its gradient, the backward pass,
weight decay (3e-4, as the default run), the optimizer step and the bookkeeping (loss sum and
correct count). It prints microseconds per step for each part, epoch by epoch. What each
engineering choice is worth, against the plain step, is speed_table.py's question.
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed_table  # after the path: benchmarks/ is not a package

PARTS = speed_table.PARTS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--optimizer", choices=["momentum", "adam"], default="momentum")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    data = speed_table.load_data(need_float64=False)
    run = {**speed_table.RUNS["default"], "batch": args.batch_size}
    variant = speed_table.Variant(run, {**speed_table.PLAIN, "optimizer": args.optimizer}, data)
    steps, rng = math.ceil(len(data["X"]) / args.batch_size), np.random.default_rng(0)
    print(f"{args.optimizer}, batch {args.batch_size}, {steps} steps per epoch; "
          "microseconds per step:")
    for epoch in range(1, args.epochs + 1):
        spent = variant.steps(rng.permutation(len(data["X"])), steps)
        total = sum(spent.values())
        print(f"epoch {epoch}: {total / steps * 1e6:4.0f} in all = "
              + " + ".join(f"{part} {seconds / steps * 1e6:.0f}" for part, seconds in spent.items()
                           if part != "augment"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
