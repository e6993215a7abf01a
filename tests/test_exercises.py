"""The exercise checkers: each accepts the module's own function and names the typical mistakes.

Also: the student notebooks are exactly what make_student_versions.py makes of the solutions.
"""

import importlib.util

import nbformat
import numpy as np
import pytest

import checks
import mnist_ann
from helpers import ROOT

EXERCISES = ROOT / "notebooks" / "exercises"


def not_implemented(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


def softmax_without_shift(logits):
    exps = np.exp(logits)
    return exps / exps.sum(axis=1, keepdims=True)


def log_of_softmax(logits):
    return np.log(mnist_ann.softmax(logits))


def picked(log_P, y):
    return log_P[np.arange(len(y)), y]


def one_hot(y):
    return mnist_ann.one_hot(y, 3).astype(np.float64)


def softmax_in_place(logits):
    logits -= logits.max(axis=1, keepdims=True)
    exps = np.exp(logits)
    return exps / exps.sum(axis=1, keepdims=True)


def relu_backward_in_place(dA, Z):
    dA[Z <= 0] = 0
    return dA


# ---- the training loop and its mistakes ----------------------------------------------

def train_loop(params, X, y, step, lr, epochs, batch_size, rng, mistake=None):
    """A correct loop, or one with a single named mistake."""
    state, losses, total = {}, [], 0.0
    for epoch in range(epochs):
        total = total if mistake == "total not reset" else 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            if mistake == "always the first batch":
                X_batch, y_batch = X[:batch_size], y[:batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            if mistake == "state dropped":
                step(params, grads, state, lr)
            elif mistake != "step once per epoch":
                state = step(params, grads, state, lr)
            total += float(loss) * (1 if mistake == "summed losses" else len(y_batch))
        if mistake == "step once per epoch":
            state = step(params, grads, state, lr)
        losses.append(total / (1 if mistake == "summed losses" else len(y)))
    return losses


def train_loop_with(mistake):
    return lambda *args: train_loop(*args, mistake=mistake)


def train_loop_on_a_copy(params, *args):
    return train_loop({name: value.copy() for name, value in params.items()}, *args)


# ---- optimizers with mistakes ----------------------------------------------------------

def sgd_uphill(params, grads, state, lr):
    for name, grad in grads.items():
        params[name] += lr * grad
    return state


def sgd_without_lr(params, grads, state, lr):
    for name, grad in grads.items():
        params[name] -= grad
    return state


def sgd_returning_none(params, grads, state, lr):
    mnist_ann.sgd_step(params, grads, state, lr)


def sgd_new_arrays(params, grads, state, lr):
    for name, grad in grads.items():
        params[name] = params[name] - lr * grad
    return state


def sgd_new_dict(params, grads, state, lr):
    params = {name: params[name] - lr * grad for name, grad in grads.items()}
    return state


def momentum(params, grads, state, lr, beta=0.9, mistake=None):
    """Momentum, correct or with a single named mistake."""
    if not state or mistake == "fresh state":
        state = {name: np.zeros_like(grad) for name, grad in grads.items()}
    beta = 0.9 if mistake == "fixed beta" else beta
    for name, grad in grads.items():
        if mistake == "averaging form":
            state[name] = beta * state[name] + (1 - beta) * grad
        elif mistake == "minus old velocity":
            state[name] = grad - beta * state[name]
        else:
            state[name] = beta * state[name] + (-grad if mistake == "wrong sign" else grad)
        params[name] -= lr * state[name]
    return state


def momentum_with(mistake):
    return lambda params, grads, state, lr, beta=0.9: momentum(params, grads, state, lr, beta, mistake)


def adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, mistake=None):
    """Adam, correct or with a single named mistake."""
    if not state or mistake == "fresh state":
        state = {"t": 0, "m": {n: np.zeros_like(g) for n, g in grads.items()},
                 "v": {n: np.zeros_like(g) for n, g in grads.items()}}
    if mistake == "fixed betas":
        beta1, beta2 = 0.9, 0.999
    state["t"] = 1 if mistake == "t frozen" else state["t"] + 1
    t = state["t"]
    for name, grad in grads.items():
        state["m"][name] = beta1 * state["m"][name] + (1 - beta1) * grad
        state["v"][name] = beta2 * state["v"][name] + (1 - beta2) * grad ** 2
        m_hat = state["m"][name] / (1 if mistake in ("no bias correction", "only v corrected") else 1 - beta1 ** t)
        v_hat = state["v"][name] / (1 if mistake in ("no bias correction", "only m corrected") else 1 - beta2 ** t)
        params[name] += (1 if mistake == "uphill" else -1) * lr * m_hat / (np.sqrt(v_hat) + eps)
    return state


def adam_with(mistake):
    return lambda params, grads, state, lr, beta1=0.9, beta2=0.999: adam(params, grads, state, lr, beta1, beta2,
                                                                          mistake=mistake)


# ---- backward with mistakes ----------------------------------------------------------------

def backward(params, cache, dlogits, mistake=None):
    """The backward pass, correct or with a single named mistake."""
    grads, dZ = {}, dlogits
    layers = len(params) // 2
    for layer in range(layers, 0 if mistake != "stops at layer 2" else 1, -1):
        A, _ = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = mnist_ann.linear_backward(dZ, A, params[f"W{layer}"])
        if mistake == "bias over the wrong axis":
            grads[f"b{layer}"] = dZ.sum(axis=1)
        if mistake == "divides by B again" and layer == 1:
            grads["W1"] = grads["W1"] / len(dlogits)
        if layer > 1:
            dZ = dA if mistake == "no ReLU backward" else mnist_ann.relu_backward(dA, cache[layer - 2][1])
    return grads


def backward_with(mistake):
    return lambda params, cache, dlogits: backward(params, cache, dlogits, mistake)


def backward_transposed_dW(params, cache, dlogits):
    grads = mnist_ann.backward(params, cache, dlogits)
    return {name: grad.T if name.startswith("W") else grad for name, grad in grads.items()}


def backward_in_place(params, cache, dlogits):
    grads = mnist_ann.backward(params, cache, dlogits.copy())
    dlogits /= 2  # right gradients, but the caller's dlogits is changed
    return grads


# ---- the zoo: (checker, student function, words its message must contain) ------------------

CE = mnist_ann.cross_entropy
CASES = {
    "softmax": (checks.check_softmax, mnist_ann.softmax, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("wrong axis", lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True), "normalised down each column"),
        ("whole-batch sum", lambda Z: np.exp(Z) / np.exp(Z).sum(), "sum over the whole batch"),
        ("no max shift", softmax_without_shift, "Subtract each row's maximum"),
        ("no keepdims", lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1), "keepdims=True"),
        ("transposed", lambda Z: mnist_ann.softmax(Z).T, "transpose of the expected (5, 3)"),
        ("no return", lambda Z: None, "`return` line missing"),
        ("changes its input", softmax_in_place, "changed logits in place"),
        ("raises", lambda Z: Z["logits"], "your code raised IndexError"),
    ]),
    "cross_entropy": (checks.check_cross_entropy, mnist_ann.cross_entropy, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("summed", lambda Z, y: -picked(mnist_ann.log_softmax(Z), y).sum(), "summed over the batch instead of averaged"),
        ("per example", lambda Z, y: -picked(mnist_ann.log_softmax(Z), y), "one loss per example"),
        ("wrong sign", lambda Z, y: picked(mnist_ann.log_softmax(Z), y).mean(), "wrong sign"),
        ("mean over B*C", lambda Z, y: -(one_hot(y) * mnist_ann.log_softmax(Z)).mean(), "all B×C entries"),
        ("P[:, y]", lambda Z, y: -mnist_ann.log_softmax(Z)[:, y].mean(), "picks a B×B block"),
        ("no log", lambda Z, y: -picked(mnist_ann.softmax(Z), y).mean(), "the log is missing"),
        ("log of softmax", lambda Z, y: -picked(log_of_softmax(Z), y).mean(), "log(0) is -inf"),
        ("no max shift", lambda Z, y: -picked(np.log(softmax_without_shift(Z)), y).mean(), "at logits of ±1000"),
    ]),
    "cross_entropy_grad": (checks.check_cross_entropy_grad, mnist_ann.cross_entropy_grad, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("forgot 1/B", lambda Z, y: mnist_ann.softmax(Z) - one_hot(y), "B = 2 times too large"),
        ("1/B twice", lambda Z, y: (mnist_ann.softmax(Z) - one_hot(y)) / len(y) ** 2, "B = 2 times too small"),
        ("Y - P", lambda Z, y: (one_hot(y) - mnist_ann.softmax(Z)) / len(y), "wrong sign"),
        ("Y not subtracted", lambda Z, y: mnist_ann.softmax(Z) / len(y), "one-hot labels are not subtracted"),
        ("divided by C", lambda Z, y: (mnist_ann.softmax(Z) - one_hot(y)) / 3, "number of classes"),
        ("no max shift", lambda Z, y: (softmax_without_shift(Z) - one_hot(y)) / len(y), "exp(1000) overflows"),
        ("transposed", lambda Z, y: mnist_ann.cross_entropy_grad(Z, y).T, "transpose of the expected (5, 3)"),
    ]),
    "linear_backward": (checks.check_linear_backward, lambda dZ, X, W: mnist_ann.linear_backward(dZ, X, W), [
        ("not implemented", not_implemented, "not implemented yet"),
        ("dW transposed", lambda dZ, X, W: (dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)), "dW (shaped like W) has shape (3, 4), "
                                                                                  "the transpose"),
        ("missing .T", lambda dZ, X, W: (dZ @ W, X.T @ dZ, dZ.sum(axis=0)), "a missing .T"),
        ("bias summed over axis 1", lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)), "summed over the wrong axis"),
        ("bias summed over everything", lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.sum()), "summed over the wrong axis"),
        ("dW divided by B", lambda dZ, X, W: (dZ @ W.T, X.T @ dZ / len(X), dZ.sum(axis=0)), "B = 3 times too small"),
        ("db is a mean", lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)), "db should be [3.]"),
        ("swapped", lambda dZ, X, W: (X.T @ dZ, dZ @ W.T, dZ.sum(axis=0)), "dX and dW come back swapped"),
        ("two values", lambda dZ, X, W: (dZ @ W.T, X.T @ dZ), "it returns 2 values"),
    ]),
    "relu_backward": (checks.check_relu_backward, mnist_ann.relu_backward, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("mask only", lambda dA, Z: (Z > 0).astype(float), "returns the mask alone"),
        ("Z >= 0", lambda dA, Z: dA * (Z >= 0), "use Z > 0"),
        ("mask from dA", lambda dA, Z: dA * (dA > 0), "must come from Z"),
        ("times Z", lambda dA, Z: dA * Z, "multiplies dA by Z"),
        ("changes dA", relu_backward_in_place, "changed dA in place"),
    ]),
    "backward": (checks.check_backward, lambda p, c, d: mnist_ann.backward(p, c, d), [
        ("not implemented", not_implemented, "not implemented yet"),
        ("stops at layer 2", backward_with("stops at layer 2"), "grads has no W1, b1"),
        ("bias over the wrong axis", backward_with("bias over the wrong axis"), "summed over the wrong axis"),
        ("dW transposed", backward_transposed_dW, "transpose of the expected"),
        ("1/B twice in W1", backward_with("divides by B again"), "grads['W1'] is B = 5 times too small"),
        ("no ReLU backward", backward_with("no ReLU backward"), "goes wrong on its way back into layer 2"),
        ("changes dlogits", backward_in_place, "changed dlogits in place"),
    ]),
    "sgd_step": (checks.check_sgd_step, mnist_ann.sgd_step, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("uphill", sgd_uphill, "move up the gradient"),
        ("no learning rate", sgd_without_lr, "learning rate is missing"),
        ("returns None", sgd_returning_none, "return the state"),
        ("new arrays", sgd_new_arrays, "replaced by a new array"),
        ("new dict", sgd_new_dict, "did not change"),
    ]),
    "momentum_step": (checks.check_momentum_step, mnist_ann.momentum_step, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("correct, written out", momentum_with(None), None),
        ("wrong sign", momentum_with("wrong sign"), "momentum update has the wrong sign"),
        ("averaging form", momentum_with("averaging form"), "averaging form"),
        ("state lost", momentum_with("fresh state"), "the velocity is not used, or not kept"),
        ("minus old velocity", momentum_with("minus old velocity"), "old velocity enters with a minus sign"),
        ("fixed beta", momentum_with("fixed beta"), "not the beta it is given"),
    ]),
    "adam_step": (checks.check_adam_step, mnist_ann.adam_step, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("correct, written out", adam_with(None), None),
        ("no bias correction", adam_with("no bias correction"), "no bias correction"),
        ("only m corrected", adam_with("only m corrected"), "m is bias-corrected but v is not"),
        ("only v corrected", adam_with("only v corrected"), "v is bias-corrected but m is not"),
        ("t frozen", adam_with("t frozen"), "t does not advance"),
        ("uphill", adam_with("uphill"), "move up the gradient"),
        ("state lost", adam_with("fresh state"), "the state is lost between calls"),
        ("fixed betas", adam_with("fixed betas"), "it ignores beta1, beta2"),
    ]),
    "train_loop": (checks.check_train_loop, train_loop, [
        ("not implemented", not_implemented, "not implemented yet"),
        ("step once per epoch", train_loop_with("step once per epoch"), "once per epoch"),
        ("state dropped", train_loop_with("state dropped"), "is not passed to the next call"),
        ("summed losses", train_loop_with("summed losses"), "not their sum"),
        ("total not reset", train_loop_with("total not reset"), "start each epoch's total at 0"),
        ("always the first batch", train_loop_with("always the first batch"), "X[batch], not X[:batch_size]"),
        ("trains a copy", train_loop_on_a_copy, "params did not change"),
        ("returns nothing", lambda *args: None, "list of 10 numbers"),
    ]),
}

MISTAKES = [(name, *case) for name, (_, _, cases) in CASES.items() for case in cases]


@pytest.mark.parametrize("name", CASES)
def test_the_reference_passes_every_check(name, capsys):
    checker, reference, _ = CASES[name]
    assert checker(reference) is True
    output = capsys.readouterr().out
    assert output.startswith(f"{name}: all ") and output.endswith(" checks passed.\n"), output


@pytest.mark.parametrize("name, mistake, student_fn, words", MISTAKES, ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_a_typical_mistake_is_named(name, mistake, student_fn, words, capsys):
    checker = CASES[name][0]
    passed = checker(student_fn)
    output = capsys.readouterr().out
    assert output.count("\n") == 1 and output.startswith(f"{name}: "), output
    if words is None:  # a correct version written differently from the module's
        assert passed is True, output
    else:
        assert passed is False and words in output, output


def test_a_stub_inside_a_helper_is_named(capsys):
    """backward is written but calls a linear_backward that is still a stub: the message names the stub."""
    def backward_on_a_stub(params, cache, dlogits):
        return not_implemented(dlogits)
    assert checks.check_backward(backward_on_a_stub) is False
    assert "`not_implemented` still raises NotImplementedError" in capsys.readouterr().out


# ---- the notebooks ------------------------------------------------------------------------

def load_maker():
    spec = importlib.util.spec_from_file_location("make_student_versions", ROOT / "tools" / "make_student_versions.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker


def test_there_are_solution_and_student_notebooks():
    solutions = sorted(path.name for path in (EXERCISES / "solutions").glob("*.ipynb"))
    students = sorted(path.name for path in (EXERCISES / "student").glob("*.ipynb"))
    assert solutions and solutions == students


@pytest.mark.parametrize("solution", sorted((EXERCISES / "solutions").glob("*.ipynb")), ids=lambda path: path.name)
def test_student_notebooks_are_the_solutions_stubbed_out(solution):
    """Regenerating from the solutions gives exactly the committed student notebooks' sources."""
    made = load_maker().student_notebook(nbformat.read(solution, as_version=4))
    committed = nbformat.read(EXERCISES / "student" / solution.name, as_version=4)
    assert [(cell.cell_type, cell.source) for cell in made.cells] == \
           [(cell.cell_type, cell.source) for cell in committed.cells], \
           "run python tools/make_student_versions.py"


@pytest.mark.parametrize("solution", sorted((EXERCISES / "solutions").glob("*.ipynb")), ids=lambda path: path.name)
def test_every_solution_is_marked_and_every_student_stub_raises(solution):
    sources = [cell.source for cell in nbformat.read(solution, as_version=4).cells if cell.cell_type == "code"]
    student = load_maker().student_notebook(nbformat.read(solution, as_version=4))
    stubs = sum(cell.source.count("raise NotImplementedError") for cell in student.cells if cell.cell_type == "code")
    assert stubs == sum(source.count("### BEGIN SOLUTION") for source in sources) > 0
    assert not any("### " in cell.source for cell in student.cells if cell.cell_type == "code")


def test_stubbing_keeps_the_indentation():
    source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION"
    maker = load_maker()
    assert maker.strip_solutions(source) == f"def f(x):\n    \"\"\"Doc.\"\"\"\n    {maker.STUB}"
    with pytest.raises(ValueError):
        maker.strip_solutions("### BEGIN SOLUTION\nx = 1")


# That every exercise notebook is stored executed is checked for all notebooks in test_notebooks.py.


def test_student_notebooks_show_the_not_implemented_message():
    for path in sorted((EXERCISES / "student").glob("*.ipynb")):
        text = "".join(output.get("text", "") for cell in nbformat.read(path, as_version=4).cells
                       if cell.cell_type == "code" for output in cell.outputs)
        assert "not implemented yet" in text, path.name
