"""The notebooks run outside the repository when mnist_ann.py sits beside them, and say what to do when it does not;
pytest works from any folder and never collects Jupyter's checkpoint copies."""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers import ROOT

WALKTHROUGH_NOTEBOOK = ROOT / "notebooks" / "03_softmax_cross_entropy.ipynb"
STUDENT_NOTEBOOK = ROOT / "notebooks" / "exercises" / "student" / "01_softmax_and_cross_entropy.ipynb"
HINT = "was not found: open this notebook inside the mnist-ann repository, or put mnist_ann.py"


def run_notebook(notebook, folder):
    """Execute a copy of notebook in folder, as a person's Jupyter would there; returns the executed notebook."""
    copy = shutil.copy(notebook, folder)
    executed = nbformat.read(copy, as_version=4)
    env = {**os.environ, "PYTHONPATH": ""}  # nothing but the folder itself may provide mnist_ann
    client = NotebookClient(executed, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return executed


def beside(folder, *names):
    """Put the module, the checks and the data beside a notebook in folder, as a learning platform would."""
    sources = {"mnist_ann.py": ROOT / "mnist_ann.py", "checks.py": ROOT / "notebooks" / "exercises" / "checks.py"}
    for name in names:
        shutil.copy(sources[name], folder)
    (folder / "data").mkdir()
    (folder / "data" / "mnist").symlink_to(ROOT / "data" / "mnist")


@pytest.mark.parametrize("notebook", [WALKTHROUGH_NOTEBOOK, STUDENT_NOTEBOOK], ids=["walkthrough", "exercise"])
def test_a_notebook_alone_stops_with_one_sentence_saying_what_to_do(tmp_path, notebook):
    with pytest.raises(CellExecutionError) as caught:
        run_notebook(notebook, tmp_path)
    assert caught.value.ename == "ModuleNotFoundError"
    assert caught.value.evalue.startswith("mnist_ann.py " + HINT), caught.value.evalue
    assert caught.value.evalue.count(". ") == 0 and caught.value.evalue.endswith(".")  # one sentence


def test_an_exercise_with_the_module_but_not_the_checks_names_the_checks(tmp_path):
    shutil.copy(ROOT / "mnist_ann.py", tmp_path)
    with pytest.raises(CellExecutionError) as caught:
        run_notebook(STUDENT_NOTEBOOK, tmp_path)
    assert caught.value.evalue.startswith("checks.py " + HINT), caught.value.evalue


def test_a_walkthrough_notebook_runs_with_the_module_beside_it(tmp_path):
    beside(tmp_path, "mnist_ann.py")
    executed = run_notebook(WALKTHROUGH_NOTEBOOK, tmp_path)
    assert all(output.output_type != "error" for cell in executed.cells for output in cell.get("outputs", []))


def test_an_exercise_runs_with_the_module_and_checks_beside_it(tmp_path):
    beside(tmp_path, "mnist_ann.py", "checks.py")
    executed = run_notebook(STUDENT_NOTEBOOK, tmp_path)
    text = "".join(output.get("text", "") for cell in executed.cells for output in cell.get("outputs", []))
    assert "not implemented yet" in text


def pytest_in(folder, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *map(str, args)], cwd=folder,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


@pytest.fixture
def stray_checkpoint():
    """A broken notebook where JupyterLab keeps its checkpoints: it must never be collected."""
    folder = ROOT / "notebooks" / ".ipynb_checkpoints"
    existed = folder.exists()
    folder.mkdir(exist_ok=True)
    stray = folder / "zz_stray-checkpoint.ipynb"
    stray.write_text("not a notebook")
    yield stray
    stray.unlink()
    if not existed:
        folder.rmdir()


def test_pytest_collects_the_same_from_another_folder_and_skips_checkpoints(tmp_path, stray_checkpoint):
    from_root = pytest_in(ROOT, "--collect-only", "-q")
    from_elsewhere = pytest_in(tmp_path, "--collect-only", "-q", ROOT)
    assert from_root.returncode == 0 and from_elsewhere.returncode == 0, from_elsewhere.stdout[-2000:]
    assert ".ipynb_checkpoints" not in from_root.stdout + from_elsewhere.stdout
    assert "notebooks/03_softmax_cross_entropy.ipynb::Cell 0" in from_elsewhere.stdout
    assert "tests/test_module.py::" in from_elsewhere.stdout


def test_pytest_runs_from_another_folder_and_from_notebooks(tmp_path, stray_checkpoint):
    elsewhere = pytest_in(tmp_path, ROOT / "tests" / "test_module.py")
    assert elsewhere.returncode == 0, elsewhere.stdout[-2000:]
    in_notebooks = pytest_in(ROOT / "notebooks", WALKTHROUGH_NOTEBOOK.name)
    assert in_notebooks.returncode == 0, in_notebooks.stdout[-2000:]
    assert " passed" in in_notebooks.stdout.splitlines()[-1]
