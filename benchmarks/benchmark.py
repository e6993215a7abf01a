"""Benchmark: mnist_ann against scikit-learn and PyTorch, same network, same data, one run.

    python benchmarks/benchmark.py            # every system found, batch 32 and 128, SGD and Adam
    python benchmarks/benchmark.py --quick    # a smoke run: 1 round of 2 epochs on 10,000 training images
    python benchmarks/benchmark.py --help     # every option

Every system trains the 784-128-64-10 ReLU network in float32 with softmax cross-entropy
on MNIST from mnist_ann.load_mnist() (60,000 training images, 10,000 test images), at a
constant learning rate: SGD with momentum 0.95 (no Nesterov, lr 0.01) or Adam (lr 0.001).
Each (system, optimizer, batch size) runs in its own subprocess with the BLAS and OpenMP
thread counts pinned, so that its peak memory (VmHWM, the dataset included) is its own.
Every job runs once per round (3 rounds by default), and its epochs from all rounds are pooled.

The GEMM floor is the time of this network's matrix products alone: per batch 3 forward
and 5 backward products (the first layer needs no dX), over ceil(N / B) batches of B rows.
The peers are optional (pip install -r benchmarks/requirements.txt); a missing one is
reported, not measured.
"""

import argparse
import importlib.metadata
import importlib.util
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mnist_ann  # after the path: the repository root is not a package

LAYER_SIZES = [784, 128, 64, 10]
SETTINGS = {"sgd": {"lr": 0.01, "momentum": 0.95}, "adam": {"lr": 0.001}}
SYSTEMS = {"mnist_ann": "numpy", "scikit-learn": "sklearn", "pytorch": "torch", "floor": "numpy"}  # what each needs
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---- One measurement, in its own subprocess ----------------------------------

def train_mnist_ann(job, X, y, X_test, y_test):
    """mnist_ann.train's own per-epoch seconds (no validation set, so no evaluation inside them)."""
    params = mnist_ann.init_params(LAYER_SIZES, rng=np.random.default_rng(0))
    sgd = job["optimizer"] == "sgd"
    extra = {"beta": SETTINGS["sgd"]["momentum"]} if sgd else {}
    cpu = time.process_time()
    step = mnist_ann.momentum_step if sgd else mnist_ann.adam_step
    history = mnist_ann.train(params, X, y, optimizer=step, lr=SETTINGS[job["optimizer"]]["lr"], schedule="constant",
                              epochs=job["epochs"], batch_size=job["batch_size"], seed=0, **extra)
    cpu = time.process_time() - cpu
    return history["seconds"], cpu, mnist_ann.accuracy(mnist_ann.predict(params, X_test), y_test)


def train_sklearn(job, X, y, X_test, y_test):
    """MLPClassifier: one partial_fit call (one shuffled epoch, its input checks included) per epoch, each timed."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    settings = SETTINGS[job["optimizer"]]
    model = MLPClassifier(hidden_layer_sizes=LAYER_SIZES[1:-1], solver=job["optimizer"], alpha=0.0,
                          batch_size=job["batch_size"], learning_rate_init=settings["lr"],
                          momentum=settings.get("momentum", 0.9), nesterovs_momentum=False,
                          max_iter=job["epochs"], shuffle=True, early_stopping=False,
                          # a RandomState, not an int: partial_fit would re-seed an int and repeat one order
                          random_state=np.random.RandomState(0))
    seconds, cpu = [], time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(job["epochs"]):
            started = time.perf_counter()
            model.partial_fit(X, y, classes=np.arange(LAYER_SIZES[-1]))
            seconds.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    assert model.coefs_[0].dtype == np.float32, "scikit-learn did not train in float32"
    return seconds, cpu, model.score(X_test, y_test)


def train_pytorch(job, X, y, X_test, y_test):
    """A plain eager loop: nn.Sequential, F.cross_entropy, torch.optim.SGD or Adam, from mnist_ann's initial weights."""
    import torch

    torch.set_num_threads(job["threads"])
    params = mnist_ann.init_params(LAYER_SIZES, rng=np.random.default_rng(0))
    linears = [torch.nn.Linear(n_in, n_out) for n_in, n_out in itertools.pairwise(LAYER_SIZES)]
    with torch.no_grad():
        for layer, linear in enumerate(linears, start=1):
            linear.weight.copy_(torch.from_numpy(params[f"W{layer}"].T))  # torch stores (out, in)
            linear.bias.zero_()
    model = torch.nn.Sequential(linears[0], torch.nn.ReLU(), linears[1], torch.nn.ReLU(), linears[2])
    settings = SETTINGS[job["optimizer"]]
    optimizer = (torch.optim.SGD(model.parameters(), lr=settings["lr"], momentum=settings["momentum"])
                 if job["optimizer"] == "sgd" else torch.optim.Adam(model.parameters(), lr=settings["lr"]))
    X, y, generator = torch.from_numpy(X), torch.from_numpy(y), torch.Generator().manual_seed(0)
    seconds, cpu = [], time.process_time()
    for _ in range(job["epochs"]):
        started = time.perf_counter()
        for batch in torch.randperm(len(X), generator=generator).split(job["batch_size"]):
            loss = torch.nn.functional.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return seconds, cpu, mnist_ann.accuracy(predicted, y_test)


def gemm_floor(job, X, y, X_test, y_test):
    """Seconds of the 8 matrix products of every batch, into preallocated outputs; no accuracy."""
    B, params = job["batch_size"], mnist_ann.init_params(LAYER_SIZES)
    W = [params[f"W{layer}"] for layer in (1, 2, 3)]
    A = [np.ascontiguousarray(X[:B])] + [np.ones((B, n), np.float32) for n in LAYER_SIZES[1:]]  # A[3]: dlogits
    dW = [np.empty_like(w) for w in W]
    seconds, cpu = [], time.process_time()
    for _ in range(job["epochs"]):
        started = time.perf_counter()
        for _ in range(math.ceil(len(X) / B)):
            for layer in (0, 1, 2):
                np.matmul(A[layer], W[layer], out=A[layer + 1])  # forward: (B, in) @ (in, out) -> (B, out)
            for layer in (2, 1, 0):
                np.matmul(A[layer].T, A[layer + 1], out=dW[layer])  # dW: (in, B) @ (B, out) -> (in, out)
                if layer > 0:
                    np.matmul(A[layer + 1], W[layer].T, out=A[layer])  # dX: (B, out) @ (out, in) -> (B, in)
        seconds.append(time.perf_counter() - started)
    return seconds, time.process_time() - cpu, None


TRAINERS = {"mnist_ann": train_mnist_ann, "scikit-learn": train_sklearn, "pytorch": train_pytorch, "floor": gemm_floor}


def peak_memory_mib():
    """This process's peak resident memory: VmHWM from /proc, else ru_maxrss (KiB on Linux)."""
    status = Path("/proc/self/status")
    if status.exists():
        return next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmHWM:")) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def thread_pools(job):
    """The thread pools this process uses, as threadpoolctl sees them (without it, the pinned variable)."""
    if importlib.util.find_spec("threadpoolctl"):
        from threadpoolctl import threadpool_info

        pools = {f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info()}
    else:
        pools = {f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"}
    if job["system"] == "pytorch":
        import torch

        pools.add(f"torch {torch.get_num_threads()}")
    return ", ".join(sorted(pools))


def run_job(job):
    """Load the data, train, and print one JSON line: seconds per epoch, accuracy, peak memory, threads."""
    X, y, X_test, y_test = mnist_ann.load_mnist()
    X, y = X[:job["train_size"]], y[:job["train_size"]]
    # Each trainer returns wall seconds per epoch and the CPU seconds of all its epochs: on a shared
    # machine the wall clock also counts other processes' turns, the CPU clock only this one's.
    seconds, cpu, test_accuracy = TRAINERS[job["system"]](job, X, y, X_test, y_test)
    print(json.dumps({**job, "seconds": seconds, "cpu_per_epoch": cpu / job["epochs"], "accuracy": test_accuracy,
                      "peak_mib": peak_memory_mib(), "pools": thread_pools(job)}))


# ---- The run: one subprocess per measurement, then the table -----------------

def measure(job):
    """Run one job in a fresh interpreter with the thread variables pinned: its result, or its error."""
    env = {**os.environ, **{name: str(job["threads"]) for name in THREAD_VARIABLES}}
    command = [sys.executable, __file__, "--job", json.dumps(job)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {**job, "error": (done.stderr.strip().splitlines() or ["no message"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def plan(args):
    """The jobs to run, and the systems left out because their package is not installed."""
    installed = [s for s in args.systems if importlib.util.find_spec(SYSTEMS[s])]
    common = {"epochs": args.epochs, "train_size": args.train_size, "threads": args.threads}
    jobs = []
    for batch_size in args.batch_sizes:
        if "floor" in installed:
            jobs.append({"system": "floor", "optimizer": "-", "batch_size": batch_size, **common})
        jobs += [{"system": system, "optimizer": optimizer, "batch_size": batch_size, **common}
                 for optimizer in args.optimizers for system in installed if system != "floor"]
    return jobs, [s for s in args.systems if s not in installed]


def table(results):
    """A markdown table, one row per measurement; its epochs over mnist_ann's with the same settings."""
    ours = {(r["optimizer"], r["batch_size"]): r["seconds"]
            for r in results if r["system"] == "mnist_ann" and "error" not in r}
    header = ("| system | optimizer | batch | s/epoch min | s/epoch median | time / mnist_ann (min, median) "
              "| CPU s/epoch | test accuracy | peak MiB | threads |")
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        name = "GEMM floor" if r["system"] == "floor" else r["system"]
        if "error" in r:
            lines.append(f"| {name} | {r['optimizer']} | {r['batch_size']} | failed: {r['error']} |||||||")
            continue
        median = statistics.median(r["seconds"])
        reference = ours.get(("sgd" if r["system"] == "floor" else r["optimizer"], r["batch_size"]))
        ratio = (f"{min(r['seconds']) / min(reference):.2f}, {median / statistics.median(reference):.2f}"
                 if reference else "-")
        accuracy = "-" if r["accuracy"] is None else f"{r['accuracy']:.2%}"
        lines.append(f"| {name} | {r['optimizer']} | {r['batch_size']} | {min(r['seconds']):.3f} | {median:.3f} "
                     f"| {ratio} | {r['cpu_per_epoch']:.3f} | {accuracy} | {r['peak_mib']:.0f} | {r['pools']} |")
    return "\n".join(lines)


def over_floor(results):
    """mnist_ann's epochs over the GEMM floor's (min, median), per optimizer and batch size."""
    floors = {r["batch_size"]: r["seconds"] for r in results if r["system"] == "floor" and "error" not in r}
    return ", ".join(f"{r['optimizer']} batch {r['batch_size']} "
                     f"{min(r['seconds']) / min(floors[r['batch_size']]):.2f}x, "
                     f"{statistics.median(r['seconds']) / statistics.median(floors[r['batch_size']]):.2f}x"
                     for r in results if r["system"] == "mnist_ann" and "error" not in r
                     and r["batch_size"] in floors) or "-"


def versions():
    found = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for package in ("scikit-learn", "torch", "threadpoolctl"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/benchmark.py", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement and round")
    parser.add_argument("--rounds", type=int, default=3, help="measure every system this many times, in turn")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS), metavar="SYSTEM",
                        help=f"any of {', '.join(SYSTEMS)}")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128], metavar="B", help="batch sizes")
    parser.add_argument("--optimizers", nargs="+", default=list(SETTINGS), choices=list(SETTINGS), metavar="OPTIMIZER",
                        help="sgd (with momentum) and/or adam")
    parser.add_argument("--threads", type=int, default=1, help="BLAS, OpenMP and torch threads of every system")
    parser.add_argument("--train-size", type=int, default=60000, help="train on the first this many images")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --epochs 2 --rounds 1 --train-size 10000")
    parser.add_argument("--job", help=argparse.SUPPRESS)  # internal: run one measurement (JSON) and print it
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.rounds, args.train_size = 2, 1, 10000
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.job:
        return run_job(json.loads(args.job))
    jobs, missing = plan(args)
    # Round after round, each job once per round: a slow spell on a shared machine then lands on
    # every system alike, instead of on whichever one was running (seen: one job 50% slower).
    rounds = []
    for round_number in range(1, args.rounds + 1):
        rounds.append([])
        for number, job in enumerate(jobs, start=1):
            print(f"[round {round_number}/{args.rounds}, {number}/{len(jobs)}] {job['system']} {job['optimizer']} "
                  f"batch {job['batch_size']}", file=sys.stderr, flush=True)
            rounds[-1].append(measure(job))
    results = [pool(runs) for runs in zip(*rounds)]
    print(f"{args.rounds} round(s) of {args.epochs} epochs on {args.train_size:,} training images, "
          f"tested on 10,000; {args.threads} thread(s) per system on {os.cpu_count()} CPUs; {versions()}.")
    print(f"SGD: momentum {SETTINGS['sgd']['momentum']}, lr {SETTINGS['sgd']['lr']}; Adam: lr {SETTINGS['adam']['lr']}; "
          "constant learning rate (mnist_ann's own default is cosine). scikit-learn: partial_fit once per epoch, "
          "each call timed. Min and median: over the epochs of all rounds; on a shared machine other processes "
          "only ever add time, so the min is the steadiest figure. CPU s/epoch: the mean CPU time of "
          "the epochs (robust to a busy machine). Peak MiB: each system's own process, the interpreter, "
          "libraries and full dataset included.\n")
    print(table(results))
    print(f"\nmnist_ann / GEMM floor (min, median epochs): {over_floor(results)}")
    for system in missing:
        print(f"{system}: not installed, so not measured (pip install -r benchmarks/requirements.txt)")
    return 0


def pool(runs):
    """One job's runs from every round as one result: all their epochs, the mean CPU time, the highest peak."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    return {**runs[0], "seconds": [s for run in runs for s in run["seconds"]],
            "cpu_per_epoch": statistics.mean(run["cpu_per_epoch"] for run in runs),
            "peak_mib": max(run["peak_mib"] for run in runs)}


if __name__ == "__main__":
    sys.exit(main())
