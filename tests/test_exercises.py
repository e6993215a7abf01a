"""The exercise checkers: each accepts a right answer in every common form, names the typical mistakes,
refuses the module's own answers, and never raises.

Also: the student notebooks are exactly what make_student_versions.py makes of the solutions, and the
solution notebooks carry the nbgrader metadata that lets a teacher grade them.
"""

import functools
import importlib.util
import inspect
import re
import signal
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

import checks
import exercise_mistakes
import mnist_ann
from helpers import ROOT, solution_functions

EXERCISES = ROOT / "notebooks" / "exercises"
SOLUTIONS = ROOT / "teachers" / "solutions"  # the teachers' folder: the students' folder holds no solutions
SOLUTION = solution_functions()  # the solution notebooks' functions: a student who got everything right


def not_implemented(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


def one_hot(y):
    return mnist_ann.one_hot(y, 3).astype(np.float64)


# ---- right answers in other forms: every one must pass ------------------------------------------------

def softmax_float32(logits):
    """Computed in float32 whatever comes in, and returned in the dtype that came in."""
    shifted = np.asarray(logits, dtype=np.float32) - np.float32(logits.max(axis=1, keepdims=True))
    exps = np.exp(shifted)
    return (exps / exps.sum(axis=1, keepdims=True)).astype(logits.dtype)


def softmax_loops(logits):
    P = np.empty_like(logits)
    for i, row in enumerate(logits):
        exps = [np.exp(z - max(row)) for z in row]
        P[i] = [e / sum(exps) for e in exps]
    return P


def cross_entropy_logsumexp(logits, y):
    m = logits.max(axis=1)
    log_sum = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    return np.mean(log_sum - logits[np.arange(len(y)), y])


def cross_entropy_logaddexp(logits, y):
    return np.mean(np.logaddexp.reduce(logits, axis=1) - logits[np.arange(len(y)), y])


def cross_entropy_grad_one_hot(logits, y):
    return (SOLUTION["softmax"](logits) - one_hot(y).astype(logits.dtype)) / len(y)


def linear_backward_einsum(dZ, X, W):
    return np.einsum("bo,io->bi", dZ, W), np.einsum("bi,bo->io", X, dZ), np.einsum("bo->o", dZ)


def relu_backward_where(dA, Z):
    return np.where(Z > 0, dA, 0.0)


def adam_in_place(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    if "t" not in state:
        state.update(t=0, m={n: np.zeros_like(g) for n, g in grads.items()},
                     v={n: np.zeros_like(g) for n, g in grads.items()})
    state["t"] += 1
    for name, g in grads.items():
        m, v = state["m"][name], state["v"][name]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        params[name] -= lr * (m / (1 - beta1 ** state["t"])) / (np.sqrt(v / (1 - beta2 ** state["t"])) + eps)
    return state


def momentum_tuple_keys(params, grads, state, lr, beta=0.9):
    """A state keyed by (name, "v"): the statement keeps each velocity as state[name] itself."""
    for name in params:
        velocity = state.setdefault((name, "v"), np.zeros_like(params[name]))
        velocity *= beta
        velocity += grads[name]
        params[name] -= lr * velocity
    return state


def train_loop_while(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses, epoch = {}, [], 0
    while epoch < epochs:
        order, start, total = rng.permutation(len(X)), 0, 0.0
        while start < len(X):
            batch = order[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += float(loss) * len(batch)
            start += batch_size
        losses.append(total / len(X))
        epoch += 1
    return losses


def train_loop_numpy_losses(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, np.zeros(epochs)
    for epoch in range(epochs):
        batch_losses, sizes = [], []
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            batch_losses.append(loss)
            sizes.append(len(y_batch))
        losses[epoch] = np.average(batch_losses, weights=sizes)
    return losses


# An independent tester's right answers in unusual styles (issue 14's fresh corpus, right.py); their
# einsum linear_backward is linear_backward_einsum above.

def softmax_row_loop(logits):
    P = np.empty(logits.shape, dtype=logits.dtype)
    for i in range(logits.shape[0]):
        e = np.exp(logits[i] - max(logits[i]))
        P[i] = e / e.sum()
    return P


def softmax_logaddexp(logits):
    return np.exp(logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))


def cross_entropy_einsum(logits, y):
    B, C = logits.shape
    Y = (np.arange(C)[None, :] == np.asarray(y)[:, None]).astype(float)
    log_P = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return float(-np.einsum("ij,ij->", Y, log_P) / B)


def cross_entropy_loop(logits, y):
    total = 0.0
    for i in range(len(y)):
        z = logits[i]
        m = z.max()
        total += -(z[y[i]] - m - np.log(np.sum(np.exp(z - m))))
    return total / len(y)


def cross_entropy_grad_eye(logits, y):
    z = logits - logits.max(axis=1)[:, None]
    P = np.exp(z) / np.exp(z).sum(axis=1)[:, None]
    return (P - np.eye(logits.shape[1], dtype=logits.dtype)[y]) / logits.shape[0]


def relu_backward_where_float32_zero(dA, Z):
    return np.where(Z > 0, dA, np.float32(0))


def relu_backward_heaviside(dA, Z):
    return dA * np.heaviside(Z, 0.0)


def backward_mask_from_A(params, cache, dlogits):
    """The ReLU mask taken from the layer's output A = relu(Z): A > 0 exactly where Z > 0."""
    grads, layer, dZ = {}, len(params) // 2, dlogits
    while layer >= 1:
        A, _ = cache[layer - 1]
        dA = dZ @ params[f"W{layer}"].T
        grads[f"W{layer}"], grads[f"b{layer}"] = A.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = dA * (A > 0)
        layer -= 1
    return grads


def sgd_subtract_out(params, grads, state, lr):
    for name, p in params.items():
        np.subtract(p, lr * grads[name], out=p)
    return state


def momentum_rebinds_velocities(params, grads, state, lr, beta=0.9):
    for name in params:
        v = state.get(name, np.zeros_like(params[name]))
        state[name] = beta * v + grads[name]
        params[name] -= lr * state[name]
    return state


def adam_efficient_form(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Kingma and Ba's "efficient" form: alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), eps_hat = eps * ..."""
    t = state["t"] = state.get("t", 0) + 1
    alpha, eps_hat = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t), eps * np.sqrt(1 - beta2 ** t)
    for name, p in params.items():
        m = state.setdefault("m_" + name, np.zeros_like(p))
        v = state.setdefault("v_" + name, np.zeros_like(p))
        m *= beta1
        m += (1 - beta1) * grads[name]
        v *= beta2
        v += (1 - beta2) * grads[name] ** 2
        p -= alpha * m / (np.sqrt(v) + eps_hat)
    return state


def train_loop_np_average(params, X, y, step, lr, epochs, batch_size, rng):
    state, history = {}, []
    for epoch in range(epochs):
        losses, sizes = [], []
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            losses.append(loss)
            sizes.append(len(y_batch))
        history.append(float(np.average(losses, weights=sizes)))
    return history


def train_loop_float32_array(params, X, y, step, lr, epochs, batch_size, rng):
    return np.array(train_loop_np_average(params, X, y, step, lr, epochs, batch_size, rng), dtype=np.float32)


def dropout_binomial(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = (rng.binomial(1, 1 - rate, size=A.shape) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_float32_draws(A, rate, rng, training=True):
    if not training:
        return A, None
    keep = rng.random(A.shape, dtype=np.float32) < 1 - rate
    mask = keep.astype(A.dtype) / A.dtype.type(1 - rate)
    return A * mask, mask


def dropout_where(A, rate, rng, training=True):
    """A_out by np.where, in A's dtype, and the mask made apart, in A's dtype too."""
    if not training:
        return A, None
    keep = rng.uniform(size=A.shape) > rate
    return np.where(keep, A / (1 - rate), 0).astype(A.dtype), (keep / (1 - rate)).astype(A.dtype)


def dropout_choice(A, rate, rng, training=True):
    if training:
        mask = rng.choice([0.0, 1 / (1 - rate)], size=A.shape, p=[rate, 1 - rate]).astype(A.dtype)
        return A * mask, mask
    return A, None


def dropout_keep_times_A_then_scale(A, rate, rng, training=True):
    """A * keep / (1 - rate) stays float32 (a Python float does not promote); the mask is converted apart."""
    if not training:
        return A, None
    keep = rng.random(A.shape) >= rate
    return A * keep / (1 - rate), (keep / (1 - rate)).astype(A.dtype)


def dropout_backward_multiply(dA_out, mask):
    return np.multiply(dA_out, mask)


def dropout_backward_where(dA_out, mask):
    return np.where(mask != 0, dA_out * mask, 0).astype(dA_out.dtype)


def network_dropout_before_relu(params, X, y, rate, rng):
    """Dropout on Z1, before the ReLU: relu(Z1 * mask) = relu(Z1) * mask, since the mask is never negative."""
    Z1 = X @ params["W1"] + params["b1"]
    mask = ((rng.random(Z1.shape) >= rate) / (1 - rate)).astype(Z1.dtype)
    Z1_dropped = Z1 * mask
    A1 = np.maximum(Z1_dropped, 0)
    logits = A1 @ params["W2"] + params["b2"]
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(len(y)), y]).mean()
    dlogits = P.copy()
    dlogits[np.arange(len(y)), y] -= 1
    dlogits /= len(y)
    dZ1 = (dlogits @ params["W2"].T) * (Z1_dropped > 0) * mask
    return loss, {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dlogits, "b2": dlogits.sum(axis=0)}, logits


def network_mask_by_hand(params, X, y, rate, rng):
    """The solution's own dropout_forward, the mask applied by hand on the way back, and a float loss."""
    Z1 = mnist_ann.linear_forward(X, params["W1"], params["b1"])
    A1_dropped, mask = SOLUTION["dropout_forward"](mnist_ann.relu(Z1), rate, rng)
    logits = mnist_ann.linear_forward(A1_dropped, params["W2"], params["b2"])
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    dA1_dropped, dW2, db2 = mnist_ann.linear_backward(dlogits, A1_dropped, params["W2"])
    _, dW1, db1 = mnist_ann.linear_backward(mnist_ann.relu_backward(dA1_dropped * mask, Z1), X, params["W1"])
    return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, logits


IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}  # the notebook's


def parse_idx_with_from_bytes(raw):
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], byteorder="big") for i in range(ndim)]
    count = int(np.prod(shape))
    data = np.frombuffer(raw[4 + 4 * ndim:], dtype=IDX_DTYPES[raw[2]], count=count)
    return data.astype(data.dtype.newbyteorder("=")).reshape(shape)


def one_hot_eye(y, num_classes=10):
    return np.eye(num_classes, dtype=np.float32)[y]


def minibatches_list(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    return [(X[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, len(X), batch_size)]


def linear_forward_einsum(X, W, b):
    return np.einsum("bi,io->bo", X, W) + b[None, :]


def relu_times_mask(Z):
    return Z * (Z > 0)


def forward_while(params, X):
    cache, A, layer = [], X, 1
    while f"W{layer}" in params:
        Z = np.dot(A, params[f"W{layer}"]) + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0)
        layer += 1
    return cache[-1][1], cache


def init_params_normal(layer_sizes, rng):
    params = {}
    for layer in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[layer - 1], layer_sizes[layer]
        params[f"W{layer}"] = rng.normal(0.0, (2 / n_in) ** 0.5, size=(n_in, n_out)).astype("float32")
        params[f"b{layer}"] = np.zeros(n_out, "float32")
    return params


def confusion_matrix_loop(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=np.int32)
    for true, guess in zip(y, predicted):
        counts[true, guess] += 1
    return counts


def confusion_matrix_bincount(predicted, y, num_classes=10):
    flat = np.bincount(y.astype(int) * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def most_confused_pairs_argsort(counts, k=3):
    off = counts.astype(float)
    np.fill_diagonal(off, -np.inf)
    rows, cols = np.unravel_index(np.argsort(-off, axis=None, kind="stable")[:k], off.shape)
    return [(int(i), int(j), int(counts[i, j])) for i, j in zip(rows, cols)]


def most_confused_pairs_lists(counts, k=3):
    pairs = []
    for i, row in enumerate(counts.tolist()):
        pairs += [[i, j, n] for j, n in enumerate(row) if j != i]
    pairs.sort(key=lambda pair: pair[2], reverse=True)  # sort is stable: equal counts keep their order
    return [tuple(pair) for pair in pairs[:k]]


def most_confused_pairs_as_lists(counts, k=3):
    return [list(pair) for pair in SOLUTION["most_confused_pairs"](counts, k)]


def parse_idx_to_the_end(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], offset=4 + 4 * ndim).reshape(shape)


ALTERNATIVES = [
    ("parse_idx", "int.from_bytes, native byte order", parse_idx_with_from_bytes),
    ("one_hot", "np.eye", one_hot_eye),
    ("minibatches", "a list", minibatches_list),
    ("linear_forward", "einsum", linear_forward_einsum),
    ("relu", "Z * (Z > 0)", relu_times_mask),
    ("forward", "a while loop over the keys", forward_while),
    ("init_params", "rng.normal", init_params_normal),
    ("confusion_matrix", "a loop into int32", confusion_matrix_loop),
    ("confusion_matrix", "np.bincount", confusion_matrix_bincount),
    ("most_confused_pairs", "argsort of the flattened counts", most_confused_pairs_argsort),
    ("most_confused_pairs", "a list built from lists", most_confused_pairs_lists),
    ("softmax", "float32 inputs", softmax_float32),
    ("softmax", "loops", softmax_loops),
    ("cross_entropy", "log-sum-exp", cross_entropy_logsumexp),
    ("cross_entropy", "np.logaddexp", cross_entropy_logaddexp),
    ("cross_entropy_grad", "with Y built", cross_entropy_grad_one_hot),
    ("linear_backward", "einsum", linear_backward_einsum),
    ("relu_backward", "np.where", relu_backward_where),
    ("adam_step", "means updated in place", adam_in_place),
    ("train_loop", "while loops", train_loop_while),
    ("train_loop", "a numpy array of weighted averages", train_loop_numpy_losses),
    ("softmax", "a row loop", softmax_row_loop),
    ("softmax", "np.logaddexp", softmax_logaddexp),
    ("cross_entropy", "einsum with one-hot rows", cross_entropy_einsum),
    ("cross_entropy", "a loop over examples", cross_entropy_loop),
    ("cross_entropy_grad", "np.eye", cross_entropy_grad_eye),
    ("relu_backward", "np.where with a float32 zero", relu_backward_where_float32_zero),
    ("relu_backward", "np.heaviside", relu_backward_heaviside),
    ("backward", "the mask from A, a while loop", backward_mask_from_A),
    ("sgd_step", "np.subtract(out=)", sgd_subtract_out),
    ("adam_step", "Kingma and Ba's efficient form", adam_efficient_form),
    ("train_loop", "np.average with weights", train_loop_np_average),
    ("train_loop", "a float32 array", train_loop_float32_array),
    ("dropout_forward", "rng.binomial", dropout_binomial),
    ("dropout_forward", "float32 draws", dropout_float32_draws),
    ("dropout_forward", "np.where", dropout_where),
    ("dropout_forward", "rng.choice", dropout_choice),
    ("dropout_forward", "A * keep / (1 - rate)", dropout_keep_times_A_then_scale),
    ("dropout_backward", "np.multiply", dropout_backward_multiply),
    ("dropout_backward", "np.where", dropout_backward_where),
    ("loss_and_grads_with_dropout", "dropout before the ReLU, plain NumPy", network_dropout_before_relu),
    ("loss_and_grads_with_dropout", "the mask by hand, a float loss", network_mask_by_hand),
]


def check(name):
    return getattr(checks, f"check_{name}")


def run_check(name, student_fn, capsys):
    """Run a check; return whether it passed and its output, which must be one line naming the exercise."""
    passed = check(name)(student_fn)
    output = capsys.readouterr().out
    assert output.count("\n") == 1 and output.startswith(f"{name}: "), output
    return passed, output


@pytest.mark.parametrize("name", list(checks.MODULE_ANSWERS))
def test_the_solution_passes_every_check(name, capsys):
    passed, output = run_check(name, SOLUTION[name], capsys)
    assert passed is True and output.endswith(" checks passed.\n"), output


@pytest.mark.parametrize("name, form, student_fn", ALTERNATIVES, ids=[f"{a[0]}: {a[1]}" for a in ALTERNATIVES])
def test_a_right_answer_in_another_form_passes(name, form, student_fn, capsys):
    passed, output = run_check(name, student_fn, capsys)
    assert passed is True, output


# ---- the mistakes the checks must name, with the words of the right diagnosis -----------------------------

M = {label: fn for _, label, fn in exercise_mistakes.MISTAKES}  # the corpus's functions, by what is wrong
CLASSES = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("softmax", "shift by the row's largest size", exercise_mistakes.softmax_shift_by_largest_size,
     "subtract each row's own maximum"),
    ("softmax", "clipped logits", exercise_mistakes.softmax_clipped, "do not clip the logits"),
    ("cross_entropy", "clipped logits", exercise_mistakes.ce_clipped_logits, "or a clip, caps it"),
    ("cross_entropy_grad", "shift by the row's largest size", exercise_mistakes.ce_grad_shift_by_largest_size,
     "subtract each row's own maximum"),
    ("relu_backward", "a tolerance in the mask", exercise_mistakes.relu_backward_with_tolerance, "no tolerance"),
    ("backward", "grads is params", exercise_mistakes.backward_into_params, "returns params itself"),
    ("backward", "masks written into the cache", exercise_mistakes.backward_masks_the_cache,
     "changes the arrays in the cache"),
    ("backward", "one dict shared between calls", exercise_mistakes.backward_one_shared_dict,
     "a new dict at every call"),
    ("softmax", "not implemented", not_implemented, "not implemented yet"),
    ("softmax", "columns, no shift", exercise_mistakes.softmax_columns, "normalised down each column"),
    ("softmax", "columns, after the row-max shift", exercise_mistakes.softmax_columns_after_shift,
     "normalised down each column"),
    ("softmax", "whole batch, after the shift", exercise_mistakes.softmax_whole_batch_after_shift,
     "sum over the whole batch"),
    ("softmax", "shift by the column max", exercise_mistakes.softmax_shift_by_column_max, "down each column (axis=0)"),
    ("softmax", "no max shift", exercise_mistakes.softmax_no_shift, "Subtract each row's maximum"),
    ("softmax", "sum without keepdims", exercise_mistakes.softmax_sum_without_keepdims, "(add keepdims=True)"),
    ("softmax", "transposed", exercise_mistakes.softmax_transposed, "transpose of the expected (5, 3)"),
    ("softmax", "no return", lambda Z: None, "`return` line missing"),
    ("softmax", "changes its input", exercise_mistakes.softmax_in_place, "changed logits in place"),
    ("softmax", "raises", lambda Z: Z["logits"], "your code raised IndexError"),
    ("cross_entropy", "summed", exercise_mistakes.ce_summed, "summed over the batch instead of averaged"),
    ("cross_entropy", "per example", exercise_mistakes.ce_per_example, "one loss per example"),
    ("cross_entropy", "log_P[:, y]", exercise_mistakes.ce_block, "picks a B×B block"),
    ("cross_entropy", "log of softmax", exercise_mistakes.ce_log_of_softmax, "not as log(softmax(...))"),
    ("cross_entropy", "log-sum-exp without the shift", exercise_mistakes.ce_log_sum_exp_without_shift,
     "log(sum(exp(Z))) overflows"),
    ("cross_entropy", "log of an unshifted softmax", exercise_mistakes.ce_log_of_unshifted_softmax, "log(0)"),
    ("cross_entropy", "an epsilon in the log", exercise_mistakes.ce_epsilon_in_log, "a clip, caps it"),
    ("cross_entropy_grad", "no 1/B", exercise_mistakes.ceg_no_mean, "B = 2 times too large"),
    ("cross_entropy_grad", "1/B twice", exercise_mistakes.ceg_mean_twice, "divides by B twice"),
    ("cross_entropy_grad", "Y - P", exercise_mistakes.ceg_y_minus_p, "wrong sign"),
    ("cross_entropy_grad", "P[:, y] -= 1", exercise_mistakes.ceg_whole_columns, "subtracts 1 from whole columns"),
    ("cross_entropy_grad", "no max shift", exercise_mistakes.ceg_no_shift, "exp(1000) overflows"),
    ("cross_entropy_grad", "shapes that do not fit, not for want of keepdims", exercise_mistakes.ceg_ten_classes,
     "another width than the logits"),
    ("linear_backward", "not implemented", not_implemented, "not implemented yet"),
    ("linear_backward", "missing .T", exercise_mistakes.lb_missing_T, "The factors of @ do not fit"),
    ("linear_backward", "db over axis 1", exercise_mistakes.lb_db_axis1, "summed over the wrong axis"),
    ("linear_backward", "db with keepdims", exercise_mistakes.lb_db_keepdims, "keeps it (keepdims=True)"),
    ("linear_backward", "divides by B", exercise_mistakes.lb_divides_by_B, "already carries the 1/B"),
    ("linear_backward", "db a mean", exercise_mistakes.lb_db_mean, "db should be [6.]"),
    ("linear_backward", "swapped", exercise_mistakes.lb_swapped, "dX and dW come back swapped"),
    ("linear_backward", "db over every axis", exercise_mistakes.lb_db_everything, "summed over every axis"),
    ("relu_backward", "Z >= 0", exercise_mistakes.rb_at_zero, "use Z > 0"),
    ("relu_backward", "changes dA", exercise_mistakes.rb_in_place, "changed dA in place"),
    ("backward", "stops at layer 2", exercise_mistakes.bw_stops_at_layer_2, "grads has no W1, b1"),
    ("backward", "keyed dW1", exercise_mistakes.bw_keyed_dW, "grads is keyed dW1"),
    ("backward", "divides by B", exercise_mistakes.bw_divides_by_B, "already carries the 1/B"),
    ("backward", "no ReLU backward", exercise_mistakes.bw_no_relu, "goes wrong on its way back into layer 2"),
    ("backward", "changes dlogits", exercise_mistakes.bw_changes_dlogits, "changed dlogits in place"),
    ("backward", "unpacks linear_backward in the wrong order", exercise_mistakes.bw_unpacks_in_the_wrong_order,
     "linear_backward returns dX, dW, db in that order"),
    ("backward", "a stub inside a helper", lambda params, cache, dlogits: not_implemented(dlogits),
     "`not_implemented` still raises NotImplementedError"),
    ("sgd_step", "no lr", exercise_mistakes.sgd_no_lr, "learning rate is missing"),
    ("sgd_step", "returns None", exercise_mistakes.sgd_returns_nothing, "return the state"),
    ("sgd_step", "new arrays", exercise_mistakes.sgd_new_arrays, "replaced by a new array"),
    ("sgd_step", "new dict", exercise_mistakes.sgd_new_dict, "a new dict made inside the function"),
    ("sgd_step", "weights only", exercise_mistakes.sgd_weights_only, "the biases too"),
    ("sgd_step", "a local name", exercise_mistakes.sgd_local_name, "rebinding a local name"),
    ("sgd_step", "pairs by position", exercise_mistakes.sgd_pairs_by_position, "Pair them by name"),
    ("sgd_step", "scales grads in place", exercise_mistakes.sgd_scales_the_gradients,
     "changes the caller's grads['W'] in place"),
    ("sgd_step", "zeroes grads", exercise_mistakes.sgd_zeroes_the_gradients, "sets the caller's grads['W'] to zero"),
    ("sgd_step", "returns params", exercise_mistakes.sgd_returns_params, "it returns params"),
    ("sgd_step", "returns a new state", exercise_mistakes.sgd_returns_a_new_state,
     "a new dict, not the state it was given"),
    ("momentum_step", "lr missing", exercise_mistakes.momentum_no_lr, "learning rate is missing"),
    ("momentum_step", "lr twice", exercise_mistakes.momentum_lr_twice, "learning rate is applied twice"),
    ("momentum_step", "steps before updating", exercise_mistakes.momentum_step_then_update,
     "it steps with the old velocity and updates it after"),
    ("momentum_step", "averaging form", exercise_mistakes.momentum_averaging, "averaging form"),
    ("momentum_step", "state lost", exercise_mistakes.momentum_fresh_state, "not kept from one call to the next"),
    ("momentum_step", "beta fixed", exercise_mistakes.momentum_fixed_beta, "not the beta it is given"),
    ("momentum_step", "pairs by position", exercise_mistakes.momentum_pairs_by_position, "Pair them by name"),
    ("momentum_step", "the velocity is the caller's gradient", exercise_mistakes.momentum_velocity_is_the_gradient,
     "the state holds the caller's gradient array itself"),
    ("momentum_step", "lr inside the velocity", exercise_mistakes.momentum_lr_in_velocity,
     "lr is inside the velocity"),
    ("momentum_step", "beta on both", exercise_mistakes.momentum_beta_on_both, "v = beta * (v + g)"),
    ("momentum_step", "starts at g", exercise_mistakes.momentum_starts_at_g, "starts at g instead of zeros"),
    ("momentum_step", "Nesterov", exercise_mistakes.momentum_nesterov, "Nesterov's momentum"),
    ("momentum_step", "keyed by id", exercise_mistakes.momentum_keyed_by_id, "its state is keyed by id(grads[name])"),
    ("adam_step", "no eps", M["no eps"], "became nan at step 1 where its gradient is 0"),
    ("adam_step", "eps inside the root", M["eps inside the root"], "eps is inside the square root"),
    ("adam_step", "eps ignored", M["eps fixed"], "ignores the eps it is given"),
    ("adam_step", "no eps argument", exercise_mistakes.adam_without_eps_argument, "exactly as the exercise gives it"),
    ("adam_step", "v of g: nan", M["v of g, not g**2"], "became nan or infinite at step 1"),
    ("adam_step", "no bias correction", M["no bias correction"], "no bias correction"),
    ("adam_step", "t frozen", M["t frozen"], "t does not advance"),
    ("adam_step", "state lost", M["fresh state"], "the state is lost between calls"),
    ("adam_step", "betas fixed", M["betas fixed"], "it ignores beta1, beta2"),
    ("adam_step", "no square root", M["no square root"], "not by its square root"),
    ("adam_step", "v of |g|", M["v of |g|"], "v accumulates |g|"),
    ("adam_step", "t per parameter", M["t per parameter"], "t advances once per parameter"),
    ("adam_step", "t starts at 1", M["t starts at 1"], "the step count is one ahead"),
    ("adam_step", "t incremented twice", M["t incremented twice"], "t advances by 2 at every call"),
    ("adam_step", "squares g in place", M["squares g in place"], "changes the caller's grads['W'] in place"),
    ("train_loop", "not implemented", not_implemented, "not implemented yet"),
    ("train_loop", "drops the last batch", exercise_mistakes.loop_drops_last_batch, "last, smaller mini-batch"),
    ("train_loop", "mean of batch means", exercise_mistakes.loop_mean_of_batch_means, "plain mean of its batch means"),
    ("train_loop", "32 times too small", exercise_mistakes.loop_unweighted_over_N, "without being weighted"),
    ("train_loop", "summed", exercise_mistakes.loop_summed, "the sum of its batch means"),
    ("train_loop", "total not reset", exercise_mistakes.loop_total_not_reset, "start each epoch's total at 0"),
    ("train_loop", "last batch's loss", exercise_mistakes.loop_last_loss, "last mini-batch's loss"),
    ("train_loop", "weighted by batch_size", exercise_mistakes.loop_weighted_by_batch_size, "weight it by len(y_batch)"),
    ("train_loop", "not shuffled", exercise_mistakes.loop_not_shuffled, "in their stored order"),
    ("train_loop", "shuffled once", exercise_mistakes.loop_shuffled_once, "draw a new order at every epoch"),
    ("train_loop", "two permutations", exercise_mistakes.loop_two_permutations, "X and y are reordered differently"),
    ("train_loop", "the full data to loss_and_grads", exercise_mistakes.loop_full_batch, "all 256 examples at once"),
    ("train_loop", "a fixed lr", exercise_mistakes.loop_fixed_lr, "not the learning rate train_loop was given"),
    ("train_loop", "step once per epoch", exercise_mistakes.loop_step_once_per_epoch, "once per epoch"),
    ("train_loop", "state dropped", exercise_mistakes.loop_state_dropped, "is not passed to the next call"),
    ("train_loop", "state reset every epoch", exercise_mistakes.loop_state_reset_each_epoch,
     "create it once, state = {}, before the loops"),
    ("train_loop", "its own seeded rng", exercise_mistakes.loop_own_rng, "same whatever rng it is given: use the rng"),
    ("train_loop", "an unseeded rng", exercise_mistakes.loop_unseeded_rng, "changes from run to run with the same rng"),
    ("train_loop", "np.random's shuffle", exercise_mistakes.loop_global_shuffle, "use the rng you are given"),
    ("train_loop", "records the loss on all the data", exercise_mistakes.loop_records_the_full_loss,
     "not the epoch's mean of its mini-batch losses"),
    ("train_loop", "always the first batch", exercise_mistakes.loop_first_batch, "not X[:batch_size]"),
    ("train_loop", "trains a copy", exercise_mistakes.loop_on_a_copy, "params did not change"),
    ("train_loop", "returns nothing", lambda *args: None, "list of 10 numbers"),
    ("dropout_forward", "not implemented", not_implemented, "not implemented yet"),
    ("dropout_forward", "mask not scaled", exercise_mistakes.dropout_unscaled, "the mask is not scaled"),
    ("dropout_forward", "scaling applied twice", exercise_mistakes.dropout_scaled_twice,
     "the scaling is applied twice"),
    ("dropout_forward", "scaled at evaluation too", exercise_mistakes.dropout_scaled_at_evaluation,
     "the scaling is applied twice"),
    ("dropout_forward", "left on at evaluation", exercise_mistakes.dropout_left_on_at_evaluation,
     "dropout is left on at evaluation"),
    ("dropout_forward", "times 1 - rate at evaluation", exercise_mistakes.dropout_original_evaluation,
     "as the original dropout does"),
    ("dropout_forward", "rate as the keep probability", exercise_mistakes.dropout_rate_as_keep_probability,
     "rate is used as the probability of keeping a unit"),
    ("dropout_forward", "keeps below rate", exercise_mistakes.dropout_keeps_below_rate,
     "it keeps 25% of the units and drops 75%"),
    ("dropout_forward", "divides by rate", exercise_mistakes.dropout_divides_by_rate, "scaled by 1/rate"),
    ("dropout_forward", "one mask per unit", exercise_mistakes.dropout_per_unit,
     "the same units are dropped for every example"),
    ("dropout_forward", "one mask per example", exercise_mistakes.dropout_per_example,
     "each example is dropped or kept whole"),
    ("dropout_forward", "one draw for the whole array", exercise_mistakes.dropout_one_draw,
     "one random number was drawn for the whole array"),
    ("dropout_forward", "a float64 mask", exercise_mistakes.dropout_float64_mask, "A_out is float64 for a float32 A"),
    ("dropout_forward", "a float64 mask beside a float32 A_out", exercise_mistakes.dropout_float64_mask_only,
     "the mask it returns is float64 for a float32 A"),
    ("dropout_forward", "right at rate 0.25 only", exercise_mistakes.dropout_percent_integers,
     "at rate = 0.07 it keeps 92.0% of the units"),
    ("dropout_forward", "a correlated mask", exercise_mistakes.dropout_correlated, "at rate = 0.07"),
    ("dropout_forward", "half the batch's mask repeated", exercise_mistakes.dropout_half_batch_repeated,
     "some rows of the mask repeat others exactly"),
    ("dropout_forward", "the mask read off A_out", exercise_mistakes.dropout_mask_from_output,
     "was it rebuilt from A_out?"),
    ("dropout_forward", "changes A", exercise_mistakes.dropout_in_place, "changed A in place"),
    ("dropout_forward", "returns a new draw", exercise_mistakes.dropout_returns_a_new_draw,
     "drops other units than those dropped in A_out"),
    ("dropout_forward", "returns the keep pattern", exercise_mistakes.dropout_returns_the_keep_pattern,
     "the mask is not scaled"),
    ("dropout_forward", "no threshold", exercise_mistakes.dropout_no_threshold, "many different numbers"),
    ("dropout_forward", "a generator of its own", exercise_mistakes.dropout_own_rng,
     "the same whatever rng it is given"),
    ("dropout_forward", "np.random", exercise_mistakes.dropout_global_random,
     "changes from call to call with the same rng"),
    ("dropout_forward", "the flag backwards", exercise_mistakes.dropout_flag_backwards,
     "the training flag is read backwards"),
    ("dropout_forward", "A_out only", exercise_mistakes.dropout_returns_A_out_only, "should return two values"),
    ("dropout_forward", "a mask at evaluation", exercise_mistakes.dropout_mask_at_evaluation,
     "there is no mask to return"),
    ("dropout_forward", "a fixed rate", exercise_mistakes.dropout_fixed_rate, "the rate it is given"),
    ("dropout_forward", "a mask of another shape", lambda A, rate, rng, training=True: (
        A * (rng.random(A.shape[0]) >= rate), None), "draw it with rng.random(A.shape)"),
    ("dropout_backward", "not implemented", not_implemented, "not implemented yet"),
    ("dropout_backward", "the keep pattern: mask not scaled", exercise_mistakes.dropout_backward_keep_pattern,
     "the mask is not scaled"),
    ("dropout_backward", "scaled again", exercise_mistakes.dropout_backward_scaled_again,
     "the scaling is applied twice"),
    ("dropout_backward", "the mask squared", exercise_mistakes.dropout_backward_squared,
     "the scaling is applied twice"),
    ("dropout_backward", "a mask of its own", exercise_mistakes.dropout_backward_new_mask,
     "another mask (a new draw?) than the one it is given"),
    ("dropout_backward", "a new mask at every call", lambda dA_out, mask: dA_out * (
        np.random.default_rng().random(dA_out.shape) >= 0.5) * 2, "it draws a new mask"),
    ("dropout_backward", "divides by the mask", exercise_mistakes.dropout_backward_divides, "divides by the mask"),
    ("dropout_backward", "dA_out unchanged", exercise_mistakes.dropout_backward_unchanged, "dA_out passes unchanged"),
    ("dropout_backward", "changes dA_out", exercise_mistakes.dropout_backward_in_place, "changed dA_out in place"),
    ("dropout_backward", "always float32", exercise_mistakes.dropout_backward_float32,
     "dA is float32 for a float64 dA_out and mask"),
    ("dropout_backward", "the mask inverted", exercise_mistakes.dropout_backward_inverted, "the mask is inverted"),
    ("loss_and_grads_with_dropout", "not implemented", not_implemented, "not implemented yet"),
    ("loss_and_grads_with_dropout", "dW2 before dropout", exercise_mistakes.net_dW2_before_dropout,
     "computed from the hidden units before dropout"),
    ("loss_and_grads_with_dropout", "mask redrawn: dropout_forward again", exercise_mistakes.net_mask_redrawn,
     "another mask than the one the forward pass used"),
    ("loss_and_grads_with_dropout", "mask redrawn for the way back",
     exercise_mistakes.net_forward_mask_redrawn_for_backward, "another mask than the one the forward pass used"),
    ("loss_and_grads_with_dropout", "no dropout on the way back", exercise_mistakes.net_no_dropout_backward,
     "the gradient skips dropout on its way back"),
    ("loss_and_grads_with_dropout", "the keep pattern on the way back", exercise_mistakes.net_keep_pattern_backward,
     "the 0/1 pattern of the mask, not the scaled mask"),
    ("loss_and_grads_with_dropout", "scaled twice on the way back", exercise_mistakes.net_scaled_twice_backward,
     "the scaling is applied twice on the way back"),
    ("loss_and_grads_with_dropout", "dropout on the logits", exercise_mistakes.net_dropout_on_logits,
     "dropout is applied to the logits"),
    ("loss_and_grads_with_dropout", "dropout on the inputs", exercise_mistakes.net_dropout_on_inputs,
     "X and the logits keep all their units"),
    ("loss_and_grads_with_dropout", "mask not scaled", exercise_mistakes.net_unscaled, "the mask is not scaled"),
    ("loss_and_grads_with_dropout", "a generator of its own", exercise_mistakes.net_own_rng,
     "the same whatever rng it is given"),
    ("loss_and_grads_with_dropout", "a fixed rate", exercise_mistakes.net_fixed_rate,
     "is the rate it is given passed on"),
    ("loss_and_grads_with_dropout", "no dropout", exercise_mistakes.net_no_dropout, "nothing is dropped"),
    ("loss_and_grads_with_dropout", "the loss without dropout", exercise_mistakes.net_loss_without_dropout,
     "not the mean cross-entropy of the logits it returns"),
    ("loss_and_grads_with_dropout", "no ReLU on the way back", exercise_mistakes.net_no_relu_backward,
     "goes wrong on its way back into layer 1"),
    # issue 21: each class a fresh tester's zoo let through, or that got a misleading diagnosis
    ("softmax", "the batch's maximum", exercise_mistakes.softmax_batch_max_shift, "rows have maxima 1000, 2 and -999"),
    ("softmax", "the first row's maximum", exercise_mistakes.softmax_first_row_shift, "shifted by its own maximum"),
    ("cross_entropy", "the batch's maximum", exercise_mistakes.ce_batch_max_shift, "shifted by its own maximum"),
    ("cross_entropy_grad", "the batch's maximum", exercise_mistakes.ce_grad_batch_max_shift,
     "shifted by its own maximum"),
    ("softmax", "shape (C,) for a batch of one", exercise_mistakes.softmax_squeezed, "the batch axis is lost"),
    ("cross_entropy", "example 0 skipped, divided by B", exercise_mistakes.ce_skips_first_example,
     "the first example is left out"),
    ("cross_entropy", "example 0 skipped, divided by B - 1", exercise_mistakes.ce_skips_first_example_mean,
     "the first example is left out"),
    ("cross_entropy_grad", "a buffer kept between calls", exercise_mistakes.ce_grad_reused_buffer,
     "changed when the function was called again"),
    ("linear_backward", "buffers kept between calls", exercise_mistakes.lb_reused_buffers,
     "changed when the function was called again"),
    ("relu_backward", "a buffer kept between calls", exercise_mistakes.relu_backward_reused_buffer,
     "changed when the function was called again"),
    ("dropout_forward", "a mask buffer kept between calls", exercise_mistakes.dropout_reused_mask,
     "the mask it returned changed when the function was called again"),
    ("dropout_backward", "a buffer kept between calls", exercise_mistakes.dropout_backward_reused_buffer,
     "changed when the function was called again"),
    ("cross_entropy_grad", "a fixed batch size", exercise_mistakes.ce_grad_fixed_batch_size,
     "divided by 32, a fixed number"),
    ("relu_backward", "negated", exercise_mistakes.relu_backward_negated, "wrong sign"),
    ("relu_backward", "the sigmoid's derivative", exercise_mistakes.relu_backward_sigmoid, "derivative of the sigmoid"),
    ("relu_backward", "tanh's derivative", exercise_mistakes.relu_backward_tanh, "derivative of tanh"),
    ("relu_backward", "softplus's derivative", exercise_mistakes.relu_backward_softplus, "derivative of softplus"),
    ("dropout_backward", "np.dot with mask.T", exercise_mistakes.dropout_backward_dot_transposed,
     "Dropout multiplies entry by entry"),
    ("backward", "a fixed depth", exercise_mistakes.backward_fixed_depth, "the number of layers is fixed"),
    ("backward", "walks forward", exercise_mistakes.backward_walks_forward, "walks the layers forward"),
    ("backward", "layers from 0", exercise_mistakes.backward_zero_based, "numbered from 1"),
    ("backward", "slope 1 at Z = 0", exercise_mistakes.backward_relu_slope_one_at_zero, "use Z > 0"),
    ("loss_and_grads_with_dropout", "slope 1 at Z = 0", exercise_mistakes.net_relu_slope_one_at_zero,
     "use Z > 0"),
    ("loss_and_grads_with_dropout", "a float64 mask", exercise_mistakes.net_float64_mask,
     "so that a float32 network stays"),
    ("dropout_forward", "(mask, A_out)", exercise_mistakes.dropout_swapped_order, "the two values in the wrong order"),
    ("dropout_backward", "@ for *", exercise_mistakes.dropout_backward_matmul, "write *, not @"),
    ("train_loop", "a new default_rng(0) every epoch", exercise_mistakes.loop_new_rng_every_epoch,
     "seeded again, at each epoch"),
    ("sgd_step", "updates grads", exercise_mistakes.sgd_updates_grads, "it updates grads, not params"),
    ("parse_idx", "sizes little-endian", exercise_mistakes.parse_sizes_little_endian, "little-endian"),
    ("parse_idx", "data in native order", exercise_mistakes.parse_data_native_order, "read little-endian"),
    ("parse_idx", "always bytes", exercise_mistakes.parse_always_bytes, "IDX_DTYPES[raw[2]]"),
    ("parse_idx", "a header of 4 + ndim bytes", exercise_mistakes.parse_header_one_byte_per_size,
     "after the header of 4 + 4 * ndim bytes"),
    ("parse_idx", "flat", exercise_mistakes.parse_flat, "reshape it"),
    ("one_hot", "whole columns", exercise_mistakes.one_hot_whole_columns, "sets whole columns"),
    ("one_hot", "np.eye, float64", exercise_mistakes.one_hot_eye_float64, "make it float32"),
    ("one_hot", "the width from the labels", exercise_mistakes.one_hot_width_from_labels, "use num_classes"),
    ("minibatches", "the last batch dropped", exercise_mistakes.minibatches_drop_last, "the last, smaller batch"),
    ("minibatches", "in order", exercise_mistakes.minibatches_in_order, "their stored order"),
    ("minibatches", "a fixed seed", exercise_mistakes.minibatches_fixed_seed, "whatever rng"),
    ("minibatches", "labels not shuffled", exercise_mistakes.minibatches_labels_unshuffled, "do not belong"),
    ("minibatches", "shuffles the caller's arrays", exercise_mistakes.minibatches_shuffle_in_place, "in place"),
    ("linear_forward", "no bias", exercise_mistakes.lf_no_bias, "the bias is missing"),
    ("linear_forward", "the biases summed", exercise_mistakes.lf_bias_summed, "summed into one number"),
    ("relu", "np.max", exercise_mistakes.relu_np_max, "np.maximum(Z, 0) compares each entry with 0"),
    ("relu", "the mask", exercise_mistakes.relu_mask, "it returns the mask"),
    ("relu", "in place", exercise_mistakes.relu_in_place, "it changed Z in place"),
    ("relu", "float64 zeros", exercise_mistakes.relu_float64, "keep Z's dtype"),
    ("forward", "relu on the logits", exercise_mistakes.forward_relu_on_logits, "relu is applied to the last layer"),
    ("forward", "no relu", exercise_mistakes.forward_no_relu, "layer 2's input"),
    ("forward", "outputs in the cache", exercise_mistakes.forward_caches_outputs, "output, not its input"),
    ("forward", "(Z, A) in the cache", exercise_mistakes.forward_cache_swapped, "swapped order"),
    ("forward", "three layers written out", exercise_mistakes.forward_fixed_depth, "the number of layers is fixed"),
    ("init_params", "LeCun's scale", exercise_mistakes.init_lecun, "LeCun's scale"),
    ("init_params", "fan_out", exercise_mistakes.init_fan_out, "sqrt(2 / fan_out)"),
    ("init_params", "Glorot's scale", exercise_mistakes.init_glorot, "Glorot's scale"),
    ("init_params", "the variance as the std", exercise_mistakes.init_variance_as_std, "the variance rather than"),
    ("init_params", "uniform", exercise_mistakes.init_uniform, "a uniform draw"),
    ("init_params", "float64", exercise_mistakes.init_float64, "make every array float32"),
    ("init_params", "a fixed seed", exercise_mistakes.init_seeded_rng, "the same whatever rng"),
    ("init_params", "layers from 0", exercise_mistakes.init_zero_based, "numbered from 1"),
    ("confusion_matrix", "a fancy-indexed += 1", exercise_mistakes.cm_fancy_index, "np.add.at"),
    ("confusion_matrix", "rows are the predictions", exercise_mistakes.cm_transposed, "rows and columns are swapped"),
    ("confusion_matrix", "always ten classes", exercise_mistakes.cm_ten_classes, "it ignores num_classes"),
    ("confusion_matrix", "the size from the labels", exercise_mistakes.cm_size_from_labels,
     "misses classes that never occur"),
    ("confusion_matrix", "sorts y in place", exercise_mistakes.cm_labels_sorted, "changed y in place"),
    ("most_confused_pairs", "the diagonal included", exercise_mistakes.mcp_with_diagonal, "the diagonal is included"),
    ("most_confused_pairs", "zeroes the caller's diagonal", exercise_mistakes.mcp_zeroes_callers_diagonal,
     "zero the diagonal of a copy"),
    ("most_confused_pairs", "(predicted, true)", exercise_mistakes.mcp_predicted_first, "(predicted, true)"),
    ("most_confused_pairs", "ascending", exercise_mistakes.mcp_ascending, "increasing order of count"),
    ("most_confused_pairs", "ties backwards", exercise_mistakes.mcp_unstable_ties, "pairs with equal counts"),
    ("adam_step", "folded constants, eps not rescaled", exercise_mistakes.adam_folded_eps_not_scaled,
     "eps enters in the wrong place"),
    # issue 21, the second zoo: borrowing through objects kept, and the classes that zoo let through or misnamed
    ("softmax", "the module's answer as a staticmethod", M["the module's answer as a staticmethod"],
     "reaches mnist_ann.softmax, the module's own answer"),
    ("one_hot", "functools.partial of the module's answer", M["functools.partial of the module's answer"],
     "reaches mnist_ann.one_hot, the module's own answer"),
    ("init_params", "the module's answer as a default argument", M["the module's answer as a default argument"],
     "uses mnist_ann.init_params, the module's own answer"),
    ("minibatches", "yield from the module's answer", M["yield from the module's answer"],
     "calls mnist_ann.iterate_minibatches, the module's own answer"),
    ("relu", "the module's text run by exec into a dict", M["the module's text run by exec into a dict"],
     "reaches mnist_ann.relu, the module's own answer"),
    ("parse_idx", "the module's idx_header", M["the module's idx_header"],
     "it calls mnist_ann.idx_header, the module's own answer"),
    ("confusion_matrix", "np.histogram2d", M["np.histogram2d"], "np.histogram2d's bins span the range of the data"),
    ("confusion_matrix", "uint8 counts", M["uint8 counts"], "too small an integer type"),
    ("confusion_matrix", "float counts", M["float counts"], "make them integers"),
    ("one_hot", "cached by the length of y", M["cached by the length of y"], "returns the first call's Y"),
    ("minibatches", "one buffer for every batch", M["one buffer for every batch"], "a later batch overwrites them"),
    ("momentum_step", "one velocity per shape", M["one velocity per shape"], "do they share one velocity?"),
    ("forward", "layers in the sorted order of their names", M["layers in the sorted order of their names"],
     "'W10' comes before 'W2'"),
    ("most_confused_pairs", "a zeroed diagonal ranked with the rest", M["a zeroed diagonal ranked with the rest"],
     "a cell of the diagonal"),
    ("sgd_step", "return inside the loop", exercise_mistakes.sgd_return_in_the_loop,
     "`return` indented inside the loop"),
    ("momentum_step", "return inside the loop", exercise_mistakes.momentum_return_in_the_loop,
     "`return` indented inside the loop"),
    ("init_params", "biases shaped (1, out)", M["biases shaped (1, out)"], "not np.zeros((1, n_out))"),
    ("parse_idx", "each size read from one byte", M["each size read from one byte"], "read from one byte"),
    ("cross_entropy_grad", "sorts y in place", exercise_mistakes.ceg_sorts_the_labels, "it changed y in place"),
    ("train_loop", "the epochs inside the batches", M["the epochs inside the batches"],
     "the loop over epochs is inside the loop over mini-batches"),
    ("dropout_forward", "A as float64 at evaluation", M["A as float64 at evaluation"],
     "return A itself, with no conversion"),
]


def test_only_a_function_written_with_def_is_checked(capsys):
    """A wrapper (functools.partial, a class's instance, a builtin) can hide the module's answer: refused."""
    class Softmax:
        def __call__(self, logits):
            exps = np.exp(logits - logits.max(axis=1, keepdims=True))
            return exps / exps.sum(axis=1, keepdims=True)
    for wrapped in (Softmax(), functools.partial(SOLUTION["softmax"])):
        passed, output = run_check("softmax", wrapped, capsys)
        assert passed is False and "give the check a function you wrote yourself with def" in output, output


def test_numpys_own_function_is_checked_like_any_other(capsys):
    """NumPy hides no module answer: dropout_backward = np.multiply is right, softmax = np.exp is not."""
    assert run_check("dropout_backward", np.multiply, capsys)[0] is True
    passed, output = run_check("softmax", np.exp, capsys)
    assert passed is False and "give the check a function" not in output, output


def test_the_checks_constants_survive_a_function_that_changes_its_inputs(capsys):
    """A student's y.sort() changes a copy: the labels every later check uses stay as they were."""
    before = checks.LABELS.copy(), checks.HAND_LABELS.copy(), checks.SPREAD_LABELS.copy()
    run_check("cross_entropy_grad", exercise_mistakes.ceg_sorts_the_labels, capsys)
    run_check("cross_entropy", lambda logits, y: (y.sort(), 0.0)[1], capsys)
    assert all(np.array_equal(now, then) for now, then in
               zip((checks.LABELS, checks.HAND_LABELS, checks.SPREAD_LABELS), before))


# ---- the statements' rules: the dtype kept, None at evaluation, a list of integer pairs ----------------------

def softmax_float64_exps(logits):
    exps = np.exp(logits.astype(float) - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def cross_entropy_grad_float64_eye(logits, y):
    return (SOLUTION["softmax"](logits) - np.eye(logits.shape[1])[y]) / len(y)


def linear_backward_float32_always(dZ, X, W):
    return tuple(array.astype(np.float32) for array in SOLUTION["linear_backward"](dZ, X, W))


def relu_backward_float64_mask(dA, Z):
    return dA * np.where(Z > 0, 1.0, 0.0)


def relu_int(Z):
    return np.maximum(Z, 0).astype(int)


def momentum_float64_velocity(params, grads, state, lr, beta=0.9):
    for name in params:
        state.setdefault(name, np.zeros(params[name].shape))
        state[name][...] = beta * state[name] + grads[name]
        params[name] -= lr * state[name]
    return state


def linear_forward_float64_bias(X, W, b):
    return X @ W + b.astype(float)


def dropout_ones_at_evaluation(A, rate, rng, training=True):
    if not training:
        return A, np.ones_like(A)
    return SOLUTION["dropout_forward"](A, rate, rng, training)


def most_confused_pairs_array(counts, k=3):
    return np.array(SOLUTION["most_confused_pairs"](counts, k))


def most_confused_pairs_float_counts(counts, k=3):
    return [(i, j, float(n)) for i, j, n in SOLUTION["most_confused_pairs"](counts, k)]


def backward_own_Z_where_it_fits(params, cache, dlogits):
    """The ReLU mask from the layer's own Z where the shapes allow it: right only by luck of widths."""
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A_in, Z_own = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dA = dZ @ params[f"W{layer}"].T
            Z = Z_own if Z_own.shape == dA.shape else cache[layer - 2][1]
            dZ = dA * (Z > 0)
    return grads


def softmax_sigmoid(logits):
    return 1 / (1 + np.exp(-logits))


def cross_entropy_log10(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(log_P[np.arange(len(y)), y]) / np.log(10)


def relu_leaky(Z):
    return np.where(Z > 0, Z, 0.01 * Z)


def relu_backward_sign(dA, Z):
    return dA * np.sign(Z)


def linear_backward_dX_times_X(dZ, X, W):
    dX, dW, db = SOLUTION["linear_backward"](dZ, X, W)
    return dX * X, dW, db


def adam_betas_swapped(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return SOLUTION["adam_step"](params, grads, state, lr, beta2, beta1, eps)


def adam_keeps_corrected_means(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state.setdefault("t", 0)
    state["t"] += 1
    for name in params:
        m = beta1 * state.get("m" + name, 0) + (1 - beta1) * grads[name]
        v = beta2 * state.get("v" + name, 0) + (1 - beta2) * grads[name] ** 2
        state["m" + name], state["v" + name] = m / (1 - beta1 ** state["t"]), v / (1 - beta2 ** state["t"])
        params[name] -= lr * state["m" + name] / (np.sqrt(state["v" + name]) + eps)
    return state


VELOCITIES = {}


def momentum_velocities_in_a_global(params, grads, state, lr, beta=0.9):
    for name in params:
        VELOCITIES[name] = beta * VELOCITIES.get(name, 0) + grads[name]
        params[name] -= lr * VELOCITIES[name]
    return state


def momentum_one_velocity_for_all(params, grads, state, lr, beta=0.9):
    state["v"] = beta * state.get("v", 0) + sum(float(g.mean()) for g in grads.values())
    for name in params:
        params[name] -= lr * state["v"]
    return state


def dropout_backward_divides(dA_out, mask):
    return np.divide(dA_out, mask, out=np.zeros_like(dA_out), where=mask != 0)


def parse_idx_type_from_byte_3(raw):
    ndim = raw[2]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[3]], offset=4 + 4 * ndim).reshape(shape)


def parse_idx_offset_without_magic(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=int(np.prod(shape)), offset=4 * ndim + 8).reshape(shape)


def backward_W_of_the_layer_below(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A_in, _ = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = (dZ @ params[f"W{layer - 1}"].T) * (cache[layer - 2][1] > 0)
    return grads


def forward_relu_in_place(params, X):
    A, cache = X, []
    for layer in range(1, len(params) // 2 + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        if layer < len(params) // 2:
            np.maximum(Z, 0, out=Z)
        A = Z
    return A, cache


def network_returns_grads_first(params, X, y, rate, rng):
    loss, grads, logits = SOLUTION["loss_and_grads_with_dropout"](params, X, y, rate, rng)
    return grads, loss, logits


def confusion_rates(predicted, y, num_classes=10):
    counts = SOLUTION["confusion_matrix"](predicted, y, num_classes).astype(float)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def most_confused_pairs_ascending(counts, k=3):
    return SOLUTION["most_confused_pairs"](counts, counts.size)[::-1][:k]


def most_confused_pairs_merged_mirrors(counts, k=3):
    merged = counts + counts.T
    return [(i, j, int(merged[i, j])) for i, j, _ in SOLUTION["most_confused_pairs"](np.triu(merged), k)]


def backward_without_decrement(params, cache, dlogits):
    layer, grads, dZ = len(params) // 2, {}, dlogits
    while layer > 0:  # layer -= 1 forgotten
        A_in, _ = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = dZ @ params[f"W{layer}"].T, A_in.T @ dZ, dZ.sum(axis=0)
        dZ = dA * (cache[layer - 2][1] > 0)
    return grads


def backward_keys_one_short(params, cache, dlogits):
    grads = SOLUTION["backward"](params, cache, dlogits)
    return {f"{name[0]}{int(name[1:]) - 1}": grad for name, grad in grads.items()}


def adam_t_after_the_update(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state.setdefault("t", 0)
    for name in params:
        m = state[f"m{name}"] = beta1 * state.get(f"m{name}", 0) + (1 - beta1) * grads[name]
        v = state[f"v{name}"] = beta2 * state.get(f"v{name}", 0) + (1 - beta2) * grads[name] ** 2
        params[name] -= lr * (m / (1 - beta1 ** state["t"])) / (np.sqrt(v / (1 - beta2 ** state["t"])) + eps)
    state["t"] += 1
    return state


def adam_v_of_g(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = t = state.get("t", 0) + 1
    for name in params:
        m = state[f"m{name}"] = beta1 * state.get(f"m{name}", 0) + (1 - beta1) * grads[name]
        v = state[f"v{name}"] = beta2 * state.get(f"v{name}", 0) + (1 - beta2) * grads[name]
        params[name] -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(np.abs(v) / (1 - beta2 ** t)) + eps)
    return state


def adam_beta1_for_v(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return SOLUTION["adam_step"](params, grads, state, lr, beta1, beta1, eps)


def adam_fixed_beta2(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return SOLUTION["adam_step"](params, grads, state, lr, beta1, 0.999, eps)


def train_loop_one_generator(params, X, y, step, lr, epochs, batch_size, rng):
    losses, state, batches = [], {}, mnist_ann.iterate_minibatches(X, y, batch_size, rng)
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in batches:
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += len(y_batch) * float(loss)
        losses.append(total / len(X))
    return losses


def train_loop_step_arguments_swapped(params, X, y, step, lr, epochs, batch_size, rng):
    losses, state = [], {}
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(grads, params, state, lr)
            total += len(y_batch) * float(loss)
        losses.append(total / len(X))
    return losses


def parse_idx_count_ndim(raw):
    ndim = raw[3]
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=ndim, offset=4 + 4 * ndim)


def relu_clipped_at_one(Z):
    return np.clip(Z, 0, 1)


def confusion_matrix_loop_one_short(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for n in range(len(y) - 1):
        counts[y[n], predicted[n]] += 1
    return counts


def confusion_matrix_bincount_without_minlength(predicted, y, num_classes=10):
    return np.bincount(np.asarray(y) * num_classes + np.asarray(predicted)).reshape(num_classes, num_classes)


def cross_entropy_over_C(logits, y):
    return SOLUTION["cross_entropy"](logits, y) * len(y) / logits.shape[1]


def cross_entropy_every_entry(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return -np.mean(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


def cross_entropy_grad_with_respect_to_P(logits, y):
    P = SOLUTION["softmax"](logits)
    G = np.zeros_like(P)
    G[np.arange(len(y)), y] = -1 / P[np.arange(len(y)), y]
    return G / len(y)


def minibatches_of_indices(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield order[start:start + batch_size]


def linear_forward_bias_column(X, W, b):
    return X @ W + b[:, None]


def linear_forward_times(X, W, b):
    return X * W + b


def parse_idx_offset_in_words(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=int(np.prod(shape)), offset=1 + ndim).reshape(shape)


def parse_idx_little_endian_sizes(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, "<u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=int(np.prod(shape)), offset=4 + 4 * ndim).reshape(shape)


def minibatches_permuting_the_batch_size(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        batch = rng.permutation(batch_size)[:len(X) - start]
        yield X[batch], y[batch]


def minibatches_one_short(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size - 1]], y[order[start:start + batch_size - 1]]


def minibatches_drawn_per_batch(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        batch = rng.choice(len(X), size=min(batch_size, len(X) - start), replace=False)
        yield X[batch], y[batch]


def minibatches_drawn_by_choice(X, y, batch_size, rng):
    order = rng.choice(len(X), len(X), replace=False)  # a permutation, but not the one the statement draws
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def forward_borrowing_run_layers(params, X):
    return getattr(mnist_ann, "run_" + "layers")(params, X)


def forward_cache_reversed(params, X):
    logits, cache = SOLUTION["forward"](params, X)
    return logits, cache[::-1]


def parse_idx_sizes_reversed(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))[::-1]
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=int(np.prod(shape)), offset=4 + 4 * ndim).reshape(shape)


def softmax_returning_in_the_loop(logits):
    P = np.zeros_like(logits)
    for i in range(len(logits)):
        exps = np.exp(logits[i] - logits[i].max())
        P[i] = exps / exps.sum()
        return P


def one_hot_ten_columns(y, num_classes=10):
    return np.eye(10, dtype=np.float32)[y]


def init_params_floor_division(layer_sizes, rng):
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{layer}"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2 // n_in)).astype(np.float32)
        params[f"b{layer}"] = np.zeros(n_out, dtype=np.float32)
    return params


def confusion_matrix_arguments_swapped(y, predicted, num_classes=10):
    return SOLUTION["confusion_matrix"](predicted, y, num_classes)


def linear_backward_db_first_row(dZ, X, W):
    dX, dW, _ = SOLUTION["linear_backward"](dZ, X, W)
    return dX, dW, dZ[0]


def backward_dW_from_Z(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        _, Z = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = dZ @ params[f"W{layer}"].T, Z.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = dA * (cache[layer - 2][1] > 0)
    return grads


def dropout_network_scaled_by_rate(params, X, y, rate, rng):
    mask = (rng.random((len(X), params["W1"].shape[1])) >= rate) / rate
    A1 = np.maximum(X @ params["W1"] + params["b1"], 0) * mask
    logits = A1 @ params["W2"] + params["b2"]
    return SOLUTION["cross_entropy"](logits, y), {name: np.zeros_like(p) for name, p in params.items()}, logits


def relu_python_max(Z):
    return max(Z, 0)


def relu_as_integers(Z):
    return (Z > 0) * 1


def minibatches_split_in_equal_parts(X, y, batch_size, rng):
    for batch in np.array_split(rng.permutation(len(X)), -(-len(X) // batch_size)):
        yield X[batch], y[batch]


def minibatches_with_an_empty_batch(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, (len(X) // batch_size + 1) * batch_size, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def minibatches_pairs_swapped(X, y, batch_size, rng):
    for X_batch, y_batch in SOLUTION["minibatches"](X, y, batch_size, rng):
        yield y_batch, X_batch


def train_loop_values_unpacked_in_another_order(params, X, y, step, lr, epochs, batch_size, rng):
    losses, state = [], {}
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            grads, loss, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += len(y_batch) * float(loss)
        losses.append(total / len(X))
    return losses


def forward_values_in_a_row(params, X):
    values, A, cache = list(params.values()), X, []
    for W, b in zip(values[::2], values[1::2]):
        Z = A @ W + b
        cache.append((A, Z))
        A = np.maximum(Z, 0)
    return cache[-1][1], cache


KEPT_CACHE = []


def forward_with_a_cache_kept_between_calls(params, X):
    logits, cache = SOLUTION["forward"](params, X)
    KEPT_CACHE.extend(cache)
    return logits, KEPT_CACHE


def most_confused_pairs_same_maximum(counts, k=3):
    return SOLUTION["most_confused_pairs"](counts, 1) * k


def parse_idx_with_reduce(raw):
    import functools as tools
    import operator
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    count = tools.reduce(operator.mul, shape)
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=count, offset=4 + 4 * ndim).reshape(shape)


def adam_corrections_by_product(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = t = state.get("t", 0) + 1
    for name in params:
        m = state[f"m{name}"] = beta1 * state.get(f"m{name}", 0) + (1 - beta1) * grads[name]
        v = state[f"v{name}"] = beta2 * state.get(f"v{name}", 0) + (1 - beta2) * grads[name] ** 2
        params[name] -= lr * (m / (1 - beta1 * t)) / (np.sqrt(np.abs(v / (1 - beta2 * t))) + eps)
    return state


def parse_idx_to_the_end_then_sliced(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw[4 + 4 * ndim:], IDX_DTYPES[raw[2]])[:int(np.prod(shape))].reshape(shape)


def forward_pairs_in_key_order(params, X):
    weights = [params[name] for name in params if name.startswith("W")]
    biases = [params[name] for name in params if name.startswith("b")]
    A, cache = X, []
    for layer, (W, b) in enumerate(zip(weights, biases), start=1):
        Z = A @ W + b
        cache.append((A, Z))
        A = np.maximum(Z, 0) if layer < len(weights) else Z
    return A, cache


def sgd_counting_its_steps(params, grads, state, lr):
    state["steps"] = state.get("steps", 0) + 1
    return SOLUTION["sgd_step"](params, grads, state, lr)


def softmax_of_minus_logits(logits):
    return SOLUTION["softmax"](-logits)


def cross_entropy_of_the_predicted_class(logits, y):
    return SOLUTION["cross_entropy"](logits, logits.argmax(axis=1))


def most_confused_pairs_count_first(counts, k=3):
    return [(n, i, j) for i, j, n in SOLUTION["most_confused_pairs"](counts, k)]


def most_confused_pairs_always_three(counts, k=3):
    return SOLUTION["most_confused_pairs"](counts, 3)


def most_confused_pairs_without_zeros(counts, k=3):
    return [pair for pair in SOLUTION["most_confused_pairs"](counts, k) if pair[2] > 0]


def linear_forward_inner(X, W, b):
    return np.inner(X, W) + b


def one_hot_of_width_B(y, num_classes=10):
    return np.eye(len(y), dtype=np.float32)[y]


def parse_idx_float_count(raw):
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    return np.frombuffer(raw, IDX_DTYPES[raw[2]], count=np.prod(shape), offset=4 + 4 * ndim).reshape(shape)


def softmax_shifted_below_only(logits):
    exps = np.exp(logits)
    return exps / np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)


def softmax_returning_log_P(logits):
    return np.log(SOLUTION["softmax"](logits))


def sgd_with_the_param_for_its_gradient(params, grads, state, lr):
    for name in params:
        params[name] -= lr * params[name]
    return state


def adam_m_and_v_one_array(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state["t"], state["m"] = 0, {name: np.zeros_like(p) for name, p in params.items()}
        state["v"] = state["m"]
    state["t"] += 1
    for name in params:
        m, v = state["m"][name], state["v"][name]
        m *= beta1
        m += (1 - beta1) * grads[name]
        v *= beta2
        v += (1 - beta2) * grads[name] ** 2
        params[name] -= lr * (m / (1 - beta1 ** state["t"])) / (np.sqrt(v / (1 - beta2 ** state["t"])) + eps)
    return state


def forward_from_layer_zero(params, X):
    A, cache = X, []
    for layer in range(len(params) // 2):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0)
    return Z, cache


def cross_entropy_grad_diagonal_only(logits, y):
    P = SOLUTION["softmax"](logits)
    Y = np.eye(logits.shape[1], dtype=logits.dtype)[y]
    return -Y * (1 - P) / len(y)


def cross_entropy_grad_width_from_labels(logits, y):
    return (SOLUTION["softmax"](logits) - np.eye(y.max() + 1, dtype=logits.dtype)[y]) / len(y)


def train_loop_stepping_before_the_gradients(params, X, y, step, lr, epochs, batch_size, rng):
    losses, state, grads = [], {}, None
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            if grads is not None:
                state = step(params, grads, state, lr)
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            total += len(y_batch) * float(loss)
        losses.append(total / len(X))
    return losses


def dropout_backward_scaled_again(dA_out, mask):
    return dA_out * mask * dA_out.dtype.type((mask != 0).mean())


def confusion_matrix_with_or(predicted, y, num_classes=10):
    return np.array([[np.sum((y == i) | (predicted == j)) for j in range(num_classes)]
                     for i in range(num_classes)])


def confusion_matrix_with_and(predicted, y, num_classes=10):
    return np.array([[np.sum((y == i) and (predicted == j)) for j in range(num_classes)]
                     for i in range(num_classes)])


def cross_entropy_log_sum_exp_alone(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(shifted).sum(axis=1)))


def cross_entropy_grad_without_P(logits, y):
    return -np.eye(logits.shape[1], dtype=logits.dtype)[y] / len(y)


def adam_corrected_by_one_minus_beta(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = state.get("t", 0) + 1
    for name in params:
        m = state[f"m{name}"] = beta1 * state.get(f"m{name}", 0) + (1 - beta1) * grads[name]
        v = state[f"v{name}"] = beta2 * state.get(f"v{name}", 0) + (1 - beta2) * grads[name] ** 2
        params[name] -= lr * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps)
    return state


def backward_dZ_never_carried(params, cache, dlogits):
    grads = {}
    for layer in range(len(params) // 2, 0, -1):
        A_in, _ = cache[layer - 1]
        _dA, grads[f"W{layer}"], grads[f"b{layer}"] = dlogits @ params[f"W{layer}"].T, A_in.T @ dlogits, \
            dlogits.sum(axis=0)  # the dA of the layer below is computed, then never used
    return grads


def relu_from_the_modules_table(Z):
    return mnist_ann.ACTIVATIONS["relu"](Z)


def cross_entropy_uint8_rows(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y), dtype=np.uint8), y].mean()


def minibatches_stopping_at_N_minus_1(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X) - 1, batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def sgd_with_a_fixed_rate(params, grads, state, lr):
    return SOLUTION["sgd_step"](params, grads, state, 0.05)


def forward_with_X_for_every_layer(params, X):
    cache = []
    for layer in range(1, len(params) // 2 + 1):
        Z = X @ params[f"W{layer}"][:X.shape[1]] + params[f"b{layer}"] if params[f"W{layer}"].shape[0] >= \
            X.shape[1] else X[:, :params[f"W{layer}"].shape[0]] @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((X, Z))
    return Z, cache


def adam_corrections_swapped(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = t = state.get("t", 0) + 1
    for name in params:
        m = state[f"m{name}"] = beta1 * state.get(f"m{name}", 0) + (1 - beta1) * grads[name]
        v = state[f"v{name}"] = beta2 * state.get(f"v{name}", 0) + (1 - beta2) * grads[name] ** 2
        params[name] -= lr * (m / (1 - beta2 ** t)) / (np.sqrt(v / (1 - beta1 ** t)) + eps)
    return state


def cross_entropy_grad_sign_and_no_mean(logits, y):
    return np.eye(logits.shape[1], dtype=logits.dtype)[y] - SOLUTION["softmax"](logits)


def momentum_without_creating_velocities(params, grads, state, lr, beta=0.9):
    for name in params:
        v = state[name]
        v *= beta
        v += grads[name]
        params[name] -= lr * v
    return state


def backward_layers_sorted_as_text(params, cache, dlogits):
    grads, dZ = {}, dlogits
    layers = sorted((name[1:] for name in params if name.startswith("W")), reverse=True)  # "9" > "10"
    for text in layers:
        layer = int(text)
        A_in, _ = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = dZ @ params[f"W{layer}"].T, A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = dA * (cache[layer - 2][1] > 0)
    return grads


def confusion_matrix_flat_index_in_the_labels_dtype(predicted, y, num_classes=10):
    flat = y * num_classes + predicted  # uint8 labels wrap past 255
    return np.bincount(flat, minlength=num_classes ** 2)[:num_classes ** 2].reshape(num_classes, num_classes)


def most_confused_pairs_last_k(counts, k=3):
    pairs = SOLUTION["most_confused_pairs"](counts, counts.size - len(counts))[::-1]
    return pairs[-k:][::-1]


def cross_entropy_one_hot_times_log_P(logits, y):
    P = SOLUTION["softmax"](logits)
    return -np.mean(np.sum(np.eye(logits.shape[1])[y] * np.log(P), axis=1))


def linear_backward_in_another_order(dZ, X, W):
    dX, dW, db = SOLUTION["linear_backward"](dZ, X, W)
    return dW, db, dX


def dropout_backward_dot(dA_out, mask):
    return np.dot(dA_out, mask)


PATTERNS = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("softmax", "an entry-by-entry sigmoid", softmax_sigmoid, "do not sum to 1"),
    ("cross_entropy", "log10", cross_entropy_log10, "np.log10"),
    ("relu", "leaky", relu_leaky, "only the entries where Z < 0 are wrong"),
    ("relu_backward", "times sign(Z)", relu_backward_sign, "only the entries where Z < 0 are wrong"),
    ("linear_backward", "dX times X", linear_backward_dX_times_X, "dX = dZ @ W.T"),
    ("adam_step", "betas swapped", adam_betas_swapped, "swapped"),
    ("adam_step", "the corrected means kept", adam_keeps_corrected_means, "m_hat and v_hat in state"),
    ("momentum_step", "velocities in a global", momentum_velocities_in_a_global, "outside state"),
    ("momentum_step", "one velocity for all", momentum_one_velocity_for_all, "shared one velocity"),
    ("dropout_backward", "divides by the mask", dropout_backward_divides, "divides by the mask"),
    ("parse_idx", "the type code from byte 3", parse_idx_type_from_byte_3, "byte 2 is the type code"),
    ("parse_idx", "the data offset without the magic", parse_idx_offset_without_magic, "offset 4 + 4 * ndim"),
    ("backward", "W of the layer below", backward_W_of_the_layer_below, "the index of W is one short"),
    ("forward", "relu in place on the cached Z", forward_relu_in_place, "a ReLU done in place"),
    ("loss_and_grads_with_dropout", "grads first", network_returns_grads_first, "returns grads, loss, logits"),
    ("confusion_matrix", "rates", confusion_rates, "fractions, not counts"),
    ("most_confused_pairs", "ascending", most_confused_pairs_ascending, "least frequent"),
    ("most_confused_pairs", "mirrors merged", most_confused_pairs_merged_mirrors, "not merged with its mirror"),
    ("backward", "a while loop without l -= 1", backward_without_decrement, "a while loop without l -= 1"),
    ("backward", "keys one short", backward_keys_one_short, "the keys are shifted by -1"),
    ("adam_step", "t raised after the update", adam_t_after_the_update, "Add 1 to t before using it"),
    ("adam_step", "v of g", adam_v_of_g, "the running mean of g ** 2"),
    ("adam_step", "beta1 for v", adam_beta1_for_v, "v uses beta1"),
    ("adam_step", "beta2 fixed", adam_fixed_beta2, "ignores the beta2 it is given"),
    ("train_loop", "one generator for every epoch", train_loop_one_generator, "used up after one pass"),
    ("train_loop", "step(grads, params, ...)", train_loop_step_arguments_swapped, "step(params, grads, state, lr)"),
    ("parse_idx", "count = ndim", parse_idx_count_ndim, "not the number of dimensions"),
    ("relu", "clipped at 1", relu_clipped_at_one, "caps the positive entries at 1"),
    ("confusion_matrix", "a loop one short", confusion_matrix_loop_one_short, "the last example is not counted"),
    ("confusion_matrix", "bincount without minlength", confusion_matrix_bincount_without_minlength, "minlength"),
    ("cross_entropy", "divided by C", cross_entropy_over_C, "divided by the number of classes C"),
    ("cross_entropy", "every entry averaged", cross_entropy_every_entry, "over every entry"),
    ("cross_entropy_grad", "with respect to P", cross_entropy_grad_with_respect_to_P, "with respect to P"),
    ("minibatches", "indices yielded", minibatches_of_indices, "yields the indices"),
    ("linear_forward", "the bias as a column", linear_forward_bias_column, "b is made a column"),
    ("linear_forward", "X * W", linear_forward_times, "X * W multiplies entry by entry"),
    ("parse_idx", "the offset in words", parse_idx_offset_in_words, "the data is read from byte 2"),
    ("parse_idx", "sizes read little-endian", parse_idx_little_endian_sizes, "reads the sizes little-endian"),
    ("minibatches", "a permutation of batch_size", minibatches_permuting_the_batch_size, "first 5 examples only"),
    ("minibatches", "slices one short", minibatches_one_short, "one example fewer"),
    ("minibatches", "drawn anew per batch", minibatches_drawn_per_batch, "drawn anew for each batch"),
    ("forward", "run_layers borrowed", forward_borrowing_run_layers, "mnist_ann.run_layers"),
    ("forward", "no ReLU between layers", exercise_mistakes.forward_no_relu, "the ReLU between the layers is missing"),
    ("forward", "the cache reversed", forward_cache_reversed, "the cache is in reverse order"),
    ("parse_idx", "the sizes reversed", parse_idx_sizes_reversed, "reversed"),
    ("softmax", "a return in the loop's body", softmax_returning_in_the_loop, "a `return` stands in the body"),
    ("one_hot", "a fixed 10", one_hot_ten_columns, "the number 10 is written in the code"),
    ("init_params", "2 // n_in", init_params_floor_division, "floor division"),
    ("confusion_matrix", "parameters in another order", confusion_matrix_arguments_swapped, "its first line takes"),
    ("linear_backward", "db = dZ[0]", linear_backward_db_first_row, "db is one row of dZ"),
    ("backward", "dW from Z", backward_dW_from_Z, "from the layer's output Z"),
    ("loss_and_grads_with_dropout", "divided by rate", dropout_network_scaled_by_rate, "divided by rate"),
    ("relu", "Python's max", relu_python_max, "Python's max"),
    ("relu", "the mask as integers", relu_as_integers, "holds only 0s and 1s"),
    ("minibatches", "np.array_split", minibatches_split_in_equal_parts, "np.array_split"),
    ("minibatches", "an empty batch", minibatches_with_an_empty_batch, "an empty batch"),
    ("minibatches", "(y, X)", minibatches_pairs_swapped, "it yields (y_batch, X_batch)"),
    ("train_loop", "grads, loss unpacked", train_loop_values_unpacked_in_another_order, "loss, grads, logits = "),
    ("forward", "params by position", forward_values_in_a_row, "by their position in the dict"),
    ("forward", "a cache kept between calls", forward_with_a_cache_kept_between_calls, "earlier calls"),
    ("most_confused_pairs", "the same maximum k times", most_confused_pairs_same_maximum, "more than once"),
    ("parse_idx", "reduce with no start", parse_idx_with_reduce, "a single number, zero dimensions"),
    ("adam_step", "1 - beta * t", adam_corrections_by_product, "1 - beta * t"),
    ("parse_idx", "to the end, then sliced", parse_idx_to_the_end_then_sliced, "1 byte after the data"),
    ("forward", "weights and biases paired in key order", forward_pairs_in_key_order, "another order of keys"),
    ("sgd_step", "a step count in the state", sgd_counting_its_steps, "into the state"),
    ("softmax", "exp(-logits)", softmax_of_minus_logits, "exp(-logits)"),
    ("cross_entropy", "the predicted class", cross_entropy_of_the_predicted_class, "the predicted class"),
    ("cross_entropy", "the log-sum-exp alone", cross_entropy_log_sum_exp_alone, "the true class's term is missing"),
    ("most_confused_pairs", "(count, true, predicted)", most_confused_pairs_count_first, "another order"),
    ("most_confused_pairs", "always 3", most_confused_pairs_always_three, "use the k it is given"),
    ("most_confused_pairs", "no zero counts", most_confused_pairs_without_zeros, "count is 0"),
    ("linear_forward", "np.inner", linear_forward_inner, "np.inner"),
    ("one_hot", "np.eye(B)", one_hot_of_width_B, "num_classes columns"),
    ("parse_idx", "a float count", parse_idx_float_count, "int(np.prod(shape))"),
    ("softmax", "shifted in the denominator only", softmax_shifted_below_only, "a constant multiple"),
    ("softmax", "log P", softmax_returning_log_P, "it returns log P"),
    ("sgd_step", "lr * params", sgd_with_the_param_for_its_gradient, "lr times itself"),
    ("adam_step", "m and v one array", adam_m_and_v_one_array, "one and the same array"),
    ("forward", "layers from 0", forward_from_layer_zero, "numbered from 1"),
    ("cross_entropy_grad", "the Jacobian's diagonal", cross_entropy_grad_diagonal_only, "diagonal"),
    ("cross_entropy_grad", "C from the labels", cross_entropy_grad_width_from_labels, "another width"),
    ("train_loop", "a step before its gradients", train_loop_stepping_before_the_gradients, "one fewer"),
    ("dropout_backward", "scaled again", dropout_backward_scaled_again, "no other scale"),
    ("confusion_matrix", "| for &", confusion_matrix_with_or, "OR"),
    ("confusion_matrix", "Python's and", confusion_matrix_with_and, "Python's `and`"),
    ("momentum_step", "new velocity arrays at every call", momentum_rebinds_velocities, "update the same arrays"),
    ("cross_entropy_grad", "P forgotten", cross_entropy_grad_without_P, "P is missing"),
    ("adam_step", "1 - beta for 1 - beta ** t", adam_corrected_by_one_minus_beta, "1 - beta ** t"),
    ("backward", "dZ never carried back", backward_dZ_never_carried, "dZ is not carried back"),
    ("relu", "the module's ACTIVATIONS table", relu_from_the_modules_table, "a table that holds mnist_ann.relu"),
    ("cross_entropy", "uint8 row indices", cross_entropy_uint8_rows, "wraps at 256"),
    ("minibatches", "a range stopping at N - 1", minibatches_stopping_at_N_minus_1, "of one example, is lost"),
    ("sgd_step", "a fixed learning rate", sgd_with_a_fixed_rate, "it ignores the learning rate"),
    ("forward", "X as every layer's input", forward_with_X_for_every_layer, "every layer's input in the cache is X"),
    ("adam_step", "betas swapped in the corrections", adam_corrections_swapped, "swapped in the bias corrections"),
    ("cross_entropy_grad", "Y - P without 1/B", cross_entropy_grad_sign_and_no_mean, "the wrong sign"),
    ("momentum_step", "no velocities created", momentum_without_creating_velocities, "state has no entry"),
    ("backward", "layers sorted as text", backward_layers_sorted_as_text, "sorted as text"),
    ("confusion_matrix", "y * C in uint8", confusion_matrix_flat_index_in_the_labels_dtype, "wraps past 255"),
    ("most_confused_pairs", "order[-k:] for k = 0", most_confused_pairs_last_k, "for k = 0"),
    ("cross_entropy", "one-hot times log P", cross_entropy_one_hot_times_log_P, "0 * log(0)"),
    ("linear_backward", "dW, db, dX", linear_backward_in_another_order, "in another order"),
    ("dropout_backward", "np.dot", dropout_backward_dot, "entry by entry"),
    ("minibatches", "rng.choice for the order", minibatches_drawn_by_choice, "not in the order rng.permutation"),
]


RULES = [  # (exercise, what breaks the rule, student function, words its diagnosis must contain)
    ("softmax", "float64 out of float32 logits", softmax_float64_exps, "P is float64 for float32 inputs"),
    ("cross_entropy_grad", "a float64 np.eye", cross_entropy_grad_float64_eye, "np.eye"),
    ("linear_backward", "float32 whatever comes in", linear_backward_float32_always, "float32 for float64 inputs"),
    ("relu_backward", "a float64 mask by np.where", relu_backward_float64_mask, "dZ is float64"),
    ("relu", "integers out", relu_int, "integer conversion"),
    ("momentum_step", "a float64 velocity", momentum_float64_velocity, "np.zeros"),
    ("linear_forward", "a float64 bias", linear_forward_float64_bias, "Z is float64"),
    ("dropout_forward", "ones for the mask at evaluation", dropout_ones_at_evaluation, "return None for it"),
    ("most_confused_pairs", "an array of pairs", most_confused_pairs_array, "a Python list of tuples"),
    ("most_confused_pairs", "float counts", most_confused_pairs_float_counts, "not an integer"),
    ("most_confused_pairs", "lists, not tuples", most_confused_pairs_as_lists, "make each a tuple"),
    ("parse_idx", "every byte to the end", parse_idx_to_the_end, "read exactly the numbers the header announces"),
    ("backward", "the layer's own Z where the widths agree", backward_own_Z_where_it_fits, "own pre-activation"),
]


# ---- what zoos J, K and L (2026-12-07, afternoon) let through or named weakly -----------------------------

def relu_always_float32(Z):
    return np.maximum(Z, 0).astype(np.float32)


def relu_by_absolute_value(Z):
    return (Z + np.abs(Z)) / 2  # inf above half of the dtype's largest value


def relu_with_a_floor(Z):
    return np.maximum(Z, Z.dtype.type(1e-6))


def relu_as_sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


RELU_MASKS = {}


def relu_backward_mask_kept_by_shape(dA, Z):
    mask = RELU_MASKS.setdefault(Z.shape, Z > 0)
    return dA * mask


def dropout_none_mask_at_rate_zero(A, rate, rng, training=True):
    if not training or rate == 0:
        return A, None
    return SOLUTION["dropout_forward"](A, rate, rng, training)


DROPOUT_MASKS = {}


def dropout_mask_kept_by_shape(A, rate, rng, training=True):
    if not training:
        return A, None
    if A.shape not in DROPOUT_MASKS:
        DROPOUT_MASKS[A.shape] = SOLUTION["dropout_forward"](A, rate, rng)[1]
    mask = DROPOUT_MASKS[A.shape].astype(A.dtype)
    return A * mask, mask


def momentum_velocities_nested(params, grads, state, lr, beta=0.9):
    velocities = state.setdefault("velocity", {name: np.zeros_like(value) for name, value in params.items()})
    for name, g in grads.items():
        velocities[name] *= beta
        velocities[name] += g
        params[name] -= lr * velocities[name]
    return state


def momentum_from_the_modules_table(params, grads, state, lr, beta=0.9):
    return mnist_ann.OPTIMIZERS["momentum"](params, grads, state, lr, beta=beta)


def linear_forward_first_bias_only(X, W, b):
    return X @ W + b[0]


def linear_forward_times_bias(X, W, b):
    return (X @ W) * b


def linear_forward_bias_into_W(X, W, b):
    return X @ (W + b)


def linear_forward_out_in_weights(X, W, b):
    return np.einsum("bi,oi->bo", X, W) + b


def linear_forward_squeezed(X, W, b):
    return np.squeeze(X @ W + b)


def one_hot_writes_the_label(y, num_classes=10):
    Y = np.zeros((len(y), num_classes), dtype=np.float32)
    Y[np.arange(len(y)), y] = y
    return Y


def one_hot_thermometer(y, num_classes=10):
    return (np.arange(num_classes) < np.asarray(y)[:, None]).astype(np.float32)


def one_hot_smoothed(y, num_classes=10):
    return (0.8 * np.eye(num_classes, dtype=np.float32)[y] + 0.2 / num_classes).astype(np.float32)


ONE_HOT_BUFFERS = {}


def one_hot_buffer_never_cleared(y, num_classes=10):
    Y = ONE_HOT_BUFFERS.setdefault((len(y), num_classes), np.zeros((len(y), num_classes), dtype=np.float32))
    Y[np.arange(len(y)), y] = 1
    return Y


def minibatches_one_too_far(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size + 1]], y[order[start:start + batch_size + 1]]


def minibatches_equal_parts(X, y, batch_size, rng):
    for part in np.array_split(rng.permutation(len(X)), max(1, len(X) // batch_size)):
        yield X[part], y[part]


def minibatches_last_padded(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        batch = np.concatenate([batch, order[:batch_size - len(batch)]])
        yield X[batch], y[batch]


ORDERS = {}


def minibatches_order_kept(X, y, batch_size, rng):
    order = ORDERS.setdefault(len(X), rng.permutation(len(X)))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def dropout_network_given_the_keep_probability(params, X, y, rate, rng):
    return SOLUTION["loss_and_grads_with_dropout"](params, X, y, 1 - rate, rng)


def parse_idx_count_in_bytes(raw):
    ndim, dtype = raw[3], np.dtype(IDX_DTYPES[raw[2]])
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape)) * dtype.itemsize
    return np.frombuffer(raw, dtype=dtype, count=count, offset=4 + 4 * ndim).reshape(shape)


def parse_idx_slice_of_count_bytes(raw):
    ndim, dtype = raw[3], np.dtype(IDX_DTYPES[raw[2]])
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    start = 4 + 4 * ndim
    return np.frombuffer(raw[start:start + int(np.prod(shape))], dtype=dtype).reshape(shape)


def parse_idx_column_major(raw):
    ndim, dtype = raw[3], np.dtype(IDX_DTYPES[raw[2]])
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim)
    return data.reshape(shape, order="F")


def cross_entropy_column_shift(logits, y):
    shifted = logits - logits.max(axis=0, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def cross_entropy_batch_log_sum(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum())
    return -log_P[np.arange(len(y)), y].mean()


def cross_entropy_rows_by_label(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.diag(log_P[y][:, :len(y)]).mean()


def cross_entropy_grad_at_the_argmax(logits, y):
    P = SOLUTION["softmax"](logits)
    P[np.arange(len(y)), P.argmax(axis=1)] -= 1
    return P / len(y)


def cross_entropy_grad_counting_from_one(logits, y):
    P = SOLUTION["softmax"](logits)
    P[np.arange(len(y)), y - 1] -= 1
    return P / len(y)


def cross_entropy_grad_times_sigmoid_slope(logits, y):
    P = SOLUTION["softmax"](logits)
    return (P - np.eye(logits.shape[1], dtype=logits.dtype)[y]) * P * (1 - P) / len(y)


def cross_entropy_grad_columns_normalised(logits, y):
    exps = np.exp(logits - logits.max(axis=0))
    P = exps / exps.sum(axis=0)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def sgd_divided_by_the_rate(params, grads, state, lr):
    for name, g in grads.items():
        params[name] -= g / lr
    return state


def sgd_divided_by_the_length(params, grads, state, lr):
    for name, g in grads.items():
        params[name] -= lr * g / len(g)
    return state


def sgd_over_the_keys(params, grads, state, lr):
    for p, g in zip(params, grads):
        p -= lr * g
    return state


def adam_without_one_minus_beta(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state.update(t=0, m={n: np.zeros_like(p) for n, p in params.items()},
                     v={n: np.zeros_like(p) for n, p in params.items()})
    state["t"] += 1
    for name, g in grads.items():
        state["m"][name] = beta1 * state["m"][name] + g
        state["v"][name] = beta2 * state["v"][name] + g * g
        m_hat = state["m"][name] / (1 - beta1 ** state["t"])
        v_hat = state["v"][name] / (1 - beta2 ** state["t"])
        params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return state


def confusion_matrix_set_not_added(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, guess in zip(y, predicted):
        counts[true, guess] = 1
    return counts


def confusion_matrix_counting_from_one(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, guess in zip(y, predicted):
        counts[true - 1, guess - 1] += 1
    return counts


def most_confused_pairs_from_one(counts, k=3):
    return SOLUTION["most_confused_pairs"](counts, k + 1)[1:]


def init_params_two_layers_always(layer_sizes, rng):
    sizes = [layer_sizes[0], layer_sizes[1], layer_sizes[-1]]
    return SOLUTION["init_params"](sizes, rng)


def init_params_scaled_after_the_cast(layer_sizes, rng):
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)).astype(np.float32) * np.sqrt(2 / n_in)
        params[f"b{layer}"] = np.zeros(n_out, dtype=np.float32)
    return params


def init_params_bias_columns(layer_sizes, rng):
    params = SOLUTION["init_params"](layer_sizes, rng)
    return {name: value.reshape(-1, 1) if name[0] == "b" else value for name, value in params.items()}


def cross_entropy_in_base_10(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))) / np.log(10)
    return -log_P[np.arange(len(y)), y].mean()


ZOOS_JKL = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("relu", "float32 whatever comes in", relu_always_float32, "relu of a float64 Z is float32"),
    ("relu", "(Z + |Z|) / 2", relu_by_absolute_value, "an intermediate overflows"),
    ("relu", "a floor of 1e-6", relu_with_a_floor, "not exactly 0"),
    ("relu", "the sigmoid", relu_as_sigmoid, "the sigmoid"),
    ("relu_backward", "a mask kept by shape", relu_backward_mask_kept_by_shape, "reuses something it kept"),
    ("dropout_forward", "None for the mask at rate 0", dropout_none_mask_at_rate_zero, "returns None for the mask"),
    ("dropout_forward", "a mask kept by shape", dropout_mask_kept_by_shape, "do not keep a mask from an earlier"),
    ("momentum_step", "velocities under one key", momentum_velocities_nested, "the velocities are kept as"),
    ("momentum_step", "keys (name, 'v')", momentum_tuple_keys, "the velocities are kept as"),
    ("momentum_step", "the module's table", momentum_from_the_modules_table, "holds mnist_ann.momentum_step"),
    ("linear_forward", "b[0] only", linear_forward_first_bias_only, "adds only b[0]"),
    ("linear_forward", "times the bias", linear_forward_times_bias, "multiplies by the bias"),
    ("linear_forward", "X @ (W + b)", linear_forward_bias_into_W, "adds b to W before the product"),
    ("linear_forward", "(out, in) weights", linear_forward_out_in_weights, "as if W were stored (out, in)"),
    ("linear_forward", "np.squeeze", linear_forward_squeezed, "an axis of size 1 is dropped"),
    ("one_hot", "the label's value for 1", one_hot_writes_the_label, "writes the label's value"),
    ("one_hot", "a thermometer code", one_hot_thermometer, "thermometer"),
    ("one_hot", "smoothed labels", one_hot_smoothed, "label smoothing"),
    ("one_hot", "a buffer never cleared", one_hot_buffer_never_cleared, "the first call's 1s are still there"),
    ("minibatches", "a slice one too far", minibatches_one_too_far, "one more than batch_size"),
    ("minibatches", "N // batch_size equal parts", minibatches_equal_parts, "nearly equal parts"),
    ("minibatches", "the last batch padded", minibatches_last_padded, "filled up to batch_size"),
    ("minibatches", "one order kept", minibatches_order_kept, "an order kept from an earlier call"),
    ("loss_and_grads_with_dropout", "1 - rate given", dropout_network_given_the_keep_probability, "given 1 - rate"),
    ("parse_idx", "count in bytes", parse_idx_count_in_bytes, "not a number of bytes"),
    ("parse_idx", "count bytes sliced", parse_idx_slice_of_count_bytes, "each value takes dtype.itemsize bytes"),
    ("parse_idx", "order='F'", parse_idx_column_major, "order='F'"),
    ("cross_entropy", "each column's maximum", cross_entropy_column_shift, "each column's maximum"),
    ("cross_entropy", "one log-sum-exp for the batch", cross_entropy_batch_log_sum, "over the whole batch"),
    ("cross_entropy", "log_P[y]", cross_entropy_rows_by_label, "picks whole rows by label"),
    ("cross_entropy", "log base 10", cross_entropy_in_base_10, "divided by ln 10"),
    ("cross_entropy_grad", "1 at the argmax", cross_entropy_grad_at_the_argmax, "the predicted class"),
    ("cross_entropy_grad", "1 at y - 1", cross_entropy_grad_counting_from_one, "column y - 1"),
    ("cross_entropy_grad", "a sigmoid's slope", cross_entropy_grad_times_sigmoid_slope, "a sigmoid's slope"),
    ("cross_entropy_grad", "columns normalised", cross_entropy_grad_columns_normalised, "normalises each column"),
    ("sgd_step", "g / lr", sgd_divided_by_the_rate, "divides by the learning rate"),
    ("sgd_step", "lr * g / len(g)", sgd_divided_by_the_length, "it divides by 2"),
    ("sgd_step", "zip over the keys", sgd_over_the_keys, "gives its keys"),
    ("adam_step", "no (1 - beta) factors", adam_without_one_minus_beta, "(1 - beta) factors are missing"),
    ("confusion_matrix", "counts set to 1", confusion_matrix_set_not_added, "the count is set"),
    ("confusion_matrix", "label - 1", confusion_matrix_counting_from_one, "label - 1"),
    ("most_confused_pairs", "pairs[1:k + 1]", most_confused_pairs_from_one, "a slice that starts at 1"),
    ("init_params", "always two layers", init_params_two_layers_always, "it makes 2 layers, not 3"),
    ("init_params", "scaled after the cast", init_params_scaled_after_the_cast, "as the last step"),
    ("init_params", "biases as columns", init_params_bias_columns, "an extra axis of size 1"),
]


# ---- what the held-out zoos M and N let through or named weakly (found after their one run) ---------------

def linear_forward_one_row_flattened(X, W, b):
    return X[0] @ W + b if len(X) == 1 else X @ W + b


def linear_backward_squeezed(dZ, X, W):
    return np.squeeze(dZ @ W.T), X.T @ dZ, dZ.sum(axis=0)


def backward_assuming_a_hidden_layer(params, cache, dlogits):
    grads, L = {}, len(params) // 2
    dA, grads[f"W{L}"], grads[f"b{L}"] = SOLUTION["linear_backward"](dlogits, cache[L - 1][0], params[f"W{L}"])
    dZ = SOLUTION["relu_backward"](dA, cache[L - 2][1])  # cache[-1] when L = 1
    for layer in range(L - 1, 0, -1):
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = SOLUTION["linear_backward"](
            dZ, cache[layer - 1][0], params[f"W{layer}"])
        if layer > 1:
            dZ = SOLUTION["relu_backward"](dA, cache[layer - 2][1])
    return grads


LOSSES = {}


def cross_entropy_kept_by_labels(logits, y):
    key = (logits.shape, tuple(np.asarray(y).tolist()))
    return LOSSES.setdefault(key, SOLUTION["cross_entropy"](logits, y))


FILES = {}


def parse_idx_kept_by_length(raw):
    return FILES.setdefault(len(raw), SOLUTION["parse_idx"](raw))


PROBABILITIES = {}


def softmax_kept_by_shape(logits):
    return PROBABILITIES.setdefault(logits.shape, SOLUTION["softmax"](logits))


def softmax_behind_a_catch_all(logits):
    try:
        exps = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exps / exps.sum(axis=1)
    except Exception:
        return np.full_like(logits, 1 / logits.shape[1])


def sgd_divided_by_the_size(params, grads, state, lr):
    for name, g in grads.items():
        params[name] -= lr * g / g.size
    return state


def minibatches_stepping_by_one(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(len(X)):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def one_hot_with_a_small_floor(y, num_classes=10):
    Y = np.full((len(y), num_classes), 0.01, dtype=np.float32)
    Y[np.arange(len(y)), y] = 1
    return Y


def cross_entropy_grad_over_B_twice(logits, y):
    P = SOLUTION["softmax"](logits)
    P[np.arange(len(y)), y] -= 1 / len(y)
    return P / len(y)


def cross_entropy_grad_slope_of_each_probability(logits, y):
    P = SOLUTION["softmax"](logits)
    return P * (1 - P) / len(y)


def cross_entropy_grad_minus_the_identity(logits, y):
    P = SOLUTION["softmax"](logits)
    return (P - np.eye(*P.shape, dtype=P.dtype)) / len(y)


def linear_forward_with_its_cache(X, W, b):
    return X @ W + b, (X, W, b)


def backward_bias_one_layer_down(params, cache, dlogits):
    grads = SOLUTION["backward"](params, cache, dlogits)
    return {(f"b{int(name[1:]) - 1}" if name[0] == "b" else name): value for name, value in grads.items()}


def backward_dW_stored_as_db(params, cache, dlogits):
    grads = SOLUTION["backward"](params, cache, dlogits)
    return {name: grads[f"W{name[1:]}"] if name[0] == "b" else value for name, value in grads.items()}


def backward_from_the_layer_below_the_last(params, cache, dlogits):
    grads, dZ, L = {}, dlogits, len(params) // 2
    for layer in range(L - 1, 0, -1):
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = SOLUTION["linear_backward"](
            dZ, cache[layer - 1][0], params[f"W{layer}"])
        if layer > 1:
            dZ = SOLUTION["relu_backward"](dA, cache[layer - 2][1])
    return grads


def confusion_matrix_flat_base_one_short(predicted, y, num_classes=10):
    C = num_classes
    return np.bincount(y * (C - 1) + predicted, minlength=C * C)[:C * C].reshape(C, C)


def dropout_backward_over_B(dA_out, mask):
    return dA_out * mask / len(dA_out)


def linear_forward_for_784_inputs(X, W, b):
    return X.reshape(-1, 784) @ W + b


def dropout_network_without_b2(params, X, y, rate, rng):
    loss, grads, logits = SOLUTION["loss_and_grads_with_dropout"](
        {**params, "b2": np.zeros_like(params["b2"])}, X, y, rate, rng)
    return loss, grads, logits


def minibatches_order_of_one_batch(X, y, batch_size, rng):
    order = rng.permutation(batch_size)
    for start in range(0, len(X), batch_size):
        batch = order[:len(X) - start] + start
        yield X[batch], y[batch]


def softmax_for_a_batch_of_two(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1).reshape(2, 1)


def train_loop_on_a_debugging_slice(params, X, y, step, lr, epochs, batch_size, rng):
    return SOLUTION["train_loop"](params, X[:64], y[:64], step, lr, epochs, batch_size, rng)


ZOOS_MN = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("linear_forward", "a batch of one flattened", linear_forward_one_row_flattened, "the batch axis is lost"),
    ("linear_backward", "dX squeezed", linear_backward_squeezed, "the batch axis is lost"),
    ("backward", "a hidden layer assumed", backward_assuming_a_hidden_layer, "with L = 1 there is no hidden"),
    ("cross_entropy", "losses kept by labels", cross_entropy_kept_by_labels, "reuses something it kept"),
    ("parse_idx", "arrays kept by length", parse_idx_kept_by_length, "a cache keyed by the length"),
    ("softmax", "P kept by shape", softmax_kept_by_shape, "reuses something it kept"),
    ("softmax", "a catch-all except", softmax_behind_a_catch_all, "a try/except catches every error"),
    ("sgd_step", "lr * g / g.size", sgd_divided_by_the_size, "divided by its number of entries"),
    ("minibatches", "a start at every example", minibatches_stepping_by_one, "the start steps by 1"),
    ("one_hot", "0.01 for 0", one_hot_with_a_small_floor, "not 0"),
    ("cross_entropy_grad", "1/B twice at the label", cross_entropy_grad_over_B_twice, "1/B is applied twice"),
    ("cross_entropy_grad", "P * (1 - P) / B", cross_entropy_grad_slope_of_each_probability, "P * (1 - P) / B"),
    ("cross_entropy_grad", "P minus the identity", cross_entropy_grad_minus_the_identity, "the identity matrix"),
    ("linear_forward", "Z and a cache", linear_forward_with_its_cache, "return Z alone"),
    ("backward", "b one layer down", backward_bias_one_layer_down, "a layer number one off"),
    ("backward", "dW stored as db", backward_dW_stored_as_db, "it holds dW, not db"),
    ("backward", "range(L - 1, 0, -1)", backward_from_the_layer_below_the_last, "range(L - 1, 0, -1)"),
    ("confusion_matrix", "y * (C - 1) + predicted", confusion_matrix_flat_base_one_short, "y * (C - 1)"),
    ("dropout_backward", "divided by B", dropout_backward_over_B, "divides by the batch size"),
    ("linear_forward", "784 in the code", linear_forward_for_784_inputs, "the number 784 is written"),
    ("loss_and_grads_with_dropout", "b2 left out", dropout_network_without_b2, "b2 is missing"),
    ("minibatches", "a permutation of batch_size", minibatches_order_of_one_batch, "not of batch_size"),
    ("softmax", "reshape(2, 1)", softmax_for_a_batch_of_two, "The shape in the reshape is written as numbers"),
    ("train_loop", "X[:64] left in", train_loop_on_a_debugging_slice, "each epoch trains on 64 examples"),
]


# ---- what the held-out zoos O and P let through or named weakly (found after their one run) ---------------

def linear_forward_into_X_when_square(X, W, b):
    Z = X @ W + b
    if Z.shape == X.shape:
        X[...] = Z
        return X
    return Z


def one_hot_squeezed(y, num_classes=10):
    return np.squeeze(np.eye(num_classes, dtype=np.float32)[y])


def init_params_biases_from_one_array(layer_sizes, rng):
    params, zeros = SOLUTION["init_params"](layer_sizes, rng), np.zeros(max(layer_sizes), dtype=np.float32)
    return {name: zeros[:len(value)] if name[0] == "b" else value for name, value in params.items()}


def backward_dZ_into_relu_backward(params, cache, dlogits):
    grads, dZ, L = {}, dlogits, len(params) // 2
    for layer in range(L, 0, -1):
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = SOLUTION["linear_backward"](
            dZ, cache[layer - 1][0], params[f"W{layer}"])
        if layer > 1:
            dZ = SOLUTION["relu_backward"](dZ, cache[layer - 2][1])
    return grads


def forward_X_for_every_product(params, X):
    cache, A, L = [], X, len(params) // 2
    for layer in range(1, L + 1):
        Z = X @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0) if layer < L else Z
    return A, cache


def adam_v_corrected_with_beta1(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state.update(t=0, m={n: np.zeros_like(p) for n, p in params.items()},
                     v={n: np.zeros_like(p) for n, p in params.items()})
    state["t"] += 1
    for name, g in grads.items():
        state["m"][name] = beta1 * state["m"][name] + (1 - beta1) * g
        state["v"][name] = beta2 * state["v"][name] + (1 - beta2) * g * g
        m_hat, v_hat = state["m"][name] / (1 - beta1 ** state["t"]), state["v"][name] / (1 - beta1 ** state["t"])
        params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return state


def momentum_beta_on_the_gradient(params, grads, state, lr, beta=0.9):
    for name, g in grads.items():
        velocity = state.setdefault(name, np.zeros_like(g))
        velocity += beta * g
        params[name] -= lr * velocity
    return state


def confusion_matrix_resized_bincount(predicted, y, num_classes=10):
    return np.resize(np.bincount(np.asarray(y) * num_classes + predicted), (num_classes, num_classes))


DROPOUT_GRADIENTS = {}


def dropout_backward_kept_by_shape(dA_out, mask):
    return DROPOUT_GRADIENTS.setdefault(dA_out.shape, dA_out * mask).copy()


def linear_backward_dX_copied_from_dW(dZ, X, W):
    return X.T @ dZ, X.T @ dZ, dZ.sum(axis=0)


def linear_forward_first_row_only(X, W, b):
    return X[:1] @ W + b


def minibatches_overlapping(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), max(batch_size - 1, 1)):
        yield X[order[start:start + batch_size]], y[order[start:start + batch_size]]


def most_confused_pairs_sorted_as_tuples(counts, k=3):
    C = len(counts)
    return sorted([(i, j, int(counts[i, j])) for i in range(C) for j in range(C) if i != j], reverse=True)[:k]


def one_hot_one_column_too_many(y, num_classes=10):
    return (np.asarray(y)[:, None] == np.arange(num_classes + 1)).astype(np.float32)


def one_hot_rows_by_label(y, num_classes=10):
    Y = np.zeros((len(y), num_classes), dtype=np.float32)
    Y[y] = 1
    return Y


def relu_returning_its_input(Z):
    A = Z.copy()
    A[A < 0] = 0
    return Z


def softmax_on_a_debugging_slice(logits):
    return SOLUTION["softmax"](logits[:2])


def backward_of_two_layers(params, cache, dlogits):
    (A0, Z1), (A1, _) = cache
    dA1, dW2, db2 = SOLUTION["linear_backward"](dlogits, A1, params["W2"])
    _, dW1, db1 = SOLUTION["linear_backward"](SOLUTION["relu_backward"](dA1, Z1), A0, params["W1"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_over_a_dict_as_pairs(params, grads, state, lr):
    for name, g in grads:
        params[name] -= lr * g
    return state


def minibatches_squeezed(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield np.squeeze(X[order[start:start + batch_size]]), np.squeeze(y[order[start:start + batch_size]])


def momentum_one_array_for_all(params, grads, state, lr, beta=0.9):
    if not state:
        state = dict.fromkeys(grads, np.zeros_like(next(iter(grads.values()))))
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= lr * state[name]
    return state


ZOOS_OP = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("one_hot", "np.squeeze", one_hot_squeezed, "the batch axis is lost"),
    ("init_params", "biases as views of one array", init_params_biases_from_one_array, "share their memory"),
    ("backward", "dZ into relu_backward", backward_dZ_into_relu_backward, "relu_backward is given `dZ`"),
    ("forward", "X for every layer", forward_X_for_every_product, "every layer takes `X`"),
    ("adam_step", "v corrected with beta1", adam_v_corrected_with_beta1, "v is corrected with beta1"),
    ("momentum_step", "v += beta * g", momentum_beta_on_the_gradient, "beta multiplies the gradient"),
    ("confusion_matrix", "np.resize of a bincount", confusion_matrix_resized_bincount, "minlength"),
    ("dropout_backward", "dA kept by shape", dropout_backward_kept_by_shape, "reuses something it kept"),
    ("linear_backward", "dX = X.T @ dZ", linear_backward_dX_copied_from_dW, "dW's formula"),
    ("linear_forward", "X[:1]", linear_forward_first_row_only, "only 1 of the 3 rows"),
    ("minibatches", "a step of batch_size - 1", minibatches_overlapping, "the batches overlap"),
    ("most_confused_pairs", "tuples sorted", most_confused_pairs_sorted_as_tuples, "sorts the tuples themselves"),
    ("one_hot", "num_classes + 1", one_hot_one_column_too_many, "one column too many"),
    ("one_hot", "Y[y] = 1", one_hot_rows_by_label, "sets whole rows"),
    ("relu", "Z returned", relu_returning_its_input, "it returns Z unchanged"),
    ("softmax", "logits[:2]", softmax_on_a_debugging_slice, "only 2 of the 5 rows"),
    ("backward", "two layers unpacked", backward_of_two_layers, "not a fixed number"),
    ("sgd_step", "for name, g in grads", sgd_over_a_dict_as_pairs, "grads.items()"),
    ("minibatches", "np.squeeze", minibatches_squeezed, "lost its batch axis"),
    ("momentum_step", "dict.fromkeys", momentum_one_array_for_all, "dict.fromkeys"),
    ("linear_forward", "Z written into X where it fits", linear_forward_into_X_when_square, "it changed X in place"),
]


# ---- what the held-out zoos Q and R let through or named weakly (found after their one run) ---------------

def adam_m_and_v_under_one_key(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] = state.get("t", 0) + 1
    for name, g in grads.items():
        state[name] = m = beta1 * state.get(name, np.zeros_like(g)) + (1 - beta1) * g
        state[name] = v = beta2 * state.get(name, np.zeros_like(g)) + (1 - beta2) * g * g
        params[name] -= lr * (m / (1 - beta1 ** state["t"])) / (np.sqrt(v / (1 - beta2 ** state["t"])) + eps)
    return state


def backward_db_first_row(params, cache, dlogits):
    grads = SOLUTION["backward"](params, cache, dlogits)
    grads[f"b{len(params) // 2}"] = dlogits[0].copy()
    return grads


def cross_entropy_grad_indices_swapped(logits, y):
    P = SOLUTION["softmax"](logits)
    P[y, np.arange(len(y))] -= 1
    return P / len(y)


def linear_forward_bias_on_row_0(X, W, b):
    Z = X @ W
    Z[0] += b
    return Z


def linear_forward_bias_twice(X, W, b):
    Z = X @ W + b
    Z += b
    return Z


def forward_b1_in_every_layer(params, X):
    cache, A, L = [], X, len(params) // 2
    for layer in range(1, L + 1):
        Z = A @ params[f"W{layer}"] + params["b1"]
        cache.append((A, Z))
        A = np.maximum(Z, 0) if layer < L else Z
    return A, cache


def relu_backward_first_row_mask(dA, Z):
    return dA * (Z[0] > 0)


def softmax_of_twice_the_logits(logits):
    return SOLUTION["softmax"](2 * logits)


def one_hot_sorting_the_labels(y, num_classes=10):
    y.sort()
    return SOLUTION["one_hot"](y, num_classes)


def dropout_network_mask_without_b1(params, X, y, rate, rng):
    """The solution's network, but the ReLU's slope taken from X @ W1, without b1 (zoo T)."""
    Z1 = X @ params["W1"] + params["b1"]
    A1_dropped, mask = SOLUTION["dropout_forward"](np.maximum(Z1, 0), rate, rng)
    logits = A1_dropped @ params["W2"] + params["b2"]
    dlogits = mnist_ann.cross_entropy_grad(logits, y)
    dA1, dW2, db2 = dlogits @ params["W2"].T, A1_dropped.T @ dlogits, dlogits.sum(axis=0)
    dZ1 = dA1 * mask * (X @ params["W1"] > 0)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": dW2, "b2": db2}
    return mnist_ann.cross_entropy(logits, y), grads, logits


def minibatches_new_order_per_batch(X, y, batch_size, rng):
    for _ in range(0, len(X), batch_size):
        batch = rng.permutation(len(X))[:batch_size]
        yield X[batch], y[batch]


ZOOS_QR = [  # (exercise, mistake, student function, words its diagnosis must contain)
    ("adam_step", "m and v under one key", adam_m_and_v_under_one_key, "fewer than two arrays"),
    ("backward", "db = dZ[0]", backward_db_first_row, "not its sum over the batch"),
    ("cross_entropy_grad", "P[y, arange]", cross_entropy_grad_indices_swapped, "indices are swapped"),
    ("linear_forward", "Z[0] += b", linear_forward_bias_on_row_0, "the first row only"),
    ("linear_forward", "b twice", linear_forward_bias_twice, "the bias is added twice"),
    ("forward", "params['b1'] in every layer", forward_b1_in_every_layer, "reads params['b1'] at every layer"),
    ("relu_backward", "Z[0] > 0", relu_backward_first_row_mask, "the first row, Z[0]"),
    ("softmax", "exp(2 z)", softmax_of_twice_the_logits, "softmax of 2 * logits"),
    ("one_hot", "y.sort()", one_hot_sorting_the_labels, "the labels are sorted first"),
    ("minibatches", "a new order per batch", minibatches_new_order_per_batch, "drawn anew for each batch"),
    ("loss_and_grads_with_dropout", "the ReLU mask from X @ W1", dropout_network_mask_without_b1,
     "biases that turn some units' signs"),
]


def test_a_cell_that_replaces_a_module_function_is_named(capsys):
    """mnist_ann.softmax = softmax makes the module agree with any answer: the check names the replacement."""
    original = mnist_ann.softmax

    def softmax(logits):
        exps = np.exp(logits)
        return exps / exps.sum(axis=1, keepdims=True)
    mnist_ann.softmax = softmax
    try:
        passed, output = run_check("softmax", softmax, capsys)
    finally:
        mnist_ann.softmax = original
    assert passed is False and "mnist_ann.softmax is no longer the module's own" in output, output
    assert run_check("softmax", SOLUTION["softmax"], capsys)[0] is True


def test_a_size_is_not_blamed_for_the_base_of_a_logarithm(capsys):
    """np.log(10) is a base, not a size written in the code."""
    passed, output = run_check("cross_entropy", cross_entropy_in_base_10, capsys)
    assert passed is False and "the number 10 is written" not in output, output


def test_every_array_check_asks_for_the_dtype_it_was_given():
    """The statements ask every function to keep its inputs' dtype: each check that gets arrays tests it."""
    source = inspect.getsource(checks)
    for name in ["softmax", "cross_entropy_grad", "linear_backward", "relu_backward", "backward", "sgd_step",
                 "momentum_step", "adam_step", "linear_forward", "forward"]:
        body = source.split(f"def check_{name}(")[1].split("\n@graded")[0]
        assert "dtype_problem(" in body, name


@pytest.mark.parametrize("name, mistake, student_fn, words", CLASSES + RULES + PATTERNS + ZOOS_JKL + ZOOS_MN + ZOOS_OP + ZOOS_QR,
                         ids=[f"{c[0]}: {c[1]}" for c in CLASSES + RULES + PATTERNS + ZOOS_JKL + ZOOS_MN + ZOOS_OP + ZOOS_QR])
def test_a_typical_mistake_is_named(name, mistake, student_fn, words, capsys):
    passed, output = run_check(name, student_fn, capsys)
    assert passed is False and words in output, output


def test_a_hint_about_the_first_line_only_when_the_call_itself_fails(capsys):
    """A keyword typo inside the body is NumPy's error, not the function's first line."""
    passed, output = run_check("softmax", exercise_mistakes.softmax_keepdim_typo, capsys)
    assert passed is False and "keepdim" in output and "first line" not in output, output

    def softmax(logits, axis):  # a first line that differs from the exercise's
        return logits
    passed, output = run_check("softmax", softmax, capsys)
    assert passed is False and "Write the function's first line" in output, output


def test_fewer_than_3_in_100_wrong_answers_get_through(capsys):
    """Every wrong answer of the corpus fails its check, with one line naming the exercise."""
    through = [f"{name}: {label}" for name, label, student_fn in exercise_mistakes.MISTAKES
               if run_check(name, student_fn, capsys)[0]]
    assert len(exercise_mistakes.MISTAKES) >= 100
    assert len(through) < 0.03 * len(exercise_mistakes.MISTAKES), through


# ---- the module's answers earn nothing -----------------------------------------------------------------

def calls_the_module(name):
    """A student function whose body is a call of mnist_ann's own function of the same name."""
    return lambda *args, **kwargs: getattr(mnist_ann, name)(*args, **kwargs)


@pytest.mark.parametrize("name", [name for name in checks.MODULE_ANSWERS if hasattr(mnist_ann, name)])
def test_the_module_function_itself_fails(name, capsys):
    passed, output = run_check(name, getattr(mnist_ann, name), capsys)
    assert passed is False and f"this is mnist_ann.{name} itself" in output, output


@pytest.mark.parametrize("name", [name for name in checks.MODULE_ANSWERS if hasattr(mnist_ann, name)])
def test_a_body_calling_the_module_function_fails(name, capsys):
    passed, output = run_check(name, calls_the_module(name), capsys)
    assert passed is False and f"it calls mnist_ann.{name}, the module's own answer" in output, output


def test_a_train_loop_calling_the_module_train_fails(capsys):
    def train_loop(params, X, y, step, lr, epochs, batch_size, rng):
        history = mnist_ann.train(params, X, y, optimizer=step, lr=lr, schedule="constant", epochs=epochs,
                                  batch_size=batch_size)
        return history["train_loss"]
    passed, output = run_check("train_loop", train_loop, capsys)
    assert passed is False and "it calls mnist_ann.train," in output, output


def test_borrowing_is_seen_through_aliases_wrappers_and_helpers(capsys):
    namespace = {}
    exec("from mnist_ann import softmax as sm\n"
         "def helper(Z):\n    return sm(Z)\n"
         "def softmax(logits):\n    return helper(logits)\n", namespace)
    assert run_check("softmax", namespace["softmax"], capsys)[0] is False  # imported under another name
    assert namespace["sm"] is mnist_ann.softmax  # and the student's namespace is put back as it was
    assert run_check("adam_step", functools.partial(mnist_ann.adam_step, eps=1e-8), capsys)[0] is False
    assert run_check("softmax", checks.softmax, capsys)[0] is False  # the same function, reached through checks
    def cross_entropy_grad_on_module_softmax(logits, y):
        return (mnist_ann.softmax(logits) - one_hot(y)) / len(y)
    passed, output = run_check("cross_entropy_grad", cross_entropy_grad_on_module_softmax, capsys)
    assert passed is False and "it calls mnist_ann.softmax" in output


# Disguised borrowing, as a student's notebook cell would write it (each defines `softmax` or `adam_step`).
DISGUISED = {
    "the module loaded again with importlib": (
        "import importlib.util\n"
        "def softmax(logits):\n"
        "    spec = importlib.util.spec_from_file_location('other', mnist_ann.__file__)\n"
        "    other = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(other)\n"
        "    return other.softmax(logits)\n", "uses"),
    "a copy loaded again before the function": (
        "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('again', mnist_ann.__file__)\n"
        "again = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(again)\n"
        "def softmax(logits):\n"
        "    return again.softmax(logits)\n", "a copy of mnist_ann loaded again"),
    "exec of the module's source": (
        "import inspect\n"
        "exec(inspect.getsource(mnist_ann.softmax))\n", "exec or compile"),
    "exec inside the function": (
        "def softmax(logits):\n"
        "    import inspect\n"
        "    namespace = {'np': np}\n"
        "    exec(inspect.getsource(mnist_ann.softmax), namespace)\n"
        "    return namespace['softmax'](logits)\n", "uses"),
    "eval of the module's name": (  # also seen as it runs: the call reaches mnist_ann.softmax
        "def softmax(logits):\n"
        "    return eval('mnist_' + 'ann.soft' + 'max')(logits)\n", "mnist_ann.softmax"),
    "eval, even of a right answer": (  # refused by its syntax tree alone: eval could reach anything
        "def softmax(logits):\n"
        "    exps = eval('np.exp(logits - logits.max(axis=1, keepdims=True))')\n"
        "    return exps / exps.sum(axis=1, keepdims=True)\n", "uses eval"),
    "__import__ of numpy": (
        "def softmax(logits):\n"
        "    exps = __import__('numpy').exp(logits - logits.max(axis=1, keepdims=True))\n"
        "    return exps / exps.sum(axis=1, keepdims=True)\n", "uses __import__"),
    "getattr on the module with a made-up name": (
        "def softmax(logits):\n"
        "    return getattr(mnist_ann, 'soft' + 'max')(logits)\n", "mnist_ann.softmax"),
    "a helper that runs text": (
        "def helper(shifted):\n"
        "    return eval('np.exp(shifted)')\n"
        "def softmax(logits):\n"
        "    exps = helper(logits - logits.max(axis=1, keepdims=True))\n"
        "    return exps / exps.sum(axis=1, keepdims=True)\n", "helper's code uses eval"),
    "an import of the module inside the function": (
        "def softmax(logits):\n"
        "    from mnist_ann import relu\n"
        "    exps = np.exp(logits - logits.max(axis=1, keepdims=True)) + 0 * relu(logits)\n"
        "    return exps / exps.sum(axis=1, keepdims=True)\n", "uses import mnist_ann"),
}


@pytest.mark.parametrize("cell", list(DISGUISED.values()), ids=list(DISGUISED))
def test_disguised_borrowing_is_refused_from_the_functions_own_code(cell, tmp_path, capsys):
    source, words = cell
    path = tmp_path / "cell.py"  # a file, so that the function's source can be read, as Jupyter's cells can
    path.write_text(source)
    namespace = {"np": np, "mnist_ann": mnist_ann, "__name__": "cell"}
    exec(compile(source, str(path), "exec"), namespace)
    passed, output = run_check("softmax", namespace["softmax"], capsys)
    assert passed is False and words in output, output
    assert "earns nothing" in output or "refuse" in output, output


def test_objects_of_the_students_own_are_searched_but_its_local_names_are_not(tmp_path, capsys):
    """A right answer passes beside globals that hold the module's answer under the names of its own local
    variables (`_` is IPython's last output), and with a helper class of its own; the same class holding the
    module's answer as a staticmethod is refused."""
    source = ("_ = mnist_ann.softmax\n"
              "grads = {'W1': mnist_ann.softmax}\n"
              "class Helper:\n    @staticmethod\n    def exps(z):\n"
              "        return np.exp(z - z.max(axis=1, keepdims=True))\n"
              "def softmax(logits):\n    for _ in range(1):\n        grads = None\n"
              "    exps = Helper.exps(logits)\n    return exps / exps.sum(axis=1, keepdims=True)\n")
    path = tmp_path / "cell.py"
    path.write_text(source)
    namespace = {"np": np, "mnist_ann": mnist_ann, "__name__": "cell"}
    exec(compile(source, str(path), "exec"), namespace)
    passed, output = run_check("softmax", namespace["softmax"], capsys)
    assert passed is True, output
    namespace["Helper"].exps = staticmethod(mnist_ann.softmax)
    passed, output = run_check("softmax", namespace["softmax"], capsys)
    assert passed is False and "reaches mnist_ann.softmax" in output, output


def test_the_modules_text_run_by_exec_is_refused_but_the_same_code_written_passes(capsys):
    """The solution's relu_backward compiles to the module's names and constants; only text nobody can read
    (made by exec or compile) that matches the module's is refused."""
    namespace = {"np": np}
    exec(compile(inspect.getsource(mnist_ann.relu_backward), "<made by exec>", "exec"), namespace)
    passed, output = run_check("relu_backward", namespace["relu_backward"], capsys)
    assert passed is False and "exec or compile" in output, output
    assert run_check("relu_backward", SOLUTION["relu_backward"], capsys)[0] is True


def test_a_function_that_never_returns_is_stopped_with_one_sentence(monkeypatch, capsys):
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.5)

    def softmax(logits):
        while True:
            try:
                logits = logits + 0
            except BaseException:  # noqa: B036, S110 (a student's bare except must not keep the loop alive)
                pass
    passed, output = run_check("softmax", softmax, capsys)
    assert passed is False and "did not finish in 0.5 s, so the check stopped it: a loop that never ends?" in output
    assert signal.getitimer(signal.ITIMER_REAL) == signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)  # off again
    assert run_check("softmax", SOLUTION["softmax"], capsys)[0] is True


def test_a_function_that_waits_is_stopped_by_the_clock(monkeypatch, capsys):
    """The limit counts computing time (a busy machine does not trip it); one that waits meets the clock's."""
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.1)
    monkeypatch.setattr(checks, "WAIT_LIMIT", 1)

    def softmax(logits):
        time.sleep(60)
    passed, output = run_check("softmax", softmax, capsys)
    assert passed is False and "did not finish in 1 s on the clock" in output, output


def test_a_training_loop_without_epoch_increment_is_stopped_and_the_module_put_back(monkeypatch, capsys):
    monkeypatch.setattr(checks, "TIME_LIMIT", 1)
    original = mnist_ann.loss_and_grads

    def train_loop(params, X, y, step, lr, epochs, batch_size, rng):
        state, losses, epoch = {}, [], 0
        while epoch < epochs:
            for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
                loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
                state = step(params, grads, state, lr)
            losses.append(loss)
        return losses
    passed, output = run_check("train_loop", train_loop, capsys)
    assert passed is False and "did not finish in 1 s" in output, output
    assert mnist_ann.loss_and_grads is original


def test_in_a_jupyter_kernel_an_endless_loop_is_stopped_and_cell_code_is_read(tmp_path):
    """As a student's JupyterLab (and nbgrader) runs the checks: in an IPython kernel, where cells are
    compiled from text that Jupyter keeps, and the code runs in the kernel's main thread."""
    from nbclient import NotebookClient
    cells = [
        f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(EXERCISES)!r}]\n"
        "import numpy as np, mnist_ann, checks, inspect\nchecks.TIME_LIMIT = 1",
        "def softmax(logits):\n    while True:\n        pass",
        "checks.check_softmax(softmax)",
        "def softmax(logits):\n    exps = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
        "    return exps / exps.sum(axis=1, keepdims=True)",
        "checks.check_softmax(softmax)",
        "exec(inspect.getsource(mnist_ann.softmax))\nchecks.check_softmax(softmax)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    said = ["".join(output.get("text", "") for output in cell.outputs) for cell in notebook.cells]
    assert "did not finish in 1 s, so the check stopped it: a loop that never ends?" in said[2], said[2]
    assert re.fullmatch(r"softmax: all \d+ checks passed.\n", said[4]), said[4]
    assert "run from its text by exec or compile" in said[5], said[5]


def test_the_module_is_never_left_patched(capsys):
    originals = {name: getattr(mnist_ann, name) for names in checks.MODULE_ANSWERS.values() for name in names}

    def raises_midway(logits):
        mnist_ann.softmax(logits)
        raise SystemExit("a student's exit()")
    for student_fn in (calls_the_module("softmax"), raises_midway, not_implemented):
        checks.check_softmax(student_fn)
    checks.check_train_loop(exercise_mistakes.loop_full_batch)
    checks.check_train_loop(exercise_mistakes.loop_own_rng)  # the loop runs again, with another rng
    capsys.readouterr()
    assert all(getattr(mnist_ann, name) is original for name, original in originals.items())
    assert mnist_ann.loss_and_grads.__module__ == "mnist_ann" and not hasattr(mnist_ann.loss_and_grads, "__wrapped__")


# ---- checks never raise --------------------------------------------------------------------------------

class Unprintable:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array here")

    def __repr__(self):
        raise RuntimeError("no repr either")


@pytest.mark.parametrize("student_fn", [
    lambda *args: Unprintable(),
    lambda *args: [Unprintable()] * 3,
    lambda *args: {"W1": Unprintable()},
    lambda *args: sys.exit(),
    lambda *args: (_ for _ in ()).throw(RecursionError("deep")),
    lambda *args: np.zeros((10 ** 3, 10 ** 3)),
    "softmax",
    None,
], ids=["odd object", "odd objects", "dict of odd objects", "exit()", "RecursionError", "a large array",
        "a string", "None"])
@pytest.mark.parametrize("name", list(checks.MODULE_ANSWERS))
def test_a_check_never_raises_whatever_the_student_code_does(name, student_fn, capsys):
    passed, output = run_check(name, student_fn, capsys)
    assert passed is False, output


def test_train_loop_without_the_data_says_so_in_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "nowhere"))
    passed, output = run_check("train_loop", SOLUTION["train_loop"], capsys)
    assert passed is False and "could not load the MNIST images" in output, output


# ---- the notebooks ------------------------------------------------------------------------

def load_maker():
    spec = importlib.util.spec_from_file_location("make_student_versions", ROOT / "tools" / "make_student_versions.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker


def test_the_students_folder_holds_no_solutions_and_no_grading_setup():
    """notebooks/ is what students open: the solutions and nbgrader's settings live in teachers/."""
    in_notebooks = [path.relative_to(ROOT) for path in (ROOT / "notebooks").rglob("*")
                    if "solution" in path.name.lower() or "nbgrader" in path.name.lower()]
    assert not in_notebooks
    assert (ROOT / "teachers" / "nbgrader_config.py").exists() and (ROOT / "teachers" / "README.md").exists()
    assert "nbgrader" not in (ROOT / "requirements.txt").read_text()  # its menus are for teachers only
    assert "nbgrader" in (ROOT / "teachers" / "requirements.txt").read_text()
    assert "teachers/requirements.txt" in (ROOT / ".ci" / "run").read_text()  # so CI runs the nbgrader test


EXERCISE_NOTEBOOKS = sorted([*SOLUTIONS.glob("*.ipynb"), *(EXERCISES / "student").glob("*.ipynb")])


@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=lambda path: str(path.relative_to(ROOT)))
def test_exercise_notebooks_are_stored_executed_for_jupyterlab_in_100_columns(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count is not None for cell in code), "bash tools/run_notebooks.sh"
    long_lines = [line for cell in code for line in cell.source.splitlines() if len(line) > 100]
    assert not long_lines


def test_there_are_solution_and_student_notebooks():
    solutions = sorted(path.name for path in SOLUTIONS.glob("*.ipynb"))
    students = sorted(path.name for path in (EXERCISES / "student").glob("*.ipynb"))
    assert solutions and solutions == students


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.name)
def test_student_notebooks_are_the_solutions_stubbed_out(solution):
    """Regenerating from the solutions gives exactly the committed student notebooks' sources."""
    made = load_maker().student_notebook(nbformat.read(solution, as_version=4))
    committed = nbformat.read(EXERCISES / "student" / solution.name, as_version=4)
    assert [(cell.cell_type, cell.source) for cell in made.cells] == \
           [(cell.cell_type, cell.source) for cell in committed.cells], \
           "run python tools/make_student_versions.py"


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.name)
def test_every_solution_is_marked_and_every_student_stub_raises(solution):
    sources = [cell.source for cell in nbformat.read(solution, as_version=4).cells if cell.cell_type == "code"]
    student = load_maker().student_notebook(nbformat.read(solution, as_version=4))
    stubs = sum(cell.source.count("raise NotImplementedError") for cell in student.cells if cell.cell_type == "code")
    assert stubs == sum(source.count("### BEGIN SOLUTION") for source in sources) > 0
    assert not any("### " in cell.source for cell in student.cells if cell.cell_type == "code")


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.name)
def test_solution_notebooks_carry_nbgrader_metadata(solution):
    """Solution cells with a grade_id, check cells graded (with points) and locked, every other code cell locked;
    a check cell ends with a hidden test that fails under grading when the check fails."""
    ids = []
    for cell in nbformat.read(solution, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        grading = cell.metadata["nbgrader"]
        assert grading["schema_version"] == 3 and grading["grade_id"], cell.source[:80]
        ids.append(grading["grade_id"])
        if "### BEGIN SOLUTION" in cell.source:
            assert (grading["solution"], grading["grade"], grading["locked"]) == (True, False, False)
        elif cell.source.startswith("passed = checks.check_"):
            assert (grading["solution"], grading["grade"], grading["locked"]) == (False, True, True)
            assert grading["points"] > 0
            hidden = re.search(r"\n### BEGIN HIDDEN TESTS\n(.*\n)assert passed, .+\n### END HIDDEN TESTS$", cell.source,
                               re.DOTALL)
            assert hidden and "importlib.reload(mnist_ann)" in hidden[1] and "importlib.reload(checks)" in hidden[1]
        else:
            assert (grading["solution"], grading["grade"], grading["locked"]) == (False, False, True), cell.source[:80]
    assert len(ids) == len(set(ids))


def test_stubbing_removes_hidden_tests():
    source = "passed = check(f)\n### BEGIN HIDDEN TESTS\nassert passed\n### END HIDDEN TESTS"
    assert load_maker().strip_solutions(source) == "passed = check(f)"


def test_stubbing_keeps_the_indentation():
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n"
              "    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION")
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


def test_run_notebooks_keeps_tags_nbgrader_metadata_and_locks(tmp_path):
    """tools/run_notebooks.sh re-runs a notebook keeping what nbgrader and nbval need, and drops the rest."""
    kept = {"tags": ["nbval-ignore-output"], "editable": False, "deletable": False,
            "nbgrader": {"grade": False, "grade_id": "setup", "locked": True, "schema_version": 3, "solution": False}}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", metadata={**kept, "scrolled": True})])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "tiny.ipynb")
    subprocess.run(["bash", str(ROOT / "tools" / "run_notebooks.sh"), str(tmp_path / "tiny.ipynb")], check=True,
                   capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    cell = nbformat.read(tmp_path / "tiny.ipynb", as_version=4).cells[0]
    assert cell.metadata == kept and cell.outputs[0]["data"]["text/plain"] == "2"
