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


def lesson_source(source):
    """Sections 1-8 of the module: from its first section heading to the guards' heading."""
    return source[source.index("# ---- 1. "):source.index("# ---- 9. ")]


def is_door_to_guard(use, source):
    """Whether a use of a name before its definition is a lesson function's call to a guard."""
    line, name, _ = use
    lesson_ends = source[:source.index("# ---- 9. ")].count("\n") + 1
    return line < lesson_ends and name.startswith("refuse_")


def test_the_module_never_uses_a_name_before_defining_it_but_to_call_a_guard():
    source = MODULE_PATH.read_text()
    early = [use for use in names_used_before_definition(source) if not is_door_to_guard(use, source)]
    assert not early, "used before its definition (line, name, defined on line): " + repr(early)


def test_the_order_check_allows_only_guards_called_from_the_lesson():
    source = ("# ---- 1. Data\ndef load():\n    refuse_bad_thing()\n    return helper()\n\n\n"
              "# ---- 9. Guards\ndef refuse_bad_thing():\n    pass\n\n\ndef helper():\n    pass\n")
    early = [use for use in names_used_before_definition(source) if not is_door_to_guard(use, source)]
    assert [name for _, name, _ in early] == ["helper"]


def test_sections_1_to_8_are_the_lesson_without_its_guards():
    lesson = lesson_source(MODULE_PATH.read_text())
    assert lesson.count("\n") <= 800, f"sections 1-8 hold {lesson.count(chr(10))} lines"
    tree = ast.parse(lesson)
    assert not [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Try)]
    raised = [ast.unparse(node.exc.func) for node in ast.walk(tree) if isinstance(node, ast.Raise)]
    assert raised == ["TrainingDiverged"], raised  # the one stop 05 teaches: an exploding loss
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not used & {"os", "sys", "signal", "inspect"}
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    for function in functions:
        assert not function.name.startswith(("validate_", "check_", "refuse_")), function.name
        arguments = [argument.arg for argument in function.args.args + function.args.kwonlyargs]
        assert "check" not in arguments, function.name
        guards = [node for node in ast.walk(function) if isinstance(node, ast.Call)
                  and isinstance(node.func, ast.Name) and node.func.id.startswith("refuse_")]
        assert len(guards) <= 1, f"{function.name} calls {len(guards)} guards"


def test_the_lesson_check_finds_guard_code():
    planted = "def forward(params, X, check=True):\n    try:\n        pass\n    except ValueError:\n        raise\n"
    tree = ast.parse(planted)
    assert [node for node in ast.walk(tree) if isinstance(node, ast.Try)]
    assert "check" in [argument.arg for argument in tree.body[0].args.args]


def test_no_local_name_shadows_a_module_level_one():
    tree = ast.parse(MODULE_PATH.read_text())
    module_level = {name for node in tree.body for name in defined_names(node)}
    shadows = [(node.name, sorted(local_names(node) & module_level)) for node in tree.body
               if isinstance(node, ast.FunctionDef) and local_names(node) & module_level]
    assert not shadows, shadows


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
        "check_params_layout", "check_input_size"}}
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
    assert "Guards" in headings[-2] and "Files and the command line" in headings[-1]
