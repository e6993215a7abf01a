"""The data section: the real MNIST, the IDX reader, splits and batches, every bad input, the download."""

import functools
import gzip
import hashlib
import http.server
import shutil
import socket
import threading

import numpy as np
import pytest

import mnist_ann
from helpers import ROOT, assert_one_line_error, idx_bytes, run_cli, write_idx, write_small_mnist

SHIPPED = ROOT / "data" / "mnist"


@pytest.fixture(scope="module")
def mnist():
    return mnist_ann.load_mnist()


# ---- the real data -------------------------------------------------------

def test_load_mnist_shapes_types_and_range(mnist):
    X_train, y_train, X_test, y_test = mnist
    assert X_train.shape == (60000, 784) and X_train.dtype == np.float32
    assert X_test.shape == (10000, 784) and X_test.dtype == np.float32
    assert y_train.shape == (60000,) and y_train.dtype == np.int64
    assert y_test.shape == (10000,) and y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0


def test_load_mnist_gives_the_known_first_labels_and_counts(mnist):
    _, y_train, _, y_test = mnist
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_pixels_are_the_raw_bytes_divided_by_255(mnist):
    raw = np.frombuffer(gzip.decompress((SHIPPED / "t10k-images-idx3-ubyte.gz").read_bytes())[16:], np.uint8)
    np.testing.assert_array_equal(mnist[2], raw.reshape(10000, 784) / np.float32(255))


def test_shipped_files_match_both_checksum_lists():
    sums = dict(reversed(line.split()) for line in (SHIPPED / "SHA256SUMS").read_text().splitlines())
    for name in mnist_ann.MNIST_FILES.values():
        data = (SHIPPED / f"{name}.gz").read_bytes()
        assert hashlib.sha256(data).hexdigest() == sums[f"{name}.gz"]
        assert hashlib.sha256(gzip.decompress(data)).hexdigest() == mnist_ann.RAW_SHA256[name]


def test_data_folder_from_argument_and_environment(tmp_path, monkeypatch):
    write_small_mnist(tmp_path / "small", n_train=30, n_test=7)
    assert mnist_ann.load_mnist(tmp_path / "small")[0].shape == (30, 784)
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "small"))
    assert mnist_ann.load_mnist()[2].shape == (7, 784)


# ---- the IDX reader --------------------------------------------------------

def test_read_idx_reads_raw_and_gzipped_files_of_any_shape_and_type(tmp_path):
    array = np.arange(24, dtype=">i2").reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        np.testing.assert_array_equal(mnist_ann.read_idx(write_idx(tmp_path / name, array)), array)
    floats = np.linspace(0, 1, 5, dtype=">f4")
    np.testing.assert_array_equal(mnist_ann.read_idx(write_idx(tmp_path / "f.idx", floats)), floats)


def test_raw_uncompressed_files_load_like_gzipped_ones(tmp_path):
    folder = write_small_mnist(tmp_path / "d")
    for path in folder.glob("*.gz"):
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    X_train, y_train, _, _ = mnist_ann.load_mnist(folder)
    assert X_train.shape == (50, 784) and y_train[:3].tolist() == [0, 1, 2]


# ---- splits, one-hot, batches ---------------------------------------------------

def test_split_validation_is_seeded_disjoint_and_complete():
    X = np.arange(100, dtype=np.float32).reshape(100, 1)
    y = np.arange(100)
    X_tr, y_tr, X_val, y_val = mnist_ann.split_validation(X, y, val_size=20, seed=3)
    assert len(X_tr) == 80 and len(X_val) == 20
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(100))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)
    np.testing.assert_array_equal(mnist_ann.split_validation(X, y, 20, seed=3)[3], y_val)
    assert not np.array_equal(mnist_ann.split_validation(X, y, 20, seed=4)[3], y_val)


def test_split_validation_in_place_gives_the_same_split_without_a_copy():
    X = np.arange(300, dtype=np.float32).reshape(100, 3)
    y = np.arange(100)
    expected = mnist_ann.split_validation(X, y, val_size=30, seed=1)
    got = mnist_ann.split_validation(X.copy(), y.copy(), val_size=30, seed=1)
    X_in, y_in = X.copy(), y.copy()
    in_place = mnist_ann.split_validation(X_in, y_in, val_size=30, seed=1, in_place=True)
    for a, b, c in zip(expected, got, in_place):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert np.shares_memory(in_place[0], X_in) and np.shares_memory(in_place[1], y_in)
    assert np.all(np.diff(expected[1]) > 0)  # the training rows keep their original order


def test_split_validation_in_place_on_the_real_training_set(mnist):
    X, y = mnist[0].copy(), mnist[1].copy()
    expected = mnist_ann.split_validation(mnist[0], mnist[1], 5000, seed=0)
    for a, b in zip(expected, mnist_ann.split_validation(X, y, 5000, seed=0, in_place=True)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("val_size", [-1, 100, 1000])
def test_split_validation_refuses_impossible_sizes(val_size):
    with pytest.raises(mnist_ann.SettingError, match="--val-size"):
        mnist_ann.split_validation(np.zeros((100, 2)), np.zeros(100, dtype=int), val_size)


def test_one_hot():
    Y = mnist_ann.one_hot(np.array([2, 0, 9]))
    assert Y.shape == (3, 10) and Y.dtype == np.float32
    assert Y.sum(axis=1).tolist() == [1, 1, 1] and Y[0, 2] == Y[1, 0] == Y[2, 9] == 1


def test_minibatches_cover_every_example_once_in_a_seeded_order():
    X = np.arange(70, dtype=np.float32).reshape(35, 2)
    y = np.arange(35)
    batches = list(mnist_ann.iterate_minibatches(X, y, 8, np.random.default_rng(0)))
    assert [len(yb) for _, yb in batches] == [8, 8, 8, 8, 3]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(35)) and seen.tolist() != list(range(35))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb, X[yb])
        assert Xb.flags.c_contiguous
    again = np.concatenate([yb for _, yb in mnist_ann.iterate_minibatches(X, y, 8, np.random.default_rng(0))])
    np.testing.assert_array_equal(seen, again)


# ---- every bad input gets one clear error ------------------------------------------

def test_missing_folder(tmp_path):
    with pytest.raises(mnist_ann.MNISTDataError, match=r"data folder .*nowhere does not exist.*MNIST_DATA_DIR"):
        mnist_ann.load_mnist(tmp_path / "nowhere")


def test_missing_file(tmp_path):
    folder = write_small_mnist(tmp_path / "d")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(mnist_ann.MNISTDataError, match=r"t10k-labels-idx1-ubyte.gz does not exist.*--download"):
        mnist_ann.load_mnist(folder)


def test_truncated_gzip(tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    path = folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    (folder / "SHA256SUMS").unlink()  # so the reader, not the checksum, meets the damage
    with pytest.raises(mnist_ann.MNISTDataError, match=r"train-labels-idx1-ubyte.gz is damaged.*intact copy"):
        mnist_ann.load_mnist(folder)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(mnist_ann.MNISTDataError, match="is damaged"):
        mnist_ann.read_idx(path)


def test_wrong_magic_number(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x1f\x00\x08\x01" + idx_bytes(np.zeros(3, np.uint8))[4:])
    with pytest.raises(mnist_ann.MNISTDataError, match=r"bad.idx is not an IDX file \(wrong magic number 1f000801\)"):
        mnist_ann.read_idx(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.idx"
    path.write_bytes(b"")
    with pytest.raises(mnist_ann.MNISTDataError, match="wrong magic number none"):
        mnist_ann.read_idx(path)


def test_header_sizes_disagree_with_the_bytes(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = tmp_path / "short.idx"
    path.write_bytes(data[:-100])
    with pytest.raises(mnist_ann.MNISTDataError, match=r"header promises 3136 bytes .* but it holds 3036"):
        mnist_ann.read_idx(path)
    path.write_bytes(data[:10])
    with pytest.raises(mnist_ann.MNISTDataError, match="ends inside its header"):
        mnist_ann.read_idx(path)


def test_image_and_label_counts_differ(tmp_path):
    folder = write_small_mnist(tmp_path / "d", n_train=50)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(49, np.uint8))
    with pytest.raises(mnist_ann.MNISTDataError, match="holds 50 images but .* holds 49 labels"):
        mnist_ann.load_mnist(folder)


def test_swapped_image_and_label_files(tmp_path):
    folder = write_small_mnist(tmp_path / "d")
    images, labels = folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    data = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(data)
    with pytest.raises(mnist_ann.MNISTDataError, match="not swapped"):
        mnist_ann.load_mnist(folder)


def test_checksum_mismatch(tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(SHIPPED, folder)
    path = folder / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(mnist_ann.MNISTDataError, match=r"t10k-labels-idx1-ubyte.gz does not match its checksum"):
        mnist_ann.load_mnist(folder)


def test_command_line_reports_bad_data_in_one_line(tmp_path):
    folder = write_small_mnist(tmp_path / "d")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(49, np.uint8))
    assert_one_line_error(run_cli("--data-dir", folder, "--out", tmp_path / "out"), "49 labels")
    assert_one_line_error(run_cli("--data-dir", tmp_path / "missing"), "does not exist")
    assert not (tmp_path / "out").exists()


# ---- the download, against local mirrors only -----------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class TruncatingHandler(QuietHandler):
    """Promises the whole file but sends half of it, then hangs up: an interrupted download."""

    def do_GET(self):
        data = (self.directory_path / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])


@pytest.fixture
def serve(tmp_path):
    """serve(folder, handler) starts a server on 127.0.0.1 for folder and returns its base URL."""
    servers = []

    def start(folder, handler=QuietHandler):
        handler = type("Handler", (handler,), {"directory_path": folder})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


@pytest.fixture
def corrupt_mirror(tmp_path):
    """A folder of gzip files that decompress fine but to content with one byte changed."""
    folder = tmp_path / "corrupt"
    folder.mkdir()
    for name in mnist_ann.MNIST_FILES.values():
        content = bytearray(gzip.decompress((SHIPPED / f"{name}.gz").read_bytes()))
        content[-1] ^= 0x01
        (folder / f"{name}.gz").write_bytes(gzip.compress(bytes(content), compresslevel=1))
    return folder


def test_download_skips_a_dead_and_a_corrupt_mirror_and_checks_the_content(tmp_path, serve, corrupt_mirror):
    mirrors = (closed_port_url(), serve(corrupt_mirror), serve(tmp_path / "empty_mirror_does_not_exist"),
               serve(SHIPPED))
    target = tmp_path / "fresh"
    written = mnist_ann.download_mnist(target, mirrors=mirrors, log=lambda message: None)
    assert sorted(p.name for p in written) == sorted(mnist_ann.MNIST_FILES.values())
    assert sorted(p.name for p in target.iterdir()) == sorted(mnist_ann.MNIST_FILES.values())  # no temporary files
    X_train, y_train, X_test, y_test = mnist_ann.load_mnist(target)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and X_test.shape == (10000, 784)


def test_download_fetches_only_missing_files(tmp_path, serve):
    target = tmp_path / "partial"
    shutil.copytree(SHIPPED, target)
    (target / "t10k-labels-idx1-ubyte.gz").unlink()
    written = mnist_ann.download_mnist(target, mirrors=(serve(SHIPPED),), log=lambda message: None)
    assert [p.name for p in written] == ["t10k-labels-idx1-ubyte"]
    assert mnist_ann.load_mnist(target)[3][:3].tolist() == [7, 2, 1]


def test_interrupted_and_failing_downloads_leave_no_file_behind(tmp_path, serve, corrupt_mirror):
    target = tmp_path / "never"
    mirrors = (serve(SHIPPED, TruncatingHandler), serve(corrupt_mirror), closed_port_url())
    with pytest.raises(mnist_ann.MNISTDataError, match=r"could not download train-images-idx3-ubyte from any mirror"):
        mnist_ann.download_mnist(target, mirrors=mirrors, log=lambda message: None)
    assert list(target.iterdir()) == []


def test_download_from_the_command_line_fails_in_one_line(tmp_path):
    result = run_cli("--download", "--data-dir", tmp_path / "d", "--epochs", "1",
                     env={"MNIST_MIRRORS": closed_port_url()})
    assert_one_line_error(result, "could not download")
