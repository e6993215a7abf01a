"""Copy the module's definitions into the notebooks' mirrored cells, so that the two read the same.

A cell that starts with `# mirrored in mnist_ann.py` holds definitions that tests/test_notebooks.py
requires to equal mnist_ann.py's, character for character. After changing a mirrored function in the
module, run this, then re-execute the notebooks it names (bash tools/run_notebooks.sh NOTEBOOK...):

    python tools/sync_mirrors.py           # rewrite the cells that differ, and name their notebooks
    python tools/sync_mirrors.py --check   # only name them; exit status 1 if any differs

Each definition in a mirrored cell is replaced by the module's text of the same name, with the comment
lines just above it in the module; the cell keeps its own choice and order of definitions.
"""

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIRROR_MARK = "# mirrored in mnist_ann.py"


def module_definitions(source):
    """{name: text} of each top-level def and assignment, with the comment lines just above it."""
    lines, definitions = source.splitlines(), {}
    for node in ast.parse(source).body:
        names = [node.name] if isinstance(node, ast.FunctionDef) else \
            [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)]
        start = node.lineno - 1
        while start > 0 and lines[start - 1].startswith("#") and not lines[start - 1].startswith("# ----"):
            start -= 1
        for name in names:
            definitions[name] = "\n".join(lines[start:node.end_lineno])
    return definitions


def mirrored_names(cell_source):
    return [name for node in ast.parse(cell_source).body
            for name in ([node.name] if isinstance(node, ast.FunctionDef) else
                         [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)])]


def synced(cell_source, definitions):
    """The cell's source with each of its definitions as the module has it; None if one is not in the module."""
    names = mirrored_names(cell_source)
    if not all(name in definitions for name in names):
        return None
    return MIRROR_MARK + "\n" + "\n\n\n".join(definitions[name] for name in names)


def sync_notebook(path, definitions, write):
    """True if a mirrored cell of the notebook differed (and, with write, was rewritten)."""
    notebook = json.loads(path.read_text())
    changed = False
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not source.startswith(MIRROR_MARK):
            continue
        new = synced(source, definitions)
        if new is None:
            print(f"{path.relative_to(ROOT)}: a mirrored cell defines a name mnist_ann.py lacks", file=sys.stderr)
        elif new != source:
            lines = new.split("\n")
            cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
            changed = True
    if changed and write:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a mirrored cell differs")
    args = parser.parse_args(argv)
    definitions = module_definitions((ROOT / "mnist_ann.py").read_text())
    notebooks = sorted(path for path in (ROOT / "notebooks").glob("**/*.ipynb")
                       if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))
    differing = [path for path in notebooks if sync_notebook(path, definitions, write=not args.check)]
    for path in differing:
        print(path.relative_to(ROOT))
    return 1 if args.check and differing else 0


if __name__ == "__main__":
    sys.exit(main())
