"""Make the student notebooks from the solution notebooks, as `nbgrader generate_assignment` does.

In teachers/solutions/, each solution sits between a line `### BEGIN SOLUTION` and a
line `### END SOLUTION`, and each check cell ends with a block between `### BEGIN HIDDEN TESTS` and
`### END HIDDEN TESTS` that makes it fail under grading (nbgrader's markers and cell metadata).
In the student copy, written to notebooks/exercises/student/, each solution block becomes one line
at the block's indentation (the stub that teachers/nbgrader_config.py gives nbgrader too):

    raise NotImplementedError("replace this line with your code")

each hidden-tests block is removed, and cells are locked as nbgrader locks them. So the student
notebooks are nbgrader's release version (a test compares them), made without nbgrader, a course
folder or its database. They are then executed, so that their stored outputs show what the checks
say before a student has started. From any folder:

    python tools/make_student_versions.py
    python tools/make_student_versions.py --no-execute   # write the sources only
"""

import argparse
import copy
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "teachers" / "solutions"  # the teachers' folder: students never open it
STUDENT = ROOT / "notebooks" / "exercises" / "student"  # beside checks.py, in the folder students open
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = 'raise NotImplementedError("replace this line with your code")'


def strip_blocks(source, begin, end, stub=None):
    """source with each block from a line `begin` to a line `end` replaced by stub (indented as begin), or removed."""
    kept, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == begin and not inside:
            if stub is not None:
                kept.append(line[:len(line) - len(line.lstrip())] + stub)
            inside = True
        elif marker == end and inside:
            inside = False
        elif marker in (begin, end):
            raise ValueError(f"line {number}: a stray {marker}")
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"{begin} without its {end}")
    return "\n".join(kept)


def strip_solutions(source):
    """source with each marked solution block replaced by the stub, and each hidden-tests block removed."""
    return strip_blocks(strip_blocks(source, BEGIN, END, STUB), BEGIN_HIDDEN, END_HIDDEN)


def lock(cell):
    """Mark cell undeletable, and uneditable unless it holds a solution, as nbgrader's LockCells does."""
    grading = cell.metadata.get("nbgrader", {})
    if grading.get("solution"):
        cell.metadata["deletable"] = False
    elif grading.get("grade") or grading.get("locked"):
        cell.metadata["deletable"] = cell.metadata["editable"] = False


def student_notebook(solution):
    """A copy of a solution notebook with every solution replaced by the stub, hidden tests removed, no outputs."""
    notebook = copy.deepcopy(solution)
    for cell in notebook.cells:
        lock(cell)
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs, cell.execution_count = [], None
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-execute", action="store_true", help="write the student notebooks without running them")
    args = parser.parse_args(argv)
    STUDENT.mkdir(exist_ok=True)
    written = []
    for solution in sorted(SOLUTIONS.glob("*.ipynb")):
        target = STUDENT / solution.name
        nbformat.write(student_notebook(nbformat.read(solution, as_version=4)), target)
        written.append(str(target.relative_to(ROOT)))
    for stale in set(STUDENT.glob("*.ipynb")) - {ROOT / path for path in written}:
        stale.unlink()  # its solution notebook is gone
    if not args.no_execute:
        subprocess.run(["bash", "tools/run_notebooks.sh", *written], cwd=ROOT, check=True)
    print("\n".join(f"wrote {path}" for path in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
