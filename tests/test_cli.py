"""The command line, run as a user would: python mnist_ann.py ..."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mnist_ann
from helpers import ROOT, assert_one_line_error, run_cli, write_small_mnist


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_small_mnist(tmp_path_factory.mktemp("data") / "mnist", n_train=120, n_test=40)


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    """One small training run; returns its output folder."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = run_cli("--data-dir", data_dir, "--out", out, "--epochs", 2, "--val-size", 20, "--hidden", 16)
    assert result.returncode == 0, result.stderr
    return out, result


def test_help_documents_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--hidden", "--activation", "--optimizer", "--lr", "--schedule", "--momentum", "--weight-decay",
                   "--batch-size", "--epochs", "--seed", "--val-size", "--patience", "--data-dir", "--out",
                   "--evaluate", "--predict", "--weights", "--download", "--quiet", "--dropout", "--augment", "--preset"):
        assert option in result.stdout, option
    text = " ".join(result.stdout.split())  # argparse wraps lines; compare with single spaces
    assert "98% test accuracy" in text  # argparse leaves a %% in the description as it is
    assert "(default: 0.0003)" in text and "(default: [128, 64])" in text
    assert "(default: None)" not in text and "(default: False)" not in text  # no default said twice, or as None


def test_training_prints_progress_and_writes_its_outputs(trained):
    out, result = trained
    lines = result.stdout.splitlines()
    assert lines[0].startswith("network 784-16-10, relu; training on 100 images, validating on 20")
    assert lines[1].startswith("epoch  1/2  train loss") and lines[2].startswith("epoch  2/2")
    assert lines[-1].startswith("test accuracy ") and str(out) in lines[-1]
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "curves.png", "history.json", "weights.npz"]
    record = json.loads((out / "history.json").read_text())
    assert record["layer_sizes"] == [784, 16, 10] and record["history"]["epoch"] == [1, 2]
    assert 0 <= record["test_accuracy"] <= 1 and record["beta"] == 0.95
    params, activation = mnist_ann.load_params(out / "weights.npz")
    assert params["W1"].shape == (784, 16) and activation == "relu"


def test_quiet_prints_only_the_result(data_dir, tmp_path):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "q", "--epochs", 1, "--val-size", 20, "--quiet")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1


def test_an_earlier_run_is_never_overwritten(data_dir, trained, tmp_path):
    out, _ = trained
    before = (out / "weights.npz").read_bytes()
    assert_one_line_error(run_cli("--data-dir", data_dir, "--out", out, "--epochs", 1, "--val-size", 20),
                          "already holds a run")
    assert (out / "weights.npz").read_bytes() == before
    (tmp_path / "a_file").write_text("")
    assert_one_line_error(run_cli("--data-dir", data_dir, "--out", tmp_path / "a_file", "--epochs", 1,
                                  "--val-size", 20), "is a file, not a folder")
    for _ in range(2):  # the default folder is new each time
        assert run_cli("--data-dir", data_dir, "--epochs", 1, "--val-size", 20,
                       env={"MNIST_RUNS_DIR": tmp_path / "runs"}).returncode == 0
    assert len(list((tmp_path / "runs").glob("*/weights.npz"))) == 2


@pytest.mark.parametrize("args, fragment", [
    (["--lr", "-1"], "learning rate (--lr) must be a positive finite number"),
    (["--lr", "nan"], "--lr"),
    (["--hidden", "0"], "layer sizes (--hidden)"),
    (["--activation", "cube"], "activation (--activation) must be one of"),
    (["--optimizer", "lbfgs"], "optimizer (--optimizer) must be one of"),
    (["--batch-size", "0"], "batch size (--batch-size)"),
    (["--batch-size", "101"], "from 1 to 100"),
    (["--epochs", "0"], "epochs (--epochs)"),
    (["--momentum", "1.5"], "--momentum"),
    (["--val-size", "120"], "--val-size"),
    (["--patience", "0"], "--patience"),
    (["--dropout", "1", "0.3"], "dropout (--dropout) needs two rates"),
    (["--dropout", "0.1", "nan"], "dropout (--dropout) needs two rates"),
    (["--augment", "rotate"], "augmentation (--augment) must be one of none, shift, affine"),
    (["--preset", "fastest"], "--preset must be one of default, best"),
])
def test_nonsense_settings_fail_in_one_line_before_any_work(data_dir, tmp_path, args, fragment):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "out", "--val-size", 20, *args)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "out").exists()


def test_argparse_errors_are_one_line_too(tmp_path):
    assert_one_line_error(run_cli("--hidden"), "expected at least one argument")
    assert_one_line_error(run_cli("--epochs", "ten"), "invalid int value")


def test_a_diverging_run_stops_names_the_epoch_and_keeps_the_last_good_weights(data_dir, tmp_path):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "out", "--val-size", 20, "--optimizer", "sgd",
                     "--lr", "1e7", "--epochs", "3")
    assert_one_line_error(result, "training diverged in epoch 1", "--lr 1e+06", status=1)
    params, _ = mnist_ann.load_params(tmp_path / "out" / "weights.npz")
    assert all(np.isfinite(value).all() for value in params.values())


def test_evaluate_saved_weights(data_dir, trained):
    out, _ = trained
    result = run_cli("--data-dir", data_dir, "--evaluate", out / "weights.npz")
    assert result.returncode == 0 and result.stdout.startswith(f"test accuracy of {out / 'weights.npz'}: ")


def test_evaluate_refuses_a_file_that_is_not_weights(data_dir, tmp_path):
    (tmp_path / "w.npz").write_text("hello")
    assert_one_line_error(run_cli("--data-dir", data_dir, "--evaluate", tmp_path / "w.npz"), "is not a weights file")


def test_predict_reads_a_png_and_prints_the_top_three(trained, tmp_path):
    from matplotlib.image import imsave

    out, _ = trained
    image = np.ones((90, 70))
    image[20:70, 30:40] = 0  # a thick dark "1" on white paper
    imsave(tmp_path / "one.png", image, cmap="gray")
    result = run_cli("--predict", tmp_path / "one.png", "--weights", out / "weights.npz")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"weights {out / 'weights.npz'}"  # which weights answered
    lines = lines[1:]
    assert len(lines) == 3 and all(line[0].isdigit() and line.endswith("%") for line in lines)


def test_predict_without_weights_or_image_says_what_to_do(trained, tmp_path):
    out, _ = trained
    assert_one_line_error(run_cli("--predict", tmp_path / "none.png", "--weights", out / "weights.npz"),
                          "none.png does not exist")
    (tmp_path / "x.png").write_text("not a png")
    assert_one_line_error(run_cli("--predict", tmp_path / "x.png", "--weights", out / "weights.npz"),
                          "could not be read as an image")
    assert_one_line_error(run_cli("--predict", tmp_path / "x.png", env={"MNIST_RUNS_DIR": tmp_path / "runs"}),
                          "no trained weights found")


def test_one_blas_thread_unless_the_user_says_otherwise():
    def threads_seen(**env):
        clean = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        code = "import mnist_ann, os; print(os.environ['OPENBLAS_NUM_THREADS'])"
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                              capture_output=True, text=True, check=True).stdout.strip()

    assert threads_seen() == "1"
    assert threads_seen(OPENBLAS_NUM_THREADS="2") == "2"
