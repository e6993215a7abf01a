"""mnist_ann.py reads top to bottom: no name is met before its definition, and no exercise code is in it."""

import ast
import re

import pytest

from helpers import ROOT

MODULE_PATH = ROOT / "mnist_ann.py"


def defined_names(node):
    """The module-level names that one top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {target.id for target in node.targets if isinstance(target, ast.Name)}
    return set()


def local_names(node):
    """Names bound inside a function (its arguments and assignments): they hide module-level ones."""
    if not isinstance(node, ast.FunctionDef):
        return set()
    arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs + [node.args.vararg, node.args.kwarg]
    bound = {argument.arg for argument in arguments if argument is not None}
    stored = {name.id for name in ast.walk(node) if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)}
    return bound | stored


def names_used_before_definition(source):
    """[(line, name used, line of its definition)] for every use of a module-level name above its definition.

    The `if __name__ == "__main__":` guard is left out: it runs after the whole file has been read.
    """
    body = [node for node in ast.parse(source).body if not isinstance(node, ast.If)]
    defined_at = {name: node.lineno for node in body for name in defined_names(node)}
    early = []
    for node in body:
        hidden = local_names(node) - defined_names(node)
        for name in ast.walk(node):
            if (isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load) and name.id not in hidden
                    and defined_at.get(name.id, 0) > node.lineno):
                early.append((name.lineno, name.id, defined_at[name.id]))
    return early


def test_the_module_never_uses_a_name_before_defining_it():
    early = names_used_before_definition(MODULE_PATH.read_text())
    assert not early, "used before its definition (line, name, defined on line): " + repr(early)


@pytest.mark.parametrize("source", [
    "def train():\n    return train_epoch()\n\n\ndef train_epoch():\n    return 1\n",
    "def forward(activation):\n    return ACTIVATIONS[activation]\n\n\nACTIVATIONS = {}\n",
    "def init_params(scale=he_scale):\n    return scale\n\n\ndef he_scale():\n    return 2\n",
])
def test_the_order_check_catches_a_name_used_too_early(source):
    assert names_used_before_definition(source)


def test_the_order_check_allows_locals_and_the_main_guard():
    source = ("def step(lr):\n    train = lr\n    return train\n\n\ndef train():\n    return step(1)\n\n\n"
              "if __name__ == '__main__':\n    later()\n\n\ndef later():\n    return 0\n")
    assert names_used_before_definition(source) == []


def test_the_module_holds_no_exercise_checks():
    tree = ast.parse(MODULE_PATH.read_text())
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert not {name for name in functions if name.startswith("check_") and name not in {
        "check_layer_sizes", "check_choice", "check_training_settings", "check_params_layout", "check_input_size",
        "check_dropout_rates"}}
    assert "run_checks" not in functions and (ROOT / "notebooks" / "exercises" / "checks.py").exists()


def test_sections_follow_the_notebooks():
    headings = [line for line in MODULE_PATH.read_text().splitlines() if line.startswith("# ---- ")]
    numbered = [heading.split()[2] for heading in headings]
    assert numbered == [f"{n}." for n in range(1, len(headings) + 1)]
    for heading in headings:
        named = re.findall(r"\d\d_\w+\.ipynb", heading)
        for notebook in named:  # section N is derived in notebook 0N (section 5's fast loop also in 09)
            assert (ROOT / "notebooks" / notebook).exists(), heading
        assert not named or named[0].startswith(f"0{heading.split()[2][:-1]}_"), heading
    assert "Files and the command line" in headings[-1]
