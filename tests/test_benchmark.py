"""The benchmark scripts run end to end and report what they measured (their figures are never asserted),
and the variants speed_table.py times do the same arithmetic as mnist_ann's plain step."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import benchmark  # after the path: benchmarks/ is not a package
import speed_table

import mnist_ann

ROOT = Path(__file__).resolve().parent.parent


def test_a_tiny_benchmark_prints_one_row_per_measurement(capsys):
    argv = ["--systems", "floor", "mnist_ann", "--batch-sizes", "128", "--optimizers", "sgd",
            "--epochs", "1", "--rounds", "2", "--train-size", "1000"]
    assert benchmark.main(argv) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("| GEMM floor", "| mnist_ann"))]
    assert len(rows) == 2, out
    assert "| mnist_ann | sgd | 128 |" in rows[1] and "| 1.00, 1.00 |" in rows[1]  # ours over ours
    assert "openblas 1" in rows[1] or "OPENBLAS_NUM_THREADS=1" in rows[1]
    assert "2 round(s) of 1 epochs on 1,000 training images" in out


def test_rounds_are_pooled():
    runs = [{"system": "mnist_ann", "seconds": [1.0, 2.0], "cpu_per_epoch": 1.0, "peak_mib": 300, "accuracy": 0.9},
            {"system": "mnist_ann", "seconds": [3.0], "cpu_per_epoch": 2.0, "peak_mib": 310, "accuracy": 0.9}]
    pooled = benchmark.pool(runs)
    assert pooled["seconds"] == [1.0, 2.0, 3.0] and pooled["cpu_per_epoch"] == 1.5 and pooled["peak_mib"] == 310
    assert benchmark.pool([runs[0], {"system": "mnist_ann", "error": "boom"}])["error"] == "boom"


def test_the_step_profile_accounts_for_every_part(capsys):
    import step_profile

    assert step_profile.main(["--batch-size", "6000", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "momentum, batch 6000, 10 steps per epoch" in out
    assert all(f"{part} " in out for part in step_profile.PARTS if part != "augment")


# ---- speed_table.py -----------------------------------------------------------------------------

def small_data(n=1100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return {"X": X, "y": y, "X64": X.astype(np.float64), "X_val": X[:64], "y_val": y[:64]}


SMALL_RUNS = {"default": speed_table.RUNS["default"],
              "best": {**speed_table.RUNS["best"], "layers": [784, 48, 24, 10]}}  # dropout, augmented


def weights_after(run, changes, data, steps=4):
    variant = speed_table.Variant(run, {**speed_table.PLAIN, **changes}, data)
    variant.steps(np.random.default_rng(0).permutation(len(data["X"])), steps)
    return {name: np.asarray(value, dtype=np.float64) for name, value in variant.params.items()}


@pytest.mark.parametrize("run", SMALL_RUNS)
@pytest.mark.parametrize("changes", [{"gather": "take"}, {"buffers": "out"}, {"buffers": "flat"},
                                     {"loss": "one"}, {"skip_dX": False},
                                     {"gather": "take", "buffers": "flat", "loss": "one"}],
                         ids=speed_table.variant_key)
def test_each_trick_trains_the_same_weights_as_the_plain_step(run, changes):
    data = small_data()
    plain = weights_after(SMALL_RUNS[run], {}, data)
    other = weights_after(SMALL_RUNS[run], changes, data)
    assert plain.keys() == other.keys()
    moved = weights_after(SMALL_RUNS[run], {}, data, steps=0)
    for name in plain:
        np.testing.assert_allclose(other[name], plain[name], rtol=1e-5, atol=1e-6)
        assert not np.array_equal(plain[name], moved[name]), f"{name} did not train"


def test_the_folded_adam_is_the_derived_adam():
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}
    folded = {name: value.copy() for name, value in params.items()}
    derived_state = folded_state = {}
    for _ in range(20):
        grads = {name: rng.standard_normal(value.shape) for name, value in params.items()}
        derived_state = mnist_ann.adam_step(params, grads, derived_state, lr=0.01)
        folded_state = speed_table.adam_step_folded(folded, grads, folded_state, lr=0.01)
    for name, value in params.items():
        np.testing.assert_allclose(folded[name], value, rtol=1e-12)


def test_a_step_is_timed_part_by_part():
    data = small_data()
    variant = speed_table.Variant(SMALL_RUNS["best"], speed_table.PLAIN, data)
    spent = variant.steps(np.arange(len(data["X"])), 2)
    assert set(spent) == set(speed_table.PARTS) and all(seconds > 0 for seconds in spent.values())


def test_the_verdict_applies_the_10_percent_rule():
    assert speed_table.verdict(0.89) == "pays: 11% less time"
    assert speed_table.verdict(0.95) == speed_table.verdict(1.05) == "within 10%: does not pay"
    assert speed_table.verdict(1.25) == "costs: 25% more time"
    assert speed_table.verdict(0.80, halves=(0.78, 0.82)) == "pays: 20% less time"
    assert speed_table.verdict(0.89, halves=(0.88, 0.93)) == "too close to call: 0.89 (halves 0.88, 0.93)"
    assert speed_table.verdict(math.nan) == "not measured"


def test_rows_pair_each_choice_with_its_plain_side_and_clock():
    def timed(seconds):
        return {"wall": [seconds, 2 * seconds], "cpu": [seconds, 3 * seconds], "round": [0, 1]}

    keys = {speed_table.variant_key(changes) for row in speed_table.ROWS for changes in row[3:]}
    assert "plain" in keys and speed_table.variant_key({"gather": "take"}) == "gather=take"
    variants = {key: timed(1.0) for key in keys}
    variants["gather=take"] = timed(0.5)  # np.take twice as fast, say
    variants["threads=2"] = {"wall": [0.8, 0.9], "cpu": [2.0, 2.0], "round": [0, 1]}
    rows = {row["choice"]: row for row in speed_table.rows_of({"default": {"variants": variants}})}
    assert len(rows) == len(speed_table.ROWS)
    take = rows["np.take(mode='clip') for the batch"]
    assert take["clock"] == "cpu" and take["ratio"] == 0.5 and take["halves"] == [0.5, 0.5]
    assert take["verdict"] == "pays: 50% less time"
    threads = rows["BLAS threads"]
    assert threads["clock"] == "wall" and threads["ratio"] == 0.8 and threads["halves"] == [0.8, 0.45]
    assert rows["skip dX at the first layer"]["verdict"] == "within 10%: does not pay"


def test_a_quick_run_prints_both_tables_and_writes_its_json(tmp_path, capsys):
    written = tmp_path / "speed.json"
    assert speed_table.main(["--quick", "--runs", "default", "--json", str(written)],
                            log=lambda text: None) == 0
    out = capsys.readouterr().out
    assert "| part of a step | default: µs | share |" in out
    assert all(f"| {part} |" in out for part in speed_table.PARTS)
    rows = [line for line in out.splitlines() if line.startswith("| default | ")]
    assert len(rows) == len(speed_table.ROWS) + 1, out  # and the epoch's row
    results = json.loads(written.read_text())
    assert [row["choice"] for row in results["rows"]] == [row[0] for row in speed_table.ROWS]
    assert results["command"].endswith("--quick --runs default --json " + str(written))


def test_the_stored_results_hold_every_row_and_part_that_notebook_09_reads():
    stored = json.loads((ROOT / "benchmarks" / "results" / "speed_table.json").read_text())
    assert [(row["run"], row["choice"]) for row in stored["rows"]] == [
        (run, row[0]) for run in speed_table.RUNS for row in speed_table.ROWS]
    assert all(set(profile["parts_us"]) == set(speed_table.PARTS)
               for profile in stored["profiles"].values())
    assert stored["command"].startswith("OPENBLAS_NUM_THREADS=1 python benchmarks/speed_table.py")
