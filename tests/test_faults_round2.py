"""Nothing lost, second round: the end of a run, broken outputs, second signals, hangs and silent
wrong answers. One test (or a few) for each cause of issue 22, faults through a real subprocess
wherever a user would meet them there."""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import warnings
import zipfile

import numpy as np
import pytest

import mnist_ann
from helpers import ROOT, assert_one_line_error, run_cli, write_small_mnist

SHIPPED = ROOT / "data" / "mnist"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def default_signals():
    """preexec_fn: Ctrl-C and SIGHUP as a terminal would deliver them, even under a runner that
    ignores them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_patched(patch, argv, env=None, timeout=300):
    """Run mnist_ann.main(argv) in a fresh Python after `patch` (code with mnist_ann, os, signal
    imported): a real process that sends itself real signals at a chosen point."""
    code = (f"import os, signal, sys\nsys.path.insert(0, {str(ROOT)!r})\nimport mnist_ann\n"
            f"{patch}\nsys.exit(mnist_ann.main({[str(a) for a in argv]!r}))\n")
    return subprocess.run([sys.executable, "-c", code], env={**ENV, **(env or {})},
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, preexec_fn=default_signals)


def one_line(stderr):
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    return stderr.strip()


def record_of(out):
    return json.loads((out / "history.json").read_text())


def no_partial_files(folder):
    return not [path.name for path in folder.iterdir() if path.name.startswith(".")]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_small_mnist(tmp_path_factory.mktemp("data") / "mnist", n_train=120, n_test=40)


SMALL = ("--val-size", 0, "--hidden", 8, "--schedule", "constant")


# ---- 1. the end of a run is covered ------------------------------------------------------------

SIGNAL_AT_FINISH = """
original = mnist_ann.finish_run
def finish_run(*args, **kwargs):
    os.kill(os.getpid(), signal.{name})  # after the last epoch, before the test evaluation
    return original(*args, **kwargs)
mnist_ann.finish_run = finish_run
"""


@pytest.mark.parametrize("name, status", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_after_the_last_epoch_keeps_the_whole_run(data_dir, tmp_path, name, status):
    out = tmp_path / "out"
    result = run_patched(SIGNAL_AT_FINISH.format(name=name),
                         ["--data-dir", data_dir, *SMALL, "--epochs", 2, "--out", out])
    assert result.returncode == status, result.stderr
    line = one_line(result.stderr)
    assert "after the last epoch" in line and str(out) in line and "saved complete" in line
    record = record_of(out)
    assert record["outcome"] == "finished" and record["history"]["epoch"] == [1, 2]
    assert record["test_accuracy"] is not None
    assert (out / "weights.npz").is_file() and no_partial_files(out)
    assert result.stdout.splitlines()[-1].startswith("test accuracy")


SIGNAL_DURING_SAVE = """
original = mnist_ann.save_file
def save_file(path, write):
    if path.name == "history.json":
        os.kill(os.getpid(), signal.SIGTERM)  # weights.npz written, history.json not yet
    return original(path, write)
mnist_ann.save_file = save_file
"""


def test_a_signal_while_history_json_is_written_waits_for_it(data_dir, tmp_path):
    out = tmp_path / "out"
    result = run_patched(SIGNAL_DURING_SAVE, ["--data-dir", data_dir, *SMALL, "--epochs", 1,
                                              "--out", out])
    assert result.returncode == 143, result.stderr
    assert "SIGTERM arrived after the last epoch" in one_line(result.stderr)
    assert record_of(out)["outcome"] == "finished" and mnist_ann.load_params(out / "weights.npz")


SECOND_SIGNAL = """
original_format, original_save = mnist_ann.format_epoch, mnist_ann.save_run
def format_epoch(history, epochs):
    if history["epoch"][-1] == 2:
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: in epoch 3
    return original_format(history, epochs)
def save_run(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C: while the two epochs are saved
    return original_save(*args, **kwargs)
mnist_ann.format_epoch, mnist_ann.save_run = format_epoch, save_run
"""


def test_a_second_ctrl_c_during_the_save_of_an_interrupted_run_waits_for_it(data_dir, tmp_path):
    out = tmp_path / "out"
    result = run_patched(SECOND_SIGNAL, ["--data-dir", data_dir, *SMALL, "--epochs", 50,
                                         "--out", out])
    assert result.returncode == 130, result.stderr
    line = one_line(result.stderr)
    assert "interrupted in epoch 3" in line and "2 finished epoch(s) are kept" in line
    assert f"Saved in {out}" in line and "second signal waited for the save" in line
    record = record_of(out)
    assert record["outcome"] == "interrupted" and record["history"]["epoch"] == [1, 2]
    assert (out / "weights.npz").is_file() and no_partial_files(out)


THIRD_SIGNAL = """
original = mnist_ann.save_file
def save_file(path, write):
    if path.name == "history.json":
        for _ in range(3):  # a user who insists: the save is given up, what is whole is named
            os.kill(os.getpid(), signal.SIGINT)
    return original(path, write)
mnist_ann.save_file = save_file
"""


def test_a_third_signal_gives_up_the_save_and_names_what_is_whole(data_dir, tmp_path):
    out = tmp_path / "out"
    result = run_patched(THIRD_SIGNAL, ["--data-dir", data_dir, *SMALL, "--epochs", 1,
                                        "--out", out])
    assert result.returncode == 130, result.stderr
    line = one_line(result.stderr)
    assert f"{out} holds weights.npz, each complete" in line
    assert sorted(p.name for p in out.iterdir()) == ["weights.npz"]


def test_stop_signals_stop_once_then_wait_then_give_up():
    signals = mnist_ann.StopSignals()
    with pytest.raises(mnist_ann.Terminated) as caught:
        signals(signal.SIGHUP, None)  # the first stops the work where it is
    assert mnist_ann.exit_status_of(caught.value) == 129 and signals.holding
    signals(signal.SIGINT, None)  # the second waits for the save
    with pytest.raises(KeyboardInterrupt):
        signals(signal.SIGINT, None)  # the third gives the save up
    signals.reporting = True
    signals(signal.SIGINT, None)  # nothing stops the last line
    assert signals.noted == [signal.SIGHUP] + [signal.SIGINT] * 3
    assert signals.first_name() == "SIGHUP"


def start(*args, env=None, **options):
    return subprocess.Popen([sys.executable, str(ROOT / "mnist_ann.py"), *map(str, args)],
                            env={**ENV, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            preexec_fn=default_signals, **options)


def test_sighup_is_treated_like_sigterm(tmp_path):
    data = write_small_mnist(tmp_path / "d", n_train=1000, n_test=20)
    out = tmp_path / "out"
    process = start("--data-dir", data, *SMALL, "--epochs", 100000, "--out", out)
    for line in process.stdout:
        if line.startswith("epoch  1/"):
            process.send_signal(signal.SIGHUP)  # the terminal closes
            break
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 129, stderr
    assert "training interrupted in epoch" in one_line(stderr) and f"Saved in {out}" in stderr
    record = record_of(out)
    assert record["outcome"] == "interrupted" and len(record["history"]["epoch"]) >= 1


def test_under_nohup_sighup_stays_ignored_and_the_run_goes_on(data_dir, tmp_path):
    out = tmp_path / "out"

    def nohup():
        default_signals()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    process = subprocess.Popen([sys.executable, str(ROOT / "mnist_ann.py"), "--data-dir",
                                str(data_dir), *map(str, SMALL), "--epochs", "3", "--out",
                                str(out)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, preexec_fn=nohup)
    for line in process.stdout:
        if line.startswith("epoch  1/"):
            process.send_signal(signal.SIGHUP)
            break
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and stderr == "", stderr
    assert_run_finished(out, 3)


def test_sigterm_just_after_the_last_epoch_line_loses_nothing(tmp_path):
    """Without a patch: the real window between the last epoch line and the end of the run."""
    out = tmp_path / "out"
    process = start("--data-dir", SHIPPED, "--val-size", 0, "--hidden", 16, "--epochs", 1,
                    "--out", out)
    for line in process.stdout:
        if line.startswith("epoch  1/1"):
            process.send_signal(signal.SIGTERM)
            break
    _, stderr = process.communicate(timeout=120)
    # 143 if the signal arrived before the end of main; -15 only once everything was done.
    assert process.returncode in (143, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    record = record_of(out)
    assert record["outcome"] == "finished" and record["history"]["epoch"] == [1]
    assert mnist_ann.load_params(out / "weights.npz")[0]["W1"].shape == (784, 16)


# ---- 4. output is not the work -----------------------------------------------------------------

def shell(command, **options):
    return subprocess.run(["bash", "-c", command], env={**ENV, **options.pop("env", {})},
                          capture_output=True, text=True, timeout=300, **options)


def cli(*args):
    return " ".join([sys.executable, str(ROOT / "mnist_ann.py"),
                     *(f"'{arg}'" for arg in map(str, args))])


def assert_run_finished(out, epochs):
    record = record_of(out)
    assert record["outcome"] == "finished" and record["history"]["epoch"] == list(
        range(1, epochs + 1))
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "curves.png",
                                                     "history.json", "weights.npz"]


def test_a_closed_pipe_neither_stops_the_run_nor_changes_its_exit_status(data_dir, tmp_path):
    out = tmp_path / "out"
    result = shell(f"{cli('--data-dir', data_dir, *SMALL, '--epochs', 3, '--out', out)} | head -1;"
                   " echo \"status ${PIPESTATUS[0]}\" >&2")
    assert result.stdout.startswith("network ") and len(result.stdout.splitlines()) == 1
    assert result.stderr.strip() == "status 0", result.stderr
    assert_run_finished(out, 3)


def test_quiet_into_a_pipe_closed_at_once_is_still_a_success(data_dir, tmp_path):
    out = tmp_path / "out"
    result = shell(f"{cli('--data-dir', data_dir, *SMALL, '--epochs', 1, '--out', out, '--quiet')}"
                   " | true; echo \"status ${PIPESTATUS[0]}\" >&2")
    assert result.stderr.strip() == "status 0", result.stderr
    assert_run_finished(out, 1)


def test_a_full_stdout_loses_nothing(data_dir, tmp_path):
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, str(ROOT / "mnist_ann.py"), "--data-dir",
                                 str(data_dir), *map(str, SMALL), "--epochs", "2", "--out",
                                 str(out)], env=ENV, stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=300)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert_run_finished(out, 2)


def test_an_encoding_that_cannot_print_the_path_still_reports_it(data_dir, tmp_path):
    out = tmp_path / "résultat_数字"
    result = run_cli("--data-dir", data_dir, *SMALL, "--epochs", 1, "--out", out,
                     env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "r\\xe9sultat_\\u6570\\u5b57" in result.stdout.splitlines()[-1]
    assert_run_finished(out, 1)


def test_help_into_a_closed_pipe_and_an_error_into_a_full_stderr_are_quiet():
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the program writes a byte: its first write fails
    result = subprocess.run([sys.executable, str(ROOT / "mnist_ann.py"), "--help"], env=ENV,
                            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, str(ROOT / "mnist_ann.py"), "--lr", "-1"],
                                env=ENV, stdout=subprocess.PIPE, stderr=full, timeout=60)
    assert result.returncode == 2


def test_tell_escapes_what_the_stream_cannot_encode_and_survives_a_closed_stream(tmp_path):
    import io

    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    mnist_ann.tell("saved in résumé", stream)
    stream.flush()
    assert stream.buffer.getvalue() == b"saved in r\\xe9sum\\xe9\n"
    stream.close()
    mnist_ann.tell("nobody reads this", stream)  # a closed stream: no exception


# ---- 5. memory as the process may use it ------------------------------------------------------

def limit_address_space(size):
    def limit():
        default_signals()
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return limit


ULIMIT_V = 1_000_000 * 1024  # `ulimit -v 1000000`, in bytes


def test_a_run_beyond_the_address_space_limit_is_refused_with_an_estimate(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "mnist_ann.py"), "--hidden", "1024", "1024", "--val-size",
         "50000", "--epochs", "2", "--batch-size", "256", "--out", str(out)], env=ENV,
        capture_output=True, text=True, timeout=300, preexec_fn=limit_address_space(ULIMIT_V))
    assert_one_line_error(result, "on 50000 images at once (the validation set)",
                          "would need about", "GiB", "ulimit -v", "--val-size")
    assert not out.exists()


def test_a_run_within_the_address_space_limit_is_not_refused(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "mnist_ann.py"), "--hidden", "16", "--val-size", "55000",
         "--epochs", "1", "--out", str(out), "--quiet"], env=ENV, capture_output=True, text=True,
        timeout=300, preexec_fn=limit_address_space(ULIMIT_V))
    assert result.returncode == 0, result.stderr
    assert record_of(out)["outcome"] == "finished"


def limit_data_size(size):
    def limit():
        default_signals()
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))
    return limit


def test_the_data_size_limit_counts_too(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "mnist_ann.py"), "--hidden", "1024", "1024", "--val-size",
         "50000", "--epochs", "2", "--batch-size", "256", "--out", str(tmp_path / "out")],
        env=ENV, capture_output=True, text=True, timeout=300,
        preexec_fn=limit_data_size(ULIMIT_V))
    assert_one_line_error(result, "would need about", "data-size limit (ulimit -d)")


def test_running_out_of_memory_where_no_check_foresaw_it_is_one_line(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(  # too little even to load MNIST
        [sys.executable, str(ROOT / "mnist_ann.py"), "--epochs", "1", "--out", str(out)], env=ENV,
        capture_output=True, text=True, timeout=300,
        preexec_fn=limit_address_space(350_000 * 1024))
    assert_one_line_error(result, "ran out of memory", "ulimit -v")
    assert not out.exists()


OUT_OF_MEMORY_IN_EPOCH_3 = """
step, calls = mnist_ann.OPTIMIZERS["momentum"], []
def momentum(params, grads, state, lr, beta=0.9):
    calls.append(1)
    if len(calls) == 2 * 4 + 2:  # in epoch 3: 100 images in batches of 32 make 4 steps an epoch
        raise MemoryError()
    return step(params, grads, state, lr, beta)
mnist_ann.OPTIMIZERS["momentum"] = momentum
"""


def test_memory_that_runs_out_in_training_keeps_the_finished_epochs(data_dir, tmp_path):
    out = tmp_path / "out"
    result = run_patched(OUT_OF_MEMORY_IN_EPOCH_3, ["--data-dir", data_dir, "--val-size", 20,
                                                    "--hidden", 8, "--epochs", 5, "--out", out])
    assert_one_line_error(result, "training ran out of memory in epoch 3", "2 finished epoch(s) "
                          "are kept", f"Saved in {out}", status=1)
    record = record_of(out)
    assert record["outcome"] == "out of memory" and record["history"]["epoch"] == [1, 2]
    assert mnist_ann.run_outcome(out) != "finished"


def npz_declaring(path, shapes):
    """An .npz whose members declare these shapes (float32) but hold no data: what a file that
    lies about its size, or a huge network, looks like to a reader of headers."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, shape in shapes.items():
            header = {"descr": "<f4", "fortran_order": False, "shape": shape}
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array_header_1_0(member, header)
    return path


def test_weights_too_large_for_memory_are_refused_before_loading(data_dir, tmp_path):
    weights = npz_declaring(tmp_path / "w.npz", {"W1": (784, 700000), "b1": (700000,),
                                                 "W2": (700000, 10), "b2": (10,)})
    result = subprocess.run(
        [sys.executable, str(ROOT / "mnist_ann.py"), "--evaluate", str(weights), "--data-dir",
         str(data_dir)], env=ENV, capture_output=True, text=True, timeout=300,
        preexec_fn=limit_address_space(ULIMIT_V))
    assert_one_line_error(result, f"loading {weights} would need about 2.07 GiB", "ulimit -v")


def test_a_network_too_large_to_evaluate_is_refused_before_evaluating(tmp_path):
    weights = tmp_path / "wide.npz"
    mnist_ann.save_params(weights, mnist_ann.init_params([784, 20000, 10]))  # 63 MB
    result = subprocess.run(
        [sys.executable, str(ROOT / "mnist_ann.py"), "--evaluate", str(weights)], env=ENV,
        capture_output=True, text=True, timeout=300, preexec_fn=limit_address_space(ULIMIT_V))
    assert_one_line_error(result, "784-20000-10", "on 10000 images would need about 1.49 GiB",
                          "ulimit -v")


def test_memory_available_counts_the_address_space_limit():
    code = ("import resource, mnist_ann; resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31)); "
            "print(mnist_ann.memory_available() < 2**31, mnist_ann.memory_limit_named())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "True left under this process's address-space limit (ulimit -v)"


# ---- 6. plots are optional ----------------------------------------------------------------------

def test_a_broken_plotting_backend_saves_everything_else_and_says_so(data_dir, tmp_path):
    out = tmp_path / "out"
    result = run_cli("--data-dir", data_dir, *SMALL, "--epochs", 1, "--out", out,
                     env={"MPLBACKEND": "nonsense"})
    assert result.returncode == 0, result.stderr
    line = one_line(result.stderr)
    assert "figures were skipped" in line and f"saved in {out}" in line
    assert record_of(out)["outcome"] == "finished" and (out / "weights.npz").is_file()
    assert not (out / "curves.png").exists() and no_partial_files(out)


# ---- 7. which file is which -------------------------------------------------------------------

@pytest.mark.parametrize("with_sums", [False, True])
def test_train_and_test_files_swapped_by_name_are_refused(tmp_path, with_sums):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    if not with_sums:
        (folder / "SHA256SUMS").unlink()
    for kind in ("images-idx3", "labels-idx1"):
        train, test = folder / f"train-{kind}-ubyte.gz", folder / f"t10k-{kind}-ubyte.gz"
        train.rename(folder / "swap")
        test.rename(train)
        (folder / "swap").rename(test)
    assert_one_line_error(run_cli("--data-dir", folder, "--epochs", 1, "--out", tmp_path / "o"),
                          "holds MNIST's t10k-", "look swapped")
    assert not (tmp_path / "o").exists()


def test_data_of_ones_own_with_the_size_of_another_mnist_file_is_not_called_swapped(tmp_path):
    folder = write_small_mnist(tmp_path / "d", n_train=10000, n_test=20)  # t10k-images' size
    assert mnist_ann.load_mnist(folder)[0].shape == (10000, 784)


def test_sets_swapped_by_their_headers_are_refused(monkeypatch):
    paths = {key: f"{key}.gz" for key in mnist_ann.MNIST_FILES}
    shapes = {"train_images": (10000, 28, 28), "train_labels": (10000,),
              "test_images": (60000, 28, 28), "test_labels": (60000,)}
    monkeypatch.setattr(mnist_ann, "read_idx", lambda path: np.arange(10))  # no file is read
    with pytest.raises(mnist_ann.MNISTDataError, match="look swapped"):
        mnist_ann.refuse_mismatched_files(paths, shapes)
    shapes["test_images"], shapes["test_labels"] = (5000, 28, 28), (5000,)
    mnist_ann.refuse_mismatched_files(paths, shapes)  # 10000 and 5000: not MNIST's, not swapped


# ---- 8. photos are read upright ---------------------------------------------------------------

def test_a_photo_is_read_as_its_exif_orientation_says(tmp_path):
    from PIL import Image

    upright = np.full((60, 40), 255, dtype=np.uint8)
    upright[5:15, 5:35] = 0  # a bar at the top: upright and sideways differ
    upright[15:55, 18:24] = 0
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # as a phone stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation 6: turn 90 degrees clockwise to show it
    stored.save(tmp_path / "photo.png", exif=exif)
    pixels = mnist_ann.read_image(tmp_path / "photo.png")
    assert pixels.shape == (60, 40)
    np.testing.assert_array_equal(pixels, upright / np.float32(255))


# ---- 9. runs that learned nothing are named ----------------------------------------------------

def test_a_collapse_without_a_validation_set_is_a_failed_run(tmp_path):
    runs = tmp_path / "runs"
    result = run_cli("--val-size", 0, "--weight-decay", 3, "--epochs", 1, "--quiet",
                     env={"MNIST_RUNS_DIR": runs})
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "test accuracy" in line and "--weight-decay 3" in line
    assert "as failed (collapsed)" in line
    [folder] = runs.iterdir()
    assert record_of(folder)["outcome"] == "collapsed"
    (tmp_path / "x.png").write_bytes(b"")
    assert_one_line_error(run_cli("--predict", tmp_path / "x.png", env={"MNIST_RUNS_DIR": runs}),
                          "no trained weights found")


def test_a_run_near_chance_is_a_failed_run_with_the_cause_named(tmp_path):
    out = tmp_path / "out"
    result = run_cli("--val-size", 0, "--lr", "1e-9", "--epochs", 1, "--hidden", 16, "--quiet",
                     "--out", out)
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "near chance" in line and "--lr 1e-09 the steps are too small" in line
    assert record_of(out)["outcome"] in ("collapsed", "near chance")
    assert mnist_ann.run_outcome(out) != "finished"


def test_few_training_images_are_named_as_the_cause():
    args = mnist_ann.parse_args(["--val-size", "59990"])
    assert "10 training images are too few" in mnist_ann.likely_cause_of_collapse(args, 10)
    assert mnist_ann.near_chance_warning(0.5, 10000, args, 10) is None
    assert mnist_ann.near_chance_warning(0.1, 999, args, 10) is None  # too few to tell
    assert "near chance" in mnist_ann.near_chance_warning(0.1, 10000, args, 10)


# ---- 10. no hangs: what is not a regular file is refused ----------------------------------------

def run_quickly(*args, env=None):
    """run_cli with a short timeout: a hang fails the test instead of holding it."""
    full_env = {**ENV, **{name: str(value) for name, value in (env or {}).items()}}
    return subprocess.run([sys.executable, str(ROOT / "mnist_ann.py"), *map(str, args)],
                          env=full_env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_a_fifo_as_the_image_to_predict_is_refused(tmp_path):
    mnist_ann.save_params(tmp_path / "w.npz", mnist_ann.init_params([784, 8, 10]))
    os.mkfifo(tmp_path / "digit.png")
    assert_one_line_error(run_quickly("--predict", tmp_path / "digit.png", "--weights",
                                      tmp_path / "w.npz"), "digit.png is not a file")


def test_a_fifo_as_history_json_is_skipped(data_dir, tmp_path):
    run = tmp_path / "runs" / "2026-01-01_000000"
    run.mkdir(parents=True)
    mnist_ann.save_params(run / "weights.npz", mnist_ann.init_params([784, 8, 10]))
    os.mkfifo(run / "history.json")
    assert_one_line_error(run_quickly("--evaluate", "--data-dir", data_dir,
                                      env={"MNIST_RUNS_DIR": tmp_path / "runs"}),
                          "no trained weights found")


@pytest.mark.parametrize("fifo", ["t10k-labels-idx1-ubyte.gz", "SHA256SUMS"])
def test_a_fifo_among_the_data_files_is_refused(tmp_path, fifo):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)  # SHA256SUMS lists every data file
    (folder / fifo).unlink()
    os.mkfifo(folder / fifo)
    assert_one_line_error(run_quickly("--data-dir", folder, "--epochs", 1, "--out", tmp_path / "o"),
                          f"{fifo} is not a file")


# ---- 11-13. tracebacks become sentences ------------------------------------------------------

def test_an_unreadable_sha256sums_is_one_sentence(tmp_path, monkeypatch):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    read_text = type(folder).read_text

    def refuse(path, *args, **kwargs):
        if path.name == "SHA256SUMS":
            raise PermissionError(13, "Permission denied")
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(type(folder), "read_text", refuse)
    with pytest.raises(mnist_ann.MNISTDataError, match="SHA256SUMS cannot be read .Permission "
                                                       "denied.; make it readable"):
        mnist_ann.load_mnist(folder)


def test_a_huge_sha256sums_is_refused_unread(tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    with (folder / "SHA256SUMS").open("a") as sums:
        sums.write("#" * 2**21 + "\n")
    with pytest.raises(mnist_ann.MNISTDataError, match="far too many for a list of checksums"):
        mnist_ann.load_mnist(folder)


def test_a_deeply_nested_history_json_is_skipped(data_dir, tmp_path):
    run = tmp_path / "runs" / "2026-01-01_000000"
    run.mkdir(parents=True)
    mnist_ann.save_params(run / "weights.npz", mnist_ann.init_params([784, 8, 10]))
    (run / "history.json").write_text("[" * 200000)
    assert mnist_ann.run_outcome(run) is None
    (run / "history.json").write_text('{"outcome": "finished"' + " " * (16 * 2**20) + "}")
    assert mnist_ann.run_outcome(run) is None  # far larger than any run's: not read
    (run / "history.json").write_text('{"outcome": "finished"}')
    assert mnist_ann.run_outcome(run) == "finished"
    (run / "history.json").write_text("[" * 200000)
    assert_one_line_error(run_cli("--evaluate", "--data-dir", data_dir,
                                  env={"MNIST_RUNS_DIR": tmp_path / "runs"}),
                          "no trained weights found")


# ---- 14. the API's doors ----------------------------------------------------------------------

RNG = np.random.default_rng(0)

API_CASES = [
    ("affine on 14x14", lambda: mnist_ann.train(
        mnist_ann.init_params([196, 8, 10]), RNG.random((32, 196), dtype=np.float32),
        np.arange(32) % 10, augment=mnist_ann.augmenter("affine"), epochs=1),
     mnist_ann.ImagesError, "28x28"),
    ("affine on 28x56", lambda: mnist_ann.train(
        mnist_ann.init_params([1568, 8, 10]), RNG.random((32, 1568), dtype=np.float32),
        np.arange(32) % 10, augment=mnist_ann.augmenter("affine"), epochs=1),
     mnist_ann.ImagesError, "28x28"),
    ("augment_batch on (8, 196)", lambda: mnist_ann.augment_batch(
        RNG.random((8, 196), dtype=np.float32), RNG), mnist_ann.ImagesError, "(N, 784)"),
    ("split with short labels", lambda: mnist_ann.split_validation(
        RNG.random((1000, 784), dtype=np.float32), np.arange(500) % 10, 100),
     mnist_ann.LabelsError, "1000 images but 500 labels"),
    ("evaluate on no images", lambda: mnist_ann.evaluate(
        mnist_ann.init_params([784, 8, 10]), np.zeros((0, 784), np.float32),
        np.zeros(0, np.int64)), mnist_ann.ImagesError, "no images to evaluate on"),
]


@pytest.mark.parametrize("call, error, fragment", [case[1:] for case in API_CASES],
                         ids=[case[0] for case in API_CASES])
def test_the_api_cases_of_issue_22_are_one_named_error_without_warnings(call, error, fragment):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error) as caught:
            call()
    assert fragment in str(caught.value)


# ---- 15-17. the right cause named ----------------------------------------------------------------

@pytest.mark.parametrize("rates", [("0.999", "0.999"), ("0.99", "0"), ("0", "0.9999999")])
def test_dropout_that_drops_nearly_everything_is_refused_before_training(data_dir, tmp_path,
                                                                         rates):
    result = run_cli("--data-dir", data_dir, *SMALL, "--out", tmp_path / "out", "--dropout", *rates)
    assert_one_line_error(result, "drops nearly every unit", "--dropout 0.1 0.3")
    assert "--lr" not in result.stderr and not (tmp_path / "out").exists()


def test_a_divergence_with_heavy_dropout_names_the_dropout_too(data_dir, tmp_path):
    result = run_cli("--data-dir", data_dir, *SMALL, "--out", tmp_path / "out", "--epochs", 2,
                     "--optimizer", "sgd", "--lr", "1e7", "--dropout", "0.5", "0.6")
    assert_one_line_error(result, "training diverged in epoch 1", "With --dropout 0.5 0.6, most "
                          "units are dropped", status=1)


def test_a_stale_sha256sums_entry_is_named_and_not_downloaded_again(tmp_path):
    import gzip

    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    name = "t10k-labels-idx1-ubyte"
    (folder / name).write_bytes(gzip.decompress((folder / f"{name}.gz").read_bytes()))
    (folder / f"{name}.gz").unlink()
    with (folder / "SHA256SUMS").open("a") as sums:
        sums.write(f"{'0' * 64}  {name}\n")  # stale: written for some other file
    with pytest.raises(mnist_ann.StaleChecksumError, match=f"SHA256SUMS lists another checksum "
                                                           f"for {name}: that entry is stale"):
        mnist_ann.load_mnist(folder)
    # --download has nothing to fetch: the file is intact; only SHA256SUMS is wrong.
    assert mnist_ann.download_mnist(folder, mirrors=("http://127.0.0.1:9/",), log=print) == []


def test_an_out_that_is_a_dangling_symlink_or_a_loop_is_named(data_dir, tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for out in ("dangling", "loop"):
        result = run_cli("--data-dir", data_dir, *SMALL, "--epochs", 1, "--out", tmp_path / out)
        assert_one_line_error(result, "is a symbolic link", "does not exist or leads round in a "
                              "loop")


def test_weights_that_cannot_be_read_or_are_no_npz_are_named(tmp_path, monkeypatch):
    from PIL import Image

    Image.new("L", (8, 8)).save(tmp_path / "digit.png")
    (tmp_path / "digit.png").rename(tmp_path / "w.npz")
    with pytest.raises(mnist_ann.WeightsFileError, match="not an .npz archive") as caught:
        mnist_ann.load_params(tmp_path / "w.npz")
    assert "allow_pickle" not in str(caught.value)
    mnist_ann.save_params(tmp_path / "good.npz", mnist_ann.init_params([784, 8, 10]))
    opener = type(tmp_path).open

    def refuse(path, *args, **kwargs):
        if path.name == "good.npz":
            raise PermissionError(13, "Permission denied")
        return opener(path, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "open", refuse)
    with pytest.raises(mnist_ann.WeightsFileError, match=r"cannot be read \(Permission denied\)"):
        mnist_ann.load_params(tmp_path / "good.npz")


def test_a_mirror_url_without_a_trailing_slash_works(tmp_path):
    import functools
    import http.server

    served = tmp_path / "site"
    shutil.copytree(SHIPPED, served / "mnist")
    handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                                     {"log_message": lambda *args: None}), directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = tmp_path / "d"
        mirror = f"http://127.0.0.1:{server.server_address[1]}/mnist"  # no slash at the end
        written = mnist_ann.download_mnist(target, mirrors=(mirror,), log=lambda message: None)
        assert len(written) == 4 and mnist_ann.load_mnist(target)[3][:3].tolist() == [7, 2, 1]
    finally:
        server.shutdown()
        server.server_close()


# ---- 18. strict JSON -------------------------------------------------------------------------

def test_history_json_is_strict_json_with_null_for_a_missing_value(data_dir, tmp_path):
    out = tmp_path / "out"
    assert run_cli("--data-dir", data_dir, *SMALL, "--epochs", 2, "--out", out).returncode == 0

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    record = json.loads((out / "history.json").read_text(), parse_constant=refuse)
    assert record["history"]["val_loss"] == [None, None]
    assert all(isinstance(value, float) for value in record["history"]["train_loss"])

