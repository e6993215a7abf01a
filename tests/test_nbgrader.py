"""The exercises graded by the real nbgrader, as a teacher runs it (teachers/README.md).

nbgrader is for teachers only (teachers/requirements.txt, which CI installs): without it, these tests skip.
A temporary course folder holds the solution notebooks with mnist_ann.py, checks.py and the data in
source/exercises/; `nbgrader generate_assignment` makes the students' version, and `nbgrader autograde`
grades five made-up submissions: all right, wrong functions in three notebooks, bodies that call the
module, a softmax whose loop never ends, and a relu cell that replaces its own check.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT

pytest.importorskip("nbgrader", reason="nbgrader is not installed: it is for teachers, "
                                       "pip install -r teachers/requirements.txt (CI does)")

ASSIGNMENT = "exercises"
EXERCISES = ROOT / "notebooks" / "exercises"
SOLUTIONS = sorted((ROOT / "teachers" / "solutions").glob("*.ipynb"))
STUB = 'raise NotImplementedError("replace this line with your code")'


def nbgrader(course, *args):
    """Run one nbgrader command in the course folder; it must succeed."""
    # nbgrader runs `alembic` (its database migrations) from PATH: this environment's, not one found by chance.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                            text=True, timeout=1200, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout + result.stderr


def make_course(course):
    """A course folder as the README tells a teacher to make it."""
    source = course / "source" / ASSIGNMENT
    (source / "data").mkdir(parents=True)
    shutil.copy(ROOT / "teachers" / "nbgrader_config.py", course)
    for path in [*SOLUTIONS, ROOT / "mnist_ann.py", EXERCISES / "checks.py"]:
        shutil.copy(path, source)
    shutil.copytree(ROOT / "data" / "mnist", source / "data" / "mnist")


def correct_body(name):
    """The solution cell of function name, from the solution notebooks (markers are comments: they may stay)."""
    for path in SOLUTIONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source.startswith(f"def {name}("):
                return cell.source
    raise KeyError(name)


def two_wrong(name):
    """softmax normalised down the columns, dropout_forward without its 1/(1 - rate) scale, and confusion_matrix
    with rows and columns swapped; every other function right (cross_entropy_grad calls this softmax,
    loss_and_grads_with_dropout this dropout_forward; most_confused_pairs is checked on counts of its own)."""
    if name == "softmax":
        return ("def softmax(logits):\n    exps = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
                "    return exps / exps.sum(axis=0, keepdims=True)")
    if name == "dropout_forward":
        return ("def dropout_forward(A, rate, rng, training=True):\n    if not training:\n        return A, None\n"
                "    mask = (rng.random(A.shape) >= rate).astype(A.dtype)\n    return A * mask, mask")
    if name == "confusion_matrix":
        return ("def confusion_matrix(predicted, y, num_classes=10):\n"
                "    counts = np.zeros((num_classes, num_classes), dtype=int)\n"
                "    np.add.at(counts, (predicted, y), 1)\n    return counts")
    return correct_body(name)


def calling_the_module(name):
    """A body that hands the job to mnist_ann's own function: softmax through a copy of the module loaded
    again with importlib (which its syntax tree shows), the others by a plain call."""
    first_line = correct_body(name).splitlines()[0]
    if name == "softmax":
        return (f"{first_line}\n    import importlib.util\n"
                "    spec = importlib.util.spec_from_file_location('again', mnist_ann.__file__)\n"
                "    again = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(again)\n"
                "    return again.softmax(logits)")
    if name == "train_loop":
        return (f"{first_line}\n    return mnist_ann.train(params, X, y, optimizer=step, lr=lr, schedule='constant',"
                " epochs=epochs, batch_size=batch_size)['train_loss']")
    arguments = re.search(r"\((.*)\)", first_line).group(1)
    call = ", ".join(f"{arg.split('=')[0]}={arg.split('=')[0]}" if "=" in arg else arg
                     for arg in arguments.split(", "))
    return f"{first_line}\n    return mnist_ann.{name}({call})"


def endless_softmax(name):
    """Everything right but a softmax whose loop never ends: the time limit must end its check cells."""
    if name == "softmax":
        return "def softmax(logits):\n    while True:\n        logits = logits + 0"
    return correct_body(name)


def replacing_the_check(name):
    """Everything right but relu, which is |Z|, and whose cell replaces the check that grades it, and the
    module's relu that the checks compare with: the graded run must see through both."""
    if name == "relu":
        return ("def relu(Z):\n    return np.abs(Z)\n\n"
                "checks.check_relu = lambda relu_fn: print('relu: all checks passed.') or True\n"
                "mnist_ann.relu = relu")
    return correct_body(name)


def submit(course, student, body_of):
    """Fill the released notebooks' solution cells with body_of(function name), as a student hands them in."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for path in sorted((course / "release" / ASSIGNMENT).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = body_of(re.match(r"def (\w+)\(", cell.source).group(1))
        nbformat.write(notebook, folder / path.name)


def scores(course, student):
    """The points of each check cell of student's graded submission, by the cell's grade_id."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return {grade.name: grade.score for notebook in submission.notebooks for grade in notebook.grades}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    make_course(course)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    for student, body_of in [("all_right", correct_body), ("two_wrong", two_wrong),
                             ("borrower", calling_the_module), ("endless", endless_softmax),
                             ("tamperer", replacing_the_check)]:
        submit(course, student, body_of)
    (course / "autograde.log").write_text(nbgrader(course, "autograde", ASSIGNMENT, "--create"))
    return course


def full_marks():
    """Every check cell's points, from the solution notebooks' metadata."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"] for path in SOLUTIONS
            for cell in nbformat.read(path, as_version=4).cells if cell.metadata.get("nbgrader", {}).get("grade")}


def test_nbgrader_releases_exactly_our_student_notebooks(course):
    """generate_assignment and make_student_versions.py give the same cells: sources, locks and metadata."""
    def cells(path):
        return [(cell.cell_type, cell.source, {key: value for key, value in cell.metadata.items() if key != "nbgrader"},
                 {key: value for key, value in cell.metadata.get("nbgrader", {}).items()
                  if key not in ("checksum", "cell_type")})
                for cell in nbformat.read(path, as_version=4).cells]
    for path in SOLUTIONS:
        assert cells(course / "release" / ASSIGNMENT / path.name) == cells(EXERCISES / "student" / path.name)


def test_autogrades_checksum_warnings_are_one_per_check_cell_as_the_teachers_readme_says(course):
    """nbgrader warns that each check cell's checksum changed (its hidden test was removed from the release):
    expected, and only for check cells."""
    warnings = re.findall(r"Attribute 'checksum' for cell (\S+) has changed", (course / "autograde.log").read_text())
    check_cells = [cell for cell in full_marks()]
    assert sorted(warnings) == sorted(check_cells * 5)  # five submissions


def test_a_submission_with_everything_right_gets_full_marks(course):
    assert scores(course, "all_right") == full_marks()
    assert sum(full_marks().values()) == 47  # as teachers/README.md says


def test_a_wrong_function_loses_its_points_and_those_of_checks_built_on_it(course):
    expected = {**full_marks(), "check_softmax": 0, "check_cross_entropy_grad": 0,  # cross_entropy_grad uses softmax
                "check_dropout_forward": 0, "check_loss_and_grads_with_dropout": 0,  # the network uses dropout_forward
                "check_confusion_matrix": 0}
    assert scores(course, "two_wrong") == expected
    graded = nbformat.read(course / "autograded" / "two_wrong" / ASSIGNMENT / "05_dropout.ipynb", as_version=4)
    said = "".join(output.get("text", "") for cell in graded.cells if cell.cell_type == "code"
                   for output in cell.outputs)
    assert "dropout_forward: check 2 of " in said and "the mask is not scaled" in said


def test_a_loop_that_never_ends_is_stopped_and_loses_only_its_points(course):
    """Under nbgrader too, the time limit ends a check whose function never returns (nbgrader's own limit, 30 s
    a cell, would give CellTimeoutError); the checks built on it lose their points, the others keep theirs."""
    expected = {**full_marks(), "check_softmax": 0, "check_cross_entropy_grad": 0}  # cross_entropy_grad: softmax
    assert scores(course, "endless") == expected
    graded = nbformat.read(course / "autograded" / "endless" / ASSIGNMENT / SOLUTIONS[0].name, as_version=4)
    said = "".join(output.get("text", "") for cell in graded.cells if cell.cell_type == "code"
                   for output in cell.outputs)
    assert "did not finish in 10 s, so the check stopped it: a loop that never ends?" in said
    assert "CellTimeoutError" not in str(graded)


def test_bodies_calling_the_module_get_nothing(course):
    assert set(scores(course, "borrower").values()) == {0}
    graded = nbformat.read(course / "autograded" / "borrower" / ASSIGNMENT / SOLUTIONS[0].name, as_version=4)
    said = "".join(output.get("text", "") for cell in graded.cells if cell.cell_type == "code"
                   for output in cell.outputs)
    assert "softmax: softmax's code uses import importlib, which can reach the module's own answer" in said
    assert "cross_entropy: it calls mnist_ann.cross_entropy, the module's own answer" in said


def test_a_cell_that_replaces_its_check_is_graded_by_the_real_one(course):
    """A student's cell can make the check they see lie (checks.check_relu = ...), but the graded run confirms
    a pass with checks.py and mnist_ann.py reloaded from disk: relu, and forward built on it, get nothing."""
    expected = {**full_marks(), "check_relu": 0, "check_forward": 0}
    assert scores(course, "tamperer") == expected
