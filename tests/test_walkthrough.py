"""The walkthrough's shared rules (issue 20, notebooks/WALKTHROUGH decisions), checked over every notebook:

(a) a number in the prose of 01-09 is one the notebook computes or prints (or a small, listed constant);
(b) every notebook opens in JupyterLab without being rewritten: kernelspec "Python 3 (ipykernel)";
(c) every code line fits in 100 columns, so nothing scrolls sideways on a laptop screen;
(d) each walkthrough notebook 01-08 runs alone, with only mnist_ann.py and data/ beside it, under strict
    nbval and two BLAS threads;
(e) each notebook 01-08 has a picture of its own (a markdown cell attachment) and a question in its text.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

WALKTHROUGH = sorted(path for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAIN_PATH = [path for path in WALKTHROUGH if "01" <= path.name[:2] <= "08"]
EVERY_NOTEBOOK = sorted(path for path in (ROOT / "notebooks").rglob("*.ipynb")
                        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
MAX_COLUMNS = 100


def cells(path, kind):
    return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
            if cell["cell_type"] == kind]


def text_outputs(path):
    """Everything a notebook's code printed or displayed as text."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            found.append("".join(output.get("text", "")))
            found.append("".join(output.get("data", {}).get("text/plain", "")))
            found.append(output.get("evalue", ""))
    return "\n".join(found)


# ---- (a) Numbers in prose come from the notebook ----

# Constants a reader meets everywhere, which no cell needs to print. Keep this list short.
ALLOWED_NUMBERS = {
    "784", "28", "255", "256",  # pixels per image, its side, the largest grey level, byte values
    "60000", "10000", "55000", "5000", "70000",  # MNIST's splits: train, test, our training part, validation, all
    "100",  # percent
}
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
STRIP_FROM_PROSE = [
    re.compile(r"```.*?```", re.DOTALL),  # fenced code
    re.compile(r"\$\$.*?\$\$", re.DOTALL),  # display math
    re.compile(r"\$[^$]*\$"),  # inline math
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"<[^>]*>"),  # HTML tags (not their text)
    re.compile(r"\]\([^)]*\)"),  # link targets, keeping the link's text
]


def prose_numbers(markdown):
    """The number tokens of markdown outside math, code, tags and link targets, commas removed."""
    for pattern in STRIP_FROM_PROSE:
        markdown = pattern.sub(lambda match: "]" if match.group().startswith("]") else " ", markdown)
    return [(match.group().replace(",", "").rstrip("."), markdown[max(0, match.start() - 40):match.end() + 20])
            for match in NUMBER.finditer(markdown)]


def is_a_year(token, context):
    return token.isdigit() and 1950 <= int(token) <= 2030 and not re.search(token + r"[\d.,]\d", context)


def unexplained_numbers(path):
    """[(number, context)] of prose numbers that neither the notebook's code nor its outputs contain."""
    computed = ("\n".join(cells(path, "code")) + "\n" + text_outputs(path)).replace(",", "")
    computed_tokens = {match.group().rstrip(".") for match in NUMBER.finditer(computed)}
    unexplained = []
    for markdown in cells(path, "markdown"):
        for token, context in prose_numbers(markdown):
            small = token.isdigit() and int(token) <= 12
            if small or token in ALLOWED_NUMBERS or is_a_year(token, context) or token in computed_tokens:
                continue
            unexplained.append((token, " ".join(context.split())))
    return unexplained


@pytest.mark.parametrize("path", WALKTHROUGH, ids=lambda path: path.name)
def test_every_number_in_the_prose_is_computed_or_printed_by_the_notebook(path):
    unexplained = unexplained_numbers(path)
    assert not unexplained, (f"{path.name}: numbers in the prose that no cell prints or computes; print and "
                             f"assert them, or quote them as printed: {unexplained}")


def test_the_number_rule_can_fail(tmp_path):
    """A planted number that nothing prints is caught; the same number printed by a cell passes."""
    def notebook(markdown, code, printed):
        cell_code = {"cell_type": "code", "source": code, "metadata": {}, "execution_count": 1,
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}]}
        path = tmp_path / "planted.ipynb"
        path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": markdown, "metadata": {}},
                                              cell_code], "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}))
        return path

    planted = "The network reaches 97.31% after 17 epochs; $x = 4711$ and `n = 4711` are not prose."
    found = unexplained_numbers(notebook(planted, "print(accuracy)", "97.00%\n"))
    assert [token for token, _ in found] == ["97.31", "17"], found
    assert unexplained_numbers(notebook(planted, "epochs = 17", "97.31%\n")) == []
    assert unexplained_numbers(notebook("Read 1,234 bytes (see [2023](ref-4711)).", "", "1234\n")) == []
    assert prose_numbers("In 1998, LeCun et al.")[0][0] == "1998" and is_a_year("1998", "In 1998, LeCun")


# ---- (b) Kernelspecs and (c) line widths ----

@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda path: str(path.relative_to(ROOT / "notebooks")))
def test_the_kernelspec_is_what_jupyterlab_writes(path):
    assert json.loads(path.read_text())["metadata"].get("kernelspec") == KERNELSPEC, (
        f"{path.name}: JupyterLab would rewrite its kernelspec on opening, leaving the file unsaved")


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda path: str(path.relative_to(ROOT / "notebooks")))
def test_every_code_line_fits_in_100_columns(path):
    long_lines = [line for source in cells(path, "code") for line in source.splitlines()
                  if len(line) > MAX_COLUMNS]
    assert not long_lines, f"{path.name}: {len(long_lines)} code lines over {MAX_COLUMNS} columns: {long_lines[:3]}"


# ---- (d) Each walkthrough notebook runs alone, under strict nbval, with two BLAS threads ----

def test_each_walkthrough_notebook_runs_with_only_the_module_and_the_data_beside_it(tmp_path):
    assert len(MAIN_PATH) == 8, [path.name for path in MAIN_PATH]
    for path in MAIN_PATH:
        shutil.copy(path, tmp_path)
    shutil.copy(ROOT / "mnist_ann.py", tmp_path)
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "MPLBACKEND": "Agg",
           "PYTHONPATH": ""}  # nothing but the folder itself may provide mnist_ann
    env.pop("MNIST_DATA_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", "--nbval-current-env",
         "--nbval-cell-timeout=600", "-o", "addopts=", "-o", "testpaths=", "-o", "pythonpath=",
         *[path.name for path in MAIN_PATH]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600, stdin=subprocess.DEVNULL,
        check=False)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert result.returncode == 0, "\n".join(failed) + "\n" + result.stdout[-4000:] + result.stderr[-2000:]


# ---- (e) A picture of its own and a question inside the text ----

ATTACHED_IMAGE = re.compile(r"!\[[^\]]{20,}\]\(attachment:(?P<name>[^)\s]+\.png)\)")
QUESTION_IN_TEXT = re.compile(r"\*\*Predict[^*]*\*\*.*?<details>", re.DOTALL)


@pytest.mark.parametrize("path", MAIN_PATH, ids=lambda path: path.name)
def test_each_notebook_has_an_attached_picture(path):
    attached = [match["name"] for cell in json.loads(path.read_text())["cells"]
                if cell["cell_type"] == "markdown"
                for match in ATTACHED_IMAGE.finditer("".join(cell["source"]))
                if "image/png" in cell.get("attachments", {}).get(match["name"], {})]
    assert attached, f"{path.name}: no picture embedded as a cell attachment, with alt text"


@pytest.mark.parametrize("path", MAIN_PATH, ids=lambda path: path.name)
def test_each_notebook_asks_a_question_inside_its_text(path):
    questions = [source for source in cells(path, "markdown")
                 if not source.startswith("## Check yourself") and QUESTION_IN_TEXT.search(source)]
    assert questions, (f"{path.name}: no question in the text (**Predict before you run: ...** with the "
                       "answer folded in <details>), besides Check yourself")
