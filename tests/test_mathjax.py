"""Every formula in the notebooks' markdown typesets in MathJax 3, the engine JupyterLab draws math with.

Formulas are found the way JupyterLab finds them before rendering markdown ($...$, $$...$$, \\(...\\),
\\[...\\] and \\begin{env}...\\end{env}, outside code, with braces balanced), then typeset by node with
the npm package mathjax-full (tools/mathjax/check_formulas.js). Where node is missing, the tests that
need it skip and say so.
"""

import json
import re
import shutil
import subprocess

import pytest
from helpers import ROOT

MATHJAX_DIR = ROOT / "tools" / "mathjax"
CHECKER = MATHJAX_DIR / "check_formulas.js"
# Jupyter's own copies in .ipynb_checkpoints/ are not lessons: skip every hidden folder.
NOTEBOOKS = sorted(path for pattern in ("notebooks/*.ipynb", "notebooks/exercises/*/*.ipynb")
                   for path in ROOT.glob(pattern)
                   if not any(part.startswith(".") for part in path.relative_to(ROOT).parts))

# Code is never typeset: a fenced block (``` or ~~~, open to the end if never closed) or a code span.
CODE_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*(?P=fence)[`~]*[ \t]*$|\Z)",
                        re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(?<![\\`])(?P<ticks>`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)(?P=ticks)(?!`)", re.DOTALL)

# The pieces of markdown that open, close or nest math. Order matters: a double backslash before a
# bracket is the \( or \[ delimiter (markdown turns "\\(" into "\("), any other escape is just text.
MATH_TOKEN = re.compile(r"""
    \$\$? | \\(?:begin|end)\{[a-zA-Z]*\*?\} | \\\\[()\[\]] | \\[\\${}] | [{}] | \n(?:[ \t]*\n)+
""", re.VERBOSE)
CLOSING = {"$": "$", "$$": "$$", "\\\\(": "\\\\)", "\\\\[": "\\\\]"}
INLINE_OPENINGS = {"$", "\\\\("}


def without_code(markdown):
    """markdown with its code blocks and code spans blanked, so that a `$x` in code opens no math."""
    return CODE_SPAN.sub(" ", CODE_FENCE.sub("\n", markdown))


def closing_token(opening):
    """What ends math that starts with this token, or None when the token starts no math."""
    if opening.startswith("\\begin"):
        return "\\end" + opening[len("\\begin"):]
    return CLOSING.get(opening)


def formula_between(text, opening, closing):
    """(TeX, display) of math from the opening match to the closing match."""
    if opening.group().startswith("\\begin"):  # an environment is typeset with its \begin and \end
        return text[opening.start():closing.end()], True
    return text[opening.end():closing.start()], opening.group() not in INLINE_OPENINGS


def math_end(tokens, start):
    """Where math opened by tokens[start] ends: (index of its closing token or None, index to scan on from)."""
    closing, depth, last_close = closing_token(tokens[start].group()), 0, None
    for index in range(start + 1, len(tokens)):
        piece = tokens[index].group()
        if piece == closing and depth == 0:
            return index, index + 1
        if piece == closing:  # braces still open: close here only if a paragraph or the text ends first
            last_close = index
        elif piece.startswith("\n"):  # math never crosses a paragraph
            return (last_close, last_close + 1) if last_close is not None else (None, index + 1)
        elif piece == "{":
            depth += 1
        elif piece == "}" and depth:
            depth -= 1
    return last_close, len(tokens)


def formulas_in(markdown):
    """Every (TeX, display) in markdown, found as JupyterLab finds them before rendering the markdown."""
    text, found, index = without_code(markdown), [], 0
    tokens = list(MATH_TOKEN.finditer(text))
    while index < len(tokens):
        if closing_token(tokens[index].group()) is None:
            index += 1
            continue
        closed_at, next_index = math_end(tokens, index)
        found += [formula_between(text, tokens[index], tokens[closed_at])] if closed_at is not None else []
        index = next_index
    return found


def markdown_cells(path):
    """(index, source) of each markdown cell of the notebook at path."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(index, "".join(cell["source"])) for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"]


def shown(path):
    """path as a reader finds it: from the repository's root when it is inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name


def notebook_formulas(paths):
    """(where, TeX, display) of every formula in the markdown of the notebooks at paths."""
    return [(f"{shown(path)} cell {index}", tex, display)
            for path in paths for index, source in markdown_cells(path) for tex, display in formulas_in(source)]


def mathjax_errors(formulas):
    """MathJax's error message for each (TeX, display), or None where it typesets."""
    request = json.dumps([{"tex": tex, "display": display} for tex, display in formulas])
    result = subprocess.run(["node", str(CHECKER)], input=request, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def install_mathjax():
    """Install mathjax-full at the version tools/mathjax/package-lock.json pins (about 10 s, 50 MB)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: it installs MathJax (npm ci --prefix tools/mathjax)")
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=MATHJAX_DIR, capture_output=True,
                            text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)
    # node and the npm registry are on every machine of this project, so a failed install is a failure.
    assert result.returncode == 0, f"npm ci in tools/mathjax failed:\n{result.stderr}"


@pytest.fixture(scope="module")
def typeset_errors():
    """mathjax_errors, once node and MathJax are there; skips where node is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the formulas are typeset by MathJax, which runs on node")
    if not (MATHJAX_DIR / "node_modules" / "mathjax-full" / "package.json").is_file():
        install_mathjax()
    return mathjax_errors


def problems(formulas, typeset_errors):
    """One line for each formula MathJax cannot typeset: where it is, the formula and the error."""
    errors = typeset_errors([(tex, display) for _, tex, display in formulas])
    return [f"{where}: {tex!r}: {error}" for (where, tex, _), error in zip(formulas, errors) if error]


def test_every_formula_in_the_notebooks_typesets(typeset_errors):
    formulas = notebook_formulas(NOTEBOOKS)
    assert len(formulas) > 500, "the notebooks hold hundreds of formulas: the search for them is broken"
    found = problems(formulas, typeset_errors)
    assert not found, "MathJax cannot typeset:\n" + "\n".join(found)


PLANTED = {
    r"$\texttt{a_b}$": "'_' allowed only in math mode",
    r"$$\mathbf{Z}_1 = \undefinedmacro{X}$$": "Undefined control sequence \\undefinedmacro",
    r"$\frac{1}{2$ and more text": "Missing close brace",
}


def write_notebook(path, markdown_sources):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": source} for source in markdown_sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_check_catches_planted_errors_and_passes_correct_formulas(tmp_path, typeset_errors):
    correct = [r"$\texttt{a\_b}$ and $\mathrm{step\_size}$", r"$$\frac{\partial L}{\partial \mathbf{W}_1}$$",
               "\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}"]
    notebook = write_notebook(tmp_path / "planted.ipynb", [*PLANTED, *correct])
    found = problems(notebook_formulas([notebook]), typeset_errors)
    assert len(found) == len(PLANTED), found
    for line, (source, error) in zip(found, PLANTED.items()):
        assert line.startswith(f"planted.ipynb cell {list(PLANTED).index(source)}: ") and line.endswith(error), line


def test_formulas_are_found_as_jupyterlab_finds_them():
    markdown = "\n".join([
        r"Inline $a_1$, display $$\sum_i x_i$$, and a price of \$5 that is not math.",
        r"Brackets: \\(x\\) and \\[y\\]; environments: \begin{align} z &= 1 \end{align}",
        r"Code is not math: `$not math$`, ``a ` $tick$``, and", "```python", "cost = '$x$'", "```",
        r"Braces nest: $\text{a $b$ c}$. A lone $ followed by", "", "a blank line opens nothing.",
    ])
    assert formulas_in(markdown) == [
        ("a_1", False), (r"\sum_i x_i", True), ("x", False), ("y", True),
        (r"\begin{align} z &= 1 \end{align}", True), (r"\text{a $b$ c}", False),
    ]
