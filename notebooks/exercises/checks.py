"""Checks of the exercises' functions: each says, in one sentence, what is wrong with a student's code.

The exercise notebooks beside this file ask a student to write functions that mnist_ann.py also
holds. Each check_* function runs the student's version on shapes, a hand-computable example,
hard inputs (logits of ±1000) and, for gradients, central differences in float64. It prints one
sentence naming the likely mistake, or a short confirmation, and returns True or False. Whatever
the student's code raises is reported, never raised again.
"""

import math

import numpy as np

from mnist_ann import (accuracy, adam_step, copy_params, cross_entropy, cross_entropy_grad, forward, init_params,
                       linear_forward, load_mnist, log_softmax, momentum_step, numerical_gradient, one_hot, predict,
                       relative_error, relu, sgd_step, softmax)


def run_checks(name, checks):
    """Run (label, check) pairs in order; print the first problem, or that all passed. True if all passed.

    A check calls the student's function and returns None when it is right, else a sentence saying what is wrong.
    """
    for number, (label, check) in enumerate(checks, start=1):
        try:
            with np.errstate(all="ignore"):  # overflow is diagnosed by the checks, not warned about
                problem = check()
        except NotImplementedError as error:
            print(f"{name}: not implemented yet: `{innermost_function(error)}` still raises NotImplementedError. "
                  "Write its body in place of that line, run its cell, then run this check again.")
            return False
        except Exception as error:  # the student's code failed: say how, in one sentence
            problem = describe_error(error)
        if problem:
            print(f"{name}: check {number} of {len(checks)} ({label}) failed: {problem}")
            return False
    print(f"{name}: all {len(checks)} checks passed.")
    return True


def innermost_function(error):
    """The name of the function in which error was raised."""
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name


def describe_error(error):
    """One sentence for an error raised in a student's code, with a hint when two shapes do not fit."""
    message = (str(error).splitlines() or [""])[0]
    sentence = f"your code raised {type(error).__name__}" + (f": {message}" if message else "") + "."
    if isinstance(error, ValueError) and ("broadcast" in message or "mismatch" in message):
        sentence += (" Two shapes do not fit: write each array's shape beside that line "
                     "(a missing .T, or a sum without keepdims=True, is the usual cause).")
    return sentence


def describe_value(value):
    if value is None:
        return "None (is the `return` line missing?)"
    if isinstance(value, (tuple, list)):
        return f"{len(value)} values"
    return f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"


def show(array):
    """An array as one short line of rounded numbers, for messages."""
    return np.array2string(np.asarray(array, dtype=float), precision=4, suppress_small=True,
                           separator=", ").replace("\n", "")


def same(got, expected, tolerance=1e-6):
    """True if got has expected's shape and its values, to a relative error below tolerance."""
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        return got.shape == expected.shape and relative_error(got, expected) < tolerance
    except (TypeError, ValueError):
        return False


def first_mistake(got, mistakes):
    """The sentence of the first (wrong answer, sentence) pair that got equals, else None."""
    return next((sentence for wrong, sentence in mistakes if same(got, wrong)), None)


def shape_problem(got, shape, what, batch_size=None):
    """None if got is an array of this shape; else a sentence saying how it differs and why it might."""
    if not isinstance(got, (np.ndarray, np.generic, float)):
        return f"{what} should be an array of shape {shape}; it is {describe_value(got)}."
    found = np.shape(got)
    if found == shape:
        return None
    if len(shape) == 1 and found in ((batch_size,), (), (1, *shape)):  # a bias gradient
        return (f"{what} has shape {found}, expected {shape}: it is summed over the wrong axis. Sum over "
                "the batch only, axis=0 (no keepdims): each bias touches every example.")
    if found == shape[::-1]:
        return (f"{what} has shape {found}, the transpose of the expected {shape}: check the order "
                "of the factors of @, and where a .T belongs.")
    return f"{what} has shape {found}, expected {shape}."


def values_problem(got, expected, what, reference):
    if same(got, expected):
        return None
    return f"{what} differs from what {reference} gives (relative error {relative_error(got, expected):.1e})."


def gradient_problem(got, expected, what, batch_size):
    """None if got matches the true gradient expected; else a sentence naming the likely mistake."""
    if same(got, expected):
        return None
    factors = {
        batch_size: f"{what} is B = {batch_size} times too large: the loss is a mean over the batch, so the "
                    "gradient carries a factor 1/B (divide by B once, in cross_entropy_grad).",
        1 / batch_size: f"{what} is B = {batch_size} times too small: 1/B is applied twice. Divide by B once, "
                        "in cross_entropy_grad; every gradient flowing back from it already carries the 1/B.",
        -1: f"{what} has the wrong sign: check the order of a subtraction (P - Y, not Y - P) or a stray minus.",
    }
    return next((sentence for factor, sentence in factors.items() if same(got, factor * expected)),
                f"{what} differs from the central-difference gradient (relative error "
                f"{relative_error(np.asarray(got, dtype=float), expected):.1e}; a right one is below 1e-6).")


def input_changed_problem(function, **inputs):
    """None if function(*inputs) leaves its array arguments as they were."""
    copies = {name: value.copy() for name, value in inputs.items()}
    function(*copies.values())
    changed = [name for name in inputs if not np.array_equal(inputs[name], copies[name])]
    if changed:
        return (f"it changed {changed[0]} in place (with -=, *= or [...] =); compute a new array instead, "
                f"because the caller still needs {changed[0]} as it was.")
    return None


def random_arrays(*shapes):
    """Float64 standard-normal arrays of the given shapes, the same on every call."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape) for shape in shapes]


LABELS = np.array([0, 2, 1, 2, 0])  # a batch of B = 5 with C = 3 classes: no two sizes alike
HAND_LOGITS = np.log([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])  # P = [[1/3, 1/3, 1/3], [1/6, 1/3, 1/2]]
HAND_LABELS = np.array([0, 2])  # true-class probabilities 1/3 and 1/2
LARGE_LOGITS = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
LARGE_LABELS = np.array([1, 0])  # the true classes have the smallest logits: the loss is 2000


def large_logits_problem(got, expected, what):
    """None if got is right at logits of ±1000; else name the overflow (nan) or the log(0) (inf)."""
    if same(got, expected):
        return None
    if np.any(np.isnan(got)):
        return (f"{what} is nan at logits of ±1000: exp(1000) overflows to inf, and inf / inf is nan. "
                "Subtract each row's maximum from the logits before exp; that leaves P unchanged.")
    if np.any(np.isinf(got)):
        return (f"{what} is infinite at logits of ±1000: a probability underflows to 0, and log(0) is -inf. "
                "Compute log P directly, as shifted - log(sum(exp(shifted))), not as log(softmax(...)).")
    return f"{what} is wrong at logits of ±1000: {show(got)} instead of {show(expected)}."


def check_softmax(softmax_fn):
    """Check a student's softmax(logits) -> P (B, C); print a diagnosis and return True if it is right."""
    logits = random_arrays((5, 3))[0]
    return run_checks("softmax", [
        ("shape", lambda: shape_problem(softmax_fn(logits.copy()), (5, 3), "P")),
        ("a hand-computable example", lambda: softmax_example_problem(softmax_fn)),
        ("random logits", lambda: values_problem(softmax_fn(logits.copy()), softmax(logits), "P", "mnist_ann.softmax")),
        ("logits of ±1000", lambda: large_logits_problem(softmax_fn(LARGE_LOGITS.copy()), softmax(LARGE_LOGITS), "P")),
        ("its input is left unchanged", lambda: input_changed_problem(softmax_fn, logits=logits)),
    ])


def softmax_example_problem(softmax_fn):
    P, exps = softmax_fn(HAND_LOGITS.copy()), np.exp(HAND_LOGITS)
    if same(P, softmax(HAND_LOGITS)):
        return None
    return first_mistake(P, [
        (exps / exps.sum(axis=0, keepdims=True), "P is normalised down each column (axis=0, over the examples); "
                                                 "normalise along each row instead, with a sum over axis=1."),
        (exps / exps.sum(), "P is divided by the sum over the whole batch; divide each row by its own sum (axis=1)."),
        (exps, "P is exp(logits) without the division: divide each row by its sum."),
    ]) or (f"for logits log([[1, 1, 1], [1, 2, 3]]) P should be [[1/3, 1/3, 1/3], [1/6, 1/3, 1/2]]; "
           f"yours is {show(P)}.")


def check_cross_entropy(cross_entropy_fn):
    """Check a student's cross_entropy(logits, y) -> mean loss; print a diagnosis and return True if it is right."""
    logits, y = random_arrays((5, 3))[0], LABELS
    return run_checks("cross_entropy", [
        ("one number", lambda: loss_shape_problem(cross_entropy_fn(logits.copy(), y), len(y))),
        ("a hand-computable example", lambda: cross_entropy_example_problem(cross_entropy_fn)),
        ("random logits", lambda: values_problem(cross_entropy_fn(logits.copy(), y), cross_entropy(logits, y),
                                                 "the loss", "mnist_ann.cross_entropy")),
        ("logits of ±1000", lambda: large_logits_problem(cross_entropy_fn(LARGE_LOGITS.copy(), LARGE_LABELS),
                                                         cross_entropy(LARGE_LOGITS, LARGE_LABELS), "the loss")),
        ("its inputs are left unchanged", lambda: input_changed_problem(cross_entropy_fn, logits=logits, y=y)),
    ])


def loss_shape_problem(loss, batch_size):
    if np.shape(loss) == (batch_size,):
        return f"it returns one loss per example (shape ({batch_size},)); the loss is their mean: add .mean()."
    return shape_problem(loss, (), "the loss")


def cross_entropy_example_problem(cross_entropy_fn):
    loss, log_P = cross_entropy_fn(HAND_LOGITS.copy(), HAND_LABELS), log_softmax(HAND_LOGITS)
    picked = log_P[np.arange(2), HAND_LABELS]  # log 1/3 and log 1/2
    if same(loss, -picked.mean()):
        return None
    return first_mistake(loss, [
        (-picked.sum(), "the loss is summed over the batch instead of averaged: divide by B (use .mean())."),
        (picked.mean(), "the loss has the wrong sign: it is -log p of the true class, a positive number."),
        (-picked.sum() / log_P.size, "the loss is averaged over all B×C entries; average over the B examples only."),
        (-log_P[:, HAND_LABELS].mean(), "log_P[:, y] picks a B×B block; pick one entry per row: "
                                        "log_P[np.arange(B), y]."),
        (-np.exp(picked).mean(), "the log is missing: the loss is -log p, not -p."),
    ]) or (f"for logits log([[1, 1, 1], [1, 2, 3]]) and y = [0, 2] the loss is (log 3 + log 2) / 2 = 0.8959; "
           f"yours is {float(loss):.4f}.")


def check_cross_entropy_grad(cross_entropy_grad_fn):
    """Check a student's cross_entropy_grad(logits, y) -> dlogits (B, C); print a diagnosis, True if right."""
    logits, y = random_arrays((5, 3))[0], LABELS
    numeric = numerical_gradient(lambda Z: cross_entropy(Z, y), logits.copy())
    large = cross_entropy_grad(LARGE_LOGITS, LARGE_LABELS)
    return run_checks("cross_entropy_grad", [
        ("shape", lambda: shape_problem(cross_entropy_grad_fn(logits.copy(), y), (5, 3), "dlogits")),
        ("a hand-computable example", lambda: cross_entropy_grad_example_problem(cross_entropy_grad_fn)),
        ("against numerical_gradient", lambda: gradient_problem(cross_entropy_grad_fn(logits.copy(), y), numeric,
                                                                "dlogits", len(y))),
        ("logits of ±1000", lambda: large_logits_problem(
            cross_entropy_grad_fn(LARGE_LOGITS.copy(), LARGE_LABELS), large, "dlogits")),
        ("its inputs are left unchanged", lambda: input_changed_problem(cross_entropy_grad_fn, logits=logits, y=y)),
    ])


def cross_entropy_grad_example_problem(cross_entropy_grad_fn):
    dlogits = cross_entropy_grad_fn(HAND_LOGITS.copy(), HAND_LABELS)
    P, Y = softmax(HAND_LOGITS), one_hot(HAND_LABELS, 3)
    return first_mistake(dlogits, [
        (P / 2, "the one-hot labels are not subtracted: dlogits = (P - Y) / B."),
        ((P - Y) / 3, "it divides by the number of classes C = 3; divide by the batch size B = 2."),
        ((P - Y.max(axis=0)) / 2, "P[:, y] -= 1 subtracts 1 from whole columns; subtract it once per row, "
                                  "with P[np.arange(B), y] -= 1."),
    ]) or gradient_problem(dlogits, (P - Y) / 2, "dlogits", batch_size=2)


def check_linear_backward(linear_backward_fn):
    """Check a student's linear_backward(dZ, X, W) -> dX, dW, db; print a diagnosis, True if right."""
    dZ, X, W, b = random_arrays((5, 3), (5, 4), (4, 3), (3,))
    return run_checks("linear_backward", [
        ("three arrays of the right shapes", lambda: linear_shapes_problem(
            linear_backward_fn(dZ.copy(), X.copy(), W.copy()), batch_size=5, n_in=4, n_out=3)),
        ("a hand-computable example", lambda: linear_backward_example_problem(linear_backward_fn)),
        ("against numerical_gradient", lambda: linear_gradients_problem(
            linear_backward_fn(dZ.copy(), X.copy(), W.copy()), dZ, X, W, b)),
        ("its inputs are left unchanged", lambda: input_changed_problem(linear_backward_fn, dZ=dZ, X=X, W=W)),
    ])


def linear_shapes_problem(result, batch_size, n_in, n_out):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return f"it should return three arrays, dX, dW, db; it returns {describe_value(result)}."
    dX, dW, db = result
    if np.shape(dX) == (n_in, n_out) and np.shape(dW) == (batch_size, n_in):
        return "dX and dW come back swapped: return dX, dW, db, in that order."
    return (shape_problem(dX, (batch_size, n_in), "dX (shaped like X)")
            or shape_problem(dW, (n_in, n_out), "dW (shaped like W)")
            or shape_problem(db, (n_out,), "db (shaped like b)", batch_size))


def linear_backward_example_problem(linear_backward_fn):
    dZ, W = np.array([[1.0], [0.0], [2.0]]), np.array([[1.0], [-1.0]])
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    expected = {"dX": np.array([[1.0, -1.0], [0.0, 0.0], [2.0, -2.0]]), "dW": np.array([[11.0], [14.0]]),
                "db": np.array([3.0])}
    for (name, right), got in zip(expected.items(), linear_backward_fn(dZ.copy(), X.copy(), W.copy())):
        problem = gradient_problem(got, right, name, batch_size=3)
        if problem:
            return (f"for X = [[1, 2], [3, 4], [5, 6]], W = [[1], [-1]] and dZ = [[1], [0], [2]], {name} should "
                    f"be {show(right)}, not {show(got)}. {problem}")
    return None


def linear_gradients_problem(result, dZ, X, W, b):
    """Compare dX, dW, db with central differences of L = sum(dZ * (X @ W + b)), whose gradient in Z is dZ."""
    def loss(_):  # numerical_gradient nudges X, W or b in place, one entry at a time
        return np.sum(dZ * linear_forward(X, W, b))

    for name, got, array in zip(("dX", "dW", "db"), result, (X, W, b)):
        problem = gradient_problem(got, numerical_gradient(loss, array), name, batch_size=len(X))
        if problem:
            return problem
    return None


def check_relu_backward(relu_backward_fn):
    """Check a student's relu_backward(dA, Z) -> dZ (B, H); print a diagnosis and return True if it is right."""
    dA, Z = random_arrays((5, 4), (5, 4))
    numeric = numerical_gradient(lambda Z_: np.sum(dA * relu(Z_)), Z.copy())  # random Z stays clear of the kink
    return run_checks("relu_backward", [
        ("shape", lambda: shape_problem(relu_backward_fn(dA.copy(), Z.copy()), (5, 4), "dZ")),
        ("a hand-computable example", lambda: relu_backward_example_problem(relu_backward_fn)),
        ("against numerical_gradient", lambda: gradient_problem(relu_backward_fn(dA.copy(), Z.copy()), numeric,
                                                                "dZ", batch_size=5)),
        ("its inputs are left unchanged", lambda: input_changed_problem(relu_backward_fn, dA=dA, Z=Z)),
    ])


def relu_backward_example_problem(relu_backward_fn):
    dA, Z = np.array([[5.0, -6.0, 7.0], [-8.0, 9.0, 10.0]]), np.array([[-2.0, 0.0, 3.0], [1.0, -1.0, 2.0]])
    dZ = relu_backward_fn(dA.copy(), Z.copy())
    if same(dZ, dA * (Z > 0)):
        return None
    return first_mistake(dZ, [
        (Z > 0, "it returns the mask alone; multiply it by dA: dZ = dA * (Z > 0)."),
        (dA * (Z >= 0), "at Z = 0 the gradient must be 0 (relu's slope there, by our convention): use Z > 0."),
        (dA * (dA > 0), "the mask comes from the sign of dA; it must come from Z, the input of the forward pass."),
        (dA * (Z < 0), "the mask is inverted: the gradient passes where Z > 0."),
        (dA * Z, "it multiplies dA by Z; multiply by relu's slope instead, the mask (Z > 0)."),
        (dA * relu(Z), "it multiplies dA by relu(Z); multiply by relu's slope instead, the mask (Z > 0)."),
    ]) or (f"for dA = [[5, -6, 7], [-8, 9, 10]] and Z = [[-2, 0, 3], [1, -1, 2]], dZ should be "
           f"[[0, 0, 7], [-8, 0, 10]]; yours is {show(dZ)}.")


def network_case():
    """A float64 network 4-6-7-3 with random weights and biases, a batch of 5, its cache and its dlogits."""
    rng = np.random.default_rng(0)
    sizes, params = [4, 6, 7, 3], {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{layer}"] = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((5, 4))
    logits, cache = forward(params, X)
    return params, cache, cross_entropy_grad(logits, LABELS), X


def check_backward(backward_fn):
    """Check a student's backward(params, cache, dlogits) -> grads, layer by layer; True if it is right."""
    def student_grads():  # a fresh network each time: the student's code cannot spoil the next check
        return backward_fn(*network_case()[:3])

    params, _, dlogits, X = network_case()
    return run_checks("backward", [
        ("a gradient for every parameter, shaped like it", lambda: grads_layout_problem(student_grads(), params)),
        ("against numerical_gradient, from the last layer back", lambda: backward_gradients_problem(
            student_grads(), params, X)),
        ("dlogits is left unchanged", lambda: input_changed_problem(
            lambda dlogits_: backward_fn(*network_case()[:2], dlogits_), dlogits=dlogits)),
    ])


def grads_layout_problem(grads, params):
    if not isinstance(grads, dict):
        return f"it should return a dict of gradients keyed like params; it returns {describe_value(grads)}."
    missing = [name for name in params if name not in grads]
    if missing:
        return (f"grads has no {', '.join(missing)}: every W and b of params needs its gradient; does the loop "
                "over layers reach layer 1?")
    shapes = (shape_problem(grads[name], params[name].shape, f"grads['{name}']", batch_size=5) for name in params)
    return next(filter(None, shapes), None)


def backward_gradients_problem(grads, params, X):
    """Compare each gradient with central differences of the loss, from the last layer back."""
    def loss(_):  # numerical_gradient nudges one parameter in place, one entry at a time
        return cross_entropy(forward(params, X)[0], LABELS)

    right = []
    for name in reversed(list(params)):  # bL, WL, ..., b1, W1: the order backpropagation meets them
        problem = gradient_problem(grads[name], numerical_gradient(loss, params[name]), f"grads['{name}']", len(X))
        if problem:
            return f"{problem} {where_backward_goes_wrong(name, right)}"
        right.append(name)
    return None


def where_backward_goes_wrong(name, right):
    """A hint from which gradients, met before name on the way back, are already right."""
    layer = int(name[1:])
    if name.startswith("W") and f"b{layer}" in right:
        return (f"b{layer} is right, so this layer's dZ is right: dW{layer} = A.T @ dZ, with A the layer's "
                f"input, cache[{layer - 1}][0].")
    if right:
        return (f"The layers above are right, so dZ goes wrong on its way back into layer {layer}: "
                f"dA = dZ @ W.T with the W of the layer above, then dZ = relu_backward(dA, Z) with Z "
                f"this layer's own pre-activation, cache[{layer - 1}][1].")
    return "Already the last layer is wrong: its dZ is dlogits itself."


def optimizer_case():
    """Two float64 parameters, and a gradient for each with entries of both signs and several sizes."""
    params = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.0, 1.0])}
    grads = {"W": np.array([[2.0, -1.0], [0.5, -4.0]]), "b": np.array([1.0, -3.0])}
    return params, grads


def run_steps(step_fn, grads_sequence, lr, fresh_state=False, **settings):
    """The params after each call of step_fn(params, grads, state, lr, **settings), from optimizer_case()."""
    params, state, trajectory = optimizer_case()[0], {}, []
    for grads in grads_sequence:
        state = step_fn(params, copy_params(grads), {} if fresh_state else state, lr, **settings)
        trajectory.append(copy_params(params))
    return trajectory


def in_place_problem(step_fn, lr=0.1, **settings):
    params, grads = optimizer_case()
    arrays = dict(params)  # the caller's own arrays
    step_fn(params, grads, {}, lr, **settings)
    for name, array in arrays.items():
        if params[name] is not array:
            return (f"params['{name}'] was replaced by a new array; update it in place, params[name] -= ..., "
                    "so that everything holding the weights sees the step.")
        if np.array_equal(array, optimizer_case()[0][name]):
            return (f"params['{name}'] did not change: update every parameter of the caller's dict, in place "
                    "(a new dict made inside the function is lost when it returns).")
    return None


def returned_state_problem(step_fn, lr=0.1, **settings):
    state = step_fn(*optimizer_case(), {}, lr, **settings)
    if not isinstance(state, dict):
        return (f"it returns {describe_value(state)}; return the state dict (empty for plain SGD), "
                "so that the next step continues from it and every optimizer is called the same way.")
    return None


def constant_gradient_problem(step_fn, expected, mistakes, unit="g", lr=0.1, **settings):
    """Three steps with one constant gradient g: each should move the params by lr * unit times a multiplier."""
    grads = optimizer_case()[1]
    moved = step_multipliers(run_steps(step_fn, [grads] * 3, lr, **settings), grads, lr, unit)
    if moved is not None and np.allclose(moved, expected, rtol=1e-4):
        return None
    mistake = next((sentence for wrong, sentence in mistakes
                    if moved is not None and np.allclose(moved, wrong, rtol=1e-3)), None)
    found = "steps that are not multiples of it" if moved is None else ", ".join(f"{m:.4g}" for m in moved)
    return mistake or (f"with a constant gradient g, three steps should move the params by "
                       f"{', '.join(f'{m:.4g}' for m in expected)} times lr * {unit}; yours give {found}.")


def step_multipliers(trajectory, grads, lr, unit):
    """How far each step moved the params, in units of lr * g (or lr * sign(g)); None if no such number."""
    scales = {name: lr * (np.sign(g) if unit == "sign(g)" else g) for name, g in grads.items()}
    multipliers = []
    for before, after in zip([optimizer_case()[0], *trajectory], trajectory):
        ratios = np.concatenate([((before[n] - after[n]) / scales[n]).ravel() for n in grads])
        if not np.allclose(ratios, ratios[0], rtol=1e-4):  # also False for nan
            return None
        multipliers.append(float(ratios[0]))
    return multipliers


def changing_gradients_problem(step_fn, reference_fn, lr=0.1, **settings):
    """Four steps with changing gradients against the module's own step; names a state that is lost."""
    arrays = random_arrays(*[(2, 2), (2,)] * 4)
    sequence = [{"W": W, "b": b} for W, b in zip(arrays[::2], arrays[1::2])]
    got = flatten(run_steps(step_fn, sequence, lr, **settings))
    expected = flatten(run_steps(reference_fn, sequence, lr, **settings))
    if same(got, expected):
        return None
    if same(got, flatten(run_steps(reference_fn, sequence, lr, fresh_state=True, **settings))):
        return ("each step starts afresh: the state is lost between calls. Create it only when state is "
                "empty, update it in place, and return it.")
    if settings and same(got, flatten(run_steps(reference_fn, sequence, lr))):
        return f"it ignores {', '.join(settings)}: use the arguments it is given, not fixed numbers."
    return (f"after four steps with changing gradients, the params differ from those of "
            f"mnist_ann.{reference_fn.__name__} (relative error {relative_error(got, expected):.1e}).")


def flatten(trajectory):
    return np.concatenate([params[name].ravel() for params in trajectory for name in params])


SGD_MISTAKES = [  # multipliers of lr * g over three steps, with lr = 0.1
    ([-1, -1, -1], "the params move up the gradient: subtract the step, params -= lr * g."),
    ([10, 10, 10], "the learning rate is missing: params -= lr * g."),
]

MOMENTUM_MISTAKES = [  # multipliers of lr * g over three steps, with beta = 0.5
    ([-1, -1.5, -1.75], "the params move up the gradient: the momentum update has the wrong sign. "
                        "With v = beta * v + g, the step is params -= lr * v."),
    ([0.5, 0.75, 0.875], "v = beta * v + (1 - beta) * g is the averaging form; here v = beta * v + g."),
    ([1, 1, 1], "every step moves by lr * g, as plain SGD does: the velocity is not used, or not kept from one "
                "call to the next (create it only when state is empty, and return state)."),
    ([1, 0.5, 0.75], "the old velocity enters with a minus sign: v = beta * v + g."),
    ([1, 1.9, 2.71], "it uses beta = 0.9, not the beta it is given."),
]


def adam_mistakes(beta1=0.9, beta2=0.999):
    """Multipliers of lr * sign(g) over three steps with a constant g, for Adam's usual mistakes."""
    t = np.arange(1, 4)
    m_fix, v_fix = 1 - beta1 ** t, np.sqrt(1 - beta2 ** t)  # what the bias corrections divide by
    return [
        (-np.ones(3), "the params move up the gradient: params -= lr * m_hat / (sqrt(v_hat) + eps)."),
        (m_fix / v_fix, "the first steps are too large: there is no bias correction. Divide m by "
                        "(1 - beta1 ** t) and v by (1 - beta2 ** t)."),
        (1 / v_fix, "m is bias-corrected but v is not: divide v by (1 - beta2 ** t) too."),
        (m_fix, "v is bias-corrected but m is not: divide m by (1 - beta1 ** t) too."),
        ((m_fix / (1 - beta1)) / (v_fix / np.sqrt(1 - beta2)), "the step count t does not advance: keep t in "
                                                              "state and add 1 to it at every call."),
    ]


def check_sgd_step(sgd_step_fn):
    """Check a student's sgd_step(params, grads, state, lr) -> state; print a diagnosis, True if right."""
    return run_checks("sgd_step", [
        ("params change in place", lambda: in_place_problem(sgd_step_fn)),
        ("it returns its state", lambda: returned_state_problem(sgd_step_fn)),
        ("a constant gradient", lambda: constant_gradient_problem(sgd_step_fn, [1, 1, 1], SGD_MISTAKES)),
        ("changing gradients", lambda: changing_gradients_problem(sgd_step_fn, sgd_step)),
    ])


def check_momentum_step(momentum_step_fn):
    """Check a student's momentum_step(params, grads, state, lr, beta) -> state; print a diagnosis, True if right."""
    return run_checks("momentum_step", [
        ("params change in place", lambda: in_place_problem(momentum_step_fn, beta=0.5)),
        ("it returns its state", lambda: returned_state_problem(momentum_step_fn, beta=0.5)),
        ("a constant gradient", lambda: constant_gradient_problem(
            momentum_step_fn, [1, 1.5, 1.75], MOMENTUM_MISTAKES, beta=0.5)),
        ("changing gradients", lambda: changing_gradients_problem(momentum_step_fn, momentum_step, beta=0.5)),
    ])


def check_adam_step(adam_step_fn):
    """Check a student's adam_step(params, grads, state, lr, beta1, beta2) -> state; a diagnosis, True if right."""
    return run_checks("adam_step", [
        ("params change in place", lambda: in_place_problem(adam_step_fn)),
        ("it returns its state", lambda: returned_state_problem(adam_step_fn)),
        ("a constant gradient", lambda: constant_gradient_problem(
            adam_step_fn, [1, 1, 1], adam_mistakes(), unit="sign(g)", beta1=0.9, beta2=0.999)),
        ("changing gradients", lambda: changing_gradients_problem(
            adam_step_fn, adam_step, beta1=0.8, beta2=0.99)),
    ])


def check_train_loop(train_loop_fn, epochs=10, batch_size=32):
    """Check a student's train_loop(params, X, y, step, lr, epochs, batch_size, rng) -> the loss of each epoch.

    It trains a 784-32-10 network on the first 256 MNIST training images with SGD with momentum.
    """
    X_train, y_train, _, _ = load_mnist()
    run = {"X": X_train[:256], "y": y_train[:256], "received": [], "returned": []}
    return run_checks("train_loop", [
        ("one loss per epoch", lambda: training_run_problem(run, train_loop_fn, epochs, batch_size)),
        ("one step per mini-batch", lambda: step_count_problem(len(run["received"]), epochs, 256, batch_size)),
        ("the state goes from each step to the next", lambda: state_passing_problem(run)),
        ("the loss falls", lambda: falling_loss_problem(run)),
        ("at least 90% of these 256 images learned", lambda: training_accuracy_problem(run)),
    ])


def training_run_problem(run, train_loop_fn, epochs, batch_size):
    """Run the student's loop with a recording step, keeping what happened in run; check the losses returned."""
    run["params"] = init_params([784, 32, 10], rng=np.random.default_rng(0))
    run["loss_before"] = cross_entropy(forward(run["params"], run["X"])[0], run["y"])
    step = recording_step(run["received"], run["returned"])
    losses = train_loop_fn(run["params"], run["X"], run["y"], step, 0.05, epochs, batch_size, np.random.default_rng(0))
    run["losses"] = losses
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != epochs:
        return (f"it should return a list of {epochs} numbers, the mean training loss of each epoch; "
                f"it returns {describe_value(losses)}.")
    if not np.all(np.isfinite(np.asarray(losses, dtype=float))):
        return "some of the epoch losses it returns are nan or infinite."
    return None


def recording_step(received, returned):
    """momentum_step (beta 0.9), recording the state each call receives and the state it returns."""
    def step(params, grads, state, lr):
        received.append(state)
        returned.append(momentum_step(params, grads, state, lr, beta=0.9))
        return returned[-1]
    return step


def step_count_problem(steps, epochs, n_examples, batch_size):
    per_epoch = math.ceil(n_examples / batch_size)
    if steps == epochs * per_epoch:
        return None
    if steps == 0:
        return "step was never called: call state = step(params, grads, state, lr) once for each mini-batch."
    if steps == epochs:
        return "step was called once per epoch: it belongs inside the loop over mini-batches."
    if steps == per_epoch:
        return "the steps cover one epoch only: put the loop over mini-batches inside `for epoch in range(epochs)`."
    return (f"step was called {steps} times; {epochs} epochs of {n_examples} examples in batches of "
            f"{batch_size} make {epochs * per_epoch} steps, one per mini-batch.")


def state_passing_problem(run):
    if any(now is not before for now, before in zip(run["received"][1:], run["returned"])):
        return ("the state that step returns is not passed to the next call: write "
                "state = step(params, grads, state, lr), with state = {} once, before the loops.")
    return None


def falling_loss_problem(run):
    losses, before = [float(loss) for loss in run["losses"]], float(run["loss_before"])
    after = float(cross_entropy(forward(run["params"], run["X"])[0], run["y"]))
    if math.isclose(after, before):
        return ("params did not change: train the params dict you are given (pass it to loss_and_grads "
                "and to step), not a copy.")
    if losses[0] > 1.5 * before:
        return (f"the first epoch's loss is {losses[0]:.2f}, while the network starts at {before:.2f}: an epoch's "
                "loss is the mean over its mini-batches, not their sum.")
    if not losses[-1] < losses[0]:
        return (f"the losses you return do not fall ({losses[0]:.3f}, then {losses[-1]:.3f}), though the "
                f"network's loss fell from {before:.3f} to {after:.3f}: start each epoch's total at 0.")
    return None


def training_accuracy_problem(run):
    learned = accuracy(predict(run["params"], run["X"]), run["y"])
    if learned < 0.9:
        return (f"after training, the network gets {learned:.0%} of these 256 images right, and a correct loop "
                "gets all of them: does each mini-batch hold different examples (X[batch], not X[:batch_size])?")
    return None


