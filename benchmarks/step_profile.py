"""Where one training step's time goes: each part of mnist_ann's batch loop, timed separately.

    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py               # batch 32, momentum 0.95, 3 epochs
    OPENBLAS_NUM_THREADS=1 python benchmarks/step_profile.py --optimizer adam

The loop is train_epoch's, written out with a clock between the parts: gathering the batch, the
forward pass, the loss and its gradient, the backward pass, the optimizer step and the bookkeeping
(loss sum and correct count). It prints microseconds per step for each part, epoch by epoch.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mnist_ann  # after the path: the repository root is not a package

PARTS = ("batch", "forward", "loss", "backward", "step", "bookkeeping")


def profile_epoch(params, X, y, batch_size, step, state, settings, rng):
    """One epoch of train_epoch's loop; returns the state and the seconds spent in each part."""
    spent, clock = dict.fromkeys(PARTS, 0.0), time.perf_counter
    batches = mnist_ann.iterate_minibatches(X, y, batch_size, rng)
    flat_params, views = mnist_ann.flat_views(params)
    flat_grads, grads = mnist_ann.flat_views(params)
    all_params, all_grads = {"all": flat_params}, {"all": flat_grads}
    while True:
        started = clock()
        try:
            X_batch, y_batch = next(batches)
        except StopIteration:
            mnist_ann.copy_into(params, views)
            return state, spent
        gathered = clock()
        logits, cache = mnist_ann.forward(views, X_batch)
        forwarded = clock()
        loss, dlogits = mnist_ann.cross_entropy_and_grad(logits, y_batch)
        lossed = clock()
        mnist_ann.backward(views, cache, dlogits, grads=grads)
        backwarded = clock()
        state = step(all_params, all_grads, state, settings["lr"], **settings["extra"])
        stepped = clock()
        float(loss), int(np.count_nonzero(logits.argmax(axis=1) == y_batch))
        done = clock()
        for part, seconds in zip(PARTS, (gathered - started, forwarded - gathered, lossed - forwarded,
                                         backwarded - lossed, stepped - backwarded, done - stepped)):
            spent[part] += seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--optimizer", choices=["momentum", "adam"], default="momentum")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    X, y, _, _ = mnist_ann.load_mnist()
    params = mnist_ann.init_params([784, 128, 64, 10], rng=np.random.default_rng(0))
    settings = ({"lr": 0.01, "extra": {"beta": 0.95}} if args.optimizer == "momentum"
                else {"lr": 0.001, "extra": {}})
    step, state, rng = mnist_ann.OPTIMIZERS[args.optimizer], {}, np.random.default_rng(0)
    steps = -(-len(X) // args.batch_size)
    print(f"{args.optimizer}, batch {args.batch_size}, {steps} steps per epoch; microseconds per step:")
    for epoch in range(1, args.epochs + 1):
        state, spent = profile_epoch(params, X, y, args.batch_size, step, state, settings, rng)
        total = sum(spent.values())
        print(f"epoch {epoch}: {total / steps * 1e6:4.0f} in all = "
              + " + ".join(f"{part} {seconds / steps * 1e6:.0f}" for part, seconds in spent.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
