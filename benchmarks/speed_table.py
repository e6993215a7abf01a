"""What each engineering choice in a training step is worth, against the plain step, in one run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/speed_table.py          # both runs, 6 rounds
    OPENBLAS_NUM_THREADS=1 python benchmarks/speed_table.py --json benchmarks/results/speed.json
    OPENBLAS_NUM_THREADS=1 python benchmarks/speed_table.py --quick  # a smoke run (seconds)

Two runs are measured, each as the command line trains it:
- default: 784-128-64-10, batch 32, momentum 0.95, lr 0.01, weight decay 3e-4;
- best (--preset best): 784-1024-1024-10, batch 256, momentum 0.9, lr 0.1, weight decay 1e-5,
  dropout (0.1, 0.3) and affine augmentation.

The plain step is mnist_ann's own (train_epoch's loop: X[batch], run_layers or dropout_forward,
cross_entropy_grad and cross_entropy, backward, add_weight_decay, the optimizer per array), timed
part by part. Each row changes one thing in it: a choice the module makes (skipping dX at the
first layer, float32, one BLAS thread, the batch size) or a trick it no longer makes (as
mnist_ann.py at 7c9161e wrote them: np.take, gradients written with out=, one flat array for
one optimizer call, one log_softmax for loss and gradient, Adam's folded constants).

Every variant runs the same batches in short blocks of steps (25 of the default run, 1 of the
best), the variants taking turns block by block, for several rounds. Other processes only ever
add time, so each variant's time is its best block: by the CPU clock, which counts only this
process's turns on a core (on a busy machine the wall clock's best block is a lottery), except
with two BLAS threads, whose CPU times add up and which the wall clock times. One BLAS thread
everywhere but in the rows about threads (set at run time through OpenBLAS). The verdict applies
the 10% rule: a choice pays if it saves at least 10% of the step; a row whose verdict differs
between the even and the odd rounds says it is too close to call.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import mnist_ann  # after the path: the repository root is not a package

PARTS = ("batch", "augment", "forward", "loss", "backward", "weight decay", "optimizer",
         "bookkeeping")
RUNS = {
    "default": {"layers": [784, 128, 64, 10], "batch": 32, "optimizer": "momentum", "lr": 0.01,
                "beta": 0.95, "weight_decay": 3e-4, "dropout": None, "augment": None,
                "steps": 400, "block": 25},
    "best": {"layers": [784, 1024, 1024, 10], "batch": 256, "optimizer": "momentum", "lr": 0.1,
             "beta": 0.9, "weight_decay": 1e-5, "dropout": (0.1, 0.3), "augment": "affine",
             "steps": 12, "block": 1},
}
ADAM_LR = 0.001
# Each row: (name, the plain side, the other side, the plain side's changes, the other side's).
# The ratio is the other side's time over the plain side's.
ROWS = [
    ("skip dX at the first layer", "every dX", "skip the first (mnist_ann)",
     {"skip_dX": False}, {}),
    ("BLAS threads", "1 thread (mnist_ann)", "2 threads", {}, {"threads": 2}),
    ("float32 against float64", "float64", "float32 (mnist_ann)", {"dtype": "float64"}, {}),
    ("batch size, per epoch", "the run's batch", "4 times larger", {}, {"batch_factor": 4}),
    ("np.take(mode='clip') for the batch", "X[batch] (mnist_ann)", "np.take", {},
     {"gather": "take"}),
    ("gradients into reused buffers (out=)", "fresh arrays (mnist_ann)", "out= buffers", {},
     {"buffers": "out"}),
    ("one flat array, one optimizer call", "per array (mnist_ann)", "flat, with out=", {},
     {"buffers": "flat"}),
    ("one log_softmax for loss and gradient", "two functions (mnist_ann)", "one function", {},
     {"loss": "one"}),
    ("Adam's constants folded", "derived (mnist_ann)", "folded", {"optimizer": "adam"},
     {"optimizer": "adam", "adam": "folded"}),
    ("all removed tricks together", "mnist_ann", "7c9161e's loop", {},
     {"gather": "take", "buffers": "flat", "loss": "one"}),
]
PLAIN = {"skip_dX": True, "threads": 1, "dtype": "float32", "batch_factor": 1, "gather": "index",
         "buffers": "fresh", "loss": "two", "optimizer": "momentum", "adam": "derived"}


# ---- The tricks mnist_ann.py no longer has, as it wrote them at 7c9161e ----------------------

def flat_views(params):
    """A copy of params in one flat array (P,), and views of it keyed and shaped like params."""
    flat = np.concatenate([value.ravel() for value in params.values()])
    views, start = {}, 0
    for name, value in params.items():
        views[name] = flat[start:start + value.size].reshape(value.shape)
        start += value.size
    return flat, views


def cross_entropy_and_grad(logits, y):
    """The loss (scalar) and dlogits (B, C) from one log-softmax."""
    log_probs = mnist_ann.log_softmax(logits)  # (B, C)
    rows = np.arange(len(y))
    dlogits = np.exp(log_probs)  # P, without computing the softmax again
    dlogits[rows, y] -= 1  # P - Y
    dlogits /= len(y)
    return -log_probs[rows, y].mean(), dlogits


def linear_backward_into(dZ, X, W, need_dX=True, dW=None, db=None):
    """linear_backward, filling dW and db in place when given."""
    dW = np.matmul(X.T, dZ, out=dW)  # (in, B) @ (B, out) -> (in, out)
    db = dZ.sum(axis=0, out=db)  # (B, out) -> (out,)
    dX = dZ @ W.T if need_dX else None  # (B, out) @ (out, in) -> (B, in)
    return dX, dW, db


def adam_step_folded(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam with decaying sums for m and v, and the constants folded into step_size and eps_t."""
    if not state:
        state = {"t": 0, "m": {n: np.zeros_like(g) for n, g in grads.items()},
                 "v": {n: np.zeros_like(g) for n, g in grads.items()}}
    t = state["t"] = state["t"] + 1
    scale = math.sqrt((1 - beta2 ** t) / (1 - beta2))
    step_size, eps_t = lr * (1 - beta1) / (1 - beta1 ** t) * scale, eps * scale
    for name, grad in grads.items():
        m, v = state["m"][name], state["v"][name]
        m *= beta1
        m += grad
        v *= beta2
        v += np.square(grad)
        denominator = np.sqrt(v)
        denominator += eps_t
        params[name] -= step_size * m / denominator
    return state


def backward_variant(params, cache, dlogits, skip_dX=True, grads=None):
    """mnist_ann.backward (or dropout_backward, when the cache holds masks) with two switches:
    skip_dX=False computes the first layer's dX too; grads, if given, are filled with out=."""
    filled = {} if grads is None else grads
    dZ = dlogits
    for layer in range(mnist_ann.num_layers(params), 0, -1):
        A_in, _, *mask = cache[layer - 1]
        W, b = f"W{layer}", f"b{layer}"
        dA_in, filled[W], filled[b] = linear_backward_into(
            dZ, A_in, params[W], need_dX=layer > 1 or not skip_dX,
            dW=None if grads is None else grads[W], db=None if grads is None else grads[b])
        if layer > 1:
            if mask:  # dropout: a dropped unit gets no gradient back
                dA_in = dA_in * mask[0]
            dZ = mnist_ann.relu_backward(dA_in, cache[layer - 2][1])
    return filled


# ---- BLAS threads at run time -------------------------------------------------------------

def blas_thread_setter():
    """A function that sets OpenBLAS's thread count while running, or None if none is found."""
    try:
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
        return lambda n: controller.limit(limits=n, user_api="blas")
    except ImportError:
        pass
    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libs.glob("*openblas*")) if libs.is_dir() else []:
        library = ctypes.CDLL(str(path))
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(library, name):
                return getattr(library, name)
    return None


# ---- One variant: the step, timed part by part ---------------------------------------------

class Variant:
    """One way of running the training step of a run, with its own weights, state and streams."""

    def __init__(self, run, choices, data):
        self.run, self.choices = run, choices
        self.batch = run["batch"] * choices["batch_factor"]
        X, y = data["X64"] if choices["dtype"] == "float64" else data["X"], data["y"]
        self.X, self.y = X, y
        params = mnist_ann.init_params(run["layers"], rng=np.random.default_rng(0))
        if choices["dtype"] == "float64":
            params = {name: value.astype(np.float64) for name, value in params.items()}
        self.params, self.grads = params, None
        if choices["buffers"] == "out":
            self.grads = {name: np.empty_like(value) for name, value in params.items()}
        if choices["buffers"] == "flat":
            self.flat_params, self.params = flat_views(params)
            self.flat_grads, self.grads = flat_views(params)
        self.state = {}
        self.streams(0)

    def streams(self, seed):
        """Dropout's and augmentation's random numbers, the same for every variant in a round."""
        self.dropout_rng = np.random.default_rng([seed, 1])
        self.augment_rng = np.random.default_rng([seed, 2])

    def optimizer(self):
        choices, run = self.choices, self.run
        if choices["optimizer"] == "adam":
            step = adam_step_folded if choices["adam"] == "folded" else mnist_ann.adam_step
            return step, ADAM_LR, {}
        return mnist_ann.momentum_step, run["lr"], {"beta": run["beta"]}

    def steps(self, order, n_steps):
        """Run n_steps steps on the rows in order; the seconds spent in each part (wall clock)."""
        choices, run, clock = self.choices, self.run, time.perf_counter
        X, y, B, params = self.X, self.y, self.batch, self.params
        step, lr, settings = self.optimizer()
        flat = choices["buffers"] == "flat"
        step_params = {"all": self.flat_params} if flat else params
        step_grads = {"all": self.flat_grads} if flat else None
        spent = dict.fromkeys(PARTS, 0.0)
        loss_sum = correct = 0.0
        for start in range(0, n_steps * B, B):
            t0 = clock()
            batch = order[start:start + B]
            if choices["gather"] == "take":
                X_batch = np.take(X, batch, axis=0, mode="clip")
                y_batch = np.take(y, batch, mode="clip")
            else:
                X_batch, y_batch = X[batch], y[batch]
            t1 = clock()
            if run["augment"]:
                X_batch = mnist_ann.augment_batch(X_batch, self.augment_rng, run["augment"])
            t2 = clock()
            if run["dropout"]:
                logits, cache = mnist_ann.dropout_forward(params, X_batch, run["dropout"],
                                                          self.dropout_rng)
            else:
                logits, cache = mnist_ann.run_layers(params, X_batch)
            t3 = clock()
            if choices["loss"] == "one":
                loss, dlogits = cross_entropy_and_grad(logits, y_batch)
            else:
                dlogits = mnist_ann.cross_entropy_grad(logits, y_batch)
                loss = mnist_ann.cross_entropy(logits, y_batch)
            t4 = clock()
            if choices["skip_dX"] and choices["buffers"] == "fresh":
                backward = mnist_ann.dropout_backward if run["dropout"] else mnist_ann.backward
                grads = backward(params, cache, dlogits)
            else:
                grads = backward_variant(params, cache, dlogits, choices["skip_dX"], self.grads)
            t5 = clock()
            penalty = mnist_ann.add_weight_decay(params, grads, run["weight_decay"])
            t6 = clock()
            self.state = step(step_params, step_grads or grads, self.state, lr, **settings)
            t7 = clock()
            loss_sum += float(loss) * len(y_batch) + float(penalty) * len(y_batch)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == y_batch))
            t8 = clock()
            for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5,
                                             t7 - t6, t8 - t7)):
                spent[part] += seconds
        if not math.isfinite(loss_sum):
            raise ArithmeticError(f"the loss exploded in {self.choices}")
        return spent


def epoch_extras(params, data):
    """The seconds of what train does once per epoch besides the steps: the weights' snapshot
    (copy_params) and the validation pass (evaluate on the validation set)."""
    started = time.process_time()  # CPU seconds, as the steps' (see rows_of)
    mnist_ann.copy_params(params)
    copied = time.process_time()
    mnist_ann.evaluate(params, data["X_val"], data["y_val"])
    return {"snapshot": copied - started, "validation": time.process_time() - copied}


# ---- The measurement: every variant in turn, round after round -----------------------------

def variant_key(changes):
    choices = {**PLAIN, **changes}
    return ",".join(f"{name}={choices[name]}" for name in PLAIN if choices[name] != PLAIN[name]) \
        or "plain"


def load_data(need_float64):
    X, y, _, _ = mnist_ann.load_mnist()
    X, y, X_val, y_val = mnist_ann.split_validation(X, y, 5000, 0, in_place=True)
    data = {"X": X, "y": y, "X_val": X_val, "y_val": y_val}
    if need_float64:
        data["X64"] = X.astype(np.float64)
    return data


def measure(run_names, rounds, steps_scale, set_threads, log=print):
    """{run: {"variants": {key: {"wall": [s/step per block], "cpu": [...], "parts": [...]}},
    "extras": [...], "run": {...}}}: each variant of each run once per round, in turn, its steps
    timed in blocks."""
    data = load_data(need_float64=True)
    plans = {}
    for name in run_names:
        run = {**RUNS[name], "steps": max(4, round(RUNS[name]["steps"] * steps_scale))}
        keys = {}
        for _, _, _, plain, other in ROWS:
            for changes in (plain, other):
                keys.setdefault(variant_key(changes), changes)
        variants = {key: Variant(run, {**PLAIN, **changes}, data) for key, changes in keys.items()}
        plans[name] = run, variants
        for variant in variants.values():  # a first step each: allocations, first calls
            run_variant(variant, np.arange(len(data["X"])), 1, set_threads)
    results = {name: {"variants": {key: {"wall": [], "cpu": [], "parts": [], "round": []}
                                   for key in variants}, "extras": []}
               for name, (_, variants) in plans.items()}
    for round_number in range(rounds):
        order = np.random.default_rng(round_number).permutation(len(data["X"]))
        for name, (run, variants) in plans.items():
            log(f"round {round_number + 1}/{rounds}: {name}, {len(variants)} variants")
            for variant in variants.values():
                variant.streams(round_number)
            # Short blocks of steps, each timed, the variants taking turns block by block (in
            # the opposite order every other block): the best block of each is the one least
            # disturbed by other processes, as timeit's best of many repeats.
            blocks = {key: blocks_of(run, variant) for key, variant in variants.items()}
            for index in range(max(len(starts) for starts, _ in blocks.values())):
                keys = list(variants) if (round_number + index) % 2 == 0 else list(variants)[::-1]
                for key in (key for key in keys if index < len(blocks[key][0])):
                    (starts, block), variant = blocks[key], variants[key]
                    wall, cpu, parts = run_variant(variant, order[starts[index] * variant.batch:],
                                                   block, set_threads)
                    scale = 1 / (block * variant.choices["batch_factor"])  # per run's batch
                    timed = results[name]["variants"][key]
                    timed["wall"].append(wall * scale)
                    timed["cpu"].append(cpu * scale)
                    timed["parts"].append({part: s * scale for part, s in parts.items()})
                    timed["round"].append(round_number)
            results[name]["extras"].append(epoch_extras(variants["plain"].params, data))
    for name, (run, _) in plans.items():
        results[name]["run"] = {**run, "dropout": run["dropout"] and list(run["dropout"]),
                                "steps_per_epoch": math.ceil(len(data["X"]) / run["batch"])}
    return results


def blocks_of(run, variant):
    """The first step of each of a variant's blocks in a round, and the block's length in steps."""
    factor = variant.choices["batch_factor"]
    block = max(1, min(run["block"], run["steps"]) // factor)
    return list(range(0, run["steps"] // factor - block + 1, block)), block


def run_variant(variant, order, n_steps, set_threads):
    threads = variant.choices["threads"]
    if threads != 1:
        if set_threads is None:
            return math.nan, math.nan, dict.fromkeys(PARTS, math.nan)
        set_threads(threads)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        parts = variant.steps(order, n_steps)
        return time.perf_counter() - wall, time.process_time() - cpu, parts
    finally:
        if threads != 1:
            set_threads(1)


# ---- What the numbers say -----------------------------------------------------------------

def judge(ratio):
    return "pays" if ratio <= 0.90 else "costs" if ratio >= 1.10 else "within"


def verdict(ratio, halves=()):
    """The 10% rule on a ratio of times (other side over plain side). If the ratio measured in
    the even rounds alone, or in the odd rounds alone, would judge otherwise, the row says that it
    is too close to call on this machine."""
    if not math.isfinite(ratio):
        return "not measured"
    if any(math.isfinite(half) and judge(half) != judge(ratio) for half in halves):
        return f"too close to call: {ratio:.2f} (halves {', '.join(f'{h:.2f}' for h in halves)})"
    if judge(ratio) == "pays":
        return f"pays: {1 - ratio:.0%} less time"
    if judge(ratio) == "costs":
        return f"costs: {ratio - 1:.0%} more time"
    return "within 10%: does not pay"


def best(values):
    finite = [value for value in values if math.isfinite(value)]
    return min(finite) if finite else math.nan


def median(values):
    finite = [value for value in values if math.isfinite(value)]
    return statistics.median(finite) if finite else math.nan


def rows_of(results):
    """One dict per row of the table, for every run measured.

    One thread: the CPU clock, which counts only this process's own turns on a core. On a busy
    machine the wall clock also counts the turns of others, and its best block is a lottery; the
    CPU clock's best blocks agree within a few percent. Two threads: the wall clock, since CPU
    time adds up both threads' and says nothing of speed."""
    rows = []
    for run_name, result in results.items():
        variants = result["variants"]
        for name, plain_label, other_label, plain, other in ROWS:
            a, b = variants[variant_key(plain)], variants[variant_key(other)]
            clock = "wall" if "threads" in {**plain, **other} else "cpu"

            def ratio(rounds=None, clock=clock, a=a, b=b):
                def times(timed):
                    return [t for t, r in zip(timed[clock], timed["round"], strict=True)
                            if rounds is None or r % 2 == rounds]
                return best(times(b)) / best(times(a))

            rows.append({
                "run": run_name, "choice": name, "plain": plain_label, "other": other_label,
                "clock": clock, "plain_ms": 1e3 * best(a[clock]), "other_ms": 1e3 * best(b[clock]),
                "ratio": ratio(), "halves": [ratio(0), ratio(1)],
                "ratio_wall": best(b["wall"]) / best(a["wall"]),
                "ratio_wall_median": median(b["wall"]) / median(a["wall"])})
            rows[-1]["verdict"] = verdict(rows[-1]["ratio"], rows[-1]["halves"])
    return rows


def profile_of(result):
    """Where the plain step's time goes: each part's least time per step over all blocks (wall
    clock, in µs: the part's least disturbed measurement), the step's least CPU time, and an
    epoch's CPU seconds: the steps at that rate, the validation pass and the snapshot."""
    plain = result["variants"]["plain"]
    parts = {part: 1e6 * best([block[part] for block in plain["parts"]]) for part in PARTS}
    steps = result["run"]["steps_per_epoch"]
    extras = {part: best([extra[part] for extra in result["extras"]])
              for part in ("snapshot", "validation")}
    return {"step_us": 1e6 * best(plain["cpu"]), "parts_us": parts,
            "epoch_s": {"steps": steps * best(plain["cpu"]), **extras}}


def fmt_ratio(value):
    return "-" if not math.isfinite(value) else f"{value:.2f}"


def table(rows):
    """The rows as a markdown table."""
    lines = [("| run | choice | plain side | other side | clock | plain ms/step | other ms/step "
              "| other / plain | (even, odd rounds) | (wall clock) | verdict (10% rule) |"),
             "|---|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(f"| {row['run']} | {row['choice']} | {row['plain']} | {row['other']} "
                     f"| {row['clock']} | {row['plain_ms']:.3f} | {row['other_ms']:.3f} "
                     f"| {fmt_ratio(row['ratio'])} "
                     f"| {', '.join(fmt_ratio(half) for half in row['halves'])} "
                     f"| {fmt_ratio(row['ratio_wall'])} | {row['verdict']} |")
    return "\n".join(lines)


def profile_table(profiles):
    """Where a step's time goes, and an epoch's, run by run, as two markdown tables."""
    names = list(profiles)
    lines = ["| part of a step | " + " | ".join(f"{name}: µs | share" for name in names) + " |",
             "|---|" + "---:|---:|" * len(names)]
    for part in PARTS:
        cells = []
        for name in names:
            parts = profiles[name]["parts_us"]
            spent, total = parts[part], sum(parts.values())
            cells.append(f"{spent:.0f} | {spent / total:.0%}")
        lines.append(f"| {part} | " + " | ".join(cells) + " |")
    lines.append("| the parts' sum | " + " | ".join(
        f"{sum(profiles[name]['parts_us'].values()):.0f} | 100%" for name in names) + " |")
    lines.append("| the whole step's least CPU time | " + " | ".join(
        f"{profiles[name]['step_us']:.0f} | " for name in names) + " |")
    lines += ["", "| an epoch (CPU) | steps, s | validation, s | snapshot, ms | steps' share |",
              "|---|---:|---:|---:|---:|"]
    for name in names:
        epoch = profiles[name]["epoch_s"]
        lines.append(f"| {name} | {epoch['steps']:.3f} | {epoch['validation']:.3f} "
                     f"| {1e3 * epoch['snapshot']:.2f} "
                     f"| {epoch['steps'] / sum(epoch.values()):.0%} |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/speed_table.py",
                                     description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS),
                        help="the runs to measure")
    parser.add_argument("--rounds", type=int, default=6,
                        help="every variant this many times, in turn")
    parser.add_argument("--steps-scale", type=float, default=1.0,
                        help="steps per variant and round, as a multiple of the defaults "
                             "(400 and 12), timed in blocks of 25 and 1 steps")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: --rounds 1 --steps-scale 0.05 (numbers mean nothing)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps_scale = 1, 0.05
    return args


def main(argv=None, log=None):
    args = parse_args(argv)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        log("note: OPENBLAS_NUM_THREADS is not 1; mnist_ann sets it only if unset")
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.UTC)
    results = measure(args.runs, args.rounds, args.steps_scale, blas_thread_setter(), log)
    rows = rows_of(results)
    profiles = {name: profile_of(result) for name, result in results.items()}
    about = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": "OPENBLAS_NUM_THREADS=1 python benchmarks/speed_table.py "
                   + " ".join(sys.argv[1:] if argv is None else argv),
        "rounds": args.rounds, "steps_per_measurement": {
            name: result["run"]["steps"] for name, result in results.items()},
        "machine": {"cpus": os.cpu_count(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "numpy": np.__version__,
                    "processor": processor()},
    }
    print(f"{about['date']}; {args.rounds} round(s); {about['machine']['cpus']} CPUs, load average "
          f"{about['machine']['load_average_before'][0]} before and "
          f"{about['machine']['load_average_after'][0]} after; numpy {np.__version__}.")
    print("Each time is a variant's best block of steps: its CPU time with one thread, its wall "
          "time with two (rows_of says why); each part of a step is its least wall time over the "
          "plain step's blocks.\n")
    print(profile_table(profiles))
    print()
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**about, "runs": {
            name: result["run"] for name, result in results.items()}, "profiles": profiles,
            "rows": rows, "raw": raw_times(results)}, indent=1) + "\n")
    return 0


def raw_times(results):
    """Every block's wall and CPU seconds per step, in µs, variant by variant (for the record)."""
    return {name: {key: {clock: [round(1e6 * seconds, 2) for seconds in timed[clock]]
                         for clock in ("wall", "cpu")}
                   for key, timed in result["variants"].items()}
            for name, result in results.items()}


def processor():
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
