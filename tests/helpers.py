"""Small tools shared by the tests: writing IDX files and running the command line."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IDX_TYPE_CODES = {np.dtype("uint8"): 0x08, np.dtype(">i2"): 0x0B, np.dtype(">f4"): 0x0D}


def idx_bytes(array):
    """The bytes of an IDX file holding array (uint8, >i2 or >f4)."""
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    header += np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def write_idx(path, array):
    """Write array as an IDX file, gzipped when the name ends in .gz."""
    data = idx_bytes(array)
    Path(path).write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
    return Path(path)


def write_small_mnist(folder, n_train=50, n_test=20, seed=0):
    """A tiny MNIST-shaped data folder: random 28x28 images and labels 0-9, gzipped."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    return folder


def run_cli(*args, cwd=None, env=None):
    """Run `python mnist_ann.py ARGS` in a subprocess; returns the CompletedProcess."""
    full_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                **{name: str(value) for name, value in (env or {}).items()}}
    return subprocess.run([sys.executable, str(ROOT / "mnist_ann.py"), *map(str, args)],
                          cwd=cwd or ROOT, env=full_env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def assert_one_line_error(result, *fragments, status=2):
    """The command failed with `status`, printed one line on stderr containing fragments, and no traceback."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def solution_functions():
    """The functions of the exercises' solution notebooks, by name: what a student who got everything right writes.

    Each is defined in a namespace of its own notebook's, as in a student's kernel: with np and mnist_ann
    imported, the functions of the cells above it and the constants the notebook gives (cells of plain
    assignments, such as a table of codes); and its source can be read, as Jupyter keeps each cell's text
    (the checks refuse a function made by exec or compile from text they cannot see).
    """
    import ast
    import linecache

    import nbformat
    import numpy as np

    import mnist_ann

    def gives_constants(source):
        """True for a cell that only assigns literal values (a table the notebook gives)."""
        try:
            body = ast.parse(source).body
            return bool(body) and all(isinstance(node, ast.Assign) and ast.literal_eval(node.value) is not None
                                      for node in body)
        except (SyntaxError, ValueError):  # IPython's magics (%matplotlib); a value that is not a literal
            return False

    functions = {}
    for path in sorted((ROOT / "teachers" / "solutions").glob("*.ipynb")):
        namespace = {"np": np, "mnist_ann": mnist_ann}
        for number, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code" and ("### BEGIN SOLUTION" in cell.source or gives_constants(cell.source)):
                filename = f"<{path.name}, cell {number}>"
                linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
                exec(compile(cell.source, filename, "exec"), namespace)
        functions.update({name: value for name, value in namespace.items() if callable(value) and name != "np"})
    return functions
