"""Make the student notebooks from the solution notebooks, so that the two never drift apart.

In notebooks/exercises/solutions/, each solution sits between a line `### BEGIN SOLUTION` and a
line `### END SOLUTION` (as in nbgrader). In the student copy, written to
notebooks/exercises/student/, each such block becomes one line at the block's indentation:

    raise NotImplementedError("replace this line with your code")

The student notebooks are then executed, so that their stored outputs show what the checks
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
EXERCISES = ROOT / "notebooks" / "exercises"
SOLUTIONS, STUDENT = EXERCISES / "solutions", EXERCISES / "student"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("replace this line with your code")'


def strip_solutions(source):
    """source with each marked solution block replaced by the stub, indented as the block's markers."""
    kept, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN and not inside:
            kept.append(line[:len(line) - len(line.lstrip())] + STUB)
            inside = True
        elif marker == END and inside:
            inside = False
        elif marker in (BEGIN, END):
            raise ValueError(f"line {number}: a stray {marker}")
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without its {END}")
    return "\n".join(kept)


def student_notebook(solution):
    """A copy of a solution notebook with every solution replaced by the stub, and no outputs."""
    notebook = copy.deepcopy(solution)
    for cell in notebook.cells:
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
