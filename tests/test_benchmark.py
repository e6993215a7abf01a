"""The benchmark script runs end to end and reports what it measured (its figures are never asserted)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import benchmark  # noqa: E402  (benchmarks/ is not a package)


def test_a_tiny_benchmark_prints_one_row_per_measurement(capsys):
    argv = ["--systems", "floor", "mnist_ann", "--batch-sizes", "128", "--optimizers", "sgd",
            "--epochs", "1", "--rounds", "2", "--train-size", "1000"]
    assert benchmark.main(argv) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| GEMM floor") or line.startswith("| mnist_ann")]
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
    assert all(f"{part} " in out for part in step_profile.PARTS)
