"""Nothing lost, one sentence for every fault: interrupts, unwritable folders, full disks, bad runs,
bad data, bad downloads, conflicting options, bad weights, misuse of the Python API, sizes that cannot work.

One test (or a few) for each cause of issue 15.
"""

import argparse
import functools
import gzip
import http.server
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

import mnist_ann
from helpers import ROOT, assert_one_line_error, run_cli, write_idx, write_small_mnist
# Interrupts are the command line's business now: train is the lesson's loop, and this wrapper keeps
# the finished epochs when Ctrl-C or SIGTERM arrives.
from mnist_ann import train_keeping_finished_epochs as train

SHIPPED = ROOT / "data" / "mnist"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_small_mnist(tmp_path_factory.mktemp("data") / "mnist", n_train=120, n_test=40)


def no_partial_files(folder):
    return not [path.name for path in folder.iterdir() if path.name.startswith(".")]


# ---- interrupts keep the finished epochs --------------------------------------------

def start_cli(*args, env=None, **options):
    """Start `python mnist_ann.py ARGS` with Ctrl-C's default handling (even under a runner that ignores it)."""
    full_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(env or {})}
    return subprocess.Popen([sys.executable, str(ROOT / "mnist_ann.py"), *map(str, args)], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **options)


def interrupt_after_first_epoch(process, sig):
    """Send sig once the first progress line is out; returns (stdout lines, stderr)."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("epoch  1/"):
            process.send_signal(sig)
            break
    stdout, stderr = process.communicate(timeout=120)
    return lines + stdout.splitlines(keepends=True), stderr


@pytest.mark.parametrize("sig, status, preset", [
    (signal.SIGINT, 130, ()), (signal.SIGTERM, 143, ()),
    # --preset best, with dropout and augmentation, on a small network: the same promise holds.
    (signal.SIGINT, 130, ("--preset", "best", "--batch-size", 32)),
])
def test_an_interrupt_saves_the_last_finished_epoch_and_exits_quietly(tmp_path, sig, status, preset):
    data = write_small_mnist(tmp_path / "d", n_train=1000, n_test=20)
    out = tmp_path / "out"
    # No validation set: noise data would (rightly) be called collapsed, and this test is about the interrupt.
    settings = ("--data-dir", data, "--val-size", 0, "--hidden", 16, "--schedule", "constant", "--seed", 3, *preset)
    process = start_cli(*settings, "--epochs", 100000, "--out", out)
    _, stderr = interrupt_after_first_epoch(process, sig)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "training interrupted in epoch" in stderr and f"Saved in {out}" in stderr
    record = json.loads((out / "history.json").read_text())
    finished = len(record["history"]["epoch"])
    assert record["outcome"] == "interrupted" and finished >= 1
    assert record["history"]["epoch"] == list(range(1, finished + 1)) and no_partial_files(out)
    # The saved weights are exactly those of the last finished epoch: a run of that many epochs gives them.
    again = tmp_path / "again"
    assert run_cli(*settings, "--epochs", finished, "--out", again, "--quiet").returncode == 0
    saved, _ = mnist_ann.load_params(out / "weights.npz")
    expected, _ = mnist_ann.load_params(again / "weights.npz")
    assert all(np.array_equal(saved[name], expected[name]) for name in expected)


def test_train_turns_an_interrupt_into_training_interrupted_with_the_finished_epochs():
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784), dtype=np.float32), np.arange(64) % 10
    params = mnist_ann.init_params([784, 8, 10], rng=rng)
    calls = []

    def step(params, grads, state, lr):
        calls.append(1)
        if len(calls) == 5:  # in epoch 3 (two steps per epoch)
            raise mnist_ann.Terminated()
        return mnist_ann.sgd_step(params, grads, state, lr)

    with pytest.raises(mnist_ann.TrainingInterrupted, match="interrupted in epoch 3") as caught:
        train(params, X, y, optimizer=step, epochs=5, batch_size=32)
    assert caught.value.history["epoch"] == [1, 2] and caught.value.exit_status == 143


# ---- the run folder: made before training, written atomically ---------------------------

@pytest.mark.parametrize("out", ["/proc/mnist_run", "/proc", "a_file/run"])
def test_an_output_folder_that_cannot_be_written_is_found_out_before_training(data_dir, tmp_path, out):
    (tmp_path / "a_file").write_text("")
    out = out if out.startswith("/") else tmp_path / out
    result = run_cli("--data-dir", data_dir, "--out", out, "--epochs", 1, "--val-size", 20)
    assert_one_line_error(result, "cannot write in the output folder", "choose another --out")
    assert "epoch" not in result.stdout


def limit_file_size(size):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_full_disk_leaves_no_partial_file_and_says_so(data_dir, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "mnist_ann.py"), "--data-dir", str(data_dir), "--out", str(out),
               "--epochs", "1", "--val-size", "20", "--hidden", "64", "--quiet"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                            preexec_fn=limit_file_size(30000))  # weights.npz needs about 200 kB
    assert_one_line_error(result, "could not save", "weights.npz", "no partial file was left")
    assert list(out.iterdir()) == []  # neither a truncated weights.npz nor a temporary file
    assert run_cli(*command[2:]).returncode == 0  # the same --out works once there is room


def test_save_params_is_atomic_and_readable(tmp_path, monkeypatch):
    params = mnist_ann.init_params([784, 4, 10])
    path = mnist_ann.save_params(tmp_path / "w.npz", params) or tmp_path / "w.npz"
    assert path.stat().st_mode & 0o777 == 0o644
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(mnist_ann.SaveError, match="No space left on device"):
        mnist_ann.save_params(path, params)
    assert path.read_bytes() == before and no_partial_files(tmp_path)


def test_an_existing_folder_is_never_overwritten_and_runs_get_their_own_folders(data_dir, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "history.json").write_text("my notes")
    assert_one_line_error(run_cli("--data-dir", data_dir, "--out", tmp_path / "mine", "--epochs", 1,
                                  "--val-size", 20), "already holds history.json")
    assert (tmp_path / "mine" / "history.json").read_text() == "my notes"
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    (tmp_path / "runs").mkdir()
    folders = [mnist_ann.new_run_folder(tmp_path / "runs") for _ in range(3)]  # all in the same second, or near
    assert len(set(folders)) == 3 and all(folder.is_dir() for folder in folders)
    assert folders[0].name >= stamp


# ---- which weights: the newest run that finished, found from anywhere ------------------

def test_predict_and_evaluate_use_the_newest_finished_run_and_say_which(data_dir, tmp_path):
    from matplotlib.image import imsave

    runs = tmp_path / "runs"
    env = {"MNIST_RUNS_DIR": str(runs)}
    assert run_cli("--data-dir", data_dir, "--epochs", 1, "--val-size", 20, "--hidden", 8, env=env).returncode == 0
    diverged = run_cli("--data-dir", data_dir, "--epochs", 2, "--val-size", 20, "--hidden", 8, "--optimizer", "sgd",
                       "--lr", "1e7", env=env)
    assert diverged.returncode == 1
    finished = [p for p in runs.glob("*/weights.npz") if mnist_ann.run_outcome(p.parent) == "finished"]
    assert len(finished) == 1 and len(list(runs.glob("*/weights.npz"))) == 2
    image = np.ones((40, 40))
    image[8:32, 18:22] = 0
    imsave(tmp_path / "one.png", image, cmap="gray")
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    result = run_cli("--predict", tmp_path / "one.png", env=env, cwd=elsewhere)
    assert result.returncode == 0 and result.stdout.splitlines()[0] == f"weights {finished[0]}"
    result = run_cli("--evaluate", "--data-dir", data_dir, env=env, cwd=elsewhere)
    assert result.returncode == 0 and result.stdout.startswith(f"test accuracy of {finished[0]}: ")


def test_runs_live_beside_the_module_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("MNIST_RUNS_DIR", raising=False)
    assert mnist_ann.runs_dir() == ROOT / "runs"
    monkeypatch.setenv("MNIST_RUNS_DIR", "/somewhere")
    assert str(mnist_ann.runs_dir()) == "/somewhere"


# ---- every data file is checked, gzipped or raw ----------------------------------------

def shipped_copy(folder, keep_sums=False):
    shutil.copytree(SHIPPED, folder)
    if not keep_sums:
        (folder / "SHA256SUMS").unlink()
    return folder


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_file_of_mnist_name_and_size_must_be_mnist(tmp_path, gzipped):
    folder = shipped_copy(tmp_path / "d")
    name = "t10k-labels-idx1-ubyte"
    content = bytearray(gzip.decompress((folder / f"{name}.gz").read_bytes()))
    content[8 + 17] = (content[8 + 17] + 1) % 10  # one test label altered, still a digit
    (folder / f"{name}.gz").unlink()
    target = folder / (f"{name}.gz" if gzipped else name)
    target.write_bytes(gzip.compress(bytes(content)) if gzipped else bytes(content))
    with pytest.raises(mnist_ann.MNISTDataError, match=f"{name}.* does not match its checksum in the known MNIST"):
        mnist_ann.load_mnist(folder)


def test_raw_mnist_files_that_are_intact_load(tmp_path):
    folder = shipped_copy(tmp_path / "d")
    for name in ("t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte"):
        (folder / name).write_bytes(gzip.decompress((folder / f"{name}.gz").read_bytes()))
        (folder / f"{name}.gz").unlink()
    assert mnist_ann.load_mnist(folder)[3][:3].tolist() == [7, 2, 1]


def test_sha256sums_in_binary_mode_with_comments_is_read_and_a_bad_line_is_named(tmp_path):
    folder = shipped_copy(tmp_path / "d", keep_sums=True)
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    binary = ["# made with sha256sum -b", ""] + [line.replace("  ", " *", 1) for line in lines]
    (folder / "SHA256SUMS").write_text("\n".join(binary) + "\n")
    path = folder / "t10k-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01  # in the gzip stream; the listed sum catches it before anything is decompressed
    path.write_bytes(bytes(data))
    with pytest.raises(mnist_ann.MNISTDataError, match=r"t10k-images-idx3-ubyte.gz does not match its checksum in"):
        mnist_ann.load_mnist(folder)
    (folder / "SHA256SUMS").write_text("\n".join(binary + ["not a checksum line"]) + "\n")
    with pytest.raises(mnist_ann.MNISTDataError, match=r"SHA256SUMS, line 7, is not .*'not a checksum line'"):
        mnist_ann.load_mnist(folder)


def test_labels_outside_0_to_9_in_a_data_file_are_refused_in_one_line(tmp_path):
    folder = write_small_mnist(tmp_path / "d", n_train=60)
    labels = (np.arange(60) % 10).astype(np.uint8)
    labels[5] = 133  # one flipped bit: 5 became 133
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    assert_one_line_error(run_cli("--data-dir", folder, "--val-size", 0, "--epochs", 1, "--out", tmp_path / "o"),
                          "holds labels from 0 to 133, not digits 0 to 9")


def test_a_data_dir_that_is_a_file_says_so(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(mnist_ann.MNISTDataError, match="is a file, not a folder"):
        mnist_ann.load_mnist(tmp_path / "f")


# ---- bad runs are named ------------------------------------------------------------------

def test_a_loss_that_explodes_in_the_last_step_is_caught(data_dir, tmp_path):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "out", "--val-size", 20, "--batch-size", 100,
                     "--epochs", 1, "--optimizer", "sgd", "--lr", "1e6")
    assert_one_line_error(result, "training diverged in epoch 1", status=1)
    assert json.loads((tmp_path / "out" / "history.json").read_text())["outcome"] == "diverged"


def test_without_a_validation_set_the_last_step_is_checked_on_training_images():
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784), dtype=np.float32), np.arange(64) % 10
    params = mnist_ann.init_params([784, 8, 10], rng=rng)
    before = mnist_ann.copy_params(params)
    with pytest.raises(mnist_ann.TrainingDiverged, match="diverged in epoch 1"):
        mnist_ann.train(params, X, y, lr=1e4, batch_size=64, epochs=1)  # one step; its loss is never seen in it
    assert all(np.array_equal(params[name], before[name]) for name in params)  # the weights from before it


def test_strong_weight_decay_collapses_the_run_and_is_named_not_the_learning_rate(data_dir, tmp_path):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "out", "--val-size", 20, "--hidden", 16,
                     "--epochs", 30, "--weight-decay", 10, "--quiet")
    assert_one_line_error(result, "warning: validation accuracy", "near chance", "--weight-decay 10", status=1)
    assert "learning rate" not in result.stderr and "--lr" not in result.stderr
    record = json.loads((tmp_path / "out" / "history.json").read_text())
    assert record["outcome"] == "collapsed" and len(record["history"]["epoch"]) == 30


def test_dead_units_are_named_with_what_to_try():
    params = mnist_ann.init_params([784, 8, 10])
    params["b1"][:] = -100  # every hidden unit outputs 0 for every image: the network answers the same digit
    X, y = np.random.default_rng(0).random((50, 784), dtype=np.float32), np.arange(50) % 10
    args = argparse.Namespace(activation="relu", lr=0.3, weight_decay=3e-4, hidden=[8])
    warning = mnist_ann.collapse_warning(params, X, y, args)
    assert "near chance" in warning and "died" in warning and "--lr 0.03" in warning
    assert mnist_ann.collapse_warning(mnist_ann.init_params([784, 8, 10]), X, y, args) is None


def test_weight_decay_alone_is_not_called_divergence():
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 784), dtype=np.float32), np.arange(64) % 10
    params = mnist_ann.init_params([784, 32, 10], rng=rng)
    history = mnist_ann.train(params, X, y, weight_decay=10.0, epochs=2)  # the penalty starts above 1000
    assert history["epoch"] == [1, 2]


# ---- bounded downloads, against servers on 127.0.0.1 only ------------------------------

class EndlessHandler(http.server.BaseHTTPRequestHandler):
    """Sends a gzip stream that never ends (stored blocks: as large decompressed as sent)."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(gzip.compress(b"")[:10])  # a gzip header
        deflate = zlib.compressobj(0, wbits=-15)
        block = bytes(65536)
        try:
            while True:
                self.wfile.write(deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH))
        except OSError:
            pass

    def log_message(self, *args):
        pass


class TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Sends a valid gzip file a byte every 0.2 s: each read returns, but the file takes hours to arrive."""

    started = None
    body = gzip.compress(np.random.default_rng(0).bytes(100000))

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        if self.started:
            self.started.set()
        try:
            for byte in self.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class BombHandler(http.server.BaseHTTPRequestHandler):
    """Sends a small gzip file that expands to 64 MB."""

    body = gzip.compress(bytes(64 << 20), compresslevel=9)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(handler) starts a server on 127.0.0.1 and returns its base URL."""
    servers = []

    def start(handler, folder=None):
        if folder is not None:
            handler = functools.partial(handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def download_in_a_thread(target, mirrors, seconds):
    """Run download_mnist in a thread; returns (whether it ended within 60 s, the error it raised)."""
    outcome = {}

    def run():
        try:
            mnist_ann.download_mnist(target, mirrors=mirrors, log=lambda message: None, seconds=seconds)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    return not thread.is_alive(), outcome.get("error")


@pytest.mark.parametrize("handler, fragment", [(EndlessHandler, "larger than"), (BombHandler, "larger than"),
                                               (TrickleHandler, "deadline")])
def test_downloads_are_bounded_in_size_and_time_and_leave_nothing_behind(tmp_path, serve, handler, fragment):
    target = tmp_path / "d"
    ended, error = download_in_a_thread(target, (serve(handler),), seconds=2)
    assert ended, "the download did not end"
    assert isinstance(error, mnist_ann.MNISTDataError) and fragment in str(error)
    assert list(target.iterdir()) == []


def test_a_trickling_mirror_is_given_up_for_the_next_one(tmp_path, serve):
    target = shipped_copy(tmp_path / "d", keep_sums=True)
    (target / "t10k-labels-idx1-ubyte.gz").unlink()
    mirrors = (serve(TrickleHandler), serve(QuietFiles, SHIPPED))
    written = mnist_ann.download_mnist(target, mirrors=mirrors, log=lambda message: None, seconds=2)
    assert [p.name for p in written] == ["t10k-labels-idx1-ubyte"]


def test_a_damaged_file_is_replaced_by_download_and_files_are_readable_by_all(tmp_path, serve):
    target = shipped_copy(tmp_path / "d", keep_sums=True)
    path = target / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    written = mnist_ann.download_mnist(target, mirrors=(serve(QuietFiles, SHIPPED),), log=lambda message: None)
    assert [p.name for p in written] == ["t10k-labels-idx1-ubyte"] and not path.exists()
    assert written[0].stat().st_mode & 0o777 == 0o644 and no_partial_files(target)
    assert mnist_ann.load_mnist(target)[3][:3].tolist() == [7, 2, 1]


def test_a_full_disk_or_ctrl_c_during_a_download_leaves_no_file_and_one_line(tmp_path, serve):
    env = {**os.environ, "MNIST_MIRRORS": serve(QuietFiles, SHIPPED)}
    target = tmp_path / "full"
    command = [sys.executable, str(ROOT / "mnist_ann.py"), "--download", "--data-dir", str(target)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                            preexec_fn=limit_file_size(5000))  # not even the test labels (10 kB) fit
    assert_one_line_error(result, "could not write", "no partial file was left")
    assert list(target.iterdir()) == []

    started = threading.Event()
    handler = type("Handler", (TrickleHandler,), {"started": started})
    env["MNIST_MIRRORS"] = serve(handler)
    process = start_cli("--download", "--data-dir", tmp_path / "slow", env=env)
    assert started.wait(timeout=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert list((tmp_path / "slow").iterdir()) == []


def test_download_into_a_path_under_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("")
    assert_one_line_error(run_cli("--download", "--data-dir", tmp_path / "f" / "mnist"),
                          "cannot create the data folder")


# ---- options: modes that exclude each other, empty values, options a mode ignores -------

@pytest.mark.parametrize("args, fragments", [
    (["--evaluate", "w.npz", "--predict", "x.png"], ["exclude each other"]),
    (["--evaluate", ""], ["--evaluate", "needs a value"]),
    (["--predict", ""], ["--predict", "needs a value"]),
    (["--out", ""], ["--out", "needs a value"]),
    (["--data-dir", ""], ["--data-dir", "needs a value"]),
    (["--evaluate", "w.npz", "--epochs", "50", "--lr", "1e9"], ["--evaluate does not use --epochs, --lr"]),
    (["--predict", "x.png", "--hidden", "10"], ["--predict does not use --hidden"]),
    (["--predict", "x.png", "--data-dir", "d"], ["--predict does not use --data-dir"]),
    (["--evaluate", "w.npz", "--weights", "w.npz"], ["--evaluate does not use --weights"]),
    (["--weights", "w.npz"], ["training does not use --weights", "--predict IMAGE"]),
    (["--seed", "-1"], ["--seed", "whole number of at least 0"]),
    (["--optimizer", "adam", "--momentum", "0.5"], ["--optimizer adam does not use --momentum"]),
])
def test_conflicting_empty_and_ignored_options_are_refused_in_one_line(tmp_path, args, fragments):
    result = run_cli(*args, cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert result.stdout == ""


# ---- weights are checked when loaded --------------------------------------------------

@pytest.mark.parametrize("change, fragment", [
    (lambda p: p["W1"].__setitem__((0, 0), np.nan), "NaN or infinite"),
    (lambda p: p["b2"].__setitem__(0, np.inf), "NaN or infinite"),
])
def test_weights_that_are_not_finite_are_refused(data_dir, tmp_path, change, fragment):
    params = mnist_ann.init_params([784, 8, 10])
    change(params)
    np.savez(tmp_path / "w.npz", activation=np.array("relu"), **params)  # save_params refuses such weights
    assert_one_line_error(run_cli("--data-dir", data_dir, "--evaluate", tmp_path / "w.npz"), fragment)


@pytest.mark.parametrize("classes", [3, 1000])
def test_weights_with_another_number_of_classes_are_refused(data_dir, tmp_path, classes):
    mnist_ann.save_params(tmp_path / "w.npz", mnist_ann.init_params([784, 8, classes]))
    assert_one_line_error(run_cli("--data-dir", data_dir, "--evaluate", tmp_path / "w.npz"),
                          f"to {classes} classes, not from 784 to 10")


# ---- the Python API checks its inputs at the door -----------------------------------------

RNG = np.random.default_rng(0)
X = RNG.random((40, 784), dtype=np.float32)
Y = np.arange(40) % 10
PARAMS = mnist_ann.init_params([784, 8, 10])
WITHOUT_B2 = {name: value for name, value in PARAMS.items() if name != "b2"}
WITH_EXTRA = {**PARAMS, "W3": np.zeros((10, 10), np.float32)}

API_MISUSE = [
    ("labels shorter", lambda: mnist_ann.train(dict(PARAMS), X, Y[:30]), mnist_ann.LabelsError, "40 images but 30"),
    ("one-hot labels", lambda: mnist_ann.train(dict(PARAMS), X, mnist_ann.one_hot(Y)), mnist_ann.LabelsError,
     "y.argmax(axis=1)"),
    ("label -1", lambda: mnist_ann.evaluate(PARAMS, X, Y - 1), mnist_ann.LabelsError, "from 0 to 9"),
    ("label 10", lambda: mnist_ann.loss_and_grads(PARAMS, X, Y + 1), mnist_ann.LabelsError, "from 0 to 9"),
    ("float labels", lambda: mnist_ann.train(dict(PARAMS), X, Y.astype(float)), mnist_ann.LabelsError,
     "integer array"),
    ("b2 missing", lambda: mnist_ann.forward(WITHOUT_B2, X), mnist_ann.ParamsError, "lacks b2"),
    ("extra W3", lambda: mnist_ann.predict(WITH_EXTRA, X), mnist_ann.ParamsError, "lacks b3"),
    ("not a dict", lambda: mnist_ann.forward([PARAMS], X), mnist_ann.ParamsError, "must be a dict"),
    ("uint8 images", lambda: mnist_ann.train(dict(PARAMS), (X * 255).astype(np.uint8), Y), mnist_ann.ImagesError,
     "divide by 255"),
    ("images 0..255", lambda: mnist_ann.evaluate(PARAMS, X * 255, Y), mnist_ann.ImagesError, "divide by 255"),
    ("NaN pixel", lambda: mnist_ann.predict(PARAMS, np.where(X > 0.999, np.nan, X)), mnist_ann.ImagesError,
     "[0, 1]"),
    ("one image", lambda: mnist_ann.predict(PARAMS, X[0]), mnist_ann.ImagesError, "X[None, :]"),
    ("wrong width", lambda: mnist_ann.forward(PARAMS, X[:, :100]), mnist_ann.ImagesError, "(N, 784)"),
    ("a list", lambda: mnist_ann.loss_and_grads(PARAMS, X.tolist(), Y), mnist_ann.ImagesError, "NumPy array"),
    ("activation Relu", lambda: mnist_ann.forward(PARAMS, X, "Relu"), mnist_ann.SettingError,
     "relu, leaky_relu, sigmoid, tanh"),
    ("negative seed", lambda: mnist_ann.train(dict(PARAMS), X, Y, seed=-1), mnist_ann.SettingError, "seed"),
]


@pytest.mark.parametrize("call, error, fragment", [case[1:] for case in API_MISUSE], ids=[c[0] for c in API_MISUSE])
def test_api_misuse_gets_one_named_error_without_numpy_internals(call, error, fragment):
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert fragment in message and isinstance(caught.value, mnist_ann.MnistAnnError)
    assert not any(word in message for word in ("AxisError", "IndexError", "KeyError", "broadcast", "ufunc"))


def test_training_checks_its_inputs_once_not_at_every_step(monkeypatch):
    calls, check = [], mnist_ann.validate_network_input
    monkeypatch.setattr(mnist_ann, "validate_network_input", lambda *args: calls.append(1) or check(*args))
    mnist_ann.train(mnist_ann.init_params([784, 8, 10]), X, Y, epochs=2, batch_size=4)  # 20 steps
    assert len(calls) == 3  # at the door, then once per epoch for the loss after its last step


def test_numpy_scalar_settings_are_accepted():
    params = mnist_ann.init_params([784, 8, 10])
    history = mnist_ann.train(params, X, Y, optimizer=mnist_ann.momentum_step, lr=np.float32(0.01),
                              epochs=np.int64(1), batch_size=np.int64(8), weight_decay=np.float64(0),
                              beta=np.float32(0.9))
    assert history["epoch"] == [1]


# ---- sizes that cannot work are refused before anything is allocated ----------------------

@pytest.mark.parametrize("hidden", [["1000000", "1000000"], ["99999999999999999999"]])
def test_a_network_too_big_for_memory_is_refused_with_an_estimate(data_dir, tmp_path, hidden):
    result = run_cli("--data-dir", data_dir, "--out", tmp_path / "out", "--val-size", 20, "--hidden", *hidden)
    assert_one_line_error(result, "would need about", "GiB of memory", "--hidden")
    assert not (tmp_path / "out").exists()


def test_a_huge_image_is_refused_before_it_is_decoded(tmp_path):
    from PIL import Image

    Image.new("1", (5000, 5000)).save(tmp_path / "huge.png")  # 1 bit a pixel: small to write, 25 million pixels
    mnist_ann.save_params(tmp_path / "w.npz", mnist_ann.init_params([784, 8, 10]))
    assert_one_line_error(run_cli("--predict", tmp_path / "huge.png", "--weights", tmp_path / "w.npz"),
                          "5000x5000 pixels", "GiB", "4096x4096")


def test_white_ink_on_a_transparent_background_is_a_digit():
    image = np.zeros((60, 60, 4))
    image[10:50, 27:33] = 1.0  # opaque white stroke; the rest is transparent
    digit = mnist_ann.prepare_digit(image)
    assert digit.max() == 1.0 and digit.reshape(28, 28)[:, 14].sum() > 10


# ---- found by an independent adversarial run ---------------------------------------------------

def test_a_data_file_with_no_images_is_one_data_error(tmp_path):
    folder = write_small_mnist(tmp_path / "empty", n_train=0, n_test=5)
    with pytest.raises(mnist_ann.MNISTDataError, match="holds 0 images"):
        mnist_ann.load_mnist(folder)


def test_test_labels_that_are_not_digits_are_refused_before_any_training(tmp_path):
    folder = write_small_mnist(tmp_path / "data", n_train=60, n_test=20)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.full(20, 200, dtype=np.uint8))
    with pytest.raises(mnist_ann.MNISTDataError, match="labels from 200 to 200, not digits 0 to 9"):
        mnist_ann.load_mnist(folder)


def test_test_images_of_another_size_are_refused_when_loading(tmp_path):
    folder = write_small_mnist(tmp_path / "data", n_train=60, n_test=20)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((20, 20, 20), dtype=np.uint8))
    with pytest.raises(mnist_ann.MNISTDataError, match="test images have 400 pixels but the training images 784"):
        mnist_ann.load_mnist(folder)


@pytest.mark.parametrize("call, message", [
    (lambda: mnist_ann.init_params(None), "layer sizes"),
    (lambda: mnist_ann.init_params(784), "layer sizes"),
    (lambda: mnist_ann.init_params([784, 8, 10], rng=3), "rng must be a NumPy Generator"),
    (lambda: mnist_ann.load_mnist(5), "must be a path"),
    (lambda: mnist_ann.split_validation(np.zeros((10, 4), np.float32), np.zeros(10, int), 2.5), "whole number"),
    (lambda: mnist_ann.save_params(None, mnist_ann.init_params([4, 3])), "must be a path"),
    (lambda: mnist_ann.save_params("w.npz", {"W1": "x"}), "cannot save"),
    (lambda: mnist_ann.save_params("w.npz", mnist_ann.init_params([4, 3]), "swish"), "swish"),
])
def test_api_arguments_of_the_wrong_kind_get_one_sentence(call, message):
    with pytest.raises(mnist_ann.MnistAnnError, match=message):
        call()


def test_whole_numbers_written_as_floats_are_accepted():
    params = mnist_ann.init_params([784, 8.0, 10])
    assert params["W1"].shape == (784, 8)
    X, y = np.random.default_rng(0).random((64, 784), dtype=np.float32), np.arange(64) % 10
    history = mnist_ann.train(params, X, y, epochs=2.0, batch_size=16.0)
    assert history["epoch"] == [1, 2]


@pytest.mark.parametrize("settings, message", [
    ({"patience": "3"}, "--patience"), ({"patience": float("nan")}, "--patience"),
    ({"optimizer": mnist_ann.adam_step, "eps": "x"}, "eps must be a finite number"),
    ({"optimizer": mnist_ann.adam_step, "eps": -1.0}, "eps must be a finite number above 0"),
])
def test_settings_of_the_wrong_kind_are_refused(settings, message):
    X, y = np.random.default_rng(0).random((64, 784), dtype=np.float32), np.arange(64) % 10
    with pytest.raises(mnist_ann.SettingError, match=message):
        mnist_ann.train(mnist_ann.init_params([784, 8, 10]), X, y, X[:10], y[:10], **settings)


def test_saving_where_nothing_can_be_written_is_a_save_error(tmp_path):
    with pytest.raises(mnist_ann.SaveError, match="no partial file was left"):
        mnist_ann.save_params(tmp_path / "missing" / "w.npz", mnist_ann.init_params([4, 3]))
    assert not (tmp_path / "missing").exists()


def test_a_new_out_folder_is_claimed_exclusively(tmp_path, monkeypatch):
    out = tmp_path / "run"
    original_mkdir = type(out).mkdir

    def another_run_got_there_first(self, *args, **kwargs):
        original_mkdir(self, parents=True, exist_ok=True)  # the other run's mkdir
        return original_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(type(out), "mkdir", another_run_got_there_first)
    with pytest.raises(mnist_ann.SettingError, match="made by another run"):
        mnist_ann.claim_folder(out)


def test_read_only_params_are_refused_before_training():
    params = mnist_ann.init_params([784, 8, 10])
    params["W1"].flags.writeable = False
    X, y = np.random.default_rng(0).random((64, 784), dtype=np.float32), np.arange(64) % 10
    with pytest.raises(mnist_ann.ParamsError, match="read-only"):
        mnist_ann.train(params, X, y, epochs=1)


def test_a_weights_path_that_is_not_a_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "weights.npz"
    os.mkfifo(fifo)  # np.load would wait for a writer for ever
    with pytest.raises(mnist_ann.WeightsFileError, match="is not a file"):
        mnist_ann.load_params(fifo)
