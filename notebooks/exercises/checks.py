"""Checks of the exercises' functions: each says, in one sentence, what is wrong with a student's code.

The exercise notebooks beside this file ask a student to write functions that mnist_ann.py also
holds. Each check_* function runs the student's version on shapes, a hand-computable example,
hard inputs (logits of ±1000, gradients with exact zeros, gradients keyed in another order than
the params, a learning rate that changes from step to step) and, for gradients, central differences
in float64. Dropout's masks are random, and every correct way of drawing one draws other numbers, so
they are judged by what every right mask does, never by the module's draws. A check prints one sentence
naming the likely mistake, or a short confirmation, and returns True or False, so that an autograder
can `assert` it.

A check never raises, whatever the student's code or the environment does: an error becomes its
one sentence and False. A student function that computes for more than TIME_LIMIT seconds of CPU time
in one check (or waits for WAIT_LIMIT seconds on the clock) is stopped, and said so (on Unix, in the main
thread, as Jupyter and nbgrader run a notebook: Windows has neither SIGPROF nor SIGALRM, and there a loop
that never ends runs until the kernel is interrupted). And a check cannot
be passed with the module's own answer: a function that is one of mnist_ann's answers, calls one while
it runs, or whose own code reaches the module another way (importlib, exec, eval, inspect, __import__,
compile, ...: read from its syntax tree), fails with a sentence saying so. So does one that keeps an answer
in an object it reaches (a default argument, a closure, a class's staticmethod, functools.partial, a dict
filled by exec), and anything that is not a plain function of the student's (a partial, a callable object).
"""

import ast
import contextlib
import dis
import functools
import inspect
import math
import re
import signal
import sys
import textwrap
import threading
import traceback
import types

import numpy as np

import mnist_ann
from mnist_ann import (accuracy, copy_params, cross_entropy, cross_entropy_grad, forward, init_params,
                       linear_forward, load_mnist, log_softmax, momentum_step, numerical_gradient, one_hot, predict,
                       relative_error, relu, sgd_step, softmax)


# ---- Saying what is wrong, in one sentence -----------------------------------------------------------

def innermost_function(error):
    """The name of the function in which error was raised."""
    frame = error.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name


def student_line(error):
    """The last line of the student's own code that error passed through, or '' if none is known.

    NumPy's, this file's and the module's frames are skipped: the student needs their own line.
    """
    ours = (__file__, getattr(mnist_ann, "__file__", ""))
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename not in ours and "site-packages" not in frame.filename and frame.line:
            return frame.line.strip()
    return ""


def broadcast_hint(message, line=""):
    """Why two shapes in a NumPy broadcast error do not fit, from the shapes the message names."""
    shapes = [tuple(int(n) for n in re.findall(r"\d+", found)) for found in re.findall(r"\(([\d,]*)\)", message)]
    if len(shapes) >= 2 and any(a[:-1] == b or b[:-1] == a for a in shapes for b in shapes if a != b):
        return (" One array has a value per row where the other has a row of values: a sum or max over axis=1 "
                "without keepdims=True drops that axis (add keepdims=True), or labels y stand where one-hot rows "
                "are needed.")
    return " Two shapes do not fit: write each array's shape beside that line."


def linear_broadcast_hint(message, line=""):
    """In linear_forward, * where @ belongs, or a bias turned into a column."""
    if re.search(r"\bX\s*\*\s*W\b|\bW\s*\*\s*X\b", line):
        return (" X * W multiplies entry by entry: the layer is a matrix product, each output a weighted sum of "
                "the inputs: X @ W + b.")
    if re.search(r"b\s*\[\s*:\s*,\s*None\s*\]|b\.reshape\(\s*-1\s*,\s*1\s*\)|b\.T\b|\[:, np\.newaxis\]", line):
        return (" b is made a column, one value per example: it holds one value per output, so add it as it "
                "is, X @ W + b, and it broadcasts over the rows.")
    return broadcast_hint(message, line)


def optimizer_broadcast_hint(message, line=""):
    """In an optimizer step, arrays of different shapes meet when a parameter gets another's gradient or state."""
    return (" Each parameter must meet the gradient and the state of its own name, shaped like it: pair them by "
            "name, params[name] -= lr * grads[name], with state[name] (not by position, nor keyed by id), and "
            "give each parameter its own state array, np.zeros_like(params[name]) (dict.fromkeys(names, "
            "np.zeros_like(...)) shares one array of one shape among all).")


def backward_broadcast_hint(message, line=""):
    """In backward, a vector meeting a batch of rows is a gradient of linear_backward taken for another."""
    dimensions = {found.rstrip(",").count(",") + 1 for found in re.findall(r"\(([\d,]+)\)", message)}
    if {1, 2} <= dimensions:
        return (" A vector such as a bias gradient stands where a batch of rows (dA, one row per example) belongs: "
                "linear_backward returns dX, dW, db in that order, so unpack it as dA, dW, db = linear_backward(...).")
    return (" Two batches of rows of different widths meet: arrays of two different layers. Going back from layer "
            "l, dA = dZ @ W.T takes W of layer l (params[f'W{l}']), and relu_backward(dA, Z) takes Z of layer l - 1, "
            "cache[l - 2][1], for l > 1 only; each cache entry is (A, Z), the input first, and linear_backward "
            "returns dX, dW, db in that order. An index shifted by one (the layer's own Z, another layer's W), an "
            "entry or a result unpacked in another order, or a ReLU below layer 1 gives shapes that do not fit.")


def dropout_broadcast_hint(message, line=""):
    """In dropout, a mask that does not fit the activations was drawn with another shape than theirs."""
    return (" A mask has the shape of the activations it multiplies, one entry per unit of each example: draw it "
            "with rng.random(A.shape), and multiply the gradient by that same mask.")


def matmul_hint(message):
    return (" The factors of @ do not fit: an (a, b) @ (b, c) product needs the inner sizes equal; a "
            "missing or extra .T, or the factors in the wrong order, is the usual cause.")


def elementwise_matmul_hint(message):
    """In dropout, @ stands where * belongs: a mask multiplies its activations entry by entry."""
    return (" Dropout multiplies entry by entry, each unit by its own mask entry: write *, not @ (a matrix "
            "product, which no .T can make right here).")


def raised_at_the_call(error):
    """True if error was raised by calling the student's function itself (wrong arguments), not inside it."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename == __file__


def idx_error_hint(error, message):
    """In parse_idx, an error from np.frombuffer, reshape or IDX_DTYPES means the header was misread."""
    if isinstance(error, KeyError):
        return (f" {message} is not a type code of IDX_DTYPES: the type code is byte 2, raw[2] (byte 3, raw[3], is "
                "the number of dimensions).")
    sizes = re.search(r"array of size (\d+) into shape \(([\d, ]+)\)", message)
    if isinstance(error, ValueError) and sizes:
        read, wanted = int(sizes[1]), math.prod(int(n) for n in sizes[2].replace(" ", "").strip(",").split(","))
        if read and wanted % read == 0 and wanted // read in (2, 4, 8):
            return (f" It read {read} values where the sizes hold {wanted}, 1/{wanted // read} of them: it takes "
                    "count bytes, but each value takes dtype.itemsize bytes; slice raw[start:start + count * "
                    "itemsize], or give np.frombuffer count=count values and offset=start.")
    if isinstance(error, ValueError) and "reshape" in message:
        return (" np.frombuffer read another number of values than the sizes hold: count is the product of the "
                "sizes, np.prod(shape), the sizes are 4-byte big-endian numbers from byte 4, and the data starts at "
                "offset 4 + 4 * ndim.")
    frames = traceback.extract_tb(error.__traceback__)
    reading_sizes = bool(frames) and "u4" in (frames[-1].line or "")  # the header's sizes, not the data
    if isinstance(error, ValueError) and "smaller than requested size" in message and not reading_sizes:
        return (" np.frombuffer was asked for more values than the bytes hold: its count is a number of values, the "
                "product of the sizes, np.prod(shape), not a number of bytes (no * itemsize). If count is that, "
                "the dtype is wider than the type code says (take it from IDX_DTYPES[raw[2]], not a table of "
                "your own), or the header is misread: the sizes are 4-byte big-endian numbers from byte 4, the "
                "data starts at offset 4 + 4 * ndim.")
    if isinstance(error, ValueError) and any(words in message for words in ("buffer", "offset")):
        return (" The header is misread, so the sizes or the start of the data are wrong: byte 2 is the type code, "
                "byte 3 the number of dimensions ndim, then ndim sizes of 4 bytes each, big-endian ('>u4'), and the "
                "numbers start right after them, at offset 4 + 4 * ndim.")
    return ""


def confusion_error_hint(error, message):
    """In confusion_matrix, np.bincount without minlength returns too few counts to reshape."""
    if "truth value of an array" in message:
        return (" Python's `and` and `or` need one True or False, not an array: combine comparisons of arrays "
                "entry by entry with & and |, each in parentheses, (y == i) & (predicted == j).")
    if isinstance(error, ValueError) and "reshape" in message:
        return (" np.bincount returns counts only up to the largest value that occurs, fewer than C * C when the "
                "last classes never occur: give it minlength=num_classes ** 2.")
    return ""


def train_loop_error_hint(error, message):
    """In train_loop, an error inside the optimizer step means it got its arguments in another order."""
    frames = traceback.extract_tb(error.__traceback__)
    in_step = any(frame.name in ("step", "momentum_step") and frame.filename in (__file__, mnist_ann.__file__)
                  for frame in frames)
    if in_step or "'items'" in message:
        return (" The optimizer step got something else than it expects: call it as state = step(params, grads, "
                "state, lr), in that order, with grads the second of the three values loss_and_grads returns "
                "(loss, grads, logits = ...).")
    return ""


def relu_error_hint(error, message):
    if "truth value of an array" in message:
        return (" Python's max compares whole arrays, which has no meaning: np.maximum(Z, 0) compares each entry "
                "with 0.")
    return ""


def linear_error_hint(error, message):
    if "not aligned" in message:
        return " np.inner(X, W) and np.dot with a transpose compute X @ W.T; the layer is X @ W + b."
    return ""


def one_hot_error_hint(error, message):
    if isinstance(error, IndexError) and "out of bounds" in message:
        return (" A label falls outside Y's columns: Y has num_classes columns, np.zeros((len(y), num_classes)), "
                "whatever the batch size B = len(y).")
    return ""


def idx_and_count_error_hint(error, message):
    if isinstance(error, TypeError) and ("float" in message or "integer" in message):
        return (" A count or a size must be an int: np.prod of no sizes (a zero-dimensional file) is the float 1.0; "
                "write int(np.prod(shape)).")
    return idx_error_hint(error, message)


def label_index_error_hint(error, message):
    """In the loss and its gradient, an index out of bounds on axis 0 means the labels picked rows."""
    if isinstance(error, IndexError) and "axis 0" in message:
        return (" The labels index the columns, one per row: log_P[y] (or P[y]) picks whole rows by label; pick "
                "one entry per row, log_P[np.arange(B), y].")
    if isinstance(error, IndexError) and "axis 1" in message:
        return (" The row and column indices are swapped: rows first, then the labels as columns, "
                "P[np.arange(B), y].")
    return ""


def optimizer_error_hint(error, message):
    """In an optimizer step, arithmetic on strings means the loop walked the dicts' keys, not their arrays."""
    if isinstance(error, ValueError) and "values to unpack" in message:
        return (" Iterating over a dict gives its keys only, one at a time: for name, g in grads.items() gives "
                "each name with its array.")
    if isinstance(error, TypeError) and ("sequence" in message or "'str'" in message):
        return (" A name (a string) stands where an array belongs: iterating over a dict, or zip(params, grads), "
                "gives its keys; loop over the names and index both dicts, params[name] -= lr * grads[name].")
    return ""


def layers_error_hint(error, message):
    """In forward and backward, unpacking the cache into a fixed number of layers fails for another depth."""
    if isinstance(error, ValueError) and "values to unpack" in message:
        return (" The cache holds one entry per layer, as many as the network has (L = len(params) // 2), not a "
                "fixed number: walk the layers in a loop rather than unpacking them by name.")
    return relu_error_hint(error, message)


def minibatches_error_hint(error, message):
    if isinstance(error, IndexError) and "out of bounds" in message:
        return (" An index reaches past the N examples: draw the order of all of them, rng.permutation(N) with "
                "N = len(X) (not of batch_size), and cut it into slices, order[start:start + batch_size].")
    return ""


def state_error_hint(error, message):
    if isinstance(error, KeyError):
        return (f" state has no entry {message} yet: when state is empty (the first call), create one for every "
                "parameter first, state[name] = np.zeros_like(params[name]), then update it.")
    return optimizer_error_hint(error, message)


ERROR_HINTS = {"cross_entropy": label_index_error_hint, "cross_entropy_grad": label_index_error_hint,
               "forward": layers_error_hint, "backward": layers_error_hint, "sgd_step": optimizer_error_hint,
               "momentum_step": state_error_hint, "adam_step": state_error_hint, "train_loop": train_loop_error_hint,
               "parse_idx": idx_and_count_error_hint, "one_hot": one_hot_error_hint,
               "minibatches": minibatches_error_hint, "linear_forward": linear_error_hint, "relu": relu_error_hint,
               "confusion_matrix": confusion_error_hint}


def describe_error(error, explain_broadcast=broadcast_hint, explain_matmul=matmul_hint,
                   explain_other=lambda error, message: ""):
    """One sentence for an error raised in a student's code: what, where, and a hint when the kind is known.

    explain_broadcast and explain_matmul name the likely cause of a broadcast or @ error from its message; each
    exercise may have its own. A hint is given only for an error raised in the student's own code (or in NumPy
    called from it), and the hint about the function's first line only when the call itself failed.
    """
    message = (str(error).splitlines() or [""])[0].strip()
    sentence = f"your code raised {type(error).__name__}" + (f": {message}" if message else "")
    line = student_line(error)
    sentence += (f", at `{line}`." if line else ".")
    if isinstance(error, ValueError) and ("matmul" in message or "not aligned" in message) and line:
        sentence += explain_matmul(message)
    elif isinstance(error, ValueError) and "broadcast" in message and line:
        sentence += explain_broadcast(message, line)
    elif isinstance(error, TypeError) and ("unexpected keyword argument" in message or "positional" in message) \
            and raised_at_the_call(error):
        sentence += " Write the function's first line, its name and arguments, exactly as the exercise gives it."
    elif line and "cannot reshape" in message and any(
            int(number) > 1 for number in re.findall(r"\d+", line.partition("reshape(")[2].partition(")")[0])) \
            and not explain_other(error, message):
        sentence += (" The shape in the reshape is written as numbers, which fit one example's sizes only: take "
                     "them from the arrays (X.shape, len(y)), or let -1 stand for one, or keep the axis with "
                     "keepdims=True instead.")
    elif line:
        sentence += explain_other(error, message)
    return sentence


def describe_value(value):
    if value is None:
        return "None (is the `return` line missing?)"
    if isinstance(value, (tuple, list)):
        return f"{len(value)} values"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a value of type {type(value).__name__}"


def show(array):
    """An array as one short line of rounded numbers (integers as integers), for messages."""
    array = np.asarray(array)
    if array.dtype.kind not in "iub":
        array = array.astype(float)
    return np.array2string(array, precision=4, suppress_small=True, separator=", ").replace("\n", "")


def same(got, expected, tolerance=1e-6):
    """True if got has expected's shape and its values, to a relative error below tolerance."""
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        return got.shape == expected.shape and relative_error(got, expected) < tolerance
    except (TypeError, ValueError):
        return False


# Constant factors with a cause of their own: got = factor * expected.
KNOWN_FACTORS = [(-1.0, "it has the opposite sign everywhere: a minus too many or too few (a subtraction the "
                        "other way round?)"),
                 (1 / math.log(10), "it is the right value divided by ln 10: np.log10 where the natural log, "
                                    "np.log, belongs"),
                 (1 / math.log(2), "it is the right value divided by ln 2: np.log2 where the natural log, np.log, "
                                   "belongs"),
                 (2.0, "every entry is twice the right one: something is counted twice, or a stray factor 2"),
                 (0.5, "every entry is half the right one: a stray factor 1/2")]


def pattern_of(got, expected, regions=()):
    """A clause (starting with ': ') naming how got differs from expected when the difference tells a cause.

    regions: (mask of expected's shape, where it is) pairs, e.g. (Z < 0, "where Z < 0"): if the wrong entries
    are exactly one region's, that region is named. '' if no pattern shows.
    """
    original_dtype = getattr(got, "dtype", None)
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return ""
    if got.shape != expected.shape or got.size == 0:
        return ""
    if original_dtype == np.float16:
        return ": it is float16, which keeps about 3 digits: keep the dtype of the arrays it is given"
    if not np.all(np.isfinite(got)):
        return ": it holds nan or inf, from an overflow, a division by zero or the log of 0"
    wrong = ~np.isclose(got, expected, rtol=1e-5, atol=1e-8)
    if np.any(expected) and not np.any(got):
        return (": it is all zeros: an integer division (//) or an integer array truncated it, or nothing was "
                "added in")
    ratio = constant_ratio(got, expected)
    if ratio is not None:
        named = next((sentence for factor, sentence in KNOWN_FACTORS if math.isclose(ratio, factor, rel_tol=1e-4)),
                     None)
        if got.size == 1:
            return f": {named.replace('every entry is', 'it is')}" if named else ""
        return ": " + (named or f"every entry is {ratio:.4g} times the right one: a stray constant factor")
    if got.size == 1:
        return ""
    shift = got - expected
    if np.allclose(shift, shift.flat[0], rtol=1e-6, atol=1e-9):
        return f": every entry is off by the same {shift.flat[0]:.4g}: a stray added constant"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and same(got, expected.T):
        return ": it is the transpose of the right one: rows and columns are swapped"
    for mask, where in regions:
        if np.array_equal(wrong, np.asarray(mask, dtype=bool)):
            return f": only the entries {where}"
    if np.all(got == np.round(got)) and not np.all(expected == np.round(expected)):
        return ": your values are all whole numbers: an integer conversion (int, astype(int), //) truncates them"
    if got.ndim == 2 and 0 < wrong.any(axis=1).sum() < len(got):
        rows = np.flatnonzero(wrong.any(axis=1)).tolist()
        return (f": only row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))} of {len(got)} "
                f"{'are' if len(rows) > 1 else 'is'} wrong{ROWS_HINT}")
    return ""


def first_mistake(got, mistakes):
    """The sentence of the first (wrong answer, sentence) pair that got equals, else None."""
    return next((sentence for wrong, sentence in mistakes if same(got, wrong)), None)


def shape_problem(got, shape, what, batch_size=None):
    """None if got is an array of this shape; else a sentence saying how it differs and why it might."""
    if isinstance(got, tuple):
        return (f"{what} should be one array, of shape {shape}; the function returns {len(got)} values, a tuple: "
                f"return {what.split()[0]} alone.")
    if not isinstance(got, (np.ndarray, np.generic, float)):
        return f"{what} should be an array of shape {shape}; it is {describe_value(got)}."
    found = np.shape(got)
    if found == shape:
        return None
    if len(shape) == 2 and found == shape[1:] and what != "Z":
        return (f"{what} has shape {found}, expected {shape}: it is summed or averaged over the batch (axis=0); "
                "keep one row per example.")
    if len(shape) == 1 and found == (1, *shape):  # a bias gradient summed with keepdims=True
        return (f"{what} has shape {found}, expected {shape}: it is summed over the right axis but keeps it "
                "(keepdims=True); a bias gradient has the bias's shape, so sum with axis=0 alone.")
    if len(shape) == 1 and found == ():
        return (f"{what} is a single number, expected shape {shape}: it is summed over every axis. Sum over the "
                "batch only, axis=0: each bias touches every example and keeps its own gradient.")
    if len(shape) == 1 and found == (batch_size,):
        return (f"{what} has shape {found}, expected {shape}: it is summed over the wrong axis. Sum over "
                "the batch only, axis=0: each bias touches every example.")
    if found == tuple(size for size in shape if size != 1):
        return (f"{what} has shape {found}, expected {shape}: an axis of size 1 is dropped (np.squeeze, .ravel(), "
                ".flatten() or an index [:, 0]?); keep every axis, even one of size 1.")
    if found == (*shape, 1):
        return (f"{what} has shape {found}, expected {shape}: it has an extra axis of size 1, a column vector "
                "(n, 1); make it one-dimensional, np.zeros(n) rather than np.zeros((n, 1)).")
    if found == shape[::-1]:
        return (f"{what} has shape {found}, the transpose of the expected {shape}: check the order "
                "of the factors of @, and where a .T belongs.")
    if len(found) == len(shape) >= 2 and found[1:] == shape[1:] and 0 < found[0] < shape[0] \
            and what.split()[0] in ("P", "Z", "A", "Y", "dlogits", "dZ", "dA", "dX", "logits", "A_out"):
        return (f"{what} has shape {found}, expected {shape}: only {found[0]} of the {shape[0]} rows come back "
                "(a slice such as [:1] or [:2] left from trying it out?); keep every example.")
    if len(found) == len(shape) == 2 and found[0] == shape[0] and found[1] == shape[1] + 1:
        return (f"{what} has shape {found}, expected {shape}: one column too many (a size or a range with + 1?).")
    return f"{what} has shape {found}, expected {shape}."


def values_problem(got, expected, what, reference):
    if same(got, expected):
        return None
    return (f"{what} differs from what {reference} gives (relative error {relative_error(got, expected):.1e})"
            f"{pattern_of(got, expected)}.")


def gradient_problem(got, expected, what, batch_size, owns_the_mean=False):
    """None if got matches the true gradient expected; else a sentence naming the likely mistake.

    owns_the_mean: got is dlogits, the one gradient that carries the 1/B of the mean loss; every
    gradient after it (dZ, dW, db, dX) inherits that 1/B and must not apply it again.
    """
    if same(got, expected):
        return None
    if owns_the_mean:
        too_large = (f"{what} is B = {batch_size} times too large: the loss is a mean over the batch, so the "
                     "gradient carries a factor 1/B (divide by B once, in cross_entropy_grad).")
        too_small = (f"{what} is B = {batch_size} times too small: it divides by B twice; divide once.")
    else:
        too_large = (f"{what} is B = {batch_size} times too large: the mean's 1/B is missing (a dlogits written "
                     "by hand as P - Y? cross_entropy_grad divides by B), or something multiplies by B; the "
                     "gradient that flows back is the gradient of the mean loss.")
        too_small = (f"{what} is B = {batch_size} times too small: it divides by B, but the gradient flowing in "
                     "already carries the 1/B of the mean loss (from cross_entropy_grad); leave it out here.")
    sign = "has the wrong sign (P - Y, not Y - P, or a stray minus) and "
    factors = {-batch_size: f"{what} {sign}is B = {batch_size} times too large: divide by B once.",
               -1 / batch_size: f"{what} {sign}is B = {batch_size} times too small: divide by B once.",
               batch_size: too_large, 1 / batch_size: too_small,
               -1: f"{what} has the wrong sign: check the order of a subtraction (P - Y, not Y - P) or a stray minus."}
    return next((sentence for factor, sentence in factors.items() if same(got, factor * expected)),
                None) or fixed_divisor_problem(got, expected, what, batch_size, owns_the_mean) or (
                f"{what} differs from the central-difference gradient (relative error "
                f"{relative_error(np.asarray(got, dtype=float), expected):.1e}; a right one is below 1e-6)"
                f"{pattern_of(got, expected)}.")


def constant_ratio(got, expected):
    """The number c with got = c * expected, if there is one (and expected is not all zeros), else None."""
    try:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return None
    if got.shape != expected.shape or not np.any(expected):
        return None
    c = float(np.sum(got * expected) / np.sum(expected * expected))
    return c if c and same(got, c * expected) else None


def fixed_divisor_problem(got, expected, what, batch_size, owns_the_mean):
    """A sentence if got is expected with the batch size B replaced by a fixed number (a hard-coded B)."""
    c = constant_ratio(got, expected)
    if c is None:
        return None
    divisor = batch_size / c if owns_the_mean else 1 / c  # the number the student divided by
    if divisor < 1.5 or abs(divisor - round(divisor)) > 1e-6 or round(divisor) == batch_size:
        return None
    if owns_the_mean:
        return (f"{what} is divided by {round(divisor)}, a fixed number, not by this batch's size B = {batch_size}: "
                "take B from the arrays, len(y) or logits.shape[0], so that every batch size works.")
    return (f"{what} is divided by {round(divisor)}: nothing here scales with the batch size (the gradient flowing "
            "in already carries the 1/B of the mean loss), and B is never a fixed number.")


def second_call_problem(first_call, second_call, names=("the array it returns",), expected=None,
                        first_expected=None):
    """None if calling again (on other inputs) leaves the arrays the first call returned as they were.

    A function that hands back a buffer it keeps between calls (made once outside it, or a default argument)
    overwrites the result its caller already holds. expected: what the second call should return, for a
    function that keeps something else between calls (a cache) and reuses it on the second call's inputs.
    """
    first = first_call()
    pairs = zip(first, first_expected) if isinstance(first_expected, tuple) and isinstance(first, (tuple, list)) \
        else [(first, first_expected)]
    if first_expected is not None and not all(same(got, right) for got, right in pairs):
        return None  # wrong on its own: the checks of its values name why
    returned = list(first) if isinstance(first, (tuple, list)) else [first]
    kept = [np.array(value, copy=True) if isinstance(value, np.ndarray) else None for value in returned]
    second = second_call()
    for name, value, copy in zip(names, returned, kept):
        if copy is not None and not np.array_equal(value, copy, equal_nan=copy.dtype.kind in "fc"):
            return (f"{name} changed when the function was called again: it hands back an array it keeps between "
                    "calls (made once, outside the function, or as a default argument) and overwrites it. Make a "
                    "new array at every call.")
    if expected is None:
        return None
    seconds = list(second) if isinstance(second, (tuple, list)) else [second]
    expecteds = list(expected) if isinstance(expected, tuple) else [expected]
    for name, value, right in zip(names, seconds, expecteds):
        if not same(value, right):
            return (f"called again on other inputs of the same shapes, its {name.split()[1]} is wrong, "
                    "although the same function was right on its first inputs: it reuses something it kept from "
                    "an earlier call (a cache, a dict or array outside the function, a default argument). Compute "
                    "everything from this call's own inputs.")
    return None


def input_changed_problem(function, **inputs):
    """None if function(*inputs) leaves its array arguments as they were."""
    copies = {name: value.copy() for name, value in inputs.items()}
    function(*copies.values())
    changed = [name for name in inputs if not np.array_equal(inputs[name], copies[name])]
    if changed:
        return (f"it changed {changed[0]} in place (with -=, *=, [...] = or .sort()); compute a new array instead, "
                f"because the caller still needs {changed[0]} as it was.")
    return None


def random_arrays(*shapes):
    """Float64 standard-normal arrays of the given shapes, the same on every call."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape) for shape in shapes]


def named_arrays(name, value):
    """(name, array) for each array in value: an array itself, or one inside dicts, lists and tuples."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in named_arrays(f"{name}[{key!r}]", item)]
    if isinstance(value, (list, tuple)):
        return [pair for index, item in enumerate(value) for pair in named_arrays(f"{name}[{index}]", item)]
    return [(name, value)] if isinstance(value, np.ndarray) else []


def in_dtype(values, dtype):
    """values with every float array in them converted to dtype (dicts, lists and tuples rebuilt)."""
    if isinstance(values, dict):
        return {key: in_dtype(value, dtype) for key, value in values.items()}
    if isinstance(values, (list, tuple)):
        return type(values)(in_dtype(value, dtype) for value in values)
    return values.astype(dtype) if isinstance(values, np.ndarray) and values.dtype.kind == "f" else values


def dtype_sentence(what, found, given, zeros_and_ones=False):
    """What to say of an array that comes back as found for inputs of dtype given."""
    if found.kind == "b":
        return (f"{what} is bool for {given} inputs: it returns a comparison, True and False, instead of "
                "numbers; compute the values themselves.")
    if found.kind in "iu" and zeros_and_ones:
        return (f"{what} holds only 0s and 1s, as {found}: it returns a mask (a comparison such as Z > 0, as "
                "integers), not the values themselves.")
    if found.kind in "iu":
        return (f"{what} is {found} for {given} inputs: an integer conversion (astype(int), //, np.int_) "
                "truncates its values; keep it a float of the inputs' dtype.")
    if given == np.float32 and found == np.float64:
        return (f"{what} is float64 for float32 inputs: a float64 array slipped in (np.zeros, np.ones or np.eye "
                "without dtype=, .astype(float), np.array(..., dtype=float)) and promoted the result. Make new "
                "arrays in the inputs' dtype (dtype=X.dtype, np.zeros_like), so that a float32 network stays "
                "float32.")
    return (f"{what} is {found} for {given} inputs: it converts to another dtype (an astype?); keep the dtype "
            "it is given, so that a float64 network stays float64 and a float32 one float32.")


def dtype_problem(call, names, integers_only=False, a_mask_is_likely=False):
    """None if call(dtype), the student's function run on inputs of that dtype, keeps it in its arrays.

    names: what each returned value is called (None: not checked); arrays inside dicts and lists are named
    by their keys. integers_only: report only an integer array (a mistake of values, told first).
    """
    for dtype in (np.float32, np.float64):
        result = call(dtype)
        values = list(result) if isinstance(result, tuple) else [result]
        for name, value in zip(names, values):
            for what, array in named_arrays(name, value) if name else ():
                if name == "state" and array.dtype.kind != "f":
                    continue  # a step count kept as an integer array is no mistake
                wrong = array.dtype.kind in "iu" if integers_only else array.dtype != dtype
                if wrong:
                    mask = a_mask_is_likely and set(np.unique(array).tolist()) == {0, 1}
                    return dtype_sentence(what, array.dtype, np.dtype(dtype), mask)
    return None


# ---- Answers that cannot be borrowed -----------------------------------------------------------------

# For each exercise, the module's functions that do its job, or a part of it that another exercise asks
# the student to write. A student's function may call its own helpers, never these.
OPTIMIZER_ANSWERS = ("sgd_step", "momentum_step", "adam_step", "train_epoch", "train")
DROPOUT_ANSWERS = ("dropout_mask", "dropout_forward", "dropout_backward", "loss_and_grads_with_dropout",
                   "with_dropout")
MODULE_ANSWERS = {
    "softmax": ("softmax", "log_softmax"),
    "cross_entropy": ("cross_entropy", "log_softmax", "softmax", "cross_entropy_grad", "evaluate"),
    "cross_entropy_grad": ("cross_entropy_grad", "softmax", "log_softmax"),
    "linear_backward": ("linear_backward", "backward", "loss_and_grads", "batch_loss_and_grads"),
    "relu_backward": ("relu_backward", "leaky_relu_backward", "backward", "loss_and_grads",
                      "batch_loss_and_grads"),
    "backward": ("backward", "loss_and_grads", "batch_loss_and_grads", "linear_backward", "relu_backward",
                 "leaky_relu_backward"),
    "sgd_step": OPTIMIZER_ANSWERS,
    "momentum_step": ("momentum_step", *OPTIMIZER_ANSWERS),  # its namesake first: named where a table holds all
    "adam_step": ("adam_step", *OPTIMIZER_ANSWERS),
    "train_loop": ("train", "train_epoch"),
    "dropout_forward": DROPOUT_ANSWERS,
    "dropout_backward": DROPOUT_ANSWERS,
    "loss_and_grads_with_dropout": DROPOUT_ANSWERS,
    "parse_idx": ("read_idx", "idx_header", "refuse_damaged_idx_file", "read_file_bytes", "load_mnist"),
    "one_hot": ("one_hot",),
    "minibatches": ("iterate_minibatches",),
    "linear_forward": ("linear_forward", "run_layers", "forward"),
    "relu": ("relu", "leaky_relu"),
    "forward": ("forward", "run_layers", "linear_forward", "relu", "loss_and_grads", "batch_loss_and_grads",
                "predict"),
    "init_params": ("init_params", "he_scale", "glorot_scale"),
    "confusion_matrix": ("confusion_matrix",),
    "most_confused_pairs": ("confusion_matrix",),
}


def unwrapped(function):
    """function without the functools.partial or decorator wrappers around it."""
    for _ in range(10):  # wrappers nest a few deep at most; never loop forever on a strange object
        inner = getattr(function, "func", None) or getattr(function, "__wrapped__", None)
        if inner is None or inner is function:
            break
        function = inner
    return function


def module_function_name(function):
    """The name of the mnist_ann function that function is (perhaps wrapped), else None."""
    inner = unwrapped(function)
    if getattr(inner, "__module__", None) == mnist_ann.__name__:
        return getattr(inner, "__name__", "one of its functions")
    return None


@contextlib.contextmanager
def replaced(replacements, namespace):
    """Within the block, each mnist_ann function named in replacements is replaced by its replacement.

    In the module, and in namespace (the student's globals) wherever a name is bound to that function,
    as `from mnist_ann import softmax` binds it. Everything is put back on leaving, whatever happens.
    """
    undo = []
    try:
        for name, replacement in replacements.items():
            original = getattr(mnist_ann, name)
            undo.append((mnist_ann.__dict__, name, original))
            setattr(mnist_ann, name, replacement)
            for key, value in list(namespace.items()):
                if value is original:
                    undo.append((namespace, key, value))
                    namespace[key] = replacement
        yield
    finally:
        ALARM["deferred"] += 1  # a time limit must not strike halfway through putting the module back
        try:
            for where, key, value in reversed(undo):
                where[key] = value
        finally:
            ALARM["deferred"] -= 1


def call_recorder(original, name, calls):
    """original, noting its name in calls each time it is called (it still does its job)."""
    @functools.wraps(original)
    def recorded(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)
    return recorded


def watched(student_fn, names, calls):
    """student_fn, but while it runs, every call of a mnist_ann function in names is noted in calls."""
    namespace = getattr(unwrapped(student_fn), "__globals__", {})
    present = [name for name in names if callable(getattr(mnist_ann, name, None))]

    recorders = {name: call_recorder(getattr(mnist_ann, name), name, calls) for name in present}

    def generated(items):  # a generator's body runs as it is iterated: watch it there too
        while True:
            with replaced(recorders, namespace):
                try:
                    item = next(items)
                except StopIteration as stop:
                    return stop.value
            yield item

    def run(*args, **kwargs):
        with replaced(recorders, namespace):
            result = student_fn(*args, **kwargs)
        return generated(result) if isinstance(result, types.GeneratorType) else result
    run.__wrapped__ = student_fn  # so that a check can still find the student's globals
    return run


# ---- A time limit on every check -----------------------------------------------------------------------

TIME_LIMIT = 10  # seconds of computing one check may spend in a student's function; a right one needs under 1
WAIT_LIMIT = 60  # seconds on the clock, for a function that waits (sleeps, reads input) rather than computes
ALARM = {"armed": False, "deferred": 0}  # deferred > 0 while the module's functions are being put back


class TooSlow(BaseException):  # not an error of the student's code: the check stops it
    """Raised inside the student's code when a check has run longer than TIME_LIMIT."""


def on_alarm(signum, frame):
    if ALARM["armed"] and not ALARM["deferred"]:
        raise TooSlow(signum)


@contextlib.contextmanager
def time_limit(seconds, wait_seconds=None):
    """Within the block, raise TooSlow after `seconds` of the process's CPU time (SIGPROF: other programs
    on a busy machine do not count), or after `wait_seconds` on the clock (SIGALRM), and again every second
    after (in case a bare `except:` in the student's code swallows it). Needs Unix signals and the main
    thread: elsewhere (Windows) there is no limit."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    timers = [(signal.SIGPROF, signal.ITIMER_PROF, seconds),
              (signal.SIGALRM, signal.ITIMER_REAL, wait_seconds or max(WAIT_LIMIT, 6 * seconds))]
    previous = [signal.signal(number, on_alarm) for number, _, _ in timers]
    ALARM["armed"] = True
    for _, timer, limit in timers:
        signal.setitimer(timer, limit, 1.0)
    try:
        yield
    finally:
        for _ in range(100):  # an alarm that strikes while we disarm is simply disarmed again
            try:
                ALARM["armed"] = False
                for (number, timer, _), handler in zip(timers, previous):
                    signal.setitimer(timer, 0)
                    signal.signal(number, handler)
                break
            except TooSlow:
                continue


# ---- Borrowing, read from the student function's own code ------------------------------------------------

# Names whose use in a student's function reaches code it did not write: loading the module again, running
# text as code, reading the module's source. Refused wherever they appear in the function's own code.
FORBIDDEN_NAMES = {"importlib", "exec", "eval", "compile", "__import__", "inspect", "runpy", "globals", "vars",
                   "builtins", "__builtins__", "getsource", "import_module", "spec_from_file_location",
                   "module_from_spec", "exec_module", "load_module", "modules", "__code__", "__dict__",
                   "__globals__", "__file__", "types", "marshal"}
FORBIDDEN_IMPORTS = {"mnist_ann", "importlib", "inspect", "runpy", "imp", "builtins", "types", "marshal"}


def module_file():
    return getattr(mnist_ann, "__file__", None) or ""


def from_module_file(value):
    """True if value is mnist_ann, a copy of it loaded again, or a function whose code comes from its file."""
    value = unwrapped(value)
    if isinstance(value, types.ModuleType):
        return value is mnist_ann or (getattr(value, "__file__", None) or "") == module_file() != ""
    code = getattr(value, "__code__", None)
    return code is not None and code.co_filename == module_file() != ""


def readable_source(function):
    """The function's own source text, dedented, or None if it cannot be read (made by exec or compile)."""
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None


def syntax_tree(function):
    """The function's syntax tree, or None (a lambda inside a line, or no source to read)."""
    source = readable_source(function)
    if source is None or getattr(function, "__name__", "") == "<lambda>":
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return functions[0] if len(functions) == 1 else None


def used_names(function):
    """(names and attributes the function's code uses, modules it imports, objects getattr is called on).

    Read from the syntax tree when the source can be read, else from the bytecode, nested functions included.
    """
    tree = syntax_tree(function)
    if tree is not None:
        names, imports, getattr_on = set(), set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Import):
                imports |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imports.add((node.module or "").split(".")[0])
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                    and node.args and isinstance(node.args[0], ast.Name)):
                getattr_on.add(node.args[0].id)
        return names, imports, getattr_on
    names, imports, codes = set(), set(), [getattr(function, "__code__", None)]
    while codes:
        code = codes.pop()
        if code is None:
            continue
        names |= set(code.co_names) | set(code.co_freevars)
        imports |= {str(instruction.argval).split(".")[0] for instruction in dis.get_instructions(code)
                    if instruction.opname == "IMPORT_NAME"}
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return names, imports, (set(names) if "getattr" in names else set())


def bound_value(function, name):
    """What name refers to in the function's closure or globals (a missing name gives None)."""
    code = getattr(function, "__code__", None)
    for free, cell in zip(getattr(code, "co_freevars", ()), getattr(function, "__closure__", None) or ()):
        if free == name:
            try:
                return cell.cell_contents
            except ValueError:  # a closure cell not yet filled
                return None
    return getattr(function, "__globals__", {}).get(name)


def code_signature(code):
    """What two copies of one function's text share, whatever Python version compiled them: names, constants
    (the docstring among them) and variables, nested functions' included."""
    return (code.co_names, code.co_varnames, code.co_argcount,
            tuple(code_signature(c) if isinstance(c, types.CodeType) else c for c in code.co_consts))


def is_answer(value, answers):
    """The name of the module's answer that value is (or a copy of, loaded again or run from its text), else
    None. answers: the module's functions this exercise must not use."""
    value = unwrapped(value)
    for answer in answers:
        original = getattr(mnist_ann, answer, None)
        if original is None:
            continue
        if value is original:
            return answer
        code = getattr(value, "__code__", None)
        if isinstance(code, types.CodeType) and getattr(value, "__name__", None) == answer and (
                from_module_file(value) or (readable_source(value) is None  # run from text: exec or compile
                                            and code_signature(code) == code_signature(original.__code__))):
            return answer
    return None


def stored_inside(value, home):
    """The objects value holds that could hide a function: what a wrapper wraps, a function's defaults and
    closure, a class's attributes (staticmethod and classmethod unwrapped), a container's items, an instance's
    attributes when its class is the student's (home: the module the student's functions live in)."""
    if isinstance(value, (staticmethod, classmethod)):
        return [value.__func__]
    if isinstance(value, functools.partial):
        return [value.func, *value.args, *value.keywords.values()]
    if isinstance(value, types.MethodType):
        return [value.__func__, value.__self__]
    if isinstance(value, types.FunctionType):
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # a closure cell not yet filled
                pass
        return [*(value.__defaults__ or ()), *(value.__kwdefaults__ or {}).values(), *cells,
                *[getattr(value, "__wrapped__", None)]]
    if isinstance(value, dict):
        return list(value.values())[:500]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)[:500]
    if isinstance(value, type):
        return list(vars(value).values()) if value.__module__ == home else []
    if isinstance(value, (types.ModuleType, np.ndarray, str, bytes, int, float, complex)):
        return []
    if getattr(type(value), "__module__", None) == home:
        return list(getattr(value, "__dict__", {}).values())
    return []


def reached_answer(function, answers):
    """The name of a module answer the function can reach without calling it by name where a check would see
    it (a default argument, a closure, a staticmethod of a class of the student's, functools.partial, a dict
    filled by exec), else None. Only the student's own objects are searched, never a library's."""
    home = getattr(function, "__module__", None)

    def outer_values(function):  # what the names it uses refer to outside it (its own variables are not looked up)
        names, _, _ = used_names(function)
        return [bound_value(function, name) for name in sorted(names - set(function.__code__.co_varnames))]
    todo = [function, *outer_values(function)]
    seen, found = set(), []
    while todo and len(seen) < 5000:
        value = todo.pop()
        if id(value) in seen or value is None:
            continue
        seen.add(id(value))
        answer = is_answer(value, answers)
        if answer and answer == answers[0]:  # the exercise's own function, rather than a part of it
            return answer
        if answer:
            found.append(answer)
            continue
        if isinstance(value, types.FunctionType) and (from_module_file(value) or value.__code__.co_filename
                                                       .startswith((sys.prefix, sys.base_prefix))):
            continue  # a library's function, or the module's own (not an answer): allowed
        if isinstance(value, types.FunctionType) and value is not function:
            todo += outer_values(value)
        todo += stored_inside(value, home)
    return found[0] if found else None


def module_attributes(function):
    """The attributes the function's code reads off a name bound to mnist_ann (or a copy of it loaded again),
    from its syntax tree: `mnist_ann.iterate_minibatches` in `yield from mnist_ann.iterate_minibatches(...)`,
    which runs after the function has returned, where no call can be seen."""
    tree = syntax_tree(function)
    if tree is None:
        return set()
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and isinstance(bound_value(function, node.value.id),
                                                                types.ModuleType)
            and from_module_file(bound_value(function, node.value.id))}


def own_code_problem(function, answers, seen=None):
    """A sentence if the function's own code (or a helper of the student's it calls) reaches the module's
    answers by a back door; else None. answers: the module's functions this exercise must not use."""
    function = unwrapped(function)
    seen = set() if seen is None else seen
    if id(function) in seen or len(seen) > 20 or not isinstance(function, types.FunctionType):
        return None
    seen.add(id(function))
    own = getattr(function, "__name__", "it")
    if from_module_file(function):
        return (f"{own} is code from mnist_ann.py (the module loaded again, or its text run), the module's own "
                "answer, which earns nothing: write the body yourself.")
    for answer in answers:
        original = getattr(mnist_ann, answer, None)
        code = getattr(original, "__code__", None)
        if code is not None and readable_source(function) is None and code_signature(function.__code__) \
                == code_signature(code):
            return (f"{own} is mnist_ann.{answer}'s code, run from its text by exec or compile: the module's own "
                    "answer, which earns nothing: write the body yourself.")
    names, imports, getattr_on = used_names(function)
    used = ([f"import {module}" for module in sorted(imports & FORBIDDEN_IMPORTS)]
            + sorted(names & FORBIDDEN_NAMES, key=lambda name: (name.startswith("_"), name)))
    if used:
        return (f"{own}'s code uses {used[0]}, which can reach the module's own answer; the checks refuse it: "
                "write the body with NumPy alone (and your own functions from the exercises above).")
    for name in sorted(names):
        value = bound_value(function, name)
        if from_module_file(value) and isinstance(value, types.ModuleType):
            if name in getattr_on:
                return (f"{own} looks up the module's functions with getattr(mnist_ann, ...), which the checks "
                        "refuse: write the body yourself.")
            reached = sorted(names & set(answers))
            if reached and value is not mnist_ann:
                return (f"{own} uses {reached[0]} from a copy of mnist_ann loaded again, the module's own answer, "
                        "which earns nothing: write the body yourself.")
        elif from_module_file(value) and getattr(unwrapped(value), "__name__", None) in answers \
                and unwrapped(value) is not getattr(mnist_ann, unwrapped(value).__name__, None):
            return (f"{own} calls {name}, a copy of mnist_ann.{unwrapped(value).__name__}, the module's own "
                    "answer, which earns nothing: write the body yourself.")
        elif isinstance(value, types.FunctionType) and not value.__code__.co_filename.startswith(
                (sys.prefix, sys.base_prefix)) and not from_module_file(value):
            problem = own_code_problem(value, answers, seen)  # a helper of the student's own
            if problem:
                return problem
    for attribute in sorted(module_attributes(function)):
        table = getattr(mnist_ann, attribute, None)
        held = table.values() if isinstance(table, dict) else table if isinstance(table, (list, tuple)) else ()
        inside = next((answer for answer in answers for value in held
                       if value is getattr(mnist_ann, answer, None)), None)
        if inside:
            return (f"{own} reads mnist_ann.{attribute}, a table that holds mnist_ann.{inside}, the module's own "
                    "answer, which earns nothing: write the body yourself.")
    read = sorted(module_attributes(function) & set(answers))
    if read:
        return (f"{own} uses mnist_ann.{read[0]}, the module's own answer, which earns nothing: write the body "
                "yourself (your own functions from the exercises above may be called).")
    reached = reached_answer(function, answers)
    if reached:
        return (f"{own} reaches mnist_ann.{reached}, the module's own answer, through an object it keeps (a "
                "default argument, a closure, a class's staticmethod, functools.partial, a copy made by exec), "
                "which earns nothing: write the body yourself.")
    return None


# ---- Running the checks --------------------------------------------------------------------------------

# The exercises whose @ errors have a cause of their own: any other gets matmul_hint.
def backward_matmul_hint(message):
    return (" In backward, a product that does not fit usually means dZ is not carried back, or a W of another "
            "layer: after layer l, dZ = relu_backward(dA, Z of layer l - 1) for the next pass of the loop (else "
            "every layer gets dlogits), and layer l uses its own W, params[f'W{l}'].")


MATMUL_HINTS = {"dropout_forward": elementwise_matmul_hint, "dropout_backward": elementwise_matmul_hint,
                "backward": backward_matmul_hint}

# The exercises whose broadcast errors have a cause of their own: any other gets broadcast_hint.
def labels_broadcast_hint(message, line=""):
    """In cross_entropy_grad, one-hot rows of another width than the logits."""
    shapes = [tuple(int(n) for n in re.findall(r"\d+", found)) for found in re.findall(r"\(([\d,]+)\)", message)]
    if len(shapes) >= 2 and all(len(shape) == 2 for shape in shapes[:2]) and shapes[0][0] == shapes[1][0]:
        return (" The one-hot rows have another width than the logits: take C from the logits, logits.shape[1], "
                "not from the labels present (y.max() + 1 misses a class no example has).")
    return broadcast_hint(message, line)


BROADCAST_HINTS = {"cross_entropy_grad": labels_broadcast_hint, "linear_forward": linear_broadcast_hint,
                   "backward": backward_broadcast_hint, "sgd_step": optimizer_broadcast_hint,
                   "momentum_step": optimizer_broadcast_hint, "adam_step": optimizer_broadcast_hint,
                   "dropout_forward": dropout_broadcast_hint, "dropout_backward": dropout_broadcast_hint,
                   "loss_and_grads_with_dropout": dropout_broadcast_hint}


def first_problem(checks, explain_broadcast=broadcast_hint, explain_matmul=matmul_hint,
                  explain_other=lambda error, message: ""):
    """Run (label, check) pairs in order; the sentence of the first that fails, or None if all pass.

    A check calls the student's function and returns None when it is right, else a sentence saying what
    is wrong. Whatever the student's code raises (but an interrupt) becomes that sentence.
    """
    for number, (label, check) in enumerate(checks, start=1):
        try:
            with time_limit(TIME_LIMIT), np.errstate(all="ignore"):  # overflow is diagnosed, not warned about
                problem = check()
        except TooSlow as stop:
            if stop.args and stop.args[0] == getattr(signal, "SIGALRM", None):
                return (f"check {number} of {len(checks)} ({label}) failed: your function did not finish in "
                        f"{max(WAIT_LIMIT, 6 * TIME_LIMIT):g} s on the clock, so the check stopped it: does it "
                        "wait for something (time.sleep, input())?")
            return (f"check {number} of {len(checks)} ({label}) failed: your function did not finish in "
                    f"{TIME_LIMIT:g} s, so the check stopped it: a loop that never ends?")
        except NotImplementedError as error:
            return (f"not implemented yet: `{innermost_function(error)}` still raises NotImplementedError. "
                    "Write its body in place of that line, run its cell, then run this check again.")
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: B036 (even sys.exit() in the student's code is reported)
            problem = describe_error(error, explain_broadcast, explain_matmul, explain_other)
        if problem:
            return f"check {number} of {len(checks)} ({label}) failed: {problem}"
    return None


def setup_failure(error):
    """What to say when a check cannot even start, e.g. because the MNIST files are missing."""
    if isinstance(error, mnist_ann.MNISTDataError):
        return f"the check could not load the MNIST images it trains on: {error}"
    return (f"the check itself failed ({type(error).__name__}: {(str(error).splitlines() or [''])[0]}); "
            "tell your teacher, and run the cells above it again.")


def is_numpy_function(function):
    """True for NumPy's own functions and ufuncs (dropout_backward = np.multiply is a right answer)."""
    return isinstance(function, np.ufunc) or (getattr(function, "__module__", "") or "").startswith("numpy")


# Each exercise's parameters, in the statement's order.
PARAMETERS = {
    "softmax": ["logits"], "cross_entropy": ["logits", "y"], "cross_entropy_grad": ["logits", "y"],
    "linear_backward": ["dZ", "X", "W"], "relu_backward": ["dA", "Z"], "backward": ["params", "cache", "dlogits"],
    "sgd_step": ["params", "grads", "state", "lr"], "momentum_step": ["params", "grads", "state", "lr", "beta"],
    "adam_step": ["params", "grads", "state", "lr", "beta1", "beta2", "eps"],
    "train_loop": ["params", "X", "y", "step", "lr", "epochs", "batch_size", "rng"],
    "dropout_forward": ["A", "rate", "rng", "training"], "dropout_backward": ["dA_out", "mask"],
    "loss_and_grads_with_dropout": ["params", "X", "y", "rate", "rng"], "parse_idx": ["raw"],
    "one_hot": ["y", "num_classes"], "minibatches": ["X", "y", "batch_size", "rng"],
    "linear_forward": ["X", "W", "b"], "relu": ["Z"], "forward": ["params", "X"],
    "init_params": ["layer_sizes", "rng"], "confusion_matrix": ["predicted", "y", "num_classes"],
    "most_confused_pairs": ["counts", "k"],
}


def parameter_order_problem(student_fn, check):
    """A sentence if the function takes the statement's parameters, by name, in another order."""
    name = check.__name__.removeprefix("check_")
    try:
        found = list(inspect.signature(student_fn).parameters)
    except (TypeError, ValueError):
        return None
    expected = PARAMETERS.get(name, [])
    if sorted(found) == sorted(expected) and found != expected:
        return (f"its first line takes ({', '.join(found)}), but the statement's order is "
                f"{name}({', '.join(expected)}): the check, like the notebook's code, passes them in that order.")
    return None


def loops_of(tree):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.For, ast.While))]


# Exercises where range(n - 1) is the idiom (one pass per pair of layer sizes, say), not a slip.
RANGE_MINUS_ONE_IS_RIGHT = {"init_params", "forward", "backward", "train_loop", "most_confused_pairs"}


def called_name(call):
    """The last name in a call's function: softmax for softmax(...), mnist_ann.softmax(...) or S["softmax"](...)."""
    return (re.findall(r"\w+", ast.unparse(call.func)) or [""])[-1]


def called(node, function):
    """True if node is a call of function (by its name, or as an attribute, mnist_ann.function)."""
    return isinstance(node, ast.Call) and called_name(node) == function


def wrong_variable_smell(tree, name):
    """In backward and forward, a variable that stands where another belongs, read from the code; or None."""
    if name == "backward":
        results = {assign.targets[0].elts[0].id for assign in ast.walk(tree) if isinstance(assign, ast.Assign)
                   and called(assign.value, "linear_backward") and isinstance(assign.targets[0], ast.Tuple)
                   and isinstance(assign.targets[0].elts[0], ast.Name)}
        for call in ast.walk(tree):
            if results and called(call, "relu_backward") and call.args and isinstance(call.args[0], ast.Name) \
                    and call.args[0].id not in results:
                return (f"relu_backward is given `{call.args[0].id}`, where dA belongs: the first result of "
                        f"linear_backward ({', '.join(sorted(results))} here), the gradient of the layer's input.")
    for loop in loops_of(tree) if name in ("forward", "backward") else ():
        fixed = next((node.slice.value for node in ast.walk(loop) if isinstance(node, ast.Subscript)
                      and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
                      and re.fullmatch(r"[Wb]\d+", node.slice.value)), None)
        if fixed:
            return (f"the loop reads params['{fixed}'] at every layer (a line copied?): read each layer's own, "
                    f"params[f'{fixed[0]}{{l}}'].")
    if name == "forward":
        function = next((node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)), None)
        inputs = function.args.args[1].arg if function and len(function.args.args) > 1 else None
        for loop in loops_of(tree):
            for node in ast.walk(loop):
                first = node.args[0] if called(node, "linear_forward") and node.args else \
                    node.left if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) else None
                if isinstance(first, ast.Name) and first.id == inputs:
                    return (f"every layer takes `{inputs}`, the network's input: layer l's input is the output of "
                            "the layer before, A (A = X before the loop, then A = relu(Z) after each layer).")
    return None


def code_smell(student_fn, name=""):
    """A sentence naming a slip the function's own code shows, which values alone do not name; or None."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(student_fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    defaults = {id(node) for node in ast.walk(tree) if isinstance(node, ast.arguments)
                for node in node.defaults + node.kw_defaults if node is not None}
    not_sizes = {id(argument) for node in ast.walk(tree) if isinstance(node, ast.Call)  # np.log(10): a base
                 and re.fullmatch(r"log\w*|pow\w*|exp\w*", called_name(node)) for argument in node.args} | {
        id(node.left) for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(handler.type is None or getattr(handler.type, "id", "") in (
                "Exception", "BaseException") for handler in node.handlers):
            return ("a try/except catches every error and gives something else back, which hides the real "
                    "mistake: remove the try/except, so that the error shows where it happens, then fix that line.")
    wrong_variable = wrong_variable_smell(tree, name)
    if wrong_variable:
        return wrong_variable
    for loop in loops_of(tree):
        if any(isinstance(statement, ast.Return) for statement in loop.body):
            return ("a `return` stands in the body of a loop, so the function returns during the loop's first "
                    "pass: put it after the loop (dedent it).")
    for node in ast.walk(tree):
        if name not in RANGE_MINUS_ONE_IS_RIGHT and isinstance(node, ast.Call) \
                and getattr(node.func, "id", None) == "range" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.BinOp) and isinstance(node.args[0].op, ast.Sub) \
                and getattr(node.args[0].right, "value", None) == 1:
            return (f"`range({ast.unparse(node.args[0])})` stops one short: range(n) already ends at n - 1, so it "
                    "leaves the last one out.")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv) and (
                (isinstance(node.left, ast.Constant) and isinstance(node.left.value, (int, float)))
                or any(word in ast.unparse(node.left).lower() for word in ("loss", "total", "sum"))):
            return (f"`{ast.unparse(node)}` is a floor division, which rounds down to a whole number (2 // 784 is "
                    "0): use / for a true division.")
        if isinstance(node, ast.Constant) and node.value in (10, 784, 28) and not isinstance(node.value, bool) \
                and id(node) not in defaults | not_sizes:
            return (f"the number {node.value} is written in the code, MNIST's size, but the check's arrays have "
                    "other sizes: take every size from the arrays (X.shape[1], logits.shape[1], len(counts)) or "
                    "from num_classes.")
    return None


ROWS_HINT = " (a loop or a slice that misses or mixes up examples?)"


def loops_or_slices(student_fn):
    """True if the function's own code (or we cannot read it) has a loop, a comprehension or a slice."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(student_fn)))
    except (OSError, TypeError, SyntaxError):
        return True
    return any(isinstance(node, (ast.For, ast.While, ast.comprehension, ast.Slice)) for node in ast.walk(tree))


def with_code_smell(problem, student_fn, name=""):
    """problem, led by the slip the function's code shows, if one does."""
    if ROWS_HINT in problem and not loops_or_slices(student_fn):  # then the rows differ by their labels or values
        problem = problem.replace(ROWS_HINT, ": the rows are not all treated alike, so something in the code "
                                             "picks out particular rows or entries (an index such as [0] or "
                                             "[:, 0], or values of y used as row numbers?)")
    smell = code_smell(student_fn, name)
    head, found, rest = problem.partition(" failed: ")
    if not smell or not found:
        return problem
    return f"{head} failed: {smell} (What the check saw: {rest.rstrip('.')}.)"


MODULE_AS_IMPORTED = {name: (value, dict(value) if isinstance(value, dict) else None)
                      for name, value in vars(mnist_ann).items()
                      if not name.startswith("_") and (callable(value) or isinstance(value, dict))}


def module_changed():
    """The name of one of mnist_ann's functions or tables a cell has replaced or changed since import, or None."""
    for name, (value, items) in MODULE_AS_IMPORTED.items():
        now = getattr(mnist_ann, name, None)
        if callable(value) and now is not value:
            return name
        if items is not None and (now is not value or any(now.get(key) is not item for key, item in items.items())):
            return name
    return None


def verdict(name, student_fn, check, *args, **kwargs):
    """The sentence a check prints (without its name) and whether the student's function passed."""
    changed = module_changed()
    if changed:
        return (f"mnist_ann.{changed} is no longer the module's own: a cell replaced it (mnist_ann.{changed} = "
                "...). The checks compare your function with the module's, so leave the module as it is: delete "
                "that line and restart the kernel."), False
    if not callable(student_fn):
        return f"give the check your function itself, {name}; it got {describe_value(student_fn)}.", False
    borrowed = module_function_name(student_fn)
    if borrowed:
        return (f"this is mnist_ann.{borrowed} itself, the module's answer, which earns nothing: "
                f"write your own {name}."), False
    if not isinstance(student_fn, types.FunctionType) and not is_numpy_function(student_fn):
        return (f"give the check a function you wrote yourself with def; it got {describe_value(student_fn)}, "
                "which the checks refuse (a wrapper can hide the module's answer)."), False
    reordered = parameter_order_problem(student_fn, check)
    if reordered:
        return reordered, False
    answers = MODULE_ANSWERS.get(name, ())
    calls = []
    try:
        checks = check(watched(student_fn, answers, calls), *args, **kwargs)
    except Exception as error:
        return setup_failure(error), False
    problem = first_problem(checks, BROADCAST_HINTS.get(name, broadcast_hint),
                            MATMUL_HINTS.get(name, matmul_hint), ERROR_HINTS.get(name, lambda error, message: ""))
    if calls:
        return (f"it calls mnist_ann.{calls[0]}, the module's own answer, which earns nothing: write the body "
                "yourself (your own functions from the exercises above may be called)."), False
    borrowed = own_code_problem(student_fn, answers) if isinstance(student_fn, types.FunctionType) else None
    if borrowed:
        return borrowed, False
    if problem:
        return with_code_smell(problem, student_fn, name), False
    return f"all {len(checks)} checks passed.", True


def graded(check):
    """Make a check_* function out of check(student_fn, ...), which returns its list of (label, check) pairs.

    The result prints one sentence, `name: ...`, and returns True or False. It never raises.
    """
    name = check.__name__.removeprefix("check_")

    @functools.wraps(check)
    def run(student_fn, *args, **kwargs):
        try:
            sentence, passed = verdict(name, student_fn, check, *args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: B036 (a check must never raise)
            sentence, passed = setup_failure(error), False
        print(f"{name}: {sentence}")
        return passed
    return run


# ---- Exercise 1: softmax and cross-entropy -----------------------------------------------------------

LABELS = np.array([0, 2, 1, 2, 0])  # a batch of B = 5 with C = 3 classes: no two sizes alike
HAND_LOGITS = np.log([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])  # P = [[1/3, 1/3, 1/3], [1/6, 1/3, 1/2]]
HAND_LABELS = np.array([0, 2])  # true-class probabilities 1/3 and 1/2
LARGE_LOGITS = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
LARGE_LABELS = np.array([1, 0])  # the true classes have the smallest logits: the loss is 2000
# Large logits close together, one batch of one row each: a cap (a clip) or a shift by anything but the row's
# maximum (its largest size, say) shows here, while every correct shift passes.
CLOSE_LARGE_LOGITS = (np.array([[1000.0, 1001.0, 999.0]]), np.array([[-1000.0, -1001.0, -999.0]]))
CLOSE_LARGE_LABELS = np.array([0])
# One batch whose rows have maxima far apart (1000, 2, -999): a shift by the batch's largest logit, or by one
# row's, leaves exp(-2000) = 0 in the rows far below it, while a shift by each row's own maximum is exact.
SPREAD_LOGITS = np.array([[1000.0, 999.0, 998.0], [0.0, 1.0, 2.0], [-1000.0, -1001.0, -999.0]])
SPREAD_LABELS = np.array([0, 2, 1])
# Nothing overflows here, but the true class's probability, e^-800, underflows to 0: log(P) is -inf.
UNDERFLOW_LOGITS, UNDERFLOW_LABELS = np.array([[0.0, -800.0, 0.0]]), np.array([1])


def large_logits_problem(got, expected, what):
    """None if got is right at logits of ±1000; else name the overflow (nan) or the log(0) (inf)."""
    if same(got, expected):
        return None
    if np.any(np.isnan(got)):
        if what == "the loss":
            return ("the loss is nan at logits of ±1000: either exp(1000) overflows to inf (inf / inf is nan: "
                    "subtract each row's maximum before exp), or a one-hot Y multiplies log P, where a probability "
                    "of 0 gives 0 * log(0) = 0 * -inf = nan: take the true class's entry alone, "
                    "-log_P[np.arange(B), y], from log P computed as shifted - log(sum(exp(shifted))).")
        return (f"{what} is nan at logits of ±1000: exp(1000) overflows to inf, and inf / inf is nan. "
                "Subtract each row's maximum from the logits before exp; that leaves P unchanged.")
    if np.any(np.isinf(got)):
        return (f"{what} is infinite at logits of ±1000: a probability underflows to 0, and log(0) is -inf. "
                "Compute log P directly, as shifted - log(sum(exp(shifted))), not as log(softmax(...)).")
    return f"{what} is wrong at logits of ±1000: {show(got)} instead of {show(expected)}."


def softmax_mistakes(logits):
    """(wrong P, sentence) pairs for the usual softmax mistakes, each with every shift a student might use."""
    row_max, column_max = logits.max(axis=1, keepdims=True), logits.max(axis=0, keepdims=True)
    flipped = np.exp(-(logits - logits.min(axis=1, keepdims=True)))
    mistakes = [*[(softmax(factor * logits), f"it is the softmax of {factor} * logits, a factor inside the "
                                              "exponent: P = exp(Z - m) / sum(exp(Z - m)), Z itself.")
                  for factor in (2, 0.5)],
                (flipped / flipped.sum(axis=1, keepdims=True),
                 "it takes exp(-logits): softmax is exp(logits) / sum(exp(logits)), the larger logit the larger "
                 "probability (shift by the row's maximum, logits - max, to keep exp from overflowing)."),
                (np.exp(logits - column_max) / np.exp(logits - column_max).sum(axis=1, keepdims=True),
                 "the max shift is taken down each column (axis=0), which changes P; subtract each row's own "
                 "maximum, logits.max(axis=1, keepdims=True).")]
    for shift in (0.0, row_max, column_max, logits.max()):
        exps = np.exp(logits - shift)
        mistakes += [
            (exps / exps.sum(axis=0, keepdims=True), "P is normalised down each column (axis=0, over the "
                                                     "examples); normalise along each row instead, with a sum "
                                                     "over axis=1."),
            (exps / exps.sum(), "P is divided by the sum over the whole batch; divide each row by its own sum "
                                "(axis=1)."),
            (exps, "P is exp(logits) without the division: divide each row by its sum."),
        ]
    return mistakes


def probabilities_pattern(P, expected):
    """pattern_of, first saying so when P's rows are not probabilities."""
    try:
        sums = np.asarray(P, dtype=float).sum(axis=1)
    except (TypeError, ValueError, np.exceptions.AxisError):
        return ""
    if same(P, np.log(expected)):
        return ": it returns log P, the log-softmax: softmax returns P itself, exp(shifted) / its row's sum"
    ratios = np.asarray(P, dtype=float) / expected
    if np.shape(P) == np.shape(expected) and np.allclose(ratios, ratios[:, :1]) and not np.allclose(ratios, 1):
        return (": each row is a constant multiple of the right one: the row maximum is subtracted in the "
                "numerator or in the denominator but not in both; shift once, then exps / exps.sum(axis=1, "
                "keepdims=True)")
    if np.shape(P) == np.shape(expected) and not np.allclose(sums, 1):
        return (": its rows do not sum to 1, so they are not probabilities: divide each row's exps by that row's "
                "own sum (a function applied entry by entry, like the sigmoid, never makes a row sum to 1)")
    return pattern_of(P, expected)


def softmax_example_problem(softmax_fn):
    P = softmax_fn(HAND_LOGITS.copy())
    if same(P, softmax(HAND_LOGITS)):
        return None
    return first_mistake(P, softmax_mistakes(HAND_LOGITS)) or (
        f"for logits log([[1, 1, 1], [1, 2, 3]]) P should be [[1/3, 1/3, 1/3], [1/6, 1/3, 1/2]]; "
        f"yours is {show(P)}{probabilities_pattern(P, softmax(HAND_LOGITS))}.")


def batch_of_one_problem(got, expected, what):
    """None if got has expected's shape; else say that a batch of one row keeps its batch axis."""
    if np.shape(got) == np.shape(expected):
        return None
    if np.shape(got) == np.shape(expected)[1:]:
        return (f"for a batch of one row, {what} has shape {np.shape(got)}, not {np.shape(expected)}: the batch "
                "axis is lost (a squeeze, an [0], or a sum without keepdims=True); keep one row per example.")
    return shape_problem(got, np.shape(expected), what)


def one_row_problem(results, expected, names):
    """None if each result, for a batch of one row, has its expected shape and values; else which and how."""
    results = list(results) if isinstance(results, tuple) else [results]
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    for got, right, name in zip(results, expected, names):
        problem = batch_of_one_problem(got, right, name)
        if problem:
            return problem
        if not same(got, right):
            return (f"for a batch of one row, {name} is wrong, though it is right for a batch of 5: a case written "
                    "for B = 1, or an axis lost and broadcast back? The same code must serve every batch size.")
    return None


def close_large_logits_problem(student_fn, reference_fn, what, *labels):
    """None if student_fn matches reference_fn on rows of large logits close together (see CLOSE_LARGE_LOGITS)."""
    for logits in CLOSE_LARGE_LOGITS:
        got, expected = student_fn(logits.copy(), *[label.copy() for label in labels]), reference_fn(logits, *labels)
        problem = batch_of_one_problem(got, expected, what)
        if problem:
            return problem
        if not same(got, expected):
            return (f"for the logits {show(logits)}, {what} should be {show(expected)}, not {show(got)}: subtract "
                    "each row's own maximum, and do not clip the logits (a cap changes the answer).")
    return None


def spread_maxima_problem(student_fn, reference_fn, what, *labels):
    """None if student_fn is right on a batch whose rows have maxima far apart (see SPREAD_LOGITS)."""
    got = student_fn(SPREAD_LOGITS.copy(), *[label.copy() for label in labels])
    expected = reference_fn(SPREAD_LOGITS, *labels)
    if same(got, expected):
        return None
    problem = shape_problem(got, np.shape(expected), what) if np.ndim(expected) else None
    return problem or (
        f"for one batch whose rows have maxima 1000, 2 and -999, {what} is wrong: each row must be shifted by "
        "its own maximum, logits.max(axis=1, keepdims=True). A shift by the batch's largest logit (a max "
        "without axis=1) or by one row's makes exp underflow to 0 in the rows far below it.")


@graded
def check_softmax(softmax_fn):
    """Check a student's softmax(logits) -> P (B, C); print a diagnosis and return True if it is right."""
    logits = random_arrays((5, 3))[0]
    return [
        ("shape", lambda: shape_problem(softmax_fn(logits.copy()), (5, 3), "P")),
        ("a second call on other logits: the first result kept, the second right", lambda: second_call_problem(
            lambda: softmax_fn(logits.copy()), lambda: softmax_fn(3 * logits), ["the P it returned"],
            softmax(3 * logits), first_expected=softmax(logits))),
        ("floats, not integers", lambda: dtype_problem(lambda dtype: softmax_fn(logits.astype(dtype)), ["P"], True)),
        ("a hand-computable example", lambda: softmax_example_problem(softmax_fn)),
        ("random logits", lambda: first_mistake(softmax_fn(logits.copy()), softmax_mistakes(logits)) or values_problem(
            softmax_fn(logits.copy()), softmax(logits), "P", "mnist_ann.softmax")),
        ("logits of ±1000", lambda: large_logits_problem(softmax_fn(LARGE_LOGITS.copy()), softmax(LARGE_LOGITS), "P")),
        ("large logits close together", lambda: close_large_logits_problem(softmax_fn, softmax, "P")),
        ("rows with maxima far apart", lambda: spread_maxima_problem(softmax_fn, softmax, "P")),
        ("its input is left unchanged", lambda: input_changed_problem(softmax_fn, logits=logits)),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: softmax_fn(logits.astype(dtype)), ["P"])),
    ]


def loss_shape_problem(loss, batch_size):
    if np.shape(loss) == (batch_size,):
        return f"it returns one loss per example (shape ({batch_size},)); the loss is their mean: add .mean()."
    return shape_problem(loss, (), "the loss")


# A second hand example, where the mistakes that agree on the first come apart: P's rows are
# [1/4, 1/2, 1/4], [1/4, 1/4, 1/2] and [1/2, 1/4, 1/4], the true classes' 1/2, 1/4 and 1/2.
HAND_LOGITS_2 = np.log([[1.0, 2.0, 1.0], [1.0, 1.0, 2.0], [4.0, 2.0, 2.0]])
HAND_LABELS_2 = np.array([1, 0, 0])
HAND_EXAMPLES = [(HAND_LOGITS, HAND_LABELS, "logits log([[1, 1, 1], [1, 2, 3]]) and y = [0, 2]",
                  "(log 3 + log 2) / 2 = 0.8959"),
                 (HAND_LOGITS_2, HAND_LABELS_2, "logits log([[1, 2, 1], [1, 1, 2], [4, 2, 2]]) and y = [1, 0, 0]",
                  "(log 2 + log 4 + log 2) / 3 = 0.9242")]


def cross_entropy_mistakes(logits, labels):
    """(wrong loss, sentence) pairs for the usual cross-entropy mistakes on these logits and labels."""
    B, log_P = len(labels), log_softmax(logits)
    picked = log_P[np.arange(B), labels]
    row_max = logits.max(axis=1, keepdims=True)
    unshifted_first_term = logits - (row_max + np.log(np.exp(logits - row_max).sum(axis=1, keepdims=True)))
    column_log_P = logits - np.log(np.exp(logits).sum(axis=0, keepdims=True))
    predicted = logits.argmax(axis=1)
    log_sums = np.log(np.exp(logits - row_max).sum(axis=1))
    column_max = logits.max(axis=0, keepdims=True)
    column_shifted = logits - column_max
    column_shift_log_P = column_shifted - np.log(np.exp(column_shifted).sum(axis=1, keepdims=True))
    batch_log_P = (logits - row_max) - np.log(np.exp(logits - row_max).sum())
    return [
        (-column_shift_log_P[np.arange(B), labels].mean(),
         "it shifts by each column's maximum (max over axis=0), which changes along a row and so changes log P; "
         "subtract each row's maximum, logits.max(axis=1, keepdims=True)."),
        (-batch_log_P[np.arange(B), labels].mean(),
         "the log-sum-exp sums over the whole batch (np.sum with no axis); each row has its own, "
         "np.log(np.exp(Z - m).sum(axis=1, keepdims=True))."),
        (log_sums.mean(), "it is the mean of log(sum(exp(Z - m))) alone, which is also -log P of the predicted "
                          "class (its Z - m is 0): the true class's term is missing or another class is scored. "
                          "log P_y = (Z_y - m) - log(sum(exp(Z - m))) with y the true label, and the loss is the "
                          "mean of -log P_y, log_P[np.arange(B), y]."),
        (-log_P[np.arange(B), predicted].mean(), "it scores the predicted class, argmax of the logits; the loss "
                                                 "takes the true class's log-probability, log_P[np.arange(B), y]."),
        (-log_P[np.arange(B), labels - 1].mean(), "it takes column y - 1, one to the left of the true class: the "
                                                  "labels index the columns from 0, log_P[np.arange(B), y]."),
        (-picked.sum(), "the loss is summed over the batch instead of averaged: divide by B (use .mean())."),
        (picked.mean(), "the loss has the wrong sign: it is -log p of the true class, a positive number."),
        (-picked.sum() / log_P.size, "the loss is averaged over all B×C entries; average over the B examples only."),
        (-log_P[:, labels].mean(), "log_P[:, y] picks a B×B block; pick one entry per row: log_P[np.arange(B), y]."),
        (-np.exp(picked).mean(), "the log is missing: the loss is -log p, not -p."),
        (-column_log_P[np.arange(B), labels].mean(), "log P is normalised down each column (axis=0); the sum "
                                                     "in log-sum-exp runs along each row, axis=1."),
        (-(unshifted_first_term + row_max)[np.arange(B), labels].mean(),
         "the row maximum is subtracted inside the sum but not from the first term: "
         "log P = (Z - m) - log(sum(exp(Z - m)))."),
        (-picked.sum() / logits.shape[1], "the sum is divided by the number of classes C; the loss is the mean over "
                                          "the B examples: divide by B = len(y)."),
        (-log_P.mean(), "it averages -log P over every entry of the batch, every class of every example; the loss "
                        "takes one entry per row, the true class's: -log_P[np.arange(B), y].mean()."),
        (-((logits - row_max) - np.log(np.exp(logits).sum(axis=1, keepdims=True)))[np.arange(B), labels].mean(),
         "the row maximum is subtracted from the first term but not inside the sum: log P = (Z - m) - "
         "log(sum(exp(Z - m))), the same m in both places."),
        (-picked[1:].mean(), "the first example is left out (a range or slice starting at 1): average over all "
                             "B examples."),
        (-picked[:-1].mean(), "the last example is left out (a range or slice that stops one short): average over "
                              "all B examples."),
        (-picked[1:].sum() / B, "the first example is left out of the sum (a range or slice starting at 1): "
                                "sum over all B examples, then divide by B."),
        (-picked[:-1].sum() / B, "the last example is left out of the sum (a range or slice that stops one "
                                 "short): sum over all B examples, then divide by B."),
    ]


def cross_entropy_example_problem(cross_entropy_fn):
    """On two hand examples: a mistake is named only if it explains both (two mistakes may agree on one)."""
    losses = [cross_entropy_fn(logits.copy(), labels.copy()) for logits, labels, _, _ in HAND_EXAMPLES]
    wrong = [not same(loss, -log_softmax(logits)[np.arange(len(labels)), labels].mean())
             for loss, (logits, labels, _, _) in zip(losses, HAND_EXAMPLES)]
    if not any(wrong):
        return None
    mistakes = [cross_entropy_mistakes(logits, labels) for logits, labels, _, _ in HAND_EXAMPLES]
    for pairs in zip(*mistakes):
        if all(same(loss, value) for loss, (value, _) in zip(losses, pairs)):
            return pairs[0][1]
    index = wrong.index(True)
    _, _, given, answer = HAND_EXAMPLES[index]
    named = first_mistake(losses[index], mistakes[index])
    return named or (f"for {given} the loss is {answer}; yours is {float(losses[index]):.4f}"
                     f"{pattern_of(losses[index], cross_entropy(*HAND_EXAMPLES[index][:2]))}.")


def cross_entropy_large_logits_problem(cross_entropy_fn):
    """At logits of ±1000: an inf from log(softmax) and an inf from an unshifted log-sum-exp need different fixes."""
    loss = cross_entropy_fn(LARGE_LOGITS.copy(), LARGE_LABELS.copy())
    expected = cross_entropy(LARGE_LOGITS, LARGE_LABELS)
    if same(loss, expected) or np.isnan(loss):
        return large_logits_problem(loss, expected, "the loss")
    if np.isfinite(loss) and loss < expected:
        return (f"the loss at logits of ±1000 is {float(loss):.4g}, not {float(expected):.4g}: a small number added "
                "inside the log, or a clip, caps it. Compute log P by log-sum-exp instead, which never takes log(0).")
    if np.isfinite(loss):
        return large_logits_problem(loss, expected, "the loss")
    if np.isinf(cross_entropy_fn(UNDERFLOW_LOGITS.copy(), UNDERFLOW_LABELS)):
        return large_logits_problem(loss, expected, "the loss")  # log(0) even where nothing overflows
    return ("the loss is infinite at logits of ±1000: log(sum(exp(Z))) overflows, because exp(1000) is inf. "
            "Subtract each row's maximum m first: log P = (Z - m) - log(sum(exp(Z - m))).")


def large_batch_problem(cross_entropy_fn):
    """None if the loss is right for a batch of 300, more than a uint8 index (or a fixed batch size) holds."""
    logits, y = random_arrays((300, 3))[0], np.arange(300) % 3
    loss = cross_entropy_fn(logits.copy(), y.copy())
    if same(loss, cross_entropy(logits, y)):
        return None
    return (f"for a batch of 300 examples the loss is {float(loss):.4f}, not {cross_entropy(logits, y):.4f}: a "
            "size written in the code, or an index array of a small integer type (np.arange(B, dtype=np.uint8) "
            "wraps at 256): np.arange(B), with B = len(y).")


@graded
def check_cross_entropy(cross_entropy_fn):
    """Check a student's cross_entropy(logits, y) -> mean loss; print a diagnosis and return True if it is right."""
    logits, y = random_arrays((5, 3))[0], LABELS
    return [
        ("one number", lambda: loss_shape_problem(cross_entropy_fn(logits.copy(), y.copy()), len(y))),
        ("a hand-computable example", lambda: cross_entropy_example_problem(cross_entropy_fn)),
        ("random logits", lambda: values_problem(cross_entropy_fn(logits.copy(), y.copy()), cross_entropy(logits, y),
                                                 "the loss", "mnist_ann.cross_entropy")),
        ("logits of ±1000", lambda: cross_entropy_large_logits_problem(cross_entropy_fn)),
        ("large logits close together", lambda: close_large_logits_problem(
            cross_entropy_fn, cross_entropy, "the loss", CLOSE_LARGE_LABELS)),
        ("rows with maxima far apart", lambda: spread_maxima_problem(
            cross_entropy_fn, cross_entropy, "the loss", SPREAD_LABELS)),
        ("its inputs are left unchanged", lambda: input_changed_problem(cross_entropy_fn, logits=logits, y=y)),
        ("a batch of 300", lambda: large_batch_problem(cross_entropy_fn)),
        ("a second call, other logits and the same labels", lambda: second_call_problem(
            lambda: cross_entropy_fn(logits.copy(), y.copy()), lambda: cross_entropy_fn(-2 * logits, y.copy()),
            ["the loss it returned"], cross_entropy(-2 * logits, y))),
    ]


def cross_entropy_grad_example_problem(cross_entropy_grad_fn):
    dlogits = cross_entropy_grad_fn(HAND_LOGITS.copy(), HAND_LABELS.copy())
    P, Y = softmax(HAND_LOGITS), one_hot(HAND_LABELS, 3)
    return first_mistake(dlogits, [
        (P / 2, "the one-hot labels are not subtracted: dlogits = (P - Y) / B."),
        ((P - Y) / 3, "it divides by the number of classes C = 3; divide by the batch size B = 2."),
        ((P - Y.max(axis=0)) / 2, "P[:, y] -= 1 subtracts 1 from whole columns; subtract it once per row, "
                                  "with P[np.arange(B), y] -= 1."),
        (P - Y / 2, "only Y is divided by B: divide the whole difference, (P - Y) / B."),
        (P / 2 - Y, "only P is divided by B: divide the whole difference, (P - Y) / B."),
        (-Y / 2, "P is missing: dlogits = (P - Y) / B, the probabilities minus the one-hot labels."),
        (-Y * (1 - P) / 2, "it keeps only the diagonal of softmax's Jacobian, P * (1 - P): the off-diagonal terms, "
                           "-P_i * P_j, count too, and together they give dlogits = (P - Y) / B."),
        ((P - 1) / 2, "it subtracts 1 from every entry of P; subtract Y, the one-hot labels: 1 at the true class "
                      "only, P[np.arange(B), y] -= 1."),
        (-Y / np.where(Y > 0, P, 1) / 2, "this is the gradient with respect to P, -Y / P / B; the exercise asks for "
                                         "the gradient with respect to the logits, where softmax's Jacobian turns "
                                         "it into (P - Y) / B."),
    ]) or first_mistake(dlogits, cross_entropy_grad_mistakes(HAND_LOGITS, HAND_LABELS)) or gradient_problem(
        dlogits, (P - Y) / 2, "dlogits", batch_size=2, owns_the_mean=True)


def cross_entropy_grad_mistakes(logits, y):
    """(wrong dlogits, sentence) pairs that random logits tell apart, where the hand example may not."""
    B, C = logits.shape
    P, Y = softmax(logits), one_hot(y, C)
    column_P = np.exp(logits - logits.max(axis=0)) / np.exp(logits - logits.max(axis=0)).sum(axis=0)
    return [(wrong, sentence) for wrong, sentence in [
        ((P - one_hot(P.argmax(axis=1), C)) / B, "it subtracts 1 at the predicted class, the argmax of P; "
                                                 "subtract it at the true label: P[np.arange(B), y] -= 1."),
        ((P - one_hot((y - 1) % C, C)) / B, "it subtracts 1 at column y - 1, one to the left of the true class: "
                                            "labels index the columns from 0, P[np.arange(B), y] -= 1."),
        ((P - Y) * P * (1 - P) / B, "it multiplies by P * (1 - P), a sigmoid's slope: with softmax and "
                                    "cross-entropy together the slopes cancel, and dlogits = (P - Y) / B."),
        ((P - np.eye(B, C)) / B, "it subtracts the identity matrix, np.eye(B, C), which ignores the labels: "
                                 "Y is the one-hot labels, np.eye(C)[y], 1 at column y[i] of row i."),
        (P * (1 - P) / B, "it is P * (1 - P) / B, the slope of each probability on its own logit: the loss's "
                          "gradient with respect to the logits is (P - Y) / B, P minus the one-hot labels."),
        ((P - Y / B) / B, "1/B is applied twice to Y (subtracted as 1/B, then divided by B again): subtract 1 at "
                          "the true class, then divide everything by B once, (P - Y) / B."),
        ((P / B - Y) / B, "1/B is applied twice to P (P divided by B, then everything again): (P - Y) / B, "
                          "divided once."),
        ((column_P - Y) / B, "its softmax normalises each column (axis=0); probabilities sum to 1 along each "
                             "row: exp(Z - m) / exp(Z - m).sum(axis=1, keepdims=True)."),
    ] if not same(wrong, (P - Y) / B)]  # on some logits a mistake gives the right answer


@graded
def check_cross_entropy_grad(cross_entropy_grad_fn):
    """Check a student's cross_entropy_grad(logits, y) -> dlogits (B, C); print a diagnosis, True if right."""
    logits, y = random_arrays((5, 3))[0], LABELS
    numeric = numerical_gradient(lambda Z: cross_entropy(Z, y), logits.copy())
    large = cross_entropy_grad(LARGE_LOGITS, LARGE_LABELS)
    return [
        ("shape", lambda: shape_problem(cross_entropy_grad_fn(logits.copy(), y.copy()), (5, 3), "dlogits")),
        ("a second call on other logits: the first result kept, the second right", lambda: second_call_problem(
            lambda: cross_entropy_grad_fn(logits.copy(), y.copy()), lambda: cross_entropy_grad_fn(3 * logits, y.copy()),
            ["the dlogits it returned"], cross_entropy_grad(3 * logits, y), first_expected=cross_entropy_grad(logits, y))),
        ("a hand-computable example", lambda: cross_entropy_grad_example_problem(cross_entropy_grad_fn)),
        ("against numerical_gradient", lambda: first_mistake(
            cross_entropy_grad_fn(logits.copy(), y.copy()), cross_entropy_grad_mistakes(logits, y))
         or gradient_problem(cross_entropy_grad_fn(logits.copy(), y.copy()), numeric, "dlogits", len(y),
                             owns_the_mean=True)),
        ("logits of ±1000", lambda: large_logits_problem(
            cross_entropy_grad_fn(LARGE_LOGITS.copy(), LARGE_LABELS.copy()), large, "dlogits")),
        ("large logits close together", lambda: close_large_logits_problem(
            cross_entropy_grad_fn, cross_entropy_grad, "dlogits", CLOSE_LARGE_LABELS)),
        ("rows with maxima far apart", lambda: spread_maxima_problem(
            cross_entropy_grad_fn, cross_entropy_grad, "dlogits", SPREAD_LABELS)),
        ("its inputs are left unchanged", lambda: input_changed_problem(cross_entropy_grad_fn, logits=logits, y=y)),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: cross_entropy_grad_fn(logits.astype(dtype), y.copy()), ["dlogits"])),
    ]


# ---- Exercise 2: backpropagation ---------------------------------------------------------------------

def linear_shapes_problem(result, batch_size, n_in, n_out):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return f"it should return three arrays, dX, dW, db; it returns {describe_value(result)}."
    dX, dW, db = result
    if np.shape(dX) == (n_in, n_out) and np.shape(dW) == (batch_size, n_in):
        return "dX and dW come back swapped: return them in the order dX, dW, db."
    if np.shape(dX) == (n_in, n_out) and np.shape(dW) == (n_in, n_out):
        return ("dX has dW's shape, (in, out): it is computed as X.T @ dZ, dW's formula (a line copied?); "
                "dX = dZ @ W.T, shaped like X.")
    shapes, right = [np.shape(value) for value in result], [(batch_size, n_in), (n_in, n_out), (n_out,)]
    if sorted(shapes) == sorted(right) and shapes != right:
        return "the three come back in another order: return them in the order dX, dW, db."
    return (shape_problem(dX, (batch_size, n_in), "dX (shaped like X)")
            or shape_problem(dW, (n_in, n_out), "dW (shaped like W)")
            or shape_problem(db, (n_out,), "db (shaped like b)", batch_size=batch_size))


LINEAR_GRADIENTS = {"dX": "dX = dZ @ W.T, with no factor of X", "dW": "dW = X.T @ dZ, with no factor of W",
                    "db": "db = dZ.sum(axis=0), a sum of dZ alone"}


def formula_reminder(problem, name):
    """When a sentence names no cause, the formula that the gradient name must follow."""
    return f" The chain rule gives {LINEAR_GRADIENTS[name]}." if "central-difference" in problem else ""


def linear_backward_example_problem(linear_backward_fn):
    # db = 6 is neither the mean (2) nor a single row (1 or 5) of dZ, so each of those mistakes shows as itself.
    dZ, W = np.array([[1.0], [0.0], [5.0]]), np.array([[1.0], [-1.0]])
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    expected = {"dX": np.array([[1.0, -1.0], [0.0, 0.0], [5.0, -5.0]]), "dW": np.array([[26.0], [32.0]]),
                "db": np.array([6.0])}
    for (name, right), got in zip(expected.items(), linear_backward_fn(dZ.copy(), X.copy(), W.copy())):
        if name == "db" and any(same(got, row) for row in dZ):
            return ("db is one row of dZ, one example's gradient: each bias touches every example, so db sums dZ "
                    "over the batch, dZ.sum(axis=0).")
        problem = gradient_problem(got, right, name, batch_size=3)
        if problem:
            return (f"for X = [[1, 2], [3, 4], [5, 6]], W = [[1], [-1]] and dZ = [[1], [0], [5]], {name} should "
                    f"be {show(right)}, not {show(got)}. {problem}{formula_reminder(problem, name)}")
    return None


def linear_gradients_problem(result, dZ, X, W, b):
    """Compare dX, dW, db with central differences of L = sum(dZ * (X @ W + b)), whose gradient in Z is dZ."""
    def loss(_):  # numerical_gradient nudges X, W or b in place, one entry at a time
        return np.sum(dZ * linear_forward(X, W, b))

    for name, got, array in zip(("dX", "dW", "db"), result, (X, W, b)):
        problem = gradient_problem(got, numerical_gradient(loss, array), name, batch_size=len(X))
        if problem:
            return problem + formula_reminder(problem, name)
    return None


@graded
def check_linear_backward(linear_backward_fn):
    """Check a student's linear_backward(dZ, X, W) -> dX, dW, db; print a diagnosis, True if right."""
    dZ, X, W, b = random_arrays((5, 3), (5, 4), (4, 3), (3,))
    return [
        ("three arrays of the right shapes", lambda: linear_shapes_problem(
            linear_backward_fn(dZ.copy(), X.copy(), W.copy()), batch_size=5, n_in=4, n_out=3)),
        ("a second call on other inputs: the first results kept, the second right", lambda: second_call_problem(
            lambda: linear_backward_fn(dZ.copy(), X.copy(), W.copy()),
            lambda: linear_backward_fn(-2 * dZ, X[::-1].copy(), 3 * W), ["the dX", "the dW", "the db"],
            (-2 * dZ @ (3 * W).T, X[::-1].T @ (-2 * dZ), (-2 * dZ).sum(axis=0)),
            first_expected=(dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)))),
        ("a hand-computable example", lambda: linear_backward_example_problem(linear_backward_fn)),
        ("against numerical_gradient", lambda: linear_gradients_problem(
            linear_backward_fn(dZ.copy(), X.copy(), W.copy()), dZ, X, W, b)),
        ("its inputs are left unchanged", lambda: input_changed_problem(linear_backward_fn, dZ=dZ, X=X, W=W)),
        ("a batch of one row", lambda: one_row_problem(
            linear_backward_fn(dZ[:1].copy(), X[:1].copy(), W.copy()),
            (dZ[:1] @ W.T, X[:1].T @ dZ[:1], dZ[:1].sum(axis=0)), ["dX", "dW", "db"])),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(lambda dtype: linear_backward_fn(
            dZ.astype(dtype), X.astype(dtype), W.astype(dtype)), ["dX", "dW", "db"])),
    ]


def sigmoid_slope(Z):
    s = 1 / (1 + np.exp(-Z))
    return s * (1 - s)


def relu_regions(Z):
    """Where relu's entries differ, for pattern_of: its two pieces, and the kink at 0."""
    return [(Z < 0, "where Z < 0 are wrong: there relu is flat, so its output is 0 and the gradient stops"),
            (Z == 0, "where Z = 0 are wrong: relu's slope there is 0 by our convention, so compare Z > 0, not "
                     "Z >= 0"),
            (Z > 0, "where Z > 0 are wrong: there relu is the identity, so it passes its input (or the gradient) "
                    "through unchanged"),
            (Z <= 0, "where Z <= 0 are wrong: there relu is flat, so its output is 0 and the gradient stops")]


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
        (dA * (Z[0] > 0), "the mask comes from the first row, Z[0], for every example: each entry takes its "
                          "own Z, dZ = dA * (Z > 0)."),
        (dA * (Z[:, :1] > 0), "whole rows are kept or zeroed by their first entry, Z[:, 0]: each entry takes "
                              "its own Z, dZ = dA * (Z > 0)."),
        (dA * Z, "it multiplies dA by Z; multiply by relu's slope instead, the mask (Z > 0)."),
        (dA * relu(Z), "it multiplies dA by relu(Z); multiply by relu's slope instead, the mask (Z > 0)."),
        (relu(dA), "it applies relu to dA; the gradient passes where Z > 0, whatever dA's sign: dA * (Z > 0)."),
        (dA, "dA passes unchanged: zero it where Z <= 0, dZ = dA * (Z > 0)."),
        (-dA * (Z > 0), "dZ has the wrong sign: relu's slope is +1 where Z > 0, so dZ = dA * (Z > 0), no minus."),
        (dA * sigmoid_slope(Z), "it multiplies dA by the derivative of the sigmoid, s * (1 - s); relu's derivative "
                                "is 1 where Z > 0 and 0 elsewhere: dZ = dA * (Z > 0)."),
        (dA * (1 - np.tanh(Z) ** 2), "it multiplies dA by the derivative of tanh, 1 - tanh(Z)**2; relu's "
                                     "derivative is 1 where Z > 0 and 0 elsewhere: dZ = dA * (Z > 0)."),
        (dA * np.where(Z > 0, 1.0, 0.01), "it uses leaky ReLU's slope (0.01 where Z <= 0); relu's slope there is "
                                          "0: dZ = dA * (Z > 0)."),
        (dA / (1 + np.exp(-Z)), "it multiplies dA by the sigmoid of Z, which is the derivative of softplus; relu's "
                                "derivative is 1 where Z > 0 and 0 elsewhere: dZ = dA * (Z > 0)."),
    ]) or (f"for dA = [[5, -6, 7], [-8, 9, 10]] and Z = [[-2, 0, 3], [1, -1, 2]], dZ should be "
           f"[[0, 0, 7], [-8, 0, 10]]; yours is {show(dZ)}{pattern_of(dZ, dA * (Z > 0), relu_regions(Z))}.")


def tiny_pre_activations_problem(relu_backward_fn):
    """None if the gradient passes wherever Z > 0, however small (no tolerance in the mask)."""
    dA, Z = np.ones((1, 4)), np.array([[1e-7, -1e-7, 3e-12, 0.0]])
    got = relu_backward_fn(dA.copy(), Z.copy())
    if same(got, dA * (Z > 0)):
        return None
    return (f"for Z = [[1e-07, -1e-07, 3e-12, 0]] and dA = 1, dZ should be [[1, 0, 1, 0]], not {show(got)}: relu's "
            "slope is 1 wherever Z > 0, however small; compare with 0 exactly, no tolerance.")


@graded
def check_relu_backward(relu_backward_fn):
    """Check a student's relu_backward(dA, Z) -> dZ (B, H); print a diagnosis and return True if it is right."""
    dA, Z = random_arrays((5, 4), (5, 4))
    numeric = numerical_gradient(lambda Z_: np.sum(dA * relu(Z_)), Z.copy())  # random Z stays clear of the kink
    return [
        ("shape", lambda: shape_problem(relu_backward_fn(dA.copy(), Z.copy()), (5, 4), "dZ")),
        ("a second call on other inputs: the first result kept, the second right", lambda: second_call_problem(
            lambda: relu_backward_fn(dA.copy(), Z.copy()), lambda: relu_backward_fn(-2 * dA, -Z),
            ["the dZ it returned"], -2 * dA * (-Z > 0), first_expected=dA * (Z > 0))),
        ("floats, not integers", lambda: dtype_problem(
            lambda dtype: relu_backward_fn(dA.astype(dtype), Z.astype(dtype)), ["dZ"], True)),
        ("a hand-computable example", lambda: relu_backward_example_problem(relu_backward_fn)),
        ("against numerical_gradient", lambda: gradient_problem(relu_backward_fn(dA.copy(), Z.copy()), numeric,
                                                                "dZ", batch_size=5)),
        ("tiny positive Z", lambda: tiny_pre_activations_problem(relu_backward_fn)),
        ("its inputs are left unchanged", lambda: input_changed_problem(relu_backward_fn, dA=dA, Z=Z)),
        ("a batch of one row", lambda: one_row_problem(
            relu_backward_fn(dA[:1].copy(), Z[:1].copy()), dA[:1] * (Z[:1] > 0), ["dZ"])),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: relu_backward_fn(dA.astype(dtype), Z.astype(dtype)), ["dZ"])),
    ]


def network_case(sizes=(4, 6, 7, 3)):
    """A float64 network 4-6-7-3 with random weights and biases, a batch of 5, its cache and its dlogits."""
    rng, params = np.random.default_rng(0), {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{layer}"] = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((5, 4))
    logits, cache = forward(params, X)
    return params, cache, cross_entropy_grad(logits, LABELS), X


def grads_layout_problem(grads, params):
    if not isinstance(grads, dict):
        return f"it should return a dict of gradients keyed like params; it returns {describe_value(grads)}."
    missing = [name for name in params if name not in grads]
    if missing and all(f"d{name}" in grads for name in missing):
        return (f"grads is keyed {', '.join(f'd{name}' for name in missing)}; key it like params, "
                f"{', '.join(missing)}, so that an optimizer step finds each parameter's gradient.")
    for shift in (-1, 1):
        if missing and {f"{name[0]}{int(name[1:]) + shift}" for name in params} == set(grads):
            return (f"grads is keyed {', '.join(sorted(grads))}: the keys are shifted by {shift} from the layers' "
                    "numbers. Layer l's gradients are grads[f'W{l}'] and grads[f'b{l}'], keyed like params.")
    extra = sorted(str(name) for name in grads if name not in params)
    if missing and extra:
        return (f"grads has no {', '.join(missing)} but has {', '.join(extra)}, which params does not: some "
                "gradients are stored under another name (a layer number one off?); store layer l's as "
                "grads[f'W{l}'] and grads[f'b{l}'], keyed like params.")
    if missing:
        return (f"grads has no {', '.join(missing)}: every W and b of params needs its gradient; does the loop "
                "over layers reach layer 1?")
    for name in params:
        if name[0] == "b" and f"W{name[1:]}" in params and np.shape(grads[name]) == params[f"W{name[1:]}"].shape \
                and np.shape(grads[name]) != params[name].shape:
            return (f"grads['{name}'] has the shape of W{name[1:]}: it holds dW, not db; linear_backward returns "
                    "dX, dW, db in that order, and grads[b] takes the third.")
        found = np.shape(grads[name])
        if name[0] == "W" and found != params[name].shape and found == (params[name].shape[1],) * 2:
            return (f"grads['{name}'] has shape {found}, expected {params[name].shape}: it is Z.T @ dZ, from the "
                    "layer's output Z; dW = A.T @ dZ takes the layer's input A, cache[l - 1][0].")
        if name[0] == "W" and len(found) == 2 and found != params[name].shape and found[1] == params[name].shape[1] \
                and any(params[key].shape[0] == found[0] for key in params if key[0] == "W" and key != name):
            return (f"grads['{name}'] has shape {found}, expected {params[name].shape}: dW = A.T @ dZ takes this "
                    "layer's own input, cache[l - 1][0]; an input of another width is another layer's.")
        other = next((key for key in params if key != name and params[key].shape == found
                      and found != params[name].shape), None)
        if other:
            return (f"grads['{name}'] has the shape of {other}, {found}: the gradients are stored under another "
                    "layer's name (layers walked in one order, named in another?): store layer l's as "
                    "grads[f'W{l}'], grads[f'b{l}'].")
    shapes = (shape_problem(grads[name], params[name].shape, f"grads['{name}']", batch_size=5) for name in params)
    return next(filter(None, shapes), None)


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


def backward_gradients_problem(grads, params, X):
    """Compare each gradient with central differences of the loss, from the last layer back."""
    def loss(_):  # numerical_gradient nudges one parameter in place, one entry at a time
        return cross_entropy(forward(params, X)[0], LABELS)

    right = []
    last = f"b{len(params) // 2}"
    logits, _ = forward(params, X)
    dlogits = cross_entropy_grad(logits, LABELS)
    if same(grads.get(last), dlogits[0]):
        return (f"grads['{last}'] is one row of dZ, dZ[0], not its sum over the batch: db = "
                "dZ.sum(axis=0), in linear_backward.")
    for name in reversed(list(params)):  # bL, WL, ..., b1, W1: the order backpropagation meets them
        problem = gradient_problem(grads[name], numerical_gradient(loss, params[name]), f"grads['{name}']", len(X))
        if problem:
            return f"{problem} {where_backward_goes_wrong(name, right)}"
        right.append(name)
    return None


def smaller_network_case():
    """The network of network_case without its middle layer: 4-6-3, the same batch and labels."""
    params, _, _, X = network_case()
    params = {"W1": params["W1"], "b1": params["b1"], "W2": params["W3"][:6], "b2": params["b3"]}
    logits, cache = forward(params, X)
    return params, cache, cross_entropy_grad(logits, LABELS), X


def side_effects_problem(backward_fn):
    """None if backward leaves params and the cache as they were and returns a new dict each time."""
    params, cache, dlogits, _ = network_case()
    before = (copy_params(params), [tuple(array.copy() for array in pair) for pair in cache])
    grads = backward_fn(params, cache, dlogits)
    if grads is params:
        return "it returns params itself, filled with gradients: make a new dict, grads = {}, and return that."
    if not all(np.array_equal(params[name], before[0][name]) for name in params):
        return "it changes params' arrays: backward computes gradients and must leave the weights as they were."
    if not all(np.array_equal(a, b) for pair, old in zip(cache, before[1]) for a, b in zip(pair, old)):
        return ("it changes the arrays in the cache (with *=, or [...] =): compute new arrays, because the cache "
                "is the forward pass's record and may be used again.")
    smaller = backward_fn(*smaller_network_case()[:3])
    if smaller is grads or set(smaller) != {"W1", "b1", "W2", "b2"}:
        return ("a 2-layer network got gradients for " + ", ".join(sorted(smaller)) + ": make a new dict at every "
                "call (grads = {} inside the function), not one shared between calls.")
    return None


class RecordingDict(dict):
    """A dict that notes each key read from it, so that a check sees in which order backward visits the layers."""

    def __init__(self, data, record):
        super().__init__(data)
        self.record = record

    def __getitem__(self, key):
        self.record.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.record.append(key)
        return super().get(key, default)


class RecordingList(list):
    """A list that notes each index read from it (negative indices counted from the end)."""

    def __init__(self, data, record):
        super().__init__(data)
        self.record = record

    def __getitem__(self, index):
        if isinstance(index, int):
            self.record.append(index % len(self) if -len(self) <= index < len(self) else index)
        return super().__getitem__(index)


def walk_hint(keys, indices, n_layers):
    """What the parameters and cache entries backward read say about its walk through the layers, or None."""
    layers = [int(key[1:]) for key in keys if isinstance(key, str) and key[:1] == "W" and key[1:].isdigit()]
    entries = [index for index in indices if isinstance(index, int)]
    numbering = (f"layers are numbered from 1: W1, b1, ..., W{n_layers}, b{n_layers}, and layer l's input "
                 "and Z are cache[l - 1].")
    fixed = ("the number of layers is fixed in the code. Take it from params, L = len(params) // 2, so that "
             "backward works at any depth.")
    if 0 in layers or "b0" in keys:
        return f"It reads W0 or b0, but {numbering}"
    if len(layers) >= 2 and len(set(layers)) == 1 and n_layers > 1:
        return (f"It reads W{layers[0]} again and again: the layer number does not change from one pass of the "
                "loop to the next (a while loop without l -= 1?). Walk l = L, L - 1, ..., 1: for l in range(L, 0, -1).")
    if layers and entries and layers[0] == entries[0] < n_layers:
        return (f"It reads cache[{entries[0]}] with W{layers[0]}, but layer {entries[0] + 1}, whose input and Z "
                f"are cache[{entries[0]}], has the weights W{entries[0] + 1}: the index of W is one short (layers "
                f"counted from 0, or W of the layer below). {numbering[0].upper()}{numbering[1:]}")
    if any(layer > n_layers for layer in layers):
        return f"It reads W{max(layers)} of a network of {n_layers} layers: {fixed}"
    if len(layers) >= 1 and layers[0] == 1 and n_layers > 1:
        return (f"It walks the layers forward, from layer 1: backpropagation starts at the last layer, "
                f"W{n_layers}, whose dZ is dlogits, and goes back: for l in range(L, 0, -1).")
    if layers and max(layers) < n_layers:
        return (f"It never reads W{n_layers}, the last of {n_layers} layers: the walk starts one below it "
                "(range(L - 1, 0, -1)?), or the number of layers is fixed in the code. Start at the last layer, "
                "for l in range(L, 0, -1), with L = len(params) // 2.")
    if any(index >= n_layers for index in entries):
        return (f"It reads cache[{max(entries)}], but cache holds one entry per layer, cache[0] to "
                f"cache[{n_layers - 1}]: layer l's input and Z are cache[l - 1]. The number of layers is "
                "L = len(params) // 2 (params holds a W and a b per layer).")
    return None


def backward_walk_problem(backward_fn):
    """Run backward on params and a cache that note what is read: an error or wrong gradients are explained by
    the walk through the layers when it is wrong (layers counted from 0, walked forward, a fixed depth)."""
    params, cache, dlogits, X = network_case()
    keys, indices = [], []
    try:
        grads = backward_fn(RecordingDict(params, keys), RecordingList(cache, indices), dlogits)
    except Exception as error:  # noqa: BLE001 (explained by the walk if it can be; else described as any error)
        hint = walk_hint(keys, indices, len(params) // 2)
        if hint:
            return describe_error(error, explain_broadcast=lambda message, line="": "",
                                  explain_matmul=lambda message: "") \
                + " " + hint
        raise
    if isinstance(grads, dict) and grads_layout_problem(grads, params) is None \
            and backward_gradients_problem(grads, params, X) is None:
        return None
    return walk_hint(keys, indices, len(params) // 2)


def reference_backward(params, cache, dlogits, slope_at_zero=0.0):
    """The gradients of every parameter, as backpropagation derives them, with relu's slope 0 at Z = 0."""
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A_in = cache[layer - 1][0]
        grads[f"W{layer}"], grads[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            Z = cache[layer - 2][1]
            dZ = (dZ @ params[f"W{layer}"].T) * np.where(Z == 0, slope_at_zero, Z > 0)
    return grads


def zero_pre_activations_case(params, X):
    """params with zero biases, and X with an all-zero first row: every hidden Z of that row is exactly 0."""
    params = {name: np.zeros_like(value) if name.startswith("b") else value.copy() for name, value in params.items()}
    X = X.copy()
    X[0] = 0
    return params, X


def zero_pre_activations_problem(grads, params, cache, dlogits, what="grads"):
    """None if grads are right where some Z is exactly 0 (relu's slope there is 0, by our convention)."""
    expected = reference_backward(params, cache, dlogits)
    wrong = [name for name in reversed(list(params)) if not same(grads[name], expected[name])]
    if not wrong:
        return None
    with_slope_1 = reference_backward(params, cache, dlogits, slope_at_zero=1.0)
    if all(same(grads[name], with_slope_1[name]) for name in params):
        return (f"where Z is exactly 0 (zero biases and an all-zero input row give it), {what}['{wrong[0]}'] is "
                "wrong: the gradient passes where Z >= 0, but relu's slope at 0 is 0 by our convention: use "
                "Z > 0.")
    return (f"with zero biases and an all-zero input row, so that Z is exactly 0 in places, {what}['{wrong[0]}'] "
            "differs from backpropagation's: relu's slope is 1 where Z > 0 and 0 elsewhere, Z = 0 included.")


def backward_zeros_problem(backward_fn):
    params, _, _, X = network_case()
    params, X = zero_pre_activations_case(params, X)
    logits, cache = forward(params, X)
    dlogits = cross_entropy_grad(logits, LABELS)
    return zero_pre_activations_problem(backward_fn(params, cache, dlogits), params, cache, dlogits)


def backward_many_layers_problem(backward_fn):
    """None if backward is right for 11 layers, where layer numbers sorted as text come in another order."""
    rng, sizes, params = np.random.default_rng(1), [4, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 3], {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{layer}"] = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((5, 4))
    logits, cache = forward(params, X)
    dlogits = cross_entropy_grad(logits, LABELS)
    try:
        grads = backward_fn(copy_params(params), cache, dlogits)
        if isinstance(grads, dict) and all(same(grads.get(name), value)
                                           for name, value in reference_backward(params, cache, dlogits).items()):
            return None
    except (ValueError, KeyError, IndexError):
        pass
    return ("for a network of 11 layers the gradients are wrong: from layer 10 on, layer numbers sorted as text "
            "come in another order ('10' < '2'), and a depth written in the code stops short. Walk the layers by "
            "number, for l in range(L, 0, -1), with L = len(params) // 2.")


def backward_small_case_problem(backward_fn, sizes, rows, what):
    """None if backward is right for a network of these sizes on a batch of this many rows."""
    params, cache, _, X = network_case(sizes)
    logits, cache = forward(params, X[:rows])
    dlogits = cross_entropy_grad(logits, LABELS[:rows])
    expected = reference_backward(params, cache, dlogits)
    try:
        grads = backward_fn(copy_params(params), cache, dlogits.copy())
    except (IndexError, KeyError, ValueError) as error:
        grads = error
    if isinstance(grads, dict) and all(same(grads.get(name), value) for name, value in expected.items()):
        return None
    if isinstance(grads, Exception):
        found = f"it raises {type(grads).__name__}: {grads}"
    else:
        found = "the gradients are wrong"
    if rows == 1:
        return (f"for {what} {found}: every array keeps its batch axis of size 1 (no squeeze, no [0]), and the "
                "same code serves every batch size.")
    return (f"for {what} {found}: with L = 1 there is no hidden layer and no ReLU to pass back through. Walk "
            "for l in range(L, 0, -1), with L = len(params) // 2, and call relu_backward only if l > 1 (with "
            "L = 1, cache[L - 2] is cache[-1], another layer's entry).")


def same_widths_problem(backward_fn):
    """None if backward is right where two layers' arrays have the same shapes, so a wrong index still fits."""
    params, cache, dlogits, X = network_case((4, 6, 6, 3))
    return backward_gradients_problem(backward_fn(params, cache, dlogits), params, X)


@graded
def check_backward(backward_fn):
    """Check a student's backward(params, cache, dlogits) -> grads, layer by layer; True if it is right."""
    def student_grads():  # a fresh network each time: the student's code cannot spoil the next check
        return backward_fn(*network_case()[:3])

    params, _, dlogits, X = network_case()
    return [
        ("the layers, from the last back to the first", lambda: backward_walk_problem(backward_fn)),
        ("a gradient for every parameter, shaped like it", lambda: grads_layout_problem(student_grads(), params)),
        ("against numerical_gradient, from the last layer back", lambda: backward_gradients_problem(
            student_grads(), params, X)),
        ("dlogits is left unchanged", lambda: input_changed_problem(
            lambda dlogits_: backward_fn(*network_case()[:2], dlogits_), dlogits=dlogits)),
        ("params and the cache left unchanged, a new dict each call", lambda: side_effects_problem(backward_fn)),
        ("Z exactly 0 in places", lambda: backward_zeros_problem(backward_fn)),
        ("two hidden layers of one width, 4-6-6-3", lambda: same_widths_problem(backward_fn)),
        ("a network of 11 layers (W10 and W11 come after W9)", lambda: backward_many_layers_problem(backward_fn)),
        ("a 4-3 network of one layer", lambda: backward_small_case_problem(
            backward_fn, (4, 3), 5, "a network of one layer, 4-3,")),
        ("a batch of one row", lambda: backward_small_case_problem(
            backward_fn, (4, 6, 7, 3), 1, "a batch of one row")),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: backward_fn(*in_dtype(network_case()[:3], dtype)), ["grads"])),
    ]


# ---- Exercise 3: optimizers ----------------------------------------------------------------------------

def optimizer_case():
    """Two float64 parameters, and a gradient for each with entries of both signs and several sizes."""
    params = {"W": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.0, 1.0])}
    grads = {"W": np.array([[2.0, -1.0], [0.5, -4.0]]), "b": np.array([1.0, -3.0])}
    return params, grads


def run_steps(step_fn, grads_sequence, lrs, fresh_state=False, **settings):
    """The params after each call of step_fn(params, grads, state, lr, **settings), from optimizer_case().

    lrs: one learning rate for every step, or one per step, as a schedule gives them.
    """
    params, state, trajectory = optimizer_case()[0], {}, []
    lrs = list(lrs) if isinstance(lrs, (list, tuple)) else [lrs] * len(grads_sequence)
    for grads, lr in zip(grads_sequence, lrs):
        state = step_fn(params, copy_params(grads), {} if fresh_state else state, lr, **settings)
        trajectory.append(copy_params(params))
    return trajectory


def step_in_dtype(step_fn, dtype, lr=0.1, **settings):
    """The params and state after two steps from optimizer_case() in dtype: the state is made, then updated."""
    params, grads = in_dtype(optimizer_case(), dtype)
    state = {}
    for _ in range(2):
        state = step_fn(params, copy_params(grads), state, lr, **settings)
    return params, state


def flatten(trajectory):
    return np.concatenate([np.asarray(params[name], dtype=float).ravel() for params in trajectory for name in params])


def nan_problem(trajectory, grads=None, adam=False):
    """None if no parameter ever became nan or infinite; else say which, when, and (for 0 / 0) why."""
    for step, params in enumerate(trajectory, start=1):
        for name, value in params.items():
            broken = ~np.isfinite(np.asarray(value, dtype=float))
            if not broken.any():
                continue
            if grads is not None and np.all(np.asarray(grads[name])[broken] == 0):
                return (f"params['{name}'] became nan at step {step} where its gradient is 0: there m and v are 0, "
                        "and 0 / 0 is nan. Add eps to the denominator, outside the root: np.sqrt(v_hat) + eps.")
            first = (" At the first step, is t still 0 when the bias corrections divide by 1 - beta ** t, which "
                     "is then 0? Add 1 to t before using it.") if step == 1 and adam and broken.all() else ""
            if adam and not broken.all():
                first = (" Only some entries broke: the square root of a negative v? v is the running mean of "
                         "g ** 2, never negative.")
            return (f"params['{name}'] became nan or infinite at step {step}: a division by zero, or the root of a "
                    f"negative number, in the update.{first}")
    return None


def rebinds(function, name):
    """True if function's own code assigns to the variable name (params = {...}), as its bytecode shows."""
    code = getattr(unwrapped(function), "__code__", None)
    return code is not None and any(instruction.opname in ("STORE_FAST", "STORE_DEREF", "STORE_NAME")
                                    and instruction.argval == name for instruction in dis.get_instructions(code))


def params_unchanged_sentence(step_fn, name):
    """Why no parameter changed: params bound to a new dict, or a local name bound to a new array."""
    if rebinds(step_fn, "params"):
        return (f"params['{name}'] did not change: update every parameter of the caller's dict, in place "
                "(a new dict made inside the function is lost when it returns).")
    return (f"params['{name}'] did not change: rebinding a local name (p = p - lr * g) does not change params; "
            "write params[name] -= lr * grads[name].")


def one_parameter_moves(step_fn, lr, **settings):
    """True if one step on four parameters (two weights, two biases) moves exactly one of them."""
    params, grads = layers_case()
    step_fn(params, copy_params(grads), {}, lr, **settings)
    before = layers_case()[0]
    return sum(not np.array_equal(params[name], before[name]) for name in before) == 1


def in_place_problem(step_fn, lr=0.1, **settings):
    """None if two steps change the caller's own arrays in place (momentum's first step may not move them)."""
    params, grads = optimizer_case()
    arrays = dict(params)  # the caller's own arrays
    given = [copy_params(grads), copy_params(grads)]
    state = step_fn(params, given[0], {}, lr, **settings)
    step_fn(params, given[1], state if isinstance(state, dict) else {}, lr, **settings)
    params_moved = any(not np.array_equal(array, optimizer_case()[0][name]) for name, array in arrays.items())
    grads_moved = any(not np.array_equal(now[name], grads[name]) for now in given for name in grads
                      if isinstance(now, dict) and name in now)
    if grads_moved and not params_moved:
        return ("it updates grads, not params: the step changes each parameter, params[name] -= lr * "
                "grads[name], and leaves the gradients as they were.")
    unchanged = [name for name, array in arrays.items() if np.array_equal(array, optimizer_case()[0][name])]
    for name, array in arrays.items():
        if params[name] is not array:
            return (f"params['{name}'] was replaced by a new array; update it in place, params[name] -= ..., "
                    "so that everything holding the weights sees the step.")
    if unchanged and len(unchanged) < len(arrays) and one_parameter_moves(step_fn, lr, **settings):
        return (f"params['{unchanged[0]}'] did not change, and of four parameters, only the first the loop "
                "reaches moves: the step ends after one parameter: is `return` indented inside the loop? Return the "
                "state after the loop, once every parameter is updated.")
    if unchanged and len(unchanged) < len(arrays):
        return (f"params['{unchanged[0]}'] did not change while the others did: update every parameter that "
                "grads holds a gradient for, the biases too.")
    if unchanged:
        return params_unchanged_sentence(step_fn, unchanged[0])
    return None


def same_velocities_problem(step_fn, lr=0.1, **settings):
    """None if a second call updates the velocity arrays the first made, as the statement asks."""
    params, grads = optimizer_case()
    state = step_fn(params, copy_params(grads), {}, lr, **settings)
    first = [array for _, array in named_arrays("state", state)]  # kept alive, so that their ids stay theirs
    state = step_fn(params, copy_params(grads), state, lr, **settings)
    now = {id(array) for _, array in named_arrays("state", state)}
    if first and not any(id(array) in now for array in first):
        return ("each call makes new velocity arrays (state[name] = beta * state[name] + g): the statement asks "
                "later calls to update the same arrays, in place, state[name] *= beta, then state[name] += g, as "
                "the params are updated.")
    return None


def velocity_layout_problem(step_fn, lr=0.1, **settings):
    """None if the first call from an empty state keeps each velocity as state[name], as the statement says."""
    params, grads = optimizer_case()
    state = step_fn(params, copy_params(grads), {}, lr, **settings)
    for name, value in params.items():
        kept = state.get(name) if isinstance(state, dict) else None
        if isinstance(kept, np.ndarray) and kept.shape == value.shape:
            continue
        where = [what for what, _ in named_arrays("state", state)]
        found = f"kept as {', '.join(where[:2])}" if where else "not kept as arrays in state"
        return (f"the velocities are {found}: the statement keeps each parameter's velocity as one array under "
                f"its own name, state[name] = np.zeros_like(params[name]), for instance state[{name!r}].")
    return None


def adam_state_problem(step_fn, lr=0.1, **settings):
    """None if the first step keeps at least two arrays per parameter, m and v, in state."""
    params, grads = optimizer_case()
    state = step_fn(params, copy_params(grads), {}, lr, **settings)
    kept = [array for _, array in named_arrays("state", state)] if isinstance(state, dict) else []
    for name, value in params.items():
        if sum(np.shape(array) == value.shape for array in kept) < 2:
            return (f"state keeps fewer than two arrays shaped like params['{name}']: Adam keeps two per "
                    "parameter, m and v, under different keys (one key for both lets v overwrite m), "
                    "state['m'][name] and state['v'][name], say.")
    return None


def memory_outside_state_problem(step_fn, lr=0.1, **settings):
    """None if two runs from an empty state take the same steps: everything remembered is in state."""
    grads = optimizer_case()[1]
    first, second = (flatten(run_steps(step_fn, [grads] * 3, lr, **settings)) for _ in range(2))
    if np.allclose(first, second, rtol=1e-6, atol=0, equal_nan=True):
        return None
    return ("two runs from an empty state take different steps: it remembers something between calls outside "
            "state (a global, a default argument, an attribute of the function); keep every velocity, mean or "
            "count in the state it is given, and create it when that state is empty.")


def returned_state_problem(step_fn, lr=0.1, keeps_state=False, **settings):
    """None if the step returns a state dict; with keeps_state, the very dict it was given (plain SGD's)."""
    params, grads = optimizer_case()
    given = {}
    state = step_fn(params, grads, given, lr, **settings)
    if state is params:
        return "it returns params; return the state dict, so that the next step continues from it."
    if not isinstance(state, dict):
        return (f"it returns {describe_value(state)}; return the state dict (empty for plain SGD), "
                "so that the next step continues from it and every optimizer is called the same way.")
    if keeps_state and state is not given:
        return ("it returns a new dict, not the state it was given: plain SGD remembers nothing, so return "
                "state as it came.")
    if keeps_state and state:
        return (f"it writes {sorted(state)} into the state: plain SGD remembers nothing, so return state as it "
                "came, empty.")
    if any(key in {id(array) for array in grads.values()} for key in state):
        return ("its state is keyed by id(grads[name]), which is new with every gradient array (and Python gives "
                "an old id to another array later): key it by the parameter's name, state[name].")
    return None


# Four parameters of two shapes, W1 and W2 alike, b1 and b2 alike, so that a gradient paired with the wrong
# parameter still fits; grads keyed last layer first, the order in which loss_and_grads returns them.
PARAMS_ORDER, GRADS_ORDER = ("W1", "b1", "W2", "b2"), ("W2", "b2", "W1", "b1")


def layers_case():
    """Params in layer order, and their gradients keyed last layer first."""
    arrays = random_arrays(*[(2, 2), (2,)] * 4)
    params, grads = dict(zip(PARAMS_ORDER, arrays[:4])), dict(zip(PARAMS_ORDER, arrays[4:]))
    return params, {name: grads[name] for name in GRADS_ORDER}


def params_after_two_steps(step_fn, grads, lr, **settings):
    params, state = layers_case()[0], {}
    for _ in range(2):
        state = step_fn(params, copy_params(grads), state if isinstance(state, dict) else {}, lr, **settings)
    return flatten([params])


def pairing_problem(step_fn, lr=0.1, **settings):
    """None unless each parameter gets the gradient at its own position in grads, not the gradient of its name.

    Paired by position, grads in loss_and_grads' order act as the same gradients keyed in params' order
    by position; any other difference the order makes is left to the checks after this one.
    """
    grads = layers_case()[1]
    by_name = {name: grads[name] for name in PARAMS_ORDER}
    by_position = dict(zip(PARAMS_ORDER, grads.values()))
    got, if_by_position = (params_after_two_steps(step_fn, given, lr, **settings) for given in (grads, by_position))
    if same(got, params_after_two_steps(step_fn, by_name, lr, **settings)) or not same(got, if_by_position):
        return None
    return ("the params change differently when grads holds its keys in another order than params (loss_and_grads "
            "returns them last layer first): it pairs each parameter with a gradient by position. Pair them by "
            "name: for name in params: params[name] -= lr * grads[name].")


def state_arrays(state):
    """The arrays a state holds, also inside the dicts of m and v that Adam keeps."""
    values = state.values() if isinstance(state, dict) else ()
    return [array for value in values for array in (state_arrays(value) if isinstance(value, dict) else [value])]


def gradient_changed_sentence(name, array, state):
    if any(kept is array for kept in state_arrays(state)):
        return (f"grads['{name}'] changed: the state holds the caller's gradient array itself "
                "(state[name] = grads[name]), and updating it in place changes grads too; store a copy, "
                "grads[name].copy().")
    if not np.any(array):
        return (f"it sets the caller's grads['{name}'] to zero: leave grads as they were, a step reads the "
                "gradients and never clears them.")
    return (f"it changes the caller's grads['{name}'] in place (with *=, **= or +=, perhaps through another name, "
            "as after g_sq = g): compute new arrays instead, lr * g or g ** 2, and leave grads as they were.")


def gradients_changed_problem(step_fn, lr=0.1, **settings):
    """None if three steps leave every gradient array the caller passed as it was."""
    params, grads = optimizer_case()
    given, state = [copy_params(grads) for _ in range(3)], {}
    arrays = [dict(grads_now) for grads_now in given]  # the caller's own arrays, even if the step rebinds an entry
    for grads_now in given:
        state = step_fn(params, grads_now, state if isinstance(state, dict) else {}, lr, **settings)
    for own in arrays:
        for name, array in own.items():
            if not np.array_equal(array, grads[name]):
                return gradient_changed_sentence(name, array, state)
    return None


# Learning rates that change from step to step, as a schedule makes them: a form that is right only at a
# constant lr (lr inside the momentum velocity) shows here.
CHANGING_LRS = [0.1, 0.01, 0.001, 0.05]


def changing_gradients():
    arrays = random_arrays(*[(2, 2), (2,)] * 4)
    return [{"W": W, "b": b} for W, b in zip(arrays[::2], arrays[1::2])]


def named_variant(step_fn, variants, **settings):
    """The sentence of the first (variant, sentence) that takes the same steps as step_fn, else None.

    The steps are taken with changing gradients and learning rates, where forms that agree with a
    constant gradient or a constant lr come apart.
    """
    def trajectory(function):
        return flatten(run_steps(function, changing_gradients(), CHANGING_LRS, **settings))

    got = trajectory(step_fn)
    return next((sentence for variant, sentence in variants if same_or_both_nan(got, trajectory(variant))), None)


def same_or_both_nan(got, expected):
    """same(), where nan in the same places counts as equal (a variant that breaks as the student's does)."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6, atol=1e-12, equal_nan=True)


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


def constant_gradient_problem(step_fn, expected, mistakes, unit="g", lr=0.1, variant=lambda: None, **settings):
    """Three steps with one constant gradient g: each should move the params by lr * unit times a multiplier.

    variant: names the student's form, if it is one of the forms the exercise's is confused with.
    """
    grads = optimizer_case()[1]
    trajectory = run_steps(step_fn, [grads] * 3, lr, **settings)
    broken = nan_problem(trajectory, adam="beta1" in settings)
    if broken:
        return variant() or broken
    moved = step_multipliers(trajectory, grads, lr, unit)
    if moved is not None and np.allclose(moved, expected, rtol=1e-4):
        return None
    mistake = next((sentence for wrong, sentence in mistakes
                    if moved is not None and np.allclose(moved, wrong, rtol=1e-3)), None)
    if (not mistake or "learning rate" not in mistake) \
            and not same(flatten(trajectory), flatten([optimizer_case()[0]] * 3)) and same(
            flatten(trajectory), flatten(run_steps(step_fn, [grads] * 3, 5 * lr, **settings))):
        return ("the params take the same steps at lr = 0.1 and at lr = 0.5: it ignores the learning rate it is "
                "given (a fixed number in its place?); use lr.")
    start = optimizer_case()[0]
    if moved is None and all(same(trajectory[0][name], (1 - lr) * start[name]) for name in start):
        return ("each parameter moved by lr times itself: the step takes the gradient, params[name] -= lr * "
                "grads[name] (not lr * params[name]).")
    if moved is None and unit == "sign(g)" and not variant():
        return ("with a constant gradient, the steps depend on the size of each gradient entry: Adam's step is "
                "lr * m_hat / (sqrt(v_hat) + eps), and with v the running mean of g ** 2 (squared, not g or |g|), "
                "m_hat / sqrt(v_hat) = g / |g|, so every entry moves by about lr, whatever its size.")
    if moved is None and not settings:  # plain SGD: is each parameter scaled by a number of its own?
        start = optimizer_case()[0]
        ratios = {name: (start[name] - trajectory[0][name]) / (lr * grads[name]) for name in start}
        for size, how in (("size", "its number of entries, g.size"), ("len", "its number of rows, len(g)")):
            if all(np.allclose(ratio, 1 / (grads[name].size if size == "size" else len(grads[name])))
                   for name, ratio in ratios.items()):
                return (f"each parameter's step is divided by {how}: the gradient already carries the loss's "
                        "1/B, so step by lr * g itself, params[name] -= lr * grads[name].")
        return ("the entries do not each move by lr times their own gradient (some by more, some by less): "
                "params[name] -= lr * grads[name], for each name, entry by entry.")
    found = ("steps that are not one multiple of it for every entry: the entries do not each follow their own "
             "gradient, as if some shared one velocity or mean (one state for all the parameters, or a state made "
             "for some of them only); keep one per parameter, state[name], shaped like it") if moved is None \
        else ", ".join(f"{m:.4g}" for m in moved)
    return variant() or mistake or (f"with a constant gradient g, three steps should move the params by "
                                    f"{', '.join(f'{m:.4g}' for m in expected)} times lr * {unit}; yours give {found}.")


def changing_gradients_problem(step_fn, reference_fn, variants=(), **settings):
    """Four steps with changing gradients and learning rates against the module's own step; names a lost state."""
    sequence = changing_gradients()
    trajectory = run_steps(step_fn, sequence, CHANGING_LRS, **settings)
    got, expected = flatten(trajectory), flatten(run_steps(reference_fn, sequence, CHANGING_LRS, **settings))
    if same(got, expected):
        return None
    if same(got, flatten(run_steps(reference_fn, sequence, CHANGING_LRS, fresh_state=True, **settings))):
        return ("each step starts afresh: the state is lost between calls. Create it only when state is "
                "empty, update it in place, and return it.")
    if settings and same(got, flatten(run_steps(reference_fn, sequence, CHANGING_LRS))):
        return f"it ignores {', '.join(settings)}: use the arguments it is given, not fixed numbers."
    return named_variant(step_fn, variants, **settings) or nan_problem(trajectory) or (
        f"after four steps with changing gradients and learning rates ({', '.join(map(str, CHANGING_LRS))}), "
        f"the params differ from those of "
        f"{getattr(reference_fn, 'reference_name', 'mnist_ann.' + reference_fn.__name__)} "
        f"(relative error {relative_error(got, expected):.1e}).")


def same_shapes_problem(step_fn, reference_fn, what, **settings):
    """None if two parameters of one shape, with different gradients, move as the reference moves them."""
    def run(step):
        params, state = {"W1": np.array([[1.0, -2.0], [0.5, 3.0]]), "W2": np.array([[0.0, 1.0], [-1.0, 2.0]])}, {}
        for lr in (0.1, 0.05, 0.1):
            grads = {"W1": np.array([[2.0, -1.0], [0.5, -4.0]]), "W2": np.array([[-3.0, 0.5], [1.0, 1.0]])}
            state = step(params, grads, state if isinstance(state, dict) else {}, lr, **settings)
        return flatten([params])
    if same(run(step_fn), run(reference_fn)):
        return None
    return (f"two parameters of the same shape, W1 and W2 (2, 2), do not move as they should over three steps: "
            f"do they share one {what}? Keep one per parameter, keyed by its name (state[name]), never by its "
            "shape or position.")


SGD_MISTAKES = [  # multipliers of lr * g over three steps, with lr = 0.1
    ([-1, -1, -1], "the params move up the gradient: subtract the step, params -= lr * g."),
    ([10, 10, 10], "the learning rate is missing: params -= lr * g."),
    ([0.1, 0.1, 0.1], "each step is lr * g times 0.1 (= lr, here): the learning rate is applied twice, or a fixed "
                      "0.01 stands in its place; use the lr it is given, once: params -= lr * g."),
    ([100, 100, 100], "it divides by the learning rate: multiply by it, params -= lr * g."),
    ([0.5, 0.5, 0.5], "each step is half of lr * g: it divides by 2, here len(g) (the gradient already carries "
                      "the loss's 1/B; do not divide again) or a fixed factor: params -= lr * g."),
]

MOMENTUM_MISTAKES = [  # multipliers of lr * g over three steps, with beta = 0.5 and lr = 0.1
    ([-1, -1.5, -1.75], "the params move up the gradient: the momentum update has the wrong sign. "
                        "With v = beta * v + g, the step is params -= lr * v."),
    ([1, 1, 1], "every step moves by lr * g, as plain SGD does: the velocity is not used, or not kept from one "
                "call to the next (create it only when state is empty, and return state)."),
    ([1, 0.5, 0.75], "the old velocity enters with a minus sign: v = beta * v + g."),
    ([1, 1.9, 2.71], "it uses beta = 0.9, not the beta it is given."),
    ([10, 15, 17.5], "the learning rate is missing: the step is params -= lr * v."),
    ([0.1, 0.15, 0.175], "the learning rate is applied twice (in v and again in the step): v = beta * v + g, "
                         "then params -= lr * v."),
    ([100, 150, 175], "it divides by the learning rate: multiply by it, params -= lr * v."),
    ([0.5, 1, 1.5], "beta multiplies the gradient, not the velocity: v = beta * v + g."),
    ([0, 1, 1.5], "the first call does not move the params: it steps with the old velocity and updates it after, "
                  "or returns right after creating the zero velocities. At every call, the first included: update "
                  "v = beta * v + g, then params -= lr * v."),
]


def textbook_momentum(params, grads, state, lr, beta, form="right"):
    """Momentum as the exercise writes it, or in one of the forms it is confused with."""
    if not state:
        state = {name: grad.copy() if form == "starts at g" else np.zeros_like(grad) for name, grad in grads.items()}
    for name, grad in grads.items():
        velocity = state[name]
        state[name] = {"averaging": beta * velocity + (1 - beta) * grad, "beta on both": beta * (velocity + grad),
                       "lr in v": beta * velocity + lr * grad}.get(form, beta * velocity + grad)
        params[name] -= {"nesterov": lr * (beta * state[name] + grad), "lr in v": state[name]}.get(
            form, lr * state[name])
    return state


# Each form, and what to say of it; told apart at beta = 0.7, where (1 - beta) * g and beta * g differ.
MOMENTUM_VARIANT_BETA = 0.7
MOMENTUM_VARIANTS = [
    (functools.partial(textbook_momentum, form="averaging"),
     "v = beta * v + (1 - beta) * g is the averaging form; the exercise's velocity adds the whole gradient: "
     "v = beta * v + g."),
    (functools.partial(textbook_momentum, form="beta on both"),
     "beta multiplies the gradient too, v = beta * (v + g); only the old velocity is scaled: v = beta * v + g."),
    (functools.partial(textbook_momentum, form="starts at g"),
     "the velocity starts at g instead of zeros, so the first gradient counts twice: when state is empty, "
     "create every velocity with np.zeros_like(g)."),
    (functools.partial(textbook_momentum, form="nesterov"),
     "this is Nesterov's momentum, params -= lr * (beta * v + g); here the step is params -= lr * v."),
    (functools.partial(textbook_momentum, form="lr in v"),
     "lr is inside the velocity (v = beta * v + lr * g, then params -= v), which agrees only while lr stays the "
     "same: when a schedule changes lr from step to step, keep lr out of v, v = beta * v + g, params -= lr * v."),
]


def wrong_step_count(counts, beta1, beta2):
    """Multipliers of lr * sign(g) over three steps when the bias corrections use the step counts counts."""
    n = np.arange(1, 4)
    return ((1 - beta1 ** n) / (1 - beta1 ** counts)) / np.sqrt((1 - beta2 ** n) / (1 - beta2 ** counts))


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
        (wrong_step_count(np.ones(3), beta1, beta2), "the bias corrections stay those of step 1: t does not "
                                                     "advance, or they divide by 1 - beta rather than "
                                                     "1 - beta ** t. Keep t in state, add 1 to it at every call, "
                                                     "and divide m by 1 - beta1 ** t, v by 1 - beta2 ** t."),
        (wrong_step_count(t + 1, beta1, beta2), "the step count is one ahead, so the first call corrects with t = 2: "
                                                "start t at 0 and add 1 to it once per call, before using it."),
        (wrong_step_count(2 * t - 1, beta1, beta2), "t advances by 2 at every call (it is incremented twice): add 1 "
                                                    "to it once per call."),
        (np.full(3, np.sqrt(1 - beta2) / (1 - beta1)), "the (1 - beta) factors are missing: m = beta1 * m + "
                                                       "(1 - beta1) * g and v = beta2 * v + (1 - beta2) * g ** 2."),
        (np.full(3, 1 / (1 - beta1)), "the (1 - beta1) factor is missing from m: m = beta1 * m + (1 - beta1) * g."),
        (np.sqrt(m_fix) / v_fix, "v is corrected with beta1, 1 - beta1 ** t: v's correction uses beta2, "
                                 "v_hat = v / (1 - beta2 ** t)."),
        (np.full(3, np.sqrt((1 - beta2) / (1 - beta1))), "v's update uses (1 - beta1): v = beta2 * v + (1 - beta2) "
                                                         "* g ** 2."),
        (np.full(3, np.sqrt(1 - beta2)), "the (1 - beta2) factor is missing from v: v = beta2 * v + (1 - beta2) * "
                                         "g ** 2."),
    ]


def textbook_adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, form="right"):
    """Adam as the exercise writes it, or in a form with one of the usual mistakes: the checks' second opinion."""
    if not state:
        state = {"t": 0, "m": {n: np.zeros_like(g) for n, g in grads.items()},
                 "v": {n: np.zeros_like(g) for n, g in grads.items()}}
    if form != "t per parameter":
        state["t"] += 1
    for name, grad in grads.items():
        if form == "t per parameter":  # t then counts the parameters as well as the calls
            state["t"] += 1
        mean_beta1, mean_beta2 = (beta2, beta1) if form == "betas swapped in the means" else (beta1, beta2)
        fix_beta1, fix_beta2 = (beta2, beta1) if form == "betas swapped in the corrections" else (beta1, beta2)
        state["m"][name] = mean_beta1 * state["m"][name] + (1 - mean_beta1) * grad
        state["v"][name] = mean_beta2 * state["v"][name] + (1 - mean_beta2) * (
            np.abs(grad) if form == "v of |g|" else grad ** 2)
        m_hat = state["m"][name] / (1 - fix_beta1 ** state["t"])
        v_hat = state["v"][name] / (1 - fix_beta2 ** state["t"])
        if form == "corrected means kept":
            state["m"][name], state["v"][name] = m_hat, v_hat
        root = {"eps inside the root": np.sqrt(v_hat + eps), "no root": v_hat + eps}.get(form, np.sqrt(v_hat) + eps)
        params[name] -= lr * m_hat / root
    return state


def adam_with_betas_swapped(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return textbook_adam(params, grads, state, lr, beta2, beta1, eps)


def adam_with_beta1_for_v(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return textbook_adam(params, grads, state, lr, beta1, beta1, eps)


def adam_with_fixed_beta1(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return textbook_adam(params, grads, state, lr, 0.9, beta2, eps)


def adam_with_fixed_beta2(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return textbook_adam(params, grads, state, lr, beta1, 0.999, eps)


def adam_with_product_corrections(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, absolute=False):
    """The bias corrections as 1 - beta * t (v_hat < 0 then: nan, or its absolute value taken)."""
    if not state:
        state.update(t=0, m={n: np.zeros_like(g) for n, g in grads.items()},
                     v={n: np.zeros_like(g) for n, g in grads.items()})
    state["t"] += 1
    for name, grad in grads.items():
        state["m"][name] = beta1 * state["m"][name] + (1 - beta1) * grad
        state["v"][name] = beta2 * state["v"][name] + (1 - beta2) * grad ** 2
        m_hat, v_hat = state["m"][name] / (1 - beta1 * state["t"]), state["v"][name] / (1 - beta2 * state["t"])
        params[name] -= lr * m_hat / (np.sqrt(np.abs(v_hat) if absolute else v_hat) + eps)
    return state


def adam_with_one_array_for_m_and_v(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """m and v the same array, updated in place: each update overwrites the other."""
    if not state:
        state.update(t=0, mv={n: np.zeros_like(g) for n, g in grads.items()})
    state["t"] += 1
    for name, grad in grads.items():
        both = state["mv"][name]
        both *= beta1
        both += (1 - beta1) * grad
        both *= beta2
        both += (1 - beta2) * grad ** 2
        m_hat, v_hat = both / (1 - beta1 ** state["t"]), both / (1 - beta2 ** state["t"])
        params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return state


ADAM_VARIANTS = [
    (adam_with_one_array_for_m_and_v, "m and v are one and the same array (state['m'][k] = state['v'][k] = "
                                      "np.zeros_like(...), or one array updated twice): give each its own array, "
                                      "np.zeros_like for m and another for v."),
    *[(functools.partial(adam_with_product_corrections, absolute=absolute),
       "the bias corrections are 1 - beta * t: the power is beta ** t, m_hat = m / (1 - beta1 ** t), "
       "v_hat = v / (1 - beta2 ** t).") for absolute in (False, True)],
    (adam_with_beta1_for_v, "v uses beta1, as m does: the mean of g ** 2 and its correction use beta2, "
                            "v = beta2 * v + (1 - beta2) * g ** 2, v_hat = v / (1 - beta2 ** t)."),
    (adam_with_fixed_beta1, "it ignores the beta1 it is given and uses 0.9: use the argument beta1."),
    (adam_with_fixed_beta2, "it ignores the beta2 it is given and uses 0.999: use the argument beta2."),
    (functools.partial(textbook_adam, form="betas swapped in the corrections"),
     "beta1 and beta2 are swapped in the bias corrections: m_hat = m / (1 - beta1 ** t), v_hat = v / "
     "(1 - beta2 ** t)."),
    (functools.partial(textbook_adam, form="betas swapped in the means"),
     "beta1 and beta2 are swapped in the running means: m = beta1 * m + (1 - beta1) * g, and "
     "v = beta2 * v + (1 - beta2) * g ** 2."),
    (adam_with_betas_swapped,
     "beta1 and beta2 are swapped everywhere: beta1 belongs to m (the mean of g) and its correction, beta2 to v "
     "(the mean of g ** 2) and its correction."),
    (functools.partial(textbook_adam, form="corrected means kept"),
     "it keeps the bias-corrected m_hat and v_hat in state in place of m and v, so the correction compounds from "
     "step to step: keep m and v themselves, and make m_hat and v_hat new at every step."),
    (functools.partial(textbook_adam, form="no root"),
     "it divides by v_hat, not by its square root: the step is lr * m_hat / (np.sqrt(v_hat) + eps)."),
    (functools.partial(textbook_adam, form="v of |g|"),
     "v accumulates |g|, not the square of g: v = beta2 * v + (1 - beta2) * g ** 2."),
    (functools.partial(textbook_adam, form="t per parameter"),
     "t advances once per parameter, inside the loop over the parameters: add 1 to it once per call, before "
     "that loop."),
]
ADAM_SETTINGS = {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6}  # every argument given, none at its default


def derived_adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as notebook 06 derives it (m, v, their bias corrections, eps outside the root): the checks'
    reference, rather than the module's step, whose arithmetic may be arranged otherwise."""
    return textbook_adam(params, grads, state, lr, beta1, beta2, eps)


derived_adam.reference_name = "Adam as derived (m, v, bias corrections, eps added to sqrt(v_hat))"


# Gradients with exact zeros (blank pixels: their weights get no gradient) and tiny entries, where eps decides
# the step; eps = 1e-4 is larger than the tiny entries, so a fixed 1e-8 or an eps inside the root shows.
SPARSE_GRADS = {"W": np.array([[0.0, 1e-6], [-3.0, 0.0]]), "b": np.array([-2e-6, 0.5])}
SPARSE_SETTINGS = {"beta1": 0.8, "beta2": 0.99, "eps": 1e-4}


def sparse_gradients_problem(adam_fn, lr=0.1):
    """Three Adam steps on SPARSE_GRADS, every argument given: nan, eps ignored or inside the root are named."""
    def trajectory(step_fn, **settings):
        return run_steps(step_fn, [SPARSE_GRADS] * 3, lr, **{**SPARSE_SETTINGS, **settings})

    got = trajectory(adam_fn)
    if same(flatten(got), flatten(trajectory(derived_adam))):
        return None
    broken = nan_problem(got, SPARSE_GRADS)
    if broken:
        return broken
    if same(flatten(got), flatten(trajectory(functools.partial(textbook_adam, form="eps inside the root")))):
        return ("eps is inside the square root, np.sqrt(v_hat + eps), so where the gradient is tiny (1e-6) the "
                "step is about 100 times too small: add eps outside, np.sqrt(v_hat) + eps.")
    if same(flatten(got), flatten(trajectory(derived_adam, eps=1e-8))):
        return "it ignores the eps it is given (1e-4 here): use eps, not a fixed 1e-8."
    if eps_only_problem(adam_fn):
        return eps_only_problem(adam_fn)
    return ("with gradients holding exact zeros and tiny entries (1e-6), and beta1 = 0.8, beta2 = 0.99, eps = 1e-4, "
            f"three steps differ from Adam's as derived (relative error "
            f"{relative_error(flatten(got), flatten(trajectory(derived_adam))):.1e}).")


def eps_only_problem(adam_fn):
    """A sentence if the steps are right with eps = 0 and wrong with eps > 0: eps enters in the wrong place."""
    sequence, settings = changing_gradients(), {**ADAM_SETTINGS, "eps": 0.0}
    with np.errstate(all="ignore"):
        got = flatten(run_steps(adam_fn, sequence, CHANGING_LRS, **settings))
        expected = flatten(run_steps(derived_adam, sequence, CHANGING_LRS, **settings))
    if not same(got, expected):
        return None
    return ("its steps are Adam's when eps = 0 and differ when eps > 0, so eps enters in the wrong place: add it "
            "to the root of the bias-corrected v, m_hat / (np.sqrt(v_hat) + eps). (With the bias corrections "
            "folded into the step size, eps must be scaled too: eps * np.sqrt(1 - beta2 ** t).)")


@graded
def check_sgd_step(sgd_step_fn):
    """Check a student's sgd_step(params, grads, state, lr) -> state; print a diagnosis, True if right."""
    return [
        ("it returns the state it was given", lambda: returned_state_problem(sgd_step_fn, keeps_state=True)),
        ("params change in place", lambda: in_place_problem(sgd_step_fn)),
        ("each parameter gets the gradient of its name", lambda: pairing_problem(sgd_step_fn)),
        ("the gradients are left unchanged", lambda: gradients_changed_problem(sgd_step_fn)),
        ("a constant gradient", lambda: constant_gradient_problem(sgd_step_fn, [1, 1, 1], SGD_MISTAKES)),
        ("changing gradients and learning rates", lambda: changing_gradients_problem(sgd_step_fn, sgd_step)),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: step_in_dtype(sgd_step_fn, dtype), ["params"])),
    ]


@graded
def check_momentum_step(momentum_step_fn):
    """Check a student's momentum_step(params, grads, state, lr, beta) -> state; print a diagnosis, True if right."""
    def variant():
        return named_variant(momentum_step_fn, MOMENTUM_VARIANTS, beta=MOMENTUM_VARIANT_BETA)

    return [
        ("it returns its state", lambda: returned_state_problem(momentum_step_fn, beta=0.5)),
        ("params change in place", lambda: in_place_problem(momentum_step_fn, beta=0.5)),
        ("two runs from an empty state", lambda: memory_outside_state_problem(momentum_step_fn, beta=0.5)),
        ("each parameter gets the gradient of its name", lambda: pairing_problem(momentum_step_fn, beta=0.5)),
        ("the gradients are left unchanged", lambda: gradients_changed_problem(momentum_step_fn, beta=0.5)),
        ("a constant gradient", lambda: constant_gradient_problem(
            momentum_step_fn, [1, 1.5, 1.75], MOMENTUM_MISTAKES, variant=variant, beta=0.5)),
        ("changing gradients and learning rates", lambda: changing_gradients_problem(
            momentum_step_fn, momentum_step, MOMENTUM_VARIANTS, beta=MOMENTUM_VARIANT_BETA)),
        ("two parameters of one shape keep their own velocities", lambda: same_shapes_problem(
            momentum_step_fn, momentum_step, "velocity", beta=0.5)),
        ("later calls update the same velocity arrays", lambda: same_velocities_problem(momentum_step_fn, beta=0.5)),
        ("each velocity is state[name]", lambda: velocity_layout_problem(momentum_step_fn, beta=0.5)),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: step_in_dtype(momentum_step_fn, dtype, beta=0.5), ["params", "state"])),
    ]


@graded
def check_adam_step(adam_step_fn):
    """Check a student's adam_step(params, grads, state, lr, beta1, beta2, eps) -> state; a diagnosis, True if right."""
    def variant():
        return named_variant(adam_step_fn, ADAM_VARIANTS, **ADAM_SETTINGS)

    return [
        ("it returns its state", lambda: returned_state_problem(adam_step_fn)),
        ("an m and a v for every parameter", lambda: adam_state_problem(adam_step_fn, **ADAM_SETTINGS)),
        ("params change in place", lambda: in_place_problem(adam_step_fn)),
        ("two runs from an empty state", lambda: memory_outside_state_problem(adam_step_fn)),
        ("each parameter gets the gradient of its name", lambda: pairing_problem(adam_step_fn)),
        ("the gradients are left unchanged", lambda: gradients_changed_problem(adam_step_fn)),
        ("a constant gradient", lambda: constant_gradient_problem(
            adam_step_fn, [1, 1, 1], adam_mistakes(), unit="sign(g)", variant=variant, beta1=0.9, beta2=0.999,
            eps=1e-8)),
        ("gradients with exact zeros and tiny entries", lambda: sparse_gradients_problem(adam_step_fn)),
        ("changing gradients and learning rates", lambda: changing_gradients_problem(
            adam_step_fn, derived_adam, ADAM_VARIANTS, **ADAM_SETTINGS) and (eps_only_problem(
                adam_step_fn) or changing_gradients_problem(adam_step_fn, derived_adam, ADAM_VARIANTS,
                                                            **ADAM_SETTINGS))),
        ("two parameters of one shape keep their own m and v", lambda: same_shapes_problem(
            adam_step_fn, derived_adam, "m and v", **ADAM_SETTINGS)),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: step_in_dtype(adam_step_fn, dtype, **ADAM_SETTINGS), ["params", "state"])),
    ]


# ---- Exercise 4: the training loop ---------------------------------------------------------------------

TRAIN_EXAMPLES, TRAIN_LR = 256, 0.05  # with the default batch of 30: 8 full batches and a last one of 16


def recording_step(run):
    """momentum_step (beta 0.9), recording the state and lr each call receives and the state it returns."""
    def step(params, grads, state, lr):
        run["grads_first"] = run.get("grads_first", False) or any(params is g for g in run["grads"])
        run["received"].append(state)
        run["lrs"].append(lr)
        run["returned"].append(momentum_step(params, grads, state, lr, beta=0.9))
        return run["returned"][-1]
    return step


def recording_loss_and_grads(run, original):
    """mnist_ann.loss_and_grads, recording each batch it receives and the loss it returns."""
    @functools.wraps(original)
    def loss_and_grads(params, X_batch, y_batch, *args, **kwargs):
        result = original(params, X_batch, y_batch, *args, **kwargs)
        run["grads"] = [result[1]]  # the latest gradients, to know them when the step receives them
        run["batches"].append((np.array(X_batch, copy=True), np.array(y_batch, copy=True), float(result[0])))
        return result
    return loss_and_grads


def new_run(X, y):
    """A record of one training run on X and y, filled in as the student's loop calls loss_and_grads and step."""
    return {"X": X, "y": y, "received": [], "returned": [], "lrs": [], "batches": [], "grads": []}


def training_run_problem(run, train_loop_fn, epochs, batch_size, seed=0):
    """Run the student's loop, keeping in run what it did; check that it returns one finite loss per epoch."""
    run["params"] = init_params([784, 32, 10], rng=np.random.default_rng(0))
    run["data_before"] = (run["X"].copy(), run["y"].copy())
    run["loss_before"] = cross_entropy(forward(run["params"], run["X"])[0], run["y"])
    spy = recording_loss_and_grads(run, mnist_ann.loss_and_grads)
    namespace = getattr(unwrapped(train_loop_fn), "__globals__", {})
    with replaced({"loss_and_grads": spy}, namespace):
        losses = train_loop_fn(run["params"], run["X"], run["y"], recording_step(run), TRAIN_LR, epochs, batch_size,
                               np.random.default_rng(seed))
    run["losses"] = losses
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != epochs:
        per_epoch = math.ceil(len(run["y"]) / batch_size)
        why = {epochs - 1: ": one epoch short (range(1, epochs) or range(epochs - 1) makes epochs - 1 passes)",
               epochs * per_epoch: ": one loss per mini-batch; append one mean per epoch, after the loop over "
                                   "its mini-batches",
               epochs + 1: ": one epoch too many"}.get(len(losses), "") if hasattr(losses, "__len__") else ""
        return (f"it should return a list of {epochs} numbers, the mean training loss of each epoch; "
                f"it returns {describe_value(losses)}{why}.")
    if not np.all(np.isfinite(np.asarray(losses, dtype=float))):
        return "some of the epoch losses it returns are nan or infinite."
    return None


def batches_problem(run, epochs, batch_size):
    """None if loss_and_grads received mini-batches of at most batch_size examples, X's rows with y's labels."""
    n_examples, sizes = len(run["y"]), [len(y_batch) for _, y_batch, _ in run["batches"]]
    if not all(np.array_equal(now, before) for now, before in zip((run["X"], run["y"]), run["data_before"])):
        return ("it reorders or changes X or y in place, and the caller's data must stay as it was: shuffle "
                "indices instead, order = rng.permutation(N), and take X[batch] and y[batch].")
    if not sizes:
        return ("it never calls mnist_ann.loss_and_grads: compute each mini-batch's loss and gradients with "
                "loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch).")
    per_epoch = math.ceil(n_examples / batch_size)
    if sizes.count(n_examples) == epochs and len(sizes) == epochs * (per_epoch + 1):  # one more call per epoch
        return (f"besides its call for each mini-batch, it calls loss_and_grads on all {n_examples} examples, and "
                "records that loss, which is not the epoch's mean of its mini-batch losses: add loss * "
                "len(y_batch) from each mini-batch's call, and divide by N at the end of the epoch.")
    if max(sizes) == n_examples:
        return (f"loss_and_grads receives all {n_examples} examples at once: pass it one mini-batch, "
                "X_batch and y_batch, at a time.")
    if max(sizes) > batch_size:
        return f"loss_and_grads receives batches of {max(sizes)} examples, more than batch_size = {batch_size}."
    rows = {row.tobytes(): index for index, row in enumerate(run["X"])}
    for X_batch, y_batch, _ in run["batches"]:
        indices = [rows.get(np.asarray(row, dtype=run["X"].dtype).tobytes()) for row in X_batch]
        if None not in indices and not np.array_equal(run["y"][indices], y_batch):
            return ("the labels do not belong to their images: X and y are reordered differently. Index both "
                    "with the same batch of indices, X[batch] and y[batch].")
    return None


def step_count_problem(run, epochs, batch_size):
    steps, n_examples = len(run["received"]), len(run["y"])
    per_epoch = math.ceil(n_examples / batch_size)
    if steps == epochs * per_epoch and len(run["batches"]) != steps:
        return (f"loss_and_grads was called {len(run['batches'])} times for {steps} steps: call it once per "
                "mini-batch, before the step; it returns the loss and the gradients together.")
    if steps == epochs * per_epoch:
        return None
    if steps == 0:
        return "step was never called: call state = step(params, grads, state, lr) once for each mini-batch."
    if steps == epochs:
        return "step was called once per epoch: it belongs inside the loop over mini-batches."
    if steps == per_epoch and isinstance(run.get("losses"), (list, tuple, np.ndarray)) \
            and len(run["losses"]) == epochs:
        return ("every step comes in the first epoch, none in the others: the mini-batches come from one "
                "generator made before the loop over epochs, used up after one pass. Call "
                "iterate_minibatches(...) inside `for epoch in range(epochs)`, for a new order every epoch.")
    if steps == per_epoch:
        return "the steps cover one epoch only: put the loop over mini-batches inside `for epoch in range(epochs)`."
    if steps == epochs * per_epoch - 1 or steps == epochs * (per_epoch - 1) and n_examples % batch_size == 0:
        return (f"step was called {steps} times for {epochs * per_epoch} mini-batches, one fewer: each step uses "
                "the gradients of its own batch, computed just before it (a step placed before loss_and_grads "
                "uses the previous batch's, and the first has none).")
    if steps == epochs * (n_examples // batch_size):
        return (f"the last, smaller mini-batch of each epoch is dropped: {n_examples} examples in batches of "
                f"{batch_size} make {per_epoch} batches, the last of {n_examples % batch_size}; loop over "
                "range(0, N, batch_size), or use iterate_minibatches.")
    seen = sum(len(y_batch) for _, y_batch, _ in run["batches"])
    if run["batches"] and seen % epochs == 0 and seen // epochs < n_examples:
        return (f"each epoch trains on {seen // epochs} examples, not all {n_examples}: part of the data is left "
                "out (a slice of X and y left from debugging, or a loop that stops early); one epoch covers every "
                "example once.")
    return (f"step was called {steps} times; {epochs} epochs of {n_examples} examples in batches of "
            f"{batch_size} make {epochs * per_epoch} steps, one per mini-batch.")


def epoch_orders(run, epochs):
    """The indices of X's rows in the order loss_and_grads received them, one array per epoch (None if unknown)."""
    rows = {row.tobytes(): index for index, row in enumerate(run["X"])}
    order = [rows.get(np.asarray(row, dtype=run["X"].dtype).tobytes()) for X_batch, _, _ in run["batches"]
             for row in X_batch]
    if None in order or len(order) != epochs * len(run["X"]):
        return None
    return np.array(order).reshape(epochs, len(run["X"]))


def shuffling_problem(run, epochs):
    """None if every epoch sees every example once, in a new random order."""
    first, second = (X_batch for X_batch, _, _ in run["batches"][:2])
    batches = [X_batch for X_batch, _, _ in run["batches"]]
    if epochs > 1 and len(batches) % epochs == 0 and len(batches) > epochs and not np.array_equal(
            batches[0], batches[epochs]) and all(np.array_equal(batch, batches[n - n % epochs])
                                                 for n, batch in enumerate(batches)):
        return (f"each mini-batch is passed {epochs} times in a row, once per epoch, before the next one comes: the "
                "loop over epochs is inside the loop over mini-batches. Put it outside: for epoch in "
                "range(epochs), then, inside it, the loop over the mini-batches of a new order.")
    if np.array_equal(first, second):
        return ("every mini-batch holds the same examples: take each batch from a new slice of the shuffled order, "
                "order[start:start + batch_size], not X[:batch_size].")
    orders = epoch_orders(run, epochs)
    if orders is None:
        return None  # counted wrong, which the step count names; or rows changed on the way, which we cannot follow
    for epoch, order in enumerate(orders, start=1):
        if len(set(order.tolist())) != len(order):
            return (f"in epoch {epoch} some examples are used twice and others never: draw one permutation per "
                    "epoch and cut it into consecutive slices.")
    if np.array_equal(orders[0], np.arange(len(orders[0]))):
        return ("the examples come in their stored order: shuffle them at every epoch, with "
                "rng.permutation(N) or iterate_minibatches(X, y, batch_size, rng).")
    if all(np.array_equal(order, orders[0]) for order in orders):
        return ("every epoch sees the examples in the same order: draw a new order at every epoch, inside "
                "`for epoch in range(epochs)`, from the rng you are given, and only from it (a generator made "
                "again, or seeded again, at each epoch draws its first order again).")
    return None


def drawn_orders(n_examples, epochs, batch_size, seed):
    """The order of the examples, epoch by epoch, that iterate_minibatches draws from default_rng(seed)."""
    rng, indices = np.random.default_rng(seed), np.arange(n_examples)
    return np.array([np.concatenate([batch for batch, _ in mnist_ann.iterate_minibatches(
        indices, indices, batch_size, rng)]) for _ in range(epochs)])


def rerun_orders(run, train_loop_fn, batch_size, seed, epochs=2):
    """The orders in which the student's loop, run again with default_rng(seed), shows the examples."""
    rerun = new_run(run["X"], run["y"])
    training_run_problem(rerun, train_loop_fn, epochs, batch_size, seed)
    return epoch_orders(rerun, epochs)


def rng_problem(run, train_loop_fn, epochs, batch_size):
    """None if the rng it is given decides the order of the examples.

    The loop runs again with another seed, which must change the order (a generator of its own, even seeded,
    would not). An order that is not the one iterate_minibatches draws may still come from the rng (with
    rng.choice, say): then a run with the same seed must repeat it.
    """
    orders = epoch_orders(run, epochs)
    other_seed = rerun_orders(run, train_loop_fn, batch_size, seed=1)
    if orders is None or other_seed is None:
        return None  # the rows could not be followed; the checks before say why
    use_it = ("use the rng you are given: order = rng.permutation(N), or iterate_minibatches(X, y, batch_size, "
              "rng), not np.random or a generator of its own.")
    if np.array_equal(other_seed, orders[:2]):
        return f"the order of the examples is the same whatever rng it is given: {use_it}"
    if np.array_equal(orders, drawn_orders(len(run["y"]), epochs, batch_size, seed=0)):
        return None
    if not np.array_equal(rerun_orders(run, train_loop_fn, batch_size, seed=0), orders[:2]):
        return f"the order of the examples changes from run to run with the same rng: {use_it}"
    return None


def lr_problem(run):
    wrong = [lr for lr in run["lrs"] if not (isinstance(lr, (int, float, np.floating)) and math.isclose(lr, TRAIN_LR))]
    if wrong:
        return (f"step receives lr = {wrong[0]!r}, not the learning rate train_loop was given ({TRAIN_LR}): "
                "pass lr on, state = step(params, grads, state, lr).")
    return None


def state_passing_problem(run, epochs):
    breaks = [call for call, (now, before) in enumerate(zip(run["received"][1:], run["returned"]), start=1)
              if now is not before]
    per_epoch = len(run["received"]) // epochs
    if breaks and all(call % per_epoch == 0 and run["received"][call] == {} for call in breaks):
        return ("the state starts afresh at every epoch: create it once, state = {}, before the loops, not inside "
                "`for epoch in range(epochs)`.")
    if breaks:
        return ("the state that step returns is not passed to the next call: write "
                "state = step(params, grads, state, lr), with state = {} once, before the loops.")
    return None


def params_changed_problem(run):
    if run.get("grads_first"):
        return ("step receives the gradients where the params belong, so it changes the gradients, not the "
                "weights: call state = step(params, grads, state, lr), in that order.")
    after = float(cross_entropy(forward(run["params"], run["X"])[0], run["y"]))
    if math.isclose(after, float(run["loss_before"])):
        return ("params did not change: train the params dict you are given (pass it to loss_and_grads "
                "and to step), not a copy.")
    return None


def epoch_loss_mistakes(sizes, losses, n_examples):
    """(wrong epoch losses, sentence) pairs for the usual ways of averaging an epoch's batch losses wrongly."""
    weighted = [float(np.dot(s, l)) for s, l in zip(sizes, losses)]
    return [
        ([np.mean(l) for l in losses], "each epoch's loss is the plain mean of its batch means, so the smaller last "
                                       "batch counts as much as a full one: add loss * len(y_batch) for each batch "
                                       "and divide by N."),
        ([np.sum(l) for l in losses], "each epoch's loss is the sum of its batch means: add loss * len(y_batch) for "
                                      "each batch and divide the total by N."),
        ([np.sum(l) / n_examples for l in losses], "each batch's mean loss is divided by N without being weighted "
                                                   "by its size, so the result is about B times too small: add "
                                                   "loss * len(y_batch), then divide by N."),
        (weighted, "the total of loss * len(y_batch) is not divided by N: each epoch's loss is that total / N."),
        (list(np.cumsum(weighted) / n_examples), "the total is not reset at each epoch, so each loss adds up all "
                                                 "epochs so far: start each epoch's total at 0."),
        ([l[-1] for l in losses], "each epoch's loss is its last mini-batch's loss: add loss * len(y_batch) over "
                                  "the epoch and divide by N."),
        ([sizes.max() * np.sum(l) / n_examples for l in losses],
         f"each batch's mean loss is weighted by batch_size, but the last batch holds only {sizes.min()} examples: "
         "weight it by len(y_batch)."),
        ([w / sizes.max() / len(l) for w, l in zip(weighted, losses)],
         f"the total is divided by the number of batches times batch_size, {sizes.max() * sizes.shape[1]}, but the "
         f"last batch is smaller: divide by N = {n_examples}."),
    ]


def epoch_losses_problem(run, epochs, batch_size):
    """None if the returned losses are the epochs' mean losses over N examples, from what loss_and_grads returned."""
    n_examples, per_epoch = len(run["y"]), math.ceil(len(run["y"]) / batch_size)
    if len(run["batches"]) != epochs * per_epoch:
        return (f"loss_and_grads was called {len(run['batches'])} times for {len(run['received'])} steps: call it "
                "once per mini-batch, and step once after it.")
    sizes = np.array([len(y) for _, y, _ in run["batches"]]).reshape(epochs, per_epoch)
    losses = np.array([loss for _, _, loss in run["batches"]]).reshape(epochs, per_epoch)
    expected = (sizes * losses).sum(axis=1) / n_examples
    returned = np.asarray(run["losses"], dtype=float)
    if np.allclose(returned, expected, rtol=1e-5, atol=0):
        return None
    mistake = next((sentence for wrong, sentence in epoch_loss_mistakes(sizes, losses, n_examples)
                    if np.allclose(returned, wrong, rtol=1e-5, atol=0)), None)
    return mistake or (f"the losses it returns ({returned[0]:.4f}, ... {returned[-1]:.4f}) are not the epochs' mean "
                       f"losses over all N examples ({expected[0]:.4f}, ... {expected[-1]:.4f}): add "
                       "loss * len(y_batch) for each batch and divide by N.")


def training_accuracy_problem(run):
    learned = accuracy(predict(run["params"], run["X"]), run["y"])
    if learned < 0.9:
        return (f"after training, the network gets {learned:.0%} of these {len(run['y'])} images right, and a "
                "correct loop gets nearly all of them.")
    return None


@graded
def check_train_loop(train_loop_fn, epochs=10, batch_size=30):
    """Check a student's train_loop(params, X, y, step, lr, epochs, batch_size, rng) -> the loss of each epoch.

    It trains a 784-32-10 network on the first 256 MNIST training images with SGD with momentum, in
    batches of 30 (so the last batch of each epoch is smaller), and follows every call of
    loss_and_grads and of the step.
    """
    X_train, y_train, _, _ = load_mnist()
    run = new_run(X_train[:TRAIN_EXAMPLES], y_train[:TRAIN_EXAMPLES])
    return [
        ("one loss per epoch", lambda: training_run_problem(run, train_loop_fn, epochs, batch_size)),
        ("loss_and_grads receives mini-batches", lambda: batches_problem(run, epochs, batch_size)),
        ("one step per mini-batch", lambda: step_count_problem(run, epochs, batch_size)),
        ("every example once per epoch, in a new order", lambda: shuffling_problem(run, epochs)),
        ("the rng it is given decides the order", lambda: rng_problem(run, train_loop_fn, epochs, batch_size)),
        ("step receives the learning rate", lambda: lr_problem(run)),
        ("the state goes from each step to the next", lambda: state_passing_problem(run, epochs)),
        ("the params it is given are trained", lambda: params_changed_problem(run)),
        ("the epochs' mean losses", lambda: epoch_losses_problem(run, epochs, batch_size)),
        (f"at least 90% of these {TRAIN_EXAMPLES} images learned", lambda: training_accuracy_problem(run)),
    ]


# ---- Exercise 5: dropout -----------------------------------------------------------------------------------

# A mask is random, and every correct way of drawing it draws other numbers: the checks judge a mask by what
# every right one does (each entry 0 or 1/(1 - rate), about 1 - rate of them kept, one draw per entry, from the
# rng it is given, A on average), never by the module's draws. At rate 0.25, 1/(1 - rate) = 4/3, 1/rate = 4,
# 1 - rate = 3/4 and 1/(1 - rate)**2 = 16/9 all differ, and so do the kept fractions 3/4 and 1/4.
DROP_RATE = 0.25


def dropout_activations(shape=(200, 50), dtype=np.float32):
    """Activations of both signs and none near 0, so that A_out / A is the factor each entry was multiplied by."""
    rng = np.random.default_rng(0)
    return (rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)).astype(dtype)


def one_value(values, value):
    """True if every entry of values is value, to a relative 1e-5 (float32 rounds a scale differently)."""
    return bool(np.allclose(values, value, rtol=1e-5, atol=0))


def dropout_structure_problem(factors, rate, what):
    """None if the factors differ from entry to entry; else say how a mask drawn too few times shows."""
    scale, kept = 1 / (1 - rate), np.abs(factors) > 1e-6
    if not kept.any():
        return (f"every unit of {what} is dropped: keep each one with probability 1 - rate, where its own random "
                "number, from rng.random(A.shape), is at least rate.")
    if one_value(factors, 1):
        return (f"nothing is dropped in {what}: during training, multiply A by a mask of 0s (with probability "
                "rate) and 1/(1 - rate)s.")
    if one_value(factors, scale):
        return (f"every unit of {what} is kept and scaled by 1/(1 - rate): one random number was drawn for the "
                "whole array, so its units are dropped or kept all together; draw one per entry, rng.random(A.shape).")
    if one_value(factors, factors.flat[0]):
        return (f"every entry of {what} is multiplied by the same {factors.flat[0]:.4g}: dropout zeroes units at "
                "random, each with probability rate, and multiplies the kept ones by 1/(1 - rate).")
    if np.allclose(factors, factors[:1], rtol=1e-5, atol=1e-6):
        return ("the same units are dropped for every example (a mask of shape (H,) or (1, H), broadcast down the "
                "batch): draw a mask of A's full shape (B, H), so that each example drops units of its own.")
    if np.allclose(factors, factors[:, :1], rtol=1e-5, atol=1e-6):
        return ("each example is dropped or kept whole (a mask of shape (B, 1)): draw one number per unit of "
                "every example, a mask of A's full shape (B, H).")
    return None


def dropout_mask_problem(factors, rate, what="A_out"):
    """None if factors, what each entry was multiplied by, are inverted dropout's; else name the likely mistake.

    Inverted dropout multiplies each entry by 0, with probability rate, or by 1/(1 - rate), each on its own draw.
    """
    factors = np.asarray(factors, dtype=float)
    keep, scale = 1 - rate, 1 / (1 - rate)
    if not np.all(np.isfinite(factors)):
        return (f"{what} holds nan or infinite values: is something divided by zero (by rate, or by the mask)? "
                "Kept units are multiplied by 1/(1 - rate).")
    structure = dropout_structure_problem(factors, rate, what)
    if structure:
        return structure
    kept = np.abs(factors) > 1e-6
    values, fraction = factors[kept], kept.mean()
    if not one_value(values, values[0]):
        return (f"the kept units of {what} are multiplied by many different numbers (from {values.min():.3g} to "
                f"{values.max():.3g}): compare each random number with rate, rng.random(A.shape) >= rate, to get "
                "0s and 1s, then scale them all by the same 1/(1 - rate).")
    value = float(values[0])
    if abs(fraction - rate) < 0.05 and math.isclose(value, 1 / rate, rel_tol=1e-5):
        return (f"rate is used as the probability of keeping a unit: it keeps {fraction:.0%} of them and scales "
                f"them by 1/rate. rate = {rate} is the probability of dropping one: keep each with probability "
                "1 - rate, and scale the kept ones by 1/(1 - rate).")
    if abs(fraction - rate) < 0.05:
        return (f"it keeps {fraction:.0%} of the units and drops {1 - fraction:.0%}: rate = {rate} is the "
                "probability of dropping a unit, so keep those whose random number is at least rate "
                "(rng.random(A.shape) >= rate), not below it.")
    if abs(fraction - keep) > 0.05:
        return (f"it keeps {fraction:.0%} of the units, where rate = {rate} should keep about {keep:.0%}: drop each "
                "unit with probability rate, the rate it is given.")
    mistakes = [
        (1, f"the mask is not scaled: the kept units are multiplied by 1, so on average they carry only 1 - rate = "
            f"{keep:g} of their value. Multiply them by 1/(1 - rate) = {scale:.4g}, so that E[A_out] = A (inverted "
            "dropout)."),
        (scale ** 2, f"the scaling is applied twice: the kept units are multiplied by 1/(1 - rate) twice "
                     f"({scale ** 2:.4g} = {scale:.4g}²). The mask holds 1/(1 - rate) already: multiply A by the mask "
                     "alone, or divide by (1 - rate) once."),
        (1 / rate, f"the kept units are scaled by 1/rate = {1 / rate:.4g}; scale them by 1/(1 - rate) = {scale:.4g}, "
                   "one over the probability of keeping a unit."),
        (keep, f"the kept units are multiplied by 1 - rate = {keep:g}, as the original dropout does at evaluation; "
               f"inverted dropout divides by it during training, multiplying them by 1/(1 - rate) = {scale:.4g}."),
    ]
    if math.isclose(value, scale, rel_tol=1e-5):
        return None
    return next((sentence for wrong, sentence in mistakes if math.isclose(value, wrong, rel_tol=1e-5)),
                f"the kept units are multiplied by {value:.4g}; inverted dropout multiplies them by 1/(1 - rate) = "
                f"{scale:.4g}.")


def swapped_problem(result, A):
    """A sentence if result is (mask, A_out), the two values in the wrong order."""
    first, second = (np.asarray(value, dtype=float) if isinstance(value, np.ndarray) else None for value in result)
    if first is None or second is None or first.shape != A.shape or second.shape != A.shape:
        return None
    A = np.asarray(A, dtype=float)
    if np.allclose(second, A * first, rtol=1e-5, atol=0) and not np.allclose(first, A * second, rtol=1e-5, atol=0):
        return ("it returns (mask, A_out), the two values in the wrong order: return A_out first, then the mask, "
                "as the exercise's last line gives them: return A_out, mask.")
    return None


def two_values_problem(result, A, when=""):
    """None if result is (A_out, mask) with A_out an array of A's shape and dtype."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return f"{when}it should return two values, A_out and the mask; it returns {describe_value(result)}."
    swapped = swapped_problem(result, A)
    if swapped:
        return when + swapped
    problem = shape_problem(result[0], A.shape, "A_out")
    if problem:
        return when + problem
    dtype = np.asarray(result[0]).dtype
    if dtype == A.dtype:
        return None
    if when.startswith("with training=False"):  # no mask here: the evaluation path converts A itself
        return (f"{when}A_out is {dtype} for a {A.dtype} A: at evaluation nothing is dropped or scaled, so return "
                "A itself, with no conversion (an .astype(float), a float64 array or np.array(A, float) changes "
                "its dtype), so that the network stays in A's dtype.")
    if A.dtype == np.float32 and dtype == np.float64:
        return (f"{when}A_out is float64 for a float32 A: a float64 mask (a boolean array divided by 1 - rate is "
                "float64) promoted it. Make the mask in A's dtype, (...).astype(A.dtype), so that the network stays "
                "in float32.")
    return f"{when}A_out is {dtype} for a {A.dtype} A: keep A's dtype (make the mask with .astype(A.dtype))."


def factors_of(A_out, A):
    """What each entry of A was multiplied by to make A_out (A has no zeros)."""
    return np.asarray(A_out, dtype=float) / np.asarray(A, dtype=float)


def dropout_training_problem(dropout_forward_fn, A):
    """None if, with training at its default, each entry of A is dropped or scaled as inverted dropout does."""
    A_out = dropout_forward_fn(A.copy(), DROP_RATE, np.random.default_rng(0))[0]
    factors = factors_of(A_out, A)
    if one_value(factors, 1):
        evaluated = dropout_forward_fn(A.copy(), DROP_RATE, np.random.default_rng(0), training=False)[0]
        if not np.all(factors_of(evaluated, A) != 0):
            return ("the training flag is read backwards: it drops units when training=False and none when "
                    "training=True (the default). Drop while training, and return A unchanged at evaluation.")
        return ("nothing is dropped with training=True (the default): while training, multiply A by a mask of 0s "
                "(with probability rate) and 1/(1 - rate)s.")
    return dropout_mask_problem(factors, DROP_RATE)


def returned_mask_problem(result, A, rate=DROP_RATE):
    """None if the mask returned is the array that multiplied A (so that backward can reuse it)."""
    A_out, mask = result
    if mask is None:
        return ("it returns None for the mask while training: return the mask that multiplied A, which "
                "dropout_backward needs to send the gradient back through the same units.")
    if np.shape(mask) != A.shape:
        return (f"the mask it returns has shape {np.shape(mask)}, not A's {A.shape}: return the mask that "
                "multiplied A, one entry per unit of each example.")
    dtype, mask = np.asarray(mask).dtype, np.asarray(mask, dtype=float)
    A_out, product = np.asarray(A_out, dtype=float), A * mask
    if np.allclose(A_out, product, rtol=1e-5, atol=0):
        if dtype == A.dtype:
            return None
        return (f"the mask it returns is {dtype} for a {A.dtype} A: convert it with .astype(A.dtype), or "
                f"dropout_backward sends a {dtype} gradient back into a {A.dtype} network.")
    if np.allclose(A_out, product / (1 - rate), rtol=1e-5, atol=0):
        return ("the mask it returns holds 0s and 1s, but A was multiplied by 0s and 1/(1 - rate)s: the mask is "
                "not scaled. Return the scaled mask, the very array that multiplied A, so that dropout_backward "
                "scales the gradient as the forward pass scaled A.")
    if not np.array_equal(mask == 0, A_out == 0):
        return ("the mask it returns drops other units than those dropped in A_out (a second draw from rng?): "
                "return the very array that multiplied A, so that the backward pass goes through the same units.")
    return "A_out is not A * mask: return A_out = A * mask and the mask itself."


def dropout_rng_problem(dropout_forward_fn, A):
    """None if the rng it is given decides the mask: the same seed draws the same mask, another seed another."""
    first, again, other = (np.asarray(dropout_forward_fn(A.copy(), DROP_RATE, np.random.default_rng(seed))[0])
                           for seed in (1, 1, 2))
    use_it = ("draw it from the rng you are given, e.g. rng.random(A.shape), not from np.random or a generator "
              "of its own.")
    if not np.array_equal(first, again):
        return f"the mask changes from call to call with the same rng: {use_it}"
    if np.array_equal(first, other):
        return ("the mask is the same whatever rng it is given: draw a new one at every call from the rng you are "
                "given, e.g. rng.random(A.shape), not from a generator of its own, and do not keep a mask from an "
                "earlier call.")
    return None


def dropout_expectation_problem(dropout_forward_fn, draws=2000):
    """None if A_out, averaged over many draws from one generator, is A: E[A_out] = A."""
    A, rng = dropout_activations((2, 3), np.float64), np.random.default_rng(0)
    total = np.zeros_like(A)
    for _ in range(draws):
        total += np.asarray(dropout_forward_fn(A.copy(), DROP_RATE, rng)[0], dtype=float)
    ratio = total / draws / A  # each entry's mean factor: 1 +- 0.013 (one standard deviation) for a right mask
    if np.all(np.abs(ratio - 1) < 0.08):
        return None
    return (f"on average over {draws} draws, A_out is {show(ratio.min())} to {show(ratio.max())} times A, not A: "
            "each unit must be dropped at random, on its own draw and whatever its value, with probability rate.")


def repeated_rows_problem(kept):
    """None if no two rows, and no two columns, of the keep pattern (B, H) are the same (for a right mask, with
    hundreds of entries each, the chance is below 1e-20)."""
    for axis, what in ((0, "rows"), (1, "columns")):
        if np.unique(kept, axis=axis).shape[axis] < kept.shape[axis]:
            return (f"some {what} of the mask repeat others exactly (a mask drawn for part of A and reused?): "
                    "draw one number per entry of A, rng.random(A.shape).")
    return None


def dropout_other_rates_problem(dropout_forward_fn, rates=(0.07, 0.4, 0.8)):
    """None if, at other rates than DROP_RATE too, each unit is kept with probability 1 - rate and scaled by
    1/(1 - rate). 200,000 entries: a right mask keeps within 0.005 of 1 - rate (five standard deviations)."""
    A = dropout_activations((400, 500))
    for rate in rates:
        factors = factors_of(dropout_forward_fn(A.copy(), rate, np.random.default_rng(5))[0], A)
        problem = dropout_mask_problem(factors, rate)
        if problem:
            return f"at rate = {rate}, {problem}"
        fraction = (np.abs(factors) > 1e-6).mean()
        if abs(fraction - (1 - rate)) > 0.005:
            return (f"at rate = {rate} it keeps {fraction:.1%} of the units, not {1 - rate:.0%}: keep each unit "
                    "whose own random number is at least rate, rng.random(A.shape) >= rate, which holds at every "
                    "rate.")
        problem = repeated_rows_problem(np.abs(factors) > 1e-6)
        if problem:
            return problem
    return None


def dropout_zeros_problem(dropout_forward_fn):
    """None if the mask keeps units where A is 0 as often as elsewhere: after a ReLU, many activations are 0,
    and the mask must not be read off A_out."""
    A = dropout_activations((400, 50))
    A[np.random.default_rng(1).random(A.shape) < 0.5] = 0
    result = dropout_forward_fn(A.copy(), DROP_RATE, np.random.default_rng(0))
    mask = result[1] if isinstance(result, (tuple, list)) and len(result) == 2 else None
    if mask is None or np.shape(mask) != A.shape:
        return None  # the other checks say what is wrong with it
    kept = (np.asarray(mask, dtype=float) != 0)[A == 0].mean()
    if abs(kept - (1 - DROP_RATE)) < 0.05:
        return None
    return (f"where A is 0 the mask keeps {kept:.0%} of the units, not about {1 - DROP_RATE:.0%} (was it rebuilt "
            "from A_out?): return the mask you drew, which keeps a unit with probability 1 - rate whatever its "
            "value; after a ReLU many activations are 0.")


def dropout_rate_zero_problem(dropout_forward_fn, A):
    A_out, mask = dropout_forward_fn(A.copy(), 0.0, np.random.default_rng(0))
    A_out = np.asarray(A_out, dtype=float)
    if same(A_out, A) and mask is None:
        return ("at rate = 0 in training it returns None for the mask: the backward pass still multiplies by it. "
                "Return None only with training=False; at rate 0 the mask is all ones, 1/(1 - 0).")
    if same(A_out, A) and not (np.shape(mask) == A.shape and np.all(np.asarray(mask, dtype=float) == 1)):
        return ("at rate = 0 nothing is dropped, so every entry of the mask should be 1/(1 - 0) = 1; yours is "
                f"{show(np.asarray(mask, dtype=float).ravel()[:4])}...: return the mask that multiplied A.")
    if same(A_out, A):
        return None
    if not np.all(np.isfinite(A_out)):
        return ("at rate = 0, A_out holds nan or infinite values: a division by rate? Kept units are multiplied by "
                "1/(1 - rate), which is 1 at rate 0.")
    if np.any(A_out == 0):
        return ("at rate = 0 it still drops units: keep a unit where its random number is at least rate, "
                "rng.random(A.shape) >= rate, which keeps them all at rate 0.")
    return (f"at rate = 0 nothing is dropped or scaled, so A_out should be A; it is "
            f"{show(factors_of(A_out, A).mean())} times A on average.")


def dropout_evaluation_problem(dropout_forward_fn, A):
    """None if, with training=False, A comes back unchanged, and None for the mask."""
    result = dropout_forward_fn(A.copy(), DROP_RATE, np.random.default_rng(0), training=False)
    problem = two_values_problem(result, A, when="with training=False, ")
    if problem:
        return problem
    A_out, mask = result
    factors, scale = factors_of(A_out, A), 1 / (1 - DROP_RATE)
    if same(A_out, A):
        if mask is None:
            return None
        return ("with training=False nothing is dropped, so there is no mask to return: return None for it, as "
                f"the statement asks, not {describe_value(mask)}.")
    if np.any(factors == 0):
        return ("dropout is left on at evaluation: with training=False it still drops units. Return A unchanged "
                "(and None for the mask): the kept units were already scaled by 1/(1 - rate) during training.")
    if one_value(factors, 1 - DROP_RATE):
        return ("at evaluation it multiplies A by 1 - rate, as the original dropout does; inverted dropout already "
                "divided by 1 - rate during training, so doing both scales twice. With training=False, return A "
                "unchanged.")
    if one_value(factors, scale):
        return ("at evaluation it divides A by 1 - rate, so the scaling is applied twice (training already scaled "
                "the kept units): with training=False, return A unchanged.")
    return "with training=False, A_out should be A, unchanged: nothing is dropped and nothing scaled at evaluation."


@graded
def check_dropout_forward(dropout_forward_fn):
    """Check a student's dropout_forward(A, rate, rng, training=True) -> A_out, mask; True if it is right."""
    A, A64 = dropout_activations(), dropout_activations(dtype=np.float64)

    def run(A_, **flag):
        return dropout_forward_fn(A_.copy(), DROP_RATE, np.random.default_rng(0), **flag)
    return [
        ("two values, A_out of A's shape and dtype", lambda: two_values_problem(run(A), A)
         or two_values_problem(run(A64), A64)),
        ("each entry dropped, or kept and scaled by 1/(1 - rate)", lambda: dropout_training_problem(
            dropout_forward_fn, A)),
        ("the mask returned is the one that multiplied A", lambda: returned_mask_problem(run(A), A)),
        ("the rng it is given decides the mask", lambda: dropout_rng_problem(dropout_forward_fn, A)),
        ("other rates: each unit kept with probability 1 - rate", lambda: dropout_other_rates_problem(
            dropout_forward_fn)),
        ("units where A is 0 are kept as often", lambda: dropout_zeros_problem(dropout_forward_fn)),
        ("on average over many draws, A_out is A", lambda: dropout_expectation_problem(dropout_forward_fn)),
        ("rate 0 leaves A as it is", lambda: dropout_rate_zero_problem(dropout_forward_fn, A)),
        ("training=False returns A unchanged", lambda: dropout_evaluation_problem(dropout_forward_fn, A)),
        ("its input is left unchanged", lambda: input_changed_problem(
            lambda A_: dropout_forward_fn(A_, DROP_RATE, np.random.default_rng(0)), A=A)),
        ("a second call leaves the first A_out and mask as they were", lambda: second_call_problem(
            lambda: run(A), lambda: dropout_forward_fn(-A, 0.6, np.random.default_rng(5)),
            ["the A_out it returned", "the mask it returned"])),
    ]


HAND_DA_OUT = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
HAND_MASK = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0]])  # rate 0.5: the kept units are scaled by 2


def dropout_regions(mask):
    return [(mask != 0, "of the kept units are wrong: there dA = dA_out * mask, the scale 1/(1 - rate) included"),
            (mask == 0, "of the dropped units are wrong: there dA is 0")]


def dropout_backward_values_problem(dA, dA_out, mask, hand=False):
    """None if dA is dA_out * mask; else name the likely mistake."""
    expected = dA_out * mask
    dA = np.asarray(dA, dtype=float)
    if same(dA, expected):
        return None
    scale = mask.max()
    if not np.all(np.isfinite(dA)):
        return ("dA holds nan or infinite values: it divides by the mask, which is 0 for the dropped units; "
                "multiply instead, dA = dA_out * mask.")
    named = first_mistake(dA, [
        (dA_out * mask / len(dA_out), "it divides by the batch size B: dropout's backward adds no 1/B (dA_out "
                                      "already carries the loss's), dA = dA_out * mask."),
        (dA_out * (mask > 0), "it multiplies by the 0/1 pattern (mask > 0), so the gradient misses the scale "
                              "1/(1 - rate) that the forward pass applied to the kept units: the mask is not "
                              "scaled. Multiply by the mask itself, dA = dA_out * mask."),
        (dA_out * mask * scale, "the scaling is applied twice: the mask holds 1/(1 - rate) already, so multiply "
                                "dA_out by the mask once, with no further scale."),
        (dA_out, "dA_out passes unchanged: a dropped unit gave nothing forward, so it gets no gradient back. "
                 "dA = dA_out * mask."),
        (mask, "it returns the mask alone; multiply it by dA_out: dA = dA_out * mask."),
        (np.divide(dA_out, mask, out=np.zeros_like(dA_out, dtype=float), where=mask != 0),
         "it divides by the mask where it is nonzero: the forward pass multiplied the kept units by the mask, so "
         "the gradient is multiplied by it too, dA = dA_out * mask."),
        (dA_out * (mask == 0), "the mask is inverted: the gradient must pass where the mask is nonzero, "
                               "dA = dA_out * mask."),
        (dA_out * (mask == 0) * scale, "the mask is inverted: the gradient must pass where the mask is nonzero, "
                                       "dA = dA_out * mask."),
        *([(dA_out @ mask, "it multiplies with @, a matrix product; dropout multiplies entry by entry: "
                           "dA = dA_out * mask.")] if dA_out.shape[1] == mask.shape[0] else []),
    ])
    if named:
        return named
    ratio = constant_ratio(dA, expected)
    if ratio is not None and not math.isclose(ratio, 1):
        return (f"dA is {ratio:.4g} times dA_out * mask: a factor on top of the mask (the scaling is applied "
                "twice?); the mask already holds 0 or 1/(1 - rate), so multiply by the mask itself, with no other "
                "scale (nor one estimated from the mask).")
    if not np.array_equal(dA == 0, expected == 0):
        return ("dA is zero at other units than those the mask drops: it goes back through another mask (a new "
                "draw?) than the one it is given, the forward pass's. Use that mask: dA = dA_out * mask.")
    if hand:
        return (f"for dA_out = [[1, 2, 3], [4, 5, 6]] and mask = [[0, 2, 2], [2, 0, 2]] (rate 0.5), dA should "
                f"be [[0, 4, 6], [8, 0, 12]]; yours is {show(dA)}{pattern_of(dA, expected, dropout_regions(mask))}.")
    return (f"dA differs from dA_out * mask (relative error {relative_error(dA, expected):.1e})"
            f"{pattern_of(dA, expected, dropout_regions(mask))}.")


def dropout_backward_case():
    """dA_out and A (5, 4), float64, and a mask of rate 0.25 with units dropped in several rows."""
    dA_out, A = random_arrays((5, 4), (5, 4))
    mask = (np.random.default_rng(1).random((5, 4)) >= DROP_RATE) / (1 - DROP_RATE)
    return dA_out, A, mask


def dropout_backward_gradient_problem(dropout_backward_fn):
    """Against central differences of L = sum(dA_out * (A * mask)), whose gradient in A is dA_out * mask."""
    dA_out, A, mask = dropout_backward_case()
    numeric = numerical_gradient(lambda A_: np.sum(dA_out * A_ * mask), A.copy())
    got = dropout_backward_fn(dA_out.copy(), mask.copy())
    if same(got, numeric):
        return None
    return dropout_backward_values_problem(got, dA_out, mask)


def dropout_backward_repeat_problem(dropout_backward_fn):
    """None if the same dA_out and mask give the same dA at every call (no mask of its own drawn inside)."""
    dA_out, mask = np.ones((50, 40)), np.full((50, 40), 1 / (1 - DROP_RATE))
    got, again = (np.asarray(dropout_backward_fn(dA_out.copy(), mask.copy()), dtype=float) for _ in range(2))
    if np.array_equal(got, again):
        return None
    return ("dA changes from call to call with the same dA_out and mask: it draws a new mask. Backward must use "
            "the mask it is given, the one the forward pass used: dA = dA_out * mask.")


def dropout_backward_shape_problem(dropout_backward_fn):
    dA_out, mask = dropout_activations((5, 4)), np.ones((5, 4), dtype=np.float32)
    dA = dropout_backward_fn(dA_out.copy(), mask.copy())
    if np.shape(dA) in ((5, 5), (4, 4)):
        return (f"dA has shape {np.shape(dA)}, not (5, 4): it is a matrix product (@ or np.dot) of dA_out and "
                "the mask. Dropout multiplies entry by entry: dA = dA_out * mask.")
    problem = shape_problem(dA, (5, 4), "dA")
    if problem:
        return problem
    if np.asarray(dA).dtype != np.float32:
        return (f"dA is {np.asarray(dA).dtype} for a float32 dA_out and mask: keep their dtype "
                "(dA_out * mask does).")
    dA64 = dropout_backward_fn(dA_out.astype(np.float64), mask.astype(np.float64))
    if np.asarray(dA64).dtype != np.float64:
        return (f"dA is {np.asarray(dA64).dtype} for a float64 dA_out and mask: keep their dtype, whatever it is "
                "(dA_out * mask does), rather than converting to one.")
    return None


@graded
def check_dropout_backward(dropout_backward_fn):
    """Check a student's dropout_backward(dA_out, mask) -> dA (B, H); print a diagnosis, True if it is right."""
    dA_out, _, mask = dropout_backward_case()
    return [
        ("a second call on other inputs: the first result kept, the second right", lambda: second_call_problem(
            lambda: dropout_backward_fn(dA_out.copy(), mask.copy()),
            lambda: dropout_backward_fn(-3 * dA_out, mask[::-1].copy()), ["the dA it returned"],
            -3 * dA_out * mask[::-1], first_expected=dA_out * mask)),
        ("shape and dtype", lambda: dropout_backward_shape_problem(dropout_backward_fn)),
        ("the same dA at every call", lambda: dropout_backward_repeat_problem(dropout_backward_fn)),
        ("5 rows at rate 0.25 (B and 1/(1 - rate) apart)", lambda: dropout_backward_values_problem(
            dropout_backward_fn(dA_out.copy(), mask.copy()), dA_out, mask)),
        ("a hand-computable example", lambda: dropout_backward_values_problem(
            dropout_backward_fn(HAND_DA_OUT.copy(), HAND_MASK.copy()), HAND_DA_OUT, HAND_MASK, hand=True)),
        ("against numerical_gradient", lambda: dropout_backward_gradient_problem(dropout_backward_fn)),
        ("its inputs are left unchanged", lambda: input_changed_problem(dropout_backward_fn, dA_out=dA_out,
                                                                        mask=mask)),
    ]


# A network whose outputs show its dropout mask, forward and back: X = I plus a little (B = D, invertible),
# W1 > 0 so that every hidden unit is active, W2 = I (C = H). Then logits - b2 = A1 * mask, and dW1 = X.T @ dZ1
# gives dZ1, which is dlogits times the mask the backward pass used.
PROBE_SIZE = 80


def dropout_probe_case():
    """Params, X and y of the probe network, float64."""
    rng, n = np.random.default_rng(0), PROBE_SIZE
    X = np.eye(n) + 0.05 * rng.random((n, n))
    params = {"W1": rng.uniform(0.5, 1.5, (n, n)), "b1": np.zeros(n), "W2": np.eye(n), "b2": np.full(n, 0.5)}
    return params, X, rng.integers(0, n, n)


def dropout_network_shapes_problem(result, params, batch_size, n_classes):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return f"it should return three values, loss, grads and logits; it returns {describe_value(result)}."
    kinds = [np.ndim(value) == 0 and not isinstance(value, dict) for value in result], \
        [isinstance(value, dict) for value in result], [np.ndim(value) == 2 for value in result]
    if [kind.index(True) if kind.count(True) == 1 else None for kind in kinds] not in ([0, 1, 2], [None] * 3) \
            and all(kind.count(True) == 1 for kind in kinds):
        order = ", ".join(("loss", "grads", "logits")[kind.index(True)] for kind in zip(*kinds))
        return f"it returns {order}, in that order: return loss, grads, logits, the order the statement gives."
    loss, grads, logits = result
    missing = [name for name in params if isinstance(grads, dict) and name not in grads and f"d{name}" not in grads]
    if missing:
        return f"grads has no {', '.join(missing)}: return a gradient for each of W1, b1, W2 and b2."
    return (loss_shape_problem(loss, batch_size) or grads_layout_problem(grads, params)
            or shape_problem(logits, (batch_size, n_classes), "logits"))


LAYER_1_HINT = (" Layer 2's gradients are right, so the gradient goes wrong on its way back into layer 1: "
                "dA1 = dropout_backward(dA1_dropped, mask) with the forward pass's mask, then "
                "dZ1 = relu_backward(dA1, Z1), then linear_backward(dZ1, X, W1).")


def dropout_network_loss_problem(network_fn):
    """None if the loss it returns is the mean cross-entropy of the logits it returns."""
    params, X, y = dropout_probe_case()
    loss, _, logits = network_fn(copy_params(params), X.copy(), y.copy(), DROP_RATE, np.random.default_rng(0))
    expected = cross_entropy(np.asarray(logits, dtype=float), y)
    if same(loss, expected):
        return None
    return (f"the loss, {float(loss):.4f}, is not the mean cross-entropy of the logits it returns, {expected:.4f}: "
            "compute both from the same forward pass, with dropout, loss = cross_entropy(logits, y).")


def dropout_network_without_dropout_problem(network_fn):
    """None if at rate 0 the loss, the gradients and the logits are those of the network without dropout."""
    params, _, _, X = smaller_network_case()
    loss, grads, logits = network_fn(copy_params(params), X.copy(), LABELS.copy(), 0.0, np.random.default_rng(0))
    expected_logits = forward(params, X)[0]
    expected_loss = cross_entropy(expected_logits, LABELS)
    if not np.all(np.isfinite(np.asarray(logits, dtype=float))):
        return ("at rate = 0 the logits are nan or infinite: the kept units are divided by 0, either because the "
                "mask is divided by rate, or because dropout_forward is given 1 - rate (the probability of keeping "
                "a unit) where the drop rate belongs. Pass rate itself, and divide the kept units by 1 - rate.")
    if same(logits, expected_logits - params["b2"]):
        return "b2 is missing from the logits: logits = A1_dropped @ W2 + b2."
    if same(logits, np.maximum(X @ params["W1"], 0) @ params["W2"] + params["b2"]):
        return "b1 is missing: Z1 = X @ W1 + b1."
    if not same(logits, expected_logits):
        return ("at rate = 0 the logits differ from those of the network without dropout: logits = "
                "relu(X @ W1 + b1) @ W2 + b2, with dropout on the hidden units, which drops nothing at rate 0 "
                "(is the rate it is given passed on to dropout_forward?).")
    if not same(loss, expected_loss):
        return (f"at rate = 0 the loss should be the network's mean cross-entropy, {float(expected_loss):.4f}; yours "
                f"is {float(loss):.4f}.")
    def plain_loss(_):  # numerical_gradient nudges one parameter in place, one entry at a time
        return cross_entropy(forward(params, X)[0], LABELS)

    for name in reversed(list(params)):  # b2, W2, b1, W1: the order backpropagation meets them
        numeric = numerical_gradient(plain_loss, params[name])
        problem = gradient_problem(grads[name], numeric, f"at rate = 0, grads['{name}']", len(X))
        if problem:
            return problem + (LAYER_1_HINT if name.endswith("1") else "")
    return None


def probe_mask(logits, params, X):
    """The mask the probe's forward pass used, from its logits: (logits - b2) / A1."""
    A1 = relu(X @ params["W1"] + params["b1"])
    return (np.asarray(logits, dtype=float) - params["b2"]) / A1, A1


def dropout_network_mask_problem(network_fn):
    """None if the hidden units, and only they, go through inverted dropout."""
    params, X, y = dropout_probe_case()
    logits = network_fn(copy_params(params), X.copy(), y, DROP_RATE, np.random.default_rng(0))[2]
    factors, A1 = probe_mask(logits, params, X)
    on_logits = np.asarray(logits, dtype=float) / (A1 + params["b2"])
    on_logits_form = np.isclose(on_logits, 0, atol=1e-9) | np.isclose(on_logits, 1 / (1 - DROP_RATE), rtol=1e-6)
    if np.all(on_logits_form) and not np.allclose(on_logits, 1, rtol=1e-6):
        return ("dropout is applied to the logits: apply it to the hidden units, A1 = relu(Z1), before layer 2; "
                "the output layer is never dropped.")
    kept = factors[np.abs(factors) > 1e-6]
    if np.any(np.isfinite(factors)) and np.allclose(factors[np.isfinite(factors)], 1):
        return ("the logits it returns show no dropout: either nothing is dropped (dropout_forward not called, or "
                "called with training=False), or the logits come from A1 before dropout. During training, compute "
                "the logits and the loss from the dropped hidden units, A1 * mask, the forward pass the gradients "
                "come from.")
    if kept.size and not one_value(kept, kept[0]) and not one_value(kept, 1):
        return ("the hidden units after dropout are not relu(X @ W1 + b1) times a mask of 0s and 1/(1 - rate)s: "
                "apply dropout_forward to the hidden units A1, after layer 1 and its ReLU; X and the logits keep "
                "all their units.")
    return dropout_mask_problem(factors, DROP_RATE, "the hidden layer")


def dropout_network_rng_problem(network_fn):
    params, X, y = dropout_probe_case()
    first, again, other = (np.asarray(network_fn(copy_params(params), X.copy(), y, DROP_RATE,
                                                 np.random.default_rng(seed))[2]) for seed in (1, 1, 2))
    use_it = ("draw the mask from the rng you are given (pass it to dropout_forward), not from np.random or a "
              "generator of its own.")
    if not np.array_equal(first, again):
        return f"the logits change from call to call with the same rng: {use_it}"
    if np.array_equal(first, other):
        third = np.asarray(network_fn(copy_params(params), X.copy(), y, DROP_RATE, np.random.default_rng(3))[2])
        if np.array_equal(first, third):
            return ("the logits are the same whatever rng it is given: a mask is kept from an earlier call (in a "
                    "global, a default argument) or drawn from a generator of its own; draw a new one at every "
                    "call, from the rng it is given.")
    if np.array_equal(first, other):
        return f"the logits are the same whatever rng it is given: {use_it}"
    return None


def dropout_network_backward_problem(network_fn):
    """None if dW2 uses the dropped hidden units, and the gradient goes back through the forward pass's mask."""
    params, X, y = dropout_probe_case()
    _, grads, logits = network_fn(copy_params(params), X.copy(), y, DROP_RATE, np.random.default_rng(0))
    forward_mask, A1 = probe_mask(logits, params, X)
    dlogits = cross_entropy_grad(np.asarray(logits, dtype=float), y)
    if not same(grads["b2"], dlogits.sum(axis=0)):
        return "grads['b2'] should be dlogits summed over the batch, dlogits.sum(axis=0)."
    if not same(grads["W2"], (A1 * forward_mask).T @ dlogits):
        if same(grads["W2"], A1.T @ dlogits):
            return ("grads['W2'] is computed from the hidden units before dropout: layer 2's input is the dropped "
                    "A1, so dW2 = A1_dropped.T @ dlogits (pass A1_dropped to linear_backward).")
        return "grads['W2'] should be A1_dropped.T @ dlogits, with A1_dropped the hidden units after dropout."
    dZ1 = np.linalg.solve(X.T, np.asarray(grads["W1"], dtype=float))  # dW1 = X.T @ dZ1, X invertible
    backward_mask = dZ1 / dlogits  # dZ1 = (dlogits @ W2.T) * mask, with W2 = I and relu's slope 1 everywhere
    if np.allclose(backward_mask, forward_mask, rtol=1e-6, atol=1e-9):
        return None
    sentences = [
        (np.ones_like(forward_mask), "the gradient skips dropout on its way back: a dropped unit gave nothing "
                                     "forward, so it gets no gradient. dA1 = dropout_backward(dA1_dropped, mask), "
                                     "with the mask of the forward pass."),
        ((forward_mask > 0).astype(float), "the gradient goes back through the 0/1 pattern of the mask, not the "
                                           "scaled mask: backward must scale the kept units' gradient by "
                                           "1/(1 - rate), as forward scaled them; pass the mask dropout_forward "
                                           "returned to dropout_backward."),
        (forward_mask ** 2, "the scaling is applied twice on the way back: dropout_backward's mask holds 1/(1 - rate) "
                            "already, so do not divide by (1 - rate) again."),
    ]
    named = next((sentence for wrong, sentence in sentences
                  if np.allclose(backward_mask, wrong, rtol=1e-6, atol=1e-9)), None)
    if named:
        return named
    if not np.array_equal(np.isclose(backward_mask, 0, atol=1e-9), forward_mask == 0):
        return ("the gradient goes back through another mask than the one the forward pass used (dropout_forward "
                "called again draws a new one): keep the mask from the forward pass and pass it to dropout_backward.")
    return ("grads['W1'] goes wrong on the way back through dropout and the ReLU: dA1 = dropout_backward(dA1_dropped, "
            "mask), then dZ1 = relu_backward(dA1, Z1) and linear_backward(dZ1, X, W1).")


def dropout_network_gradients_problem(network_fn, seed=3, bias_scale=1):
    """Each gradient against central differences of the student's own loss, with the mask fixed by the seed.

    bias_scale: biases that large turn some units' signs, so that a mask taken from X @ W1 alone shows.
    """
    params, _, _, X = smaller_network_case()
    params["b1"] = bias_scale * params["b1"]

    def loss(_):  # numerical_gradient nudges one parameter in place; the same seed draws the same mask
        return float(network_fn(params, X.copy(), LABELS.copy(), DROP_RATE, np.random.default_rng(seed))[0])

    grads = network_fn(copy_params(params), X.copy(), LABELS.copy(), DROP_RATE, np.random.default_rng(seed))[1]
    right = []
    for name in reversed(list(params)):  # b2, W2, b1, W1
        problem = gradient_problem(grads[name], numerical_gradient(loss, params[name]), f"grads['{name}']", len(X))
        if problem:
            return problem + (LAYER_1_HINT if name.endswith("1") else "")
        right.append(name)
    return None


def dropout_network_inputs_problem(network_fn):
    params, _, _, X = smaller_network_case()
    before = (copy_params(params), X.copy(), LABELS.copy())
    network_fn(params, X, LABELS.copy(), DROP_RATE, np.random.default_rng(0))
    if not all(np.array_equal(params[name], before[0][name]) for name in params):
        return "it changes params' arrays: computing the loss and the gradients must leave the weights as they were."
    if not np.array_equal(X, before[1]):
        return ("it changed X in place (with *=, or [...] =): compute new arrays instead, because the caller "
                "still needs X as it was.")
    return None


def dropout_network_zeros_problem(network_fn):
    """At rate 0, with zero biases and an all-zero input row (Z1 exactly 0 there), the network's gradients."""
    params, _, _, X = smaller_network_case()
    params, X = zero_pre_activations_case(params, X)
    _, grads, _ = network_fn(copy_params(params), X.copy(), LABELS.copy(), 0.0, np.random.default_rng(0))
    logits, cache = forward(params, X)
    return zero_pre_activations_problem(grads, params, cache, cross_entropy_grad(logits, LABELS))


def dropout_network_float32_problem(network_fn):
    """None if a float32 network gives float32 logits and gradients (no float64 mask leaks in)."""
    params, _, _, X = smaller_network_case()
    params32 = {name: value.astype(np.float32) for name, value in params.items()}
    _, grads, logits = network_fn(params32, X.astype(np.float32), LABELS.copy(), DROP_RATE,
                                  np.random.default_rng(0))
    found = [("logits", np.asarray(logits).dtype)] + [(f"grads['{name}']", np.asarray(grads[name]).dtype)
                                                       for name in params]
    leaked = [(what, dtype) for what, dtype in found if dtype != np.float32]
    if not leaked:
        return None
    return (f"with float32 params and X, {leaked[0][0]} is {leaked[0][1]}: a float64 array, most likely the "
            "mask (a boolean array divided by 1 - rate is float64), promoted the network. Make the mask in A's "
            "dtype, (...).astype(A.dtype), so that a float32 network stays float32.")


@graded
def check_loss_and_grads_with_dropout(network_fn):
    """Check a student's loss_and_grads_with_dropout(params, X, y, rate, rng) -> loss, grads, logits; True if right.

    The network has one hidden layer, with dropout on its hidden units.
    """
    params, _, _, X = smaller_network_case()
    return [
        ("three values: loss, grads keyed like params, logits", lambda: dropout_network_shapes_problem(
            network_fn(copy_params(params), X.copy(), LABELS.copy(), DROP_RATE, np.random.default_rng(0)), params,
            len(X), 3)),
        ("the loss of the logits it returns", lambda: dropout_network_loss_problem(network_fn)),
        ("at rate 0, the network without dropout", lambda: dropout_network_without_dropout_problem(network_fn)),
        ("inverted dropout on the hidden units", lambda: dropout_network_mask_problem(network_fn)),
        ("the rng it is given decides the mask", lambda: dropout_network_rng_problem(network_fn)),
        ("back through the forward pass's mask", lambda: dropout_network_backward_problem(network_fn)),
        ("against numerical_gradient, the mask fixed by the seed", lambda: dropout_network_gradients_problem(
            network_fn)),
        ("the same, with biases that turn some units' signs", lambda: dropout_network_gradients_problem(
            network_fn, bias_scale=10)),
        ("params and X left unchanged", lambda: dropout_network_inputs_problem(network_fn)),
        ("Z exactly 0 in places, at rate 0", lambda: dropout_network_zeros_problem(network_fn)),
        ("a float32 network stays float32", lambda: dropout_network_float32_problem(network_fn)),
    ]


# ---- Exercise 6: reading the data ----------------------------------------------------------------------

IDX_CODES = {np.dtype("uint8"): 0x08, np.dtype(">i2"): 0x0B, np.dtype(">f4"): 0x0D}


def idx_bytes(array):
    """The bytes of an IDX file holding array: two zero bytes, the type code, the number of dimensions,
    each size as a big-endian 4-byte integer, then the data, big-endian."""
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


# Sizes that give themselves away: 3 images of 4 rows of 5 columns, and sizes above 255 (two bytes each).
IDX_CASES = [
    ("labels, one dimension", np.array([7, 2, 1, 0, 4], dtype=np.uint8)),
    ("images, three dimensions", (np.arange(60) * 4 % 256).astype(np.uint8).reshape(3, 4, 5)),
    ("300 labels", (np.arange(300) % 10).astype(np.uint8)),
    ("big-endian int16 (code 0x0B)", np.array([[1, -2, 300], [-400, 5, 6]], dtype=">i2")),
    ("big-endian float32 (code 0x0D)", np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=">f4")),
    ("a single number, zero dimensions", np.array(42, dtype=np.uint8)),
]


def reads_sizes_little_endian(parse_fn, array):
    """True if parse_fn gets array right from a header whose sizes are written little-endian."""
    header = bytes([0, 0, IDX_CODES[array.dtype], array.ndim]) + np.array(array.shape, dtype="<u4").tobytes()
    try:
        got = parse_fn(header + array.tobytes())
        return isinstance(got, np.ndarray) and got.shape == array.shape and np.array_equal(got, array)
    except Exception:  # noqa: BLE001 (any failure means: not this mistake)
        return False


def idx_problem(parse_fn, what, array):
    raw = idx_bytes(array)
    little = tuple(int(n) for n in np.frombuffer(raw, dtype="<u4", count=array.ndim, offset=4))
    try:
        got = parse_fn(raw)
    except (ValueError, MemoryError) as error:
        if any(str(n) in str(error) for n in little if n > 255) or reads_sizes_little_endian(parse_fn, array):
            return (f"for {what} it reads the sizes little-endian ({little} instead of {array.shape}): IDX "
                    "numbers are big-endian, dtype '>u4' (or int.from_bytes(..., 'big')).")
        raise
    if not isinstance(got, np.ndarray):
        return f"for {what} it should return an array; it returns {describe_value(got)}."
    if got.shape != array.shape:
        if got.shape == little or (got.ndim == array.ndim and any(n > 10 ** 6 for n in got.shape)):
            return (f"for {what} the shape is {got.shape}, not {array.shape}: the sizes are read little-endian; "
                    "IDX numbers are big-endian, dtype '>u4' (or int.from_bytes(..., 'big')).")
        if got.shape == tuple(n % 256 for n in array.shape):
            return (f"for {what} the shape is {got.shape}, not {array.shape}: each size is read from one byte (its "
                    "last), so sizes above 255 wrap around. A size is a 4-byte big-endian number: read bytes "
                    "4 + 4 * i to 8 + 4 * i as '>u4' (or int.from_bytes(..., 'big')).")
        if got.size == 0:
            return (f"for {what} it returns no numbers at all: the sizes come out as 0. Each size is a 4-byte "
                    "big-endian number (bytes 4 + 4 * i to 8 + 4 * i, dtype '>u4'); one byte of it, raw[4 + i], is "
                    "0 for any size under 16,777,216.")
        if got.ndim == 1 and got.size == sum(array.shape) != array.size:
            return (f"for {what} it reads {got.size} numbers, the sum of the sizes, for {array.size}: count is their "
                    "product, np.prod(shape).")
        if got.ndim == 1 and got.size == array.ndim != array.size:
            return (f"for {what} it reads {got.size} numbers, ndim, for {array.size}: count is the number of values, "
                    "the product of the sizes (np.prod(shape)), not the number of dimensions.")
        if got.ndim == 1 and got.size != array.size:
            return (f"for {what} it returns {got.size} numbers for {array.size}: the data starts after the header "
                    f"of 4 + 4 * ndim bytes ({4 + 4 * array.ndim} here).")
        if got.ndim == 1 and array.ndim > 1:
            return (f"for {what} it returns a flat array of {got.size}: reshape it to the sizes the header gives, "
                    f"{array.shape}.")
        if got.shape == array.shape[::-1]:
            return (f"for {what} the shape is {got.shape}, the header's sizes {array.shape} reversed: keep them in "
                    "the order the header gives them, the first size first.")
        return (f"for {what} the shape is {got.shape}; the header says {array.shape}: reshape to the header's own "
                "sizes, the ndim 4-byte numbers after byte 4, whatever the file holds (no fixed (N, -1) or 28 x 28).")
    if np.array_equal(got, array):
        if got.dtype.kind != array.dtype.kind or got.dtype.itemsize != array.dtype.itemsize:
            return (f"for {what} the values are right but the dtype is {got.dtype}: keep the type the header's "
                    f"code names ({array.dtype.str}), as IDX_DTYPES gives it.")
        return None
    if array.ndim > 1 and np.array_equal(got, array.ravel().reshape(array.shape, order="F")):
        return (f"for {what} the numbers are placed column by column (order='F', MATLAB's order): IDX stores them "
                "row after row, the last index changing fastest, which is NumPy's default, reshape(shape).")
    swapped = np.frombuffer(array.tobytes(), dtype=array.dtype.newbyteorder("<")).reshape(array.shape)
    if array.dtype.itemsize > 1 and np.array_equal(got, swapped):
        return (f"for {what} the values are read little-endian: the data is big-endian too, so use the dtype "
                f"IDX_DTYPES gives ('{array.dtype.str}'), not '{swapped.dtype.str}'.")
    if got.dtype.kind != array.dtype.kind or got.dtype.itemsize != array.dtype.itemsize:
        return (f"for {what} the data is read as {got.dtype}, but the header's third byte, "
                f"0x{IDX_CODES[array.dtype]:02X}, names {array.dtype.str}: take the dtype from it, "
                "IDX_DTYPES[raw[2]].")
    for offset in range(min(len(raw), 4 + 4 * array.ndim + 12) + 1):  # the offsets a misread header gives
        data = np.frombuffer(raw, dtype=np.uint8)[offset:]
        if offset != 4 + 4 * array.ndim and array.dtype == np.uint8 and len(data) >= array.size \
                and np.array_equal(got.ravel(), data[:array.size]):
            return (f"for {what} the data is read from byte {offset}: it starts after the header of "
                    f"4 + 4 * ndim bytes, byte {4 + 4 * array.ndim} here.")
    return f"for {what} the values differ from the data after the header."


def trailing_bytes_problem(parse_fn):
    """None if parse_fn reads exactly the numbers the header announces, whatever follows them."""
    for (what, array), extra in ((IDX_CASES[1], 7), (IDX_CASES[3], 1)):
        try:
            got = parse_fn(idx_bytes(array) + bytes(extra))
            if isinstance(got, np.ndarray) and got.shape == array.shape and np.array_equal(got, array):
                continue
        except ValueError:
            pass
        return (f"with {extra} byte{'s' if extra > 1 else ''} after the data ({what}, then more bytes) it does not "
                "give back that array: read exactly the numbers the header announces, count = the product of the "
                "sizes (np.frombuffer(..., count=..., offset=...)), and nothing after them.")
    return None


def same_length_files_problem(parse_fn):
    """None if two files of the same length and other contents each give their own array."""
    first, second = IDX_CASES[1][1], 255 - IDX_CASES[1][1]
    got_first = np.array(parse_fn(idx_bytes(first)), copy=True)
    got_second = parse_fn(idx_bytes(second))
    if np.array_equal(got_second, second) and np.array_equal(got_first, first):
        return None
    return ("a second file of the same length, with other numbers, gives the first file's array: it keeps "
            "something from an earlier call (a cache keyed by the length, a dict outside the function); read "
            "every file from its own bytes.")


@graded
def check_parse_idx(parse_fn):
    """Check a student's parse_idx(raw) -> array of the IDX file's bytes raw; True if it is right."""
    return [(what, functools.partial(idx_problem, parse_fn, what, array)) for what, array in IDX_CASES] + [
        ("bytes after the data", lambda: trailing_bytes_problem(parse_fn)),
        ("two files of the same length", lambda: same_length_files_problem(parse_fn))]


def one_hot_problem(one_hot_fn):
    y = np.array([2, 0, 2, 1])
    Y = one_hot_fn(y.copy(), 4)
    expected = np.eye(4, dtype=np.float32)[y]
    if not isinstance(Y, np.ndarray):
        return (f"it returns {describe_value(Y)} of type {type(Y).__name__}: return a NumPy array of shape (B, C), "
                "float32 (np.zeros((B, num_classes), dtype=np.float32), then set one 1 per row).")
    if same(Y, expected):
        if np.asarray(Y).dtype != np.float32:
            return f"Y is {np.asarray(Y).dtype}: make it float32, like the images (np.zeros(..., np.float32))."
        return None
    problem = shape_problem(Y, (4, 4), "Y")
    if problem and np.shape(Y) == (4, 3):
        return ("for y = [2, 0, 2, 1] and num_classes = 4, Y has 3 columns: it takes its width from the labels "
                "present (y.max() + 1, or the number of distinct labels); use num_classes, as a class may be "
                "missing from a batch.")
    if problem:
        return problem
    return first_mistake(Y, [
        (expected.T, "Y is transposed: one row per example, with its 1 in column y[i]."),
        (np.where(np.isin(np.arange(4), y), 1.0, 0.0) * np.ones((4, 1)), "Y[:, y] = 1 sets whole columns: set "
                                                                         "one entry per row, Y[np.arange(B), y] = 1."),
        (1 - expected, "the 0s and 1s are swapped: 1 at the true class, 0 elsewhere."),
        (np.eye(4)[y - 1], "each 1 is one column to the left, in column y[i] - 1: put it in column y[i] itself "
                           "(labels run from 0, as column indices do)."),
        (np.isin(np.arange(4), y)[:, None] * np.ones((1, 4)), "Y[y] = 1 sets whole rows, the rows numbered by the "
                                                               "labels: set one entry per row, Y[np.arange(B), y] = 1."),
        (np.eye(4)[np.sort(y)], "the labels are sorted first (y.sort() sorts the caller's y too): leave y as "
                                "it is, one row per example in its own order."),
        (expected * y[:, None], "it writes the label's value, y[i], where the 1 belongs (so label 0 leaves its "
                                "row all zeros): set Y[np.arange(B), y] = 1."),
        (np.arange(4) < y[:, None], "it marks every column below the label (np.arange(C) < y, a thermometer "
                                    "code): only column y[i] holds a 1, np.arange(C) == y[:, None]."),
        (np.arange(4) <= y[:, None], "it marks every column up to the label (np.arange(C) <= y): only column y[i] "
                                     "holds a 1, np.arange(C) == y[:, None]."),
    ]) or (first_smoothing_problem(Y, expected)) or (
           f"for y = [2, 0, 2, 1] and num_classes = 4, Y should be {expected.tolist()}; yours is {show(Y)}"
           f"{pattern_of(Y, expected)}.")


def first_smoothing_problem(Y, expected):
    """The sentence for labels smoothed (every entry moved towards 1/C), else None."""
    Y = np.asarray(Y, dtype=float)
    high, low = np.unique(Y[expected == 1]), np.unique(Y[expected == 0])
    if len(high) == 1 and len(low) == 1 and high[0] == 1 and 0 < low[0] < 1:
        return (f"its other entries hold {low[0]:.3g}, not 0: one-hot means exactly 1 at the label and 0 "
                "everywhere else, np.zeros((B, num_classes), dtype=np.float32) with one 1 per row.")
    if len(high) == 1 and len(low) == 1 and 0 < low[0] < high[0] < 1:
        return (f"its rows hold {high[0]:.3g} at the label and {low[0]:.3g} elsewhere (label smoothing): one-hot "
                "means exactly 1 at the label and 0 everywhere else.")
    return None


def one_hot_again_problem(one_hot_fn):
    """None if two calls with labels of the same length give each its own right Y, the first left as it was."""
    first_y, second_y = np.array([2, 0, 2, 1]), np.array([1, 3, 0, 0])
    first = one_hot_fn(first_y.copy(), 4)
    kept = np.array(first, copy=True)
    second = one_hot_fn(second_y.copy(), 4)
    if not same(second, np.eye(4)[second_y]):
        if same(second, np.eye(4)[first_y]):
            return ("a second call with other labels, y = [1, 3, 0, 0], returns the first call's Y: is Y kept "
                    "between calls (a cache, or an array made outside the function)? Build a new Y at every call.")
        if np.all(np.asarray(second, dtype=float) >= np.eye(4)[second_y]):
            return (f"a second call, with y = [1, 3, 0, 0], gives {show(second)}: the first call's 1s are still "
                    "there. It reuses an array kept between calls (a cache, or an array made outside the "
                    "function); build a new np.zeros at every call.")
        return (f"a second call, with y = [1, 3, 0, 0], gives {show(second)}: it should be "
                f"{np.eye(4, dtype=int)[second_y].tolist()}.")
    if not same(first, kept):
        return ("the Y of a first call changed when the function was called again: it hands back an array it keeps "
                "between calls and overwrites it. Make a new array at every call.")
    return None


@graded
def check_one_hot(one_hot_fn):
    """Check a student's one_hot(y, num_classes=10) -> Y (B, C) float32; True if it is right."""
    y = np.array([3, 9, 0])
    return [
        ("a hand-computable example with num_classes = 4", lambda: one_hot_problem(one_hot_fn)),
        ("ten classes by default", lambda: shape_problem(one_hot_fn(y.copy()), (3, 10), "Y for 3 labels")
         or values_problem(one_hot_fn(y.copy()), np.eye(10)[y], "Y", "np.eye(10)[y]")),
        ("its input is left unchanged", lambda: input_changed_problem(lambda y_: one_hot_fn(y_, 10), y=y)),
        ("a second call, with other labels", lambda: one_hot_again_problem(one_hot_fn)),
        ("a batch of one label", lambda: one_row_problem(one_hot_fn(y[:1].copy(), 10), np.eye(10)[y[:1]], ["Y"])),
    ]


class NotAPair(Exception):
    """What minibatches yields is not an (X_batch, y_batch) pair."""


def as_pair(item):
    if isinstance(item, (tuple, list)) and len(item) == 2:
        first, second = np.array(item[0]), np.array(item[1])  # copies: a buffer reused for the next batch
        if first.ndim == 1 and second.ndim == 2:
            raise NotAPair("it yields (y_batch, X_batch): yield the images first, (X[batch], y[batch]), as the "
                           "training loop unpacks them.")
        if second.ndim == 0 or (first.ndim < 2 and first.dtype.kind == "f"):
            raise NotAPair(f"it yields an X_batch of shape {first.shape} and a y_batch of shape {second.shape}: a "
                           "batch of one example lost its batch axis (np.squeeze, or an index [i] for a slice?); "
                           "keep X_batch (B, D) and y_batch (B,) for every B, X[order[start:start + batch_size]].")
        if first.ndim == 1 and first.dtype.kind in "iu" and second.ndim == 1:
            raise NotAPair("it yields the indices of the batch where X_batch belongs: yield the rows themselves, "
                           "(X[batch], y[batch]).")
        return first, second
    if isinstance(item, np.ndarray) and item.ndim == 1 and item.dtype.kind in "iu":
        raise NotAPair("it yields the indices of each batch, not the batch itself: yield the pair "
                       "(X[batch], y[batch]), rows and labels picked with the same indices.")
    raise NotAPair(f"it yields {describe_value(item)}, not a pair: yield (X_batch, y_batch) for each batch.")


def batches_of(minibatches_fn, X, y, batch_size, seed):
    return [as_pair(item) for item in minibatches_fn(X, y, batch_size, np.random.default_rng(seed))]


def coverage_problem(index, sizes, N, batch_size):
    """Why batches whose rows are X[index] do not hold every one of N examples exactly once."""
    cut = " Cut one permutation of all N indices into consecutive slices, order[start:start + batch_size]."
    if len(index) and index.max() < batch_size:
        return (f"every batch takes its rows from the first {batch_size} examples only: the order is a permutation "
                f"of batch_size, not of all N = {N} examples.{cut}")
    if len(index) < N and all(size == min(batch_size - 1, N - start)
                              for size, start in zip(sizes, range(0, N, batch_size))):
        return f"each batch holds one example fewer than it should: a slice that stops one short.{cut}"
    if len(index) > N and sorted(set(index.tolist())) == list(range(N)):
        return (f"every example comes, but some twice: the batches overlap, each starting less than batch_size "
                f"after the last (a step of batch_size - 1?). Step by batch_size, range(0, N, batch_size).{cut}")
    if len(set(index.tolist())) < len(index):
        return (f"some examples come twice in one epoch and others never: the order is drawn with replacement, or "
                f"drawn anew for each batch (rng.choice, rng.integers).{cut}")
    missing = sorted(set(range(N)) - set(index.tolist()))
    return (f"examples {missing[:5]} never come: the batches do not cover every example once "
            f"(a slice or a range that stops short?).{cut}")


def empty_batches_problem(minibatches_fn):
    """None if, when batch_size divides N, no batch is empty."""
    X, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20) % 10
    try:
        sizes = [len(y_batch) for _, y_batch in batches_of(minibatches_fn, X, y, 5, 0)]
    except NotAPair as error:
        return str(error)
    if sizes == [5, 5, 5, 5]:
        X, y = np.arange(42, dtype=np.float32).reshape(21, 2), np.arange(21) % 10
        sizes = [len(y_batch) for _, y_batch in batches_of(minibatches_fn, X, y, 5, 0)]
        if sizes == [5, 5, 5, 5, 1]:
            return None
        return (f"for 21 examples in batches of 5 it yields batches of {sizes}, not [5, 5, 5, 5, 1]: the last "
                "batch, of one example, is lost (a range that stops at N - 1, or a count of batches rounded "
                "down): loop over range(0, N, batch_size).")
    if 0 in sizes:
        return (f"for 20 examples in batches of 5 it yields batches of {sizes}: an empty batch at the end, from a "
                "count of batches one too many (N // batch_size + 1); loop over range(0, N, batch_size).")
    return f"for 20 examples in batches of 5 it yields batches of {sizes}, not four batches of 5."


def minibatches_problem(minibatches_fn):
    N, batch_size = 23, 5  # four batches of 5 and a last one of 3
    X = np.arange(N * 2, dtype=np.float32).reshape(N, 2)  # row i holds 2i and 2i + 1
    y = np.arange(N) % 10
    try:
        batches = batches_of(minibatches_fn, X.copy(), y.copy(), batch_size, 0)
    except NotAPair as error:
        return str(error)
    sizes = [len(y_batch) for _, y_batch in batches]
    if sum(sizes) == N and sizes != [5, 5, 5, 5, 3] and len(sizes) == 5:
        return (f"the batches hold {sizes} examples: every batch but the last should hold batch_size = 5, the last "
                "the 3 left over (np.array_split cuts into equal parts instead); take order[start:start + "
                "batch_size] for start in range(0, N, batch_size).")
    if any(X_batch.dtype != X.dtype for X_batch, _ in batches):
        found = next(X_batch.dtype for X_batch, _ in batches if X_batch.dtype != X.dtype)
        return (f"X_batch is {found} for a {X.dtype} X: take the rows as they are, X[batch], with no conversion "
                "(float32 in, float32 out).")
    if sum(sizes) == 20 and len(sizes) == 4:
        return ("the last, smaller batch is dropped: 23 examples in batches of 5 make five batches, the last "
                "of 3; loop over range(0, N, batch_size).")
    if len(sizes) == N and sizes[0] == batch_size:
        return (f"it yields {N} batches for {N} examples, a batch starting at every example: the start steps by 1; "
                "step by batch_size, for start in range(0, N, batch_size).")
    if sum(sizes) == N and max(sizes, default=0) - min(sizes, default=0) <= 1 and sizes != [5, 5, 5, 5, 3]:
        return (f"the batches hold {sizes} examples: it cuts the order into {len(sizes)} nearly equal parts "
                "(np.array_split); every batch but the last should hold batch_size = 5: take order[start:start + "
                "batch_size] for start in range(0, N, batch_size).")
    if len(sizes) > 1 and all(size == batch_size + 1 for size in sizes[:-1]):
        return (f"the batches hold {sizes} examples, one more than batch_size: a slice that stops one too far "
                "(order[start:start + batch_size + 1]), so neighbouring batches share an example; take "
                "order[start:start + batch_size].")
    earlier = np.concatenate([(X_batch[:, 0] / 2).astype(int) for X_batch, _ in batches[:-1]]) \
        if len(batches) > 1 else np.array([], dtype=int)
    if sizes == [batch_size] * -(-N // batch_size) and len(set(earlier.tolist())) == len(earlier):
        return (f"the batches hold {sizes} examples: the last batch is filled up to batch_size with examples "
                "already seen, so some come twice in one epoch; the last batch holds only the "
                f"{N % batch_size} left over.")
    if any(size > batch_size for size in sizes) or not sizes:
        return f"the batches hold {sizes} examples; each should hold at most batch_size = {batch_size}."
    rows = np.concatenate([X_batch for X_batch, _ in batches])
    labels = np.concatenate([y_batch for _, y_batch in batches])
    index = (rows[:, 0] / 2).astype(int)
    if len(index) != N or sorted(index.tolist()) != list(range(N)):
        return coverage_problem(index, sizes, N, batch_size)
    if not np.array_equal(labels, y[index]):
        return ("the labels do not belong to their images: index X and y with the same batch of indices, "
                "X[batch] and y[batch].")
    if np.array_equal(index, np.arange(N)):
        return "the examples come in their stored order: shuffle them, order = rng.permutation(N)."
    again = batches_of(minibatches_fn, X.copy(), y.copy(), batch_size, 0)
    other = batches_of(minibatches_fn, X.copy(), y.copy(), batch_size, 1)
    first = np.concatenate([b for _, b in batches])
    if not np.array_equal(first, np.concatenate([b for _, b in again])):
        return ("the order changes from call to call with the same rng: draw it from the rng you are given, "
                "rng.permutation(N), not np.random or a generator of its own.")
    if np.array_equal(np.concatenate([X_batch for X_batch, _ in other]), rows):
        return ("the order is the same whatever rng it is given: draw it at every call from the rng you are "
                "given, rng.permutation(N), not from np.random, a generator of its own, or an order kept from an "
                "earlier call.")
    if not np.array_equal(index, np.random.default_rng(0).permutation(N)):
        return ("the examples are shuffled, but not in the order rng.permutation(N) draws from this rng: draw "
                "the order with rng.permutation(N), as the statement does, and nothing else from the rng before "
                "it (an extra rng.random() shifts every later draw; rng.choice(N, N, replace=False) draws "
                "another order), then cut it into consecutive slices of batch_size.")
    return None


def kept_batches_problem(minibatches_fn):
    """None if the batches, all kept (list(...)) before any is read, hold every example once, rows with labels."""
    X, y = np.arange(46, dtype=np.float32).reshape(23, 2), np.arange(23)
    batches = list(minibatches_fn(X.copy(), y.copy(), 5, np.random.default_rng(0)))
    rows = np.concatenate([np.asarray(X_batch) for X_batch, _ in batches])
    labels = np.concatenate([np.asarray(y_batch) for _, y_batch in batches])
    if sorted(labels.tolist()) == list(range(23)) and np.array_equal(rows, X[labels]):
        return None
    return ("when all the batches are kept, as list(minibatches(...)) keeps them, earlier batches no longer hold "
            "their own examples: a later batch overwrites them (one buffer reused for every batch?). Make each "
            "batch a new array, X[batch] and y[batch].")


@graded
def check_minibatches(minibatches_fn):
    """Check a student's minibatches(X, y, batch_size, rng) -> (X_batch, y_batch) pairs; True if it is right."""
    X, y = np.arange(46, dtype=np.float32).reshape(23, 2), np.arange(23) % 10
    return [
        ("23 examples in batches of 5, shuffled by the rng", lambda: minibatches_problem(minibatches_fn)),
        ("20 and 21 examples in batches of 5", lambda: empty_batches_problem(minibatches_fn)),
        ("X and y are left unchanged", lambda: input_changed_problem(
            lambda X_, y_: batches_of(minibatches_fn, X_, y_, 5, 0), X=X, y=y)),
        ("list(minibatches(...)): every batch still holds its own rows", lambda: kept_batches_problem(
            minibatches_fn)),
    ]

# ---- Exercise 7: the forward pass -----------------------------------------------------------------------

def linear_example_problem(linear_forward_fn):
    # X (3, 2), W (2, 1), b (1,): Z = [[-1 + 10], [-1 + 10], [-1 + 10]] + ... worked out by hand below.
    X, W, b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([[1.0], [-1.0]]), np.array([10.0])
    Z = linear_forward_fn(X.copy(), W.copy(), b.copy())
    expected = X @ W + b  # [[9], [9], [9]]
    if same(Z, expected):
        return None
    if not isinstance(Z, np.ndarray):
        return shape_problem(Z, (3, 1), "Z")
    if np.shape(Z) == (3, 2):
        return ("Z has shape (3, 2), one column per input: it multiplies by W as if W were stored (out, in) "
                "(PyTorch's layout: W.T, or einsum 'bi,oi->bo'); here W is (in, out), so Z = X @ W + b is "
                "(B, out).")
    problem = shape_problem(Z, (3, 1), "Z")
    if problem:
        return problem
    return first_mistake(Z, [
        (X @ W, "the bias is missing: Z = X @ W + b."),
        (X @ W - b, "the bias is subtracted: Z = X @ W + b."),
        (X @ W + b.sum(), "the bias is summed: each output unit adds its own b[j], X @ W + b."),
        ((X @ W) * b, "it multiplies by the bias: the bias is added, Z = X @ W + b."),
        (X @ (W + b), "it adds b to W before the product, X @ (W + b): the bias is added after it, "
                      "Z = X @ W + b."),
        (X @ W + 2 * b, "the bias is added twice (a line left over?): Z = X @ W + b, once."),
        (X @ W + b * (np.arange(3) == 0)[:, None], "the bias is added to the first row only (Z[0] += b): "
                                                     "Z = X @ W + b adds it to every row."),
    ]) or (f"for X = [[1, 2], [3, 4], [5, 6]], W = [[1], [-1]] and b = [10], Z should be [[9], [9], [9]]; "
           f"yours is {show(Z)}{pattern_of(Z, X @ W + b)}.")


def linear_random_problem(linear_forward_fn):
    X, W, b = random_arrays((5, 4), (4, 3), (3,))
    Z = linear_forward_fn(X.copy(), W.copy(), b.copy())
    problem = shape_problem(Z, (5, 3), "Z (B, out)")
    if problem:
        return problem
    if same(Z, X @ W + b):
        return None
    return first_mistake(Z, [
        (X @ W, "the bias is missing: Z = X @ W + b."),
        (X @ W - b, "the bias is subtracted: Z = X @ W + b."),
        (X @ W + b.sum(), "the biases are summed into one number: each output unit adds its own b[j], X @ W + b."),
        (X @ W + b.mean(), "the biases are averaged into one number: each output unit adds its own b[j]."),
        (X @ W + b[0], "it adds only b[0] to every output: each output unit j adds its own b[j], X @ W + b."),
        (X @ W + b[-1], "it adds only the last bias to every output: each output unit j adds its own b[j], "
                        "X @ W + b."),
        ((X @ W) * b, "it multiplies by the bias: the bias is added, Z = X @ W + b."),
        (X @ (W + b), "it adds b to W before the product, X @ (W + b): the bias is added after it, "
                      "Z = X @ W + b."),
    ]) or (f"Z differs from X @ W + b (relative error {relative_error(np.asarray(Z, dtype=float), X @ W + b):.1e})"
           f"{pattern_of(Z, X @ W + b)}.")


def square_layer_problem(linear_forward_fn):
    """With a square W, a transpose no longer breaks the shapes: Z must still be X @ W, not X @ W.T."""
    X, W, b = random_arrays((4, 4), (4, 4), (4,))
    Z = linear_forward_fn(X.copy(), W.copy(), b.copy())
    if same(Z, X @ W + b):
        return None
    return first_mistake(Z, [
        (X @ W.T + b, "it multiplies by W.T: weights are stored (in, out), so Z = X @ W + b needs no transpose."),
        (W @ X + b, "the factors are in the wrong order: one example per row of X, so Z = X @ W + b."),
        ((W @ X.T).T + b, "it computes (W @ X.T).T: that is X @ W.T; with W stored (in, out), Z = X @ W + b."),
    ]) or f"for a square W, Z differs from X @ W + b{pattern_of(Z, X @ W + b)}."


@graded
def check_linear_forward(linear_forward_fn):
    """Check a student's linear_forward(X, W, b) -> Z (B, out); print a diagnosis, True if it is right."""
    X, W, b = random_arrays((5, 4), (4, 3), (3,))
    return [
        ("a hand-computable example", lambda: linear_example_problem(linear_forward_fn)),
        ("a batch of 5, 4 inputs, 3 outputs", lambda: linear_random_problem(linear_forward_fn)),
        ("a square W", lambda: square_layer_problem(linear_forward_fn)),
        ("its inputs are left unchanged", lambda: input_changed_problem(linear_forward_fn, X=X, W=W, b=b)),
        ("its inputs are left unchanged, W square", lambda: input_changed_problem(
            linear_forward_fn, **dict(zip("XWb", random_arrays((4, 4), (4, 4), (4,)))))),
        ("a second call: the first Z kept, the second right", lambda: second_call_problem(
            lambda: linear_forward_fn(X.copy(), W.copy(), b.copy()), lambda: linear_forward_fn(-X, 2 * W, b),
            ["the Z it returned"], -X @ (2 * W) + b)),
        ("a batch of one row", lambda: one_row_problem(
            linear_forward_fn(X[:1].copy(), W.copy(), b.copy()), X[:1] @ W + b, ["Z"])),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: linear_forward_fn(X.astype(dtype), W.astype(dtype), b.astype(dtype)), ["Z"])),
    ]


HAND_Z = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.0]])


def relu_example_problem(relu_fn):
    A = relu_fn(HAND_Z.copy())
    expected = np.maximum(HAND_Z, 0)
    if same(A, expected):
        return None
    if np.shape(A) in ((3,), (2,)):
        return ("it returns one number per column or row: np.max(Z, 0) takes the largest entry along axis 0; "
                "np.maximum(Z, 0) compares each entry with 0.")
    small = np.array([[0.5, 2.0, -1.0]])
    if same(A, HAND_Z > 0) and same(relu_fn(small.copy()), np.clip(small, 0, 1)):
        return ("it caps the positive entries at 1 (np.clip(Z, 0, 1), or np.minimum(..., 1)): relu has no upper "
                "bound, relu(Z) = max(Z, 0), so 2 stays 2: np.maximum(Z, 0).")
    return first_mistake(A, [
        (HAND_Z > 0, "it returns the mask Z > 0 (the slope); relu's output is Z itself where Z > 0: "
                     "np.maximum(Z, 0)."),
        (np.abs(HAND_Z), "it takes |Z|: negative entries must become 0, not positive: np.maximum(Z, 0)."),
        (np.minimum(HAND_Z, 0), "it keeps the negative entries: relu keeps the positive ones, np.maximum(Z, 0)."),
        (-np.maximum(HAND_Z, 0), "the sign is flipped: relu(Z) = max(Z, 0)."),
        (HAND_Z, "it returns Z unchanged: return the new array it computed (A), not its input."),
        (1 / (1 + np.exp(-HAND_Z)), "it computes the sigmoid, 1 / (1 + e^-Z), another activation: relu(Z) = "
                                    "max(Z, 0), np.maximum(Z, 0)."),
        (np.tanh(HAND_Z), "it computes tanh, another activation: relu(Z) = max(Z, 0), np.maximum(Z, 0)."),
        (np.log1p(np.exp(HAND_Z)), "it computes softplus, log(1 + e^Z), a smooth cousin of relu: relu(Z) = "
                                   "max(Z, 0), np.maximum(Z, 0)."),
    ]) or (f"for Z = [[-2, 0, 3], [1.5, -0.5, 0]], relu(Z) should be [[0, 0, 3], [1.5, 0, 0]]; yours is {show(A)}"
           f"{pattern_of(A, expected, relu_regions(HAND_Z))}.")


def relu_dtype_problem(relu_fn):
    for dtype in (np.float32, np.float64):
        A = relu_fn(HAND_Z.astype(dtype))
        if np.asarray(A).dtype != dtype:
            return (f"relu of a {np.dtype(dtype)} Z is {np.asarray(A).dtype}: keep Z's dtype, whichever it is "
                    "(np.maximum(Z, 0) does; a fixed .astype(np.float32), a float64 array or np.where with 0.0 of "
                    "another dtype does not).")
    return None


def relu_exact_problem(relu_fn):
    """relu only selects: its entries are exactly 0 or exactly Z's, never close to them."""
    Z = random_arrays((5, 4))[0]
    A = np.asarray(relu_fn(Z.copy()), dtype=np.float64)
    if np.array_equal(A, np.maximum(Z, 0)):
        return None
    if not np.array_equal(A[Z > 0], Z[Z > 0]):
        return "where Z > 0, relu(Z) should be exactly Z; yours changes those entries a little."
    found = ", ".join(f"{value:.3g}" for value in A[Z < 0][:3])
    return (f"where Z < 0 it returns {found}, ..., not exactly 0: relu sets them to 0, np.maximum(Z, 0) "
            "(no small floor or offset: the next layer and the backward pass count on exact zeros).")


def relu_large_problem(relu_fn):
    """relu of entries near the dtype's largest value must not overflow: (Z + |Z|) / 2 does."""
    Z = np.array([[3e38, -3e38, 1.0]], dtype=np.float32)
    A = np.asarray(relu_fn(Z.copy()), dtype=np.float64)
    if same(A, np.maximum(Z, 0)):
        return None
    if not np.isfinite(A).all():
        return (f"for Z = [[3e38, -3e38, 1]] in float32 it returns {show(A)}: an intermediate overflows (Z + |Z| "
                "is above float32's largest value, 3.4e38); np.maximum(Z, 0) never leaves Z's range.")
    return f"for Z = [[3e38, -3e38, 1]] in float32, relu(Z) should be [[3e38, 0, 1]]; yours is {show(A)}."


@graded
def check_relu(relu_fn):
    """Check a student's relu(Z) -> A, entry by entry; print a diagnosis, True if it is right."""
    Z = random_arrays((5, 4))[0]
    return [
        ("floats, not integers", lambda: dtype_problem(lambda dtype: relu_fn((3 * Z).astype(dtype)), ["A"], True,
                                                       a_mask_is_likely=True)),
        ("a hand-computable example", lambda: relu_example_problem(relu_fn)),
        ("a batch of 5 rows of 4", lambda: shape_problem(relu_fn(Z.copy()), (5, 4), "A") or values_problem(
            relu_fn(Z.copy()), np.maximum(Z, 0), "A", "np.maximum(Z, 0)")),
        ("the dtype it is given, float32 or float64", lambda: relu_dtype_problem(relu_fn)),
        ("exactly 0 or exactly Z", lambda: relu_exact_problem(relu_fn)),
        ("entries near float32's largest value", lambda: relu_large_problem(relu_fn)),
        ("its input is left unchanged", lambda: input_changed_problem(relu_fn, Z=Z)),
        ("a second call: the first A kept, the second right", lambda: second_call_problem(
            lambda: relu_fn(Z.copy()), lambda: relu_fn(-Z), ["the A it returned"], np.maximum(-Z, 0))),
        ("a batch of one row", lambda: one_row_problem(relu_fn(Z[:1].copy()), np.maximum(Z[:1], 0), ["A"])),
    ]


def reference_forward(params, X, relu_on_last=False, relu_on_hidden=True):
    cache, A = [], X
    L = len(params) // 2
    for layer in range(1, L + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0) if (layer < L and relu_on_hidden) or (layer == L and relu_on_last) else Z
    return A, cache


def forward_result_problem(result, n_layers):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return f"it should return two values, logits and cache; it returns {describe_value(result)}."
    logits, cache = result
    if isinstance(logits, (list, tuple)) and isinstance(cache, np.ndarray):
        return "it returns cache, logits: return logits, cache, in the order the statement gives."
    if not isinstance(cache, (list, tuple)):
        return f"the cache should be a list with one (A_in, Z) pair per layer; it is {describe_value(cache)}."
    if len(cache) > n_layers and len(cache) % n_layers == 0:
        return (f"the cache holds {len(cache)} entries for a network of {n_layers} layers: it keeps the entries of "
                "earlier calls (a list made once, as a default argument or outside the function). Make a new "
                "list, cache = [], at every call.")
    if len(cache) != n_layers:
        return (f"the cache holds {len(cache)} entries for a network of {n_layers} layers: append one (A_in, Z) "
                "pair per layer (if it is fixed in the code, take the number of layers from params: "
                "L = len(params) // 2).")
    if not all(isinstance(entry, (tuple, list)) and len(entry) == 2 for entry in cache):
        return "each cache entry should be a pair (A_in, Z): the layer's input and its pre-activation."
    return None


def forward_values_problem(forward_fn, params, X):
    n_layers = len(params) // 2
    try:
        result = forward_fn(copy_params(params), X.copy())
    except KeyError as error:
        key = error.args[0] if error.args else None
        if isinstance(key, str) and re.fullmatch(r"[Wb]0", key):
            return (f"it reads {key}, but layers are numbered from 1: W1, b1, ..., W{n_layers}, b{n_layers}; "
                    "for l in range(1, L + 1).")
        if isinstance(key, str) and re.fullmatch(r"[Wb]\d+", key):
            return (f"for a network of {n_layers} layers it reads {key}, which that network lacks: the number of "
                    "layers is fixed in the code. Take it from params, L = len(params) // 2.")
        raise
    problem = forward_result_problem(result, n_layers)
    if problem:
        return problem
    logits, cache = result
    expected_logits, expected_cache = reference_forward(params, X)
    for layer, ((A_in, Z), (right_A, right_Z)) in enumerate(zip(cache, expected_cache), start=1):
        if same(A_in, right_Z) and same(Z, right_A):
            return f"cache[{layer - 1}] holds (Z, A_in) in swapped order: append (A_in, Z), the input first."
        if not same(A_in, right_A):
            if n_layers > 1 and all(same(A_in, X) for A_in, _ in cache):
                return ("every layer's input in the cache is X: after each layer, A = relu(Z) becomes the next "
                        "layer's input, A = relu(Z) then Z = A @ W + b with that A.")
            if len(cache) == n_layers and n_layers > 1 and all(
                    same(cache[index][0], expected_cache[n_layers - 1 - index][0]) for index in range(n_layers)):
                return ("the cache is in reverse order, the last layer first: append each layer's (A_in, Z) as "
                        "the forward pass meets it, so that cache[l - 1] is layer l's.")
            if layer > 1 and same(A_in, expected_cache[layer - 2][1]):
                return (f"layer {layer}'s input is layer {layer - 1}'s Z itself: the ReLU between the layers is "
                        "missing. A = relu(Z) after every layer but the last.")
            after = expected_cache[layer][0] if layer < n_layers else None
            if layer < n_layers and same(A_in, after):
                return (f"cache[{layer - 1}][0] is layer {layer}'s output, not its input: append (A, Z) before "
                        "A becomes relu(Z).")
            return (f"cache[{layer - 1}][0] should be layer {layer}'s input (X for layer 1, then the previous "
                    "layer's relu(Z)).")
        if not same(Z, right_Z):
            if same(Z, np.maximum(right_Z, 0)):
                return (f"cache[{layer - 1}][1], layer {layer}'s Z, holds relu(Z), not Z: the cache keeps the "
                        "pre-activation Z, before the ReLU (a ReLU done in place, Z[Z < 0] = 0 or np.maximum(Z, 0, "
                        "out=Z), also changes it after it is cached). Keep Z as it is, A = relu(Z) a new array: "
                        "the backward pass needs Z.")
            return (f"cache[{layer - 1}][1], layer {layer}'s Z, should be its input @ W{layer} + b{layer}"
                    f"{pattern_of(Z, right_Z)}.")
    if same(logits, expected_logits):
        return None
    return first_mistake(logits, [
        (reference_forward(params, X, relu_on_last=True)[0], "relu is applied to the last layer too: the last "
                                                             "layer's Z are the logits, with no relu after it."),
        (reference_forward(params, X, relu_on_hidden=False)[0], "no relu between the layers: every hidden layer's "
                                                                "A is relu(Z)."),
    ]) or f"the logits should be the last layer's Z, cache[{n_layers - 1}][1]."


def forward_case(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{layer}"] = 0.1 * rng.standard_normal(n_out)
    return params, rng.standard_normal((5, sizes[0]))


def many_layers_problem(forward_fn):
    """None if a network of 11 layers (all 5 wide, so any order of the layers runs) is walked W1, W2, ..., W11."""
    params, X = forward_case([5] * 12, 3)
    result = forward_fn(copy_params(params), X.copy())
    names = sorted(name[1:] for name in params if name.startswith("W"))  # "1", "10", "11", "2", ...
    shuffled = {f"{p}{new}": params[f"{p}{old}"] for new, old in enumerate(names, start=1) for p in "Wb"}
    if isinstance(result, (tuple, list)) and len(result) == 2 and same(result[0], reference_forward(shuffled, X)[0]) \
            and not same(result[0], reference_forward(params, X)[0]):
        return ("for a network of 11 layers it takes them in the sorted order of their names, W1, W10, W11, W2, "
                "...: as text, 'W10' comes before 'W2'. Walk the layers by number, for layer in range(1, L + 1), "
                "reading params[f'W{layer}'] and params[f'b{layer}'].")
    return forward_values_problem(forward_fn, params, X)


def key_order_problem(forward_fn, params, X):
    """None if forward reads each parameter by its name, whatever the order of the dict's keys."""
    for names in (sorted(params), list(reversed(params))):  # W1, W2, W3, b1, b2, b3; b3, W3, ..., W1
        try:
            logits = forward_fn(copy_params({name: params[name] for name in names}), X.copy())[0]
            if same(logits, forward(params, X)[0]):
                continue
        except (ValueError, KeyError, IndexError, TypeError):
            pass
        return (f"with the same params in another order of keys ({', '.join(names)}) the logits differ: it takes "
                "the parameters by their position in the dict (params.values(), zip); take each by its name, "
                "params[f'W{l}'] and params[f'b{l}'].")
    return None


@graded
def check_forward(forward_fn):
    """Check a student's forward(params, X) -> logits, cache; print a diagnosis, True if it is right."""
    params, X = forward_case([4, 6, 7, 3])
    return [
        ("a 4-6-7-3 network: logits and cache", lambda: forward_values_problem(forward_fn, params, X)),
        ("a 4-3 network of one layer", lambda: forward_values_problem(forward_fn, *forward_case([4, 3], 1))),
        ("a batch of one row", lambda: forward_values_problem(forward_fn, params, X[:1])),
        ("a 4-6-5-7-3 network of four layers", lambda: forward_values_problem(
            forward_fn, *forward_case([4, 6, 5, 7, 3], 2))),
        ("a network of 11 layers (W10 and W11 come after W9)", lambda: many_layers_problem(forward_fn)),
        ("params with their keys in other orders", lambda: key_order_problem(forward_fn, params, X)),
        ("params and X left unchanged", lambda: input_changed_problem(
            lambda X_: forward_fn(params, X_), X=X) or (None if all(np.array_equal(params[n], forward_case(
                [4, 6, 7, 3])[0][n]) for n in params) else "it changes params: the forward pass only reads them.")),
        ("the dtype it is given, float32 or float64", lambda: dtype_problem(
            lambda dtype: forward_fn(*in_dtype(forward_case([4, 6, 7, 3]), dtype)), ["logits", "cache"])),
    ]


def init_shapes_problem(params, sizes):
    if not isinstance(params, dict):
        return f"it should return a dict of arrays, W1, b1, W2, b2, ...; it returns {describe_value(params)}."
    if "W0" in params or "b0" in params:
        return "params holds W0 or b0: layers are numbered from 1, W1, b1, ..., as forward and backward read them."
    layers = len([name for name in params if str(name).startswith("W")])
    if layers != len(sizes) - 1 and np.shape(params.get("W1")) == tuple(sizes[:2]):
        return (f"for layer_sizes = {sizes} it makes {layers} layer{'s' if layers != 1 else ''}, not "
                f"{len(sizes) - 1}: one layer per pair of neighbouring sizes, whatever their number; loop "
                "for l in range(1, len(layer_sizes)) rather than writing a fixed number of layers.")
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        for name, shape in ((f"W{layer}", (n_in, n_out)), (f"b{layer}", (n_out,))):
            if name not in params:
                return f"params has no {name}: one W and one b per layer, numbered from 1."
            if name[0] == "b" and np.shape(params[name]) == (1, n_out):
                return (f"params['{name}'] has shape (1, {n_out}), expected ({n_out},): make each bias "
                        "one-dimensional, np.zeros(n_out), not np.zeros((1, n_out)); it still broadcasts over "
                        "the batch, and its gradient, summed over axis 0, has that shape.")
            problem = shape_problem(params[name], shape, f"params['{name}']")
            if problem:
                return problem + (" Weights are stored (in, out), one row per input." if name[0] == "W" else "")
    extra = sorted(set(params) - {f"{p}{layer}" for layer in range(1, len(sizes)) for p in "Wb"})
    if extra:
        return f"params holds {extra[0]}, which no layer has."
    arrays = [(name, value) for name, value in params.items() if isinstance(value, np.ndarray)]
    shared = next(((first, second) for index, (first, one) in enumerate(arrays) for second, other in arrays[index + 1:]
                   if np.shares_memory(one, other)), None)
    if shared:
        return (f"params['{shared[0]}'] and params['{shared[1]}'] share their memory (views of one array, or one "
                "array twice): a step that changes one in place changes the other. Make a new array for each, "
                "np.zeros(n_out, dtype=np.float32) inside the loop.")
    return None


def init_values_problem(init_fn):
    sizes = [784, 256, 10]
    params = init_fn(sizes, np.random.default_rng(0))
    problem = init_shapes_problem(params, sizes)
    if problem:
        return problem
    for name in params:
        if np.asarray(params[name]).dtype != np.float32:
            return (f"params['{name}'] is {np.asarray(params[name]).dtype}: make every array float32, like the "
                    "images (.astype(np.float32), as the last step: multiplying a float32 array by a float64 "
                    "array or NumPy number, such as np.sqrt(2 / n_in), makes it float64 again).")
    for layer in (1, 2):
        b = np.asarray(params[f"b{layer}"], dtype=float)
        if np.any(b):
            return f"b{layer} is not zero: biases start at 0 (np.zeros(n_out, dtype=np.float32))."
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = np.asarray(params[f"W{layer}"], dtype=float)
        std, mean = W.std(), W.mean()
        he = np.sqrt(2 / fan_in)
        if abs(mean) > 5 * he / np.sqrt(W.size) + 1e-3 * he and abs(mean) > 0.2 * std:
            return (f"W{layer}'s entries have mean {mean:.3g}, not 0: draw them from a normal distribution "
                    "centred on 0, rng.standard_normal.")
        if std == 0:
            return (f"W{layer} is all zeros: its scale came out as 0 (an integer division, 2 // fan_in, rounds "
                    "2 / 784 down to 0); He's scale is np.sqrt(2 / fan_in), a true division.")
        kurtosis = float(np.mean((W - mean) ** 4) / std ** 4)
        if kurtosis < 2.5:
            return (f"W{layer}'s entries are spread evenly rather than normally (a uniform draw, rng.random or "
                    "rng.uniform?): He initialisation draws from a normal distribution, "
                    "rng.standard_normal(...) * np.sqrt(2 / fan_in).")
        if abs(std / he - 1) < 0.05:
            continue
        named = {np.sqrt(1 / fan_in): "1 / sqrt(fan_in) (LeCun's scale, for activations that keep both halves)",
                 np.sqrt(2 / fan_out): "sqrt(2 / fan_out), the layer's outputs rather than its inputs",
                 np.sqrt(2 / (fan_in + fan_out)): "sqrt(2 / (fan_in + fan_out)), Glorot's scale for sigmoid, tanh",
                 2 / fan_in: "2 / fan_in, the variance rather than the standard deviation",
                 1.0: "1, no scale at all"}
        cause = next((text for value, text in named.items() if abs(std / value - 1) < 0.05), None)
        return (f"W{layer}'s standard deviation is {std:.4f}; He initialisation gives sqrt(2 / fan_in) = {he:.4f} "
                f"for fan_in = {fan_in}" + (f": yours is {cause}." if cause else "."))
    return None


def init_rng_problem(init_fn):
    sizes = [20, 8, 3]
    first, again, other = (init_fn(sizes, np.random.default_rng(seed)) for seed in (1, 1, 2))
    use_it = ("draw from the rng you are given, rng.standard_normal((n_in, n_out)), not np.random or a "
              "generator of its own.")
    if not np.array_equal(np.asarray(first["W1"]), np.asarray(again["W1"])):
        return f"two calls with the same seed give different weights: {use_it}"
    if np.array_equal(np.asarray(first["W1"]), np.asarray(other["W1"])):
        return f"the weights are the same whatever rng it is given: {use_it}"
    draws = [np.asarray(first[name], dtype=float).ravel()[:3] / np.sqrt(2 / n_in) for name, n_in in (("W1", 20),
                                                                                                    ("W2", 8))]
    if np.allclose(*draws):
        return "every layer gets the same draws: draw each layer's weights in turn from the one rng."
    return None


@graded
def check_init_params(init_fn):
    """Check a student's init_params(layer_sizes, rng) -> params, He-initialised; True if it is right."""
    return [
        ("W and b for each layer, shaped (in, out) and (out,)", lambda: init_shapes_problem(
            init_fn([4, 6, 7, 3], np.random.default_rng(0)), [4, 6, 7, 3])),
        ("784-256-10: float32, zero biases, He's scale", lambda: init_values_problem(init_fn)),
        ("the rng it is given decides the weights", lambda: init_rng_problem(init_fn)),
    ]

# ---- Exercise 8: what the network gets wrong -------------------------------------------------------------

# y and predictions for C = 3 classes, each (true, predicted) pair of the hand example on its own line:
# (0, 0), (0, 1), (1, 1), (2, 2), (2, 0), (2, 2). The pair (2, 2) comes twice, so a fancy-indexed
# `counts[y, predicted] += 1`, which adds once per distinct pair, shows; and no two rows of counts are alike.
HAND_Y, HAND_PREDICTED = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
HAND_COUNTS = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def reference_confusion(predicted, y, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, guess in zip(y, predicted):
        counts[true, guess] += 1
    return counts


def confusion_shape_problem(confusion_fn):
    counts = confusion_fn(HAND_PREDICTED.copy(), HAND_Y.copy(), num_classes=5)
    if not isinstance(counts, np.ndarray):
        return f"it should return an array of counts, shape (C, C); it returns {describe_value(counts)}."
    if counts.shape == (10, 10):
        return ("for num_classes = 5 it returns a (10, 10) array: it ignores num_classes; make the array "
                "np.zeros((num_classes, num_classes)).")
    if counts.shape == (3, 3):
        return ("for num_classes = 5 it returns a (3, 3) array: its size comes from the largest label present "
                "(here 2), which misses classes that never occur; make it (num_classes, num_classes).")
    return shape_problem(counts, (5, 5), "counts")


def confusion_example_problem(confusion_fn):
    counts = np.array(confusion_fn(HAND_PREDICTED.copy(), HAND_Y.copy(), num_classes=3), copy=True)
    again = confusion_fn(HAND_PREDICTED.copy(), HAND_Y.copy(), num_classes=3)
    if np.shape(again) == np.shape(counts) and not same(again, counts) and same(np.asarray(again) - counts, counts):
        return ("a second call on the same labels doubles the counts: the counts of earlier calls are still in (an "
                "array made once, outside the function); make a new one, np.zeros(...), at every call.")
    if same(counts, HAND_COUNTS):
        return None
    repeated = confusion_fn(np.zeros(3, dtype=int), np.zeros(3, dtype=int), num_classes=2)  # one pair, 3 times
    if np.shape(repeated) == (2, 2) and np.asarray(repeated)[0, 0] == 2:
        return ("three examples of label 0 predicted 0 give counts[0, 0] = 2, not 3: the last example is not "
                "counted (a range(len(y) - 1), or a slice that stops one short); count all N examples.")
    return first_mistake(counts, [
        (HAND_COUNTS.T, "rows and columns are swapped: row i counts the examples whose true label is i, column j "
                        "those predicted j, so add 1 at counts[y[n], predicted[n]] (a flat index "
                        "predicted * C + y, or a reshape with order='F', swaps them too)."),
        (np.array([[np.sum((HAND_Y == i) | (HAND_PREDICTED == j)) for j in range(3)] for i in range(3)]),
         "it counts the examples with y == i OR predicted == j: both must hold, (y == i) & (predicted == j)."),
        (np.minimum(HAND_COUNTS, 1), "a (true, predicted) pair that occurs twice is counted once: the count is "
                                     "set, not added to (counts[t, p] = 1 in a loop), or a fancy-indexed "
                                     "counts[y, predicted] += 1 adds 1 once per distinct pair. Add 1 per example: "
                                     "counts[t, p] += 1 in a loop, or np.add.at(counts, (y, predicted), 1)."),
        (np.bincount(HAND_Y * 2 + HAND_PREDICTED, minlength=9)[:9].reshape(3, 3),
         "the flat index is y * (C - 1) + predicted, so different pairs land in one cell: y * C + predicted, "
         "one cell per pair, then reshape(C, C)."),
        (reference_confusion((HAND_PREDICTED - 1) % 3, (HAND_Y - 1) % 3, 3),
         "each count sits one row and one column before its place, with class 0's at the end: it indexes with "
         "label - 1 (counting from 1); labels index from 0, counts[y[n], predicted[n]]."),
        (np.diag(np.diag(HAND_COUNTS)), "only the right predictions are counted: count every example, at row "
                                        "y[n] and column predicted[n], the mistakes too."),
        (HAND_COUNTS - np.diag(np.diag(HAND_COUNTS)), "only the mistakes are counted: the diagonal holds the "
                                                      "right predictions, count them too."),
    ]) or (f"for y = [0, 0, 1, 2, 2, 2] and predicted = [0, 1, 1, 2, 0, 2], counts should be "
           f"[[1, 1, 0], [0, 1, 0], [1, 0, 2]]; yours is {show(counts)}{counts_pattern(counts, HAND_COUNTS)}.")


def confusion_random_problem(confusion_fn):
    rng = np.random.default_rng(0)
    y, predicted = rng.integers(0, 10, 1000), rng.integers(0, 10, 1000)
    counts = confusion_fn(predicted.copy(), y.copy())
    expected = reference_confusion(predicted, y, 10)
    if same(counts, expected):
        return None
    if np.shape(counts) == (10, 10) and float(np.sum(counts)) != 1000:
        return (f"for 1,000 examples its counts add up to {float(np.sum(counts)):g}: each example adds 1 to "
                "exactly one entry, so they must add up to 1,000.")
    return ("for 1,000 random labels and predictions, counts differ from the number of examples with each "
            "(true, predicted) pair.")


def counts_pattern(counts, expected):
    """pattern_of, first saying so when the counts are rates (rows or columns that sum to 1)."""
    try:
        counts = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        return ""
    if counts.shape == expected.shape and np.any(counts != np.round(counts)):
        return (": it holds fractions, not counts: each entry is the number of examples, a whole number (do not "
                "divide by a row's or a column's total)")
    return pattern_of(counts, expected)


def confusion_some_classes_problem(confusion_fn):
    """None if labels that use only classes 1 to 3 of five are counted in their own rows and columns."""
    y, predicted = np.array([1, 2, 3, 3, 1, 2, 3]), np.array([1, 3, 3, 2, 1, 2, 1])
    counts = confusion_fn(predicted.copy(), y.copy(), num_classes=5)
    expected = reference_confusion(predicted, y, 5)
    if same(counts, expected):
        return None
    return (f"for y = {y.tolist()} and predicted = {predicted.tolist()}, which use classes 1 to 3 of "
            f"num_classes = 5, counts should be {expected.tolist()}; yours is {show(counts)}: example n adds 1 at "
            "row y[n], column predicted[n], whatever classes occur (np.histogram2d's bins span the range of the "
            "data, not the classes).")


def uint8_labels_problem(confusion_fn):
    """None if uint8 labels and 20 classes are counted in their own cells (y * C + predicted wraps in uint8)."""
    y, predicted = np.array([16, 19, 3], dtype=np.uint8), np.array([0, 18, 3], dtype=np.uint8)
    counts = confusion_fn(predicted.copy(), y.copy(), num_classes=20)
    if np.shape(counts) == (20, 20) and counts[16, 0] == 1 and counts[19, 18] == 1 and counts[3, 3] == 1 \
            and np.sum(counts) == 3:
        return None
    return ("with uint8 labels, as parse_idx gives them, and 20 classes, the counts land in other cells: "
            "y * num_classes + predicted is computed in uint8 and wraps past 255; convert first, "
            "y.astype(np.int64), or count with np.add.at(counts, (y, predicted), 1).")


def confusion_integers_problem(confusion_fn):
    """None if counts are integers that hold a count of 70,000 (more than uint8's or int16's largest)."""
    counts = confusion_fn(np.zeros(70_000, dtype=np.int64), np.zeros(70_000, dtype=np.int64), num_classes=2)
    dtype = np.asarray(counts).dtype
    if dtype.kind not in "iu":
        return (f"counts are {dtype}: they count examples, so make them integers, np.zeros((num_classes, "
                "num_classes), dtype=int), as np.zeros alone (or np.histogram2d) makes floats.")
    if np.shape(counts) == (2, 2) and np.asarray(counts)[0, 0] == 70_000 and not same(counts, [[70_000, 0], [0, 0]]):
        return (f"for 70,000 examples of the pair (0, 0) and num_classes = 2, counts is {show(counts)}: counts[0, 0] "
                "is right, but counts appear in cells no example reached. np.bincount returns counts only up to the "
                "largest value present (give it minlength=num_classes ** 2), and np.resize repeats them to fill.")
    if not same(counts, [[70_000, 0], [0, 0]]):
        return (f"for 70,000 examples of the pair (0, 0), counts[0, 0] is {np.asarray(counts)[0, 0]}: the counts "
                f"are {dtype}, too small an integer type (uint8 stops at 255), so they wrap around. Use "
                "dtype=int (int64).")
    return None


@graded
def check_confusion_matrix(confusion_fn):
    """Check a student's confusion_matrix(predicted, y, num_classes=10) -> counts (C, C); True if it is right."""
    return [
        ("a (C, C) array for num_classes = C", lambda: confusion_shape_problem(confusion_fn)),
        ("a hand-computable example", lambda: confusion_example_problem(confusion_fn)),
        ("its inputs are left unchanged", lambda: input_changed_problem(
            lambda predicted, y: confusion_fn(predicted, y, num_classes=3), predicted=HAND_PREDICTED[::-1],
            y=HAND_Y[::-1])),
        ("1,000 random labels and predictions", lambda: confusion_random_problem(confusion_fn)),
        ("labels that use some of the classes", lambda: confusion_some_classes_problem(confusion_fn)),
        ("integer counts, up to 70,000", lambda: confusion_integers_problem(confusion_fn)),
        ("uint8 labels (as parse_idx gives) and 20 classes", lambda: uint8_labels_problem(confusion_fn)),
        ("a second call: the first counts kept, the second right", lambda: second_call_problem(
            lambda: confusion_fn(HAND_PREDICTED.copy(), HAND_Y.copy(), num_classes=3),
            lambda: confusion_fn(HAND_Y.copy(), HAND_PREDICTED.copy(), num_classes=3), ["the counts it returned"],
            reference_confusion(HAND_Y, HAND_PREDICTED, 3))),
    ]


# Counts with a large diagonal (the right answers, never a "confusion"), off-diagonal counts of several sizes,
# and a tie (two pairs of 4), to be ordered by the true label, then the predicted one.
HAND_CONFUSION = np.array([[50, 4, 0, 1], [2, 60, 7, 0], [0, 4, 40, 3], [9, 0, 1, 70]])
HAND_PAIRS = [(3, 0, 9), (1, 2, 7), (0, 1, 4), (2, 1, 4)]


FEW_CONFUSIONS = np.array([[5, 0, 0], [2, 6, 0], [0, 0, 7]])  # one confusion: k = 4 needs pairs of count 0


def reference_pairs(counts, k):
    C = len(counts)
    pairs = [(i, j, int(counts[i, j])) for i in range(C) for j in range(C) if i != j]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:k]


def as_pairs(result):
    """result as a list of (int, int, int), or None if it is not a sequence of three numbers each."""
    try:
        return [tuple(int(value) for value in pair) for pair in result if len(pair) == 3] \
            if len(result) == len([pair for pair in result if len(pair) == 3]) else None
    except (TypeError, ValueError):
        return None


def pairs_type_problem(result):
    """None if the right pairs come as a list of sequences of integers, as the statement asks."""
    if not isinstance(result, list):
        return (f"the pairs are right, but they come as {describe_value(result)} of type {type(result).__name__}: "
                "return a Python list of tuples, [(true, predicted, count), ...] (.tolist() turns an array into one).")
    listed = next((pair for pair in result if not isinstance(pair, tuple)), None)
    if listed is not None:
        return (f"the pairs are right, but each comes as a {type(listed).__name__}, {listed!r}: make each a tuple, "
                "(true, predicted, count), as the statement asks; a list [3, 0, 9] is not equal to (3, 0, 9).")
    number = next((value for pair in result for value in pair
                   if not isinstance(value, (int, np.integer)) or isinstance(value, bool)), None)
    if number is not None:
        return (f"the pairs are right, but {number!r} is a {type(number).__name__}, not an integer: a count or a "
                "label taken from a float array (the diagonal set to -inf, say); convert each with int().")
    return None


def pairs_pattern(got, expected, counts):
    """A clause naming what the wrong pairs got show, or ''."""
    C, found = len(counts), [n for _, _, n in got]
    misread = next(((i, j, n) for i, j, n in got if 0 <= i < C and 0 <= j < C and counts[i, j] != n), None)
    if misread:
        i, j, n = misread
        return (f": the pair ({i}, {j}) comes with the count {n}, but counts[{i}, {j}] is {counts[i, j]}: give each "
                "cell's own count (not merged with its mirror (j, i), nor a rate)")
    if found and max(found) < min(n for _, _, n in expected):
        return ": these are the smallest counts: sort by decreasing count, the most frequent confusion first"
    if len(found) > 1 and found == sorted(found) and found != sorted(found, reverse=True):
        return ": they come in increasing order of count: the most frequent confusion comes first"
    if len(set(got)) < len(got):
        return (": the same pair comes more than once: once a pair is taken, remove it (set its cell to -1 in the "
                "copy) before looking for the next largest")
    rows = [i for i, _, _ in expected]
    if len({i for i, _, _ in got}) == len(got) and len(set(rows)) < len(rows):
        return (": it takes at most one pair per true label (row), but the largest confusions may share a row: "
                "rank every off-diagonal cell together")
    return ""


def confused_pairs_problem(pairs_fn, counts, k):
    """None if pairs_fn(counts, k) gives the k largest off-diagonal counts; else name the mistake."""
    result = pairs_fn(counts.copy(), k)
    got, expected = as_pairs(result), reference_pairs(counts, k)
    if got is None:
        return (f"it should return a list of {k} (true, predicted, count) tuples; it returns "
                f"{describe_value(result)}.")
    if got == expected:
        return pairs_type_problem(result)
    for order in ((2, 0, 1), (0, 2, 1), (2, 1, 0), (1, 2, 0)):  # (predicted, true) has its own sentence
        if [tuple(pair[index] for index in order) for pair in expected] == got:
            return (f"each tuple comes in another order, {got[0]} for {expected[0]}: give (true, predicted, count), "
                    "the row, the column, then the count.")
    if k != 3 and len(got) == 3 and len(expected) != 3:
        return f"it returns 3 pairs for k = {k}: use the k it is given, not 3."
    if len(got) < k and all(n > 0 for _, _, n in got) and any(n == 0 for _, _, n in expected):
        plural = "s" if len(got) != 1 else ""
        return (f"it returns {len(got)} pair{plural} for k = {k}: it leaves out the cells whose count is 0, but when fewer "
                "than k confusions happen the k largest include confusions that never happen (count 0), never the "
                "diagonal.")
    C = len(counts)
    everything = sorted([(i, j, int(counts[i, j])) for i in range(C) for j in range(C)],
                        key=lambda pair: (-pair[2], pair[0], pair[1]))
    mistakes = [
        (everything[:k], "the diagonal is included: counts[i, i] are the right answers, not confusions; skip "
                         "i == j (or set a copy's diagonal to 0)."),
        ([(j, i, n) for i, j, n in expected], "each pair comes out as (predicted, true): the row of counts is the "
                                              "true label, the column the prediction, so give (row, column, count)."),
        (sorted(expected, key=lambda pair: (pair[2], pair[0], pair[1])),
         "the pairs come in increasing order of count: give the most frequent confusion first."),
        (reference_pairs(counts, len(counts) ** 2)[-k:][::-1], "these are the least frequent confusions: give the "
                                                               "largest counts, the most frequent first."),
        (sorted([(i, j, int(counts[i, j])) for i in range(C) for j in range(C) if i != j], reverse=True)[:k],
         "it sorts the tuples themselves, which compares the true label first: sort by the count, most frequent "
         "first, key=lambda pair: (-pair[2], pair[0], pair[1])."),
        (reference_pairs(counts, k + 1)[1:], "the most frequent confusion is left out: a slice that starts at 1 "
                                             "(pairs[1:k + 1], counting from 1); Python counts from 0, pairs[:k]."),
    ]
    named = next((sentence for wrong, sentence in mistakes if got == wrong), None)
    if named:
        return named
    if any(i == j for i, j, _ in got):
        diagonal = next((i, j, n) for i, j, n in got if i == j)
        return (f"for k = {k} it returns {diagonal}, a cell of the diagonal: those are right answers, never a "
                "confusion, even when set to 0 in a copy (then they rank among the confusions that never "
                "happen). Skip i == j.")
    if len(got) < k and len({n for _, _, n in got}) == len(got) and len({n for _, _, n in expected}) < k:
        return (f"it returns {len(got)} pairs for k = {k}, one per count: pairs with equal counts are lost (a dict "
                "keyed by the count keeps one of them); keep every pair, in a list, and sort it.")
    if len(got) != k:
        return f"it returns {len(got)} pairs for k = {k}: return exactly the k most frequent confusions."
    valid = all(0 <= i < C and 0 <= j < C and i != j and counts[i, j] == n for i, j, n in got)
    if valid and [n for _, _, n in got] == [n for _, _, n in expected]:
        return ("the counts are right, but pairs with equal counts come in another order: order them by the true "
                "label, then by the predicted one (a stable sort of the negated flattened counts, "
                "np.argsort(-flat, kind='stable'), does so; reversing an ascending sort with [::-1] reverses the "
                "ties too, and a dict keyed by the count keeps only one pair of each count).")
    return (f"for counts {counts.tolist()} and k = {k}, the pairs should be {expected}; yours are {got}"
            f"{pairs_pattern(got, expected, counts)}.")


def confusion_counts_unchanged_problem(pairs_fn):
    counts = HAND_CONFUSION.copy()
    pairs_fn(counts, 2)
    if np.array_equal(counts, HAND_CONFUSION):
        return None
    if not np.any(np.diag(counts)):
        return ("it sets the diagonal of the caller's counts to 0 in place: the caller still needs them (the "
                "diagonal holds the right answers); zero the diagonal of a copy, counts.copy().")
    return "it changes the caller's counts in place: work on a copy, counts.copy()."


@graded
def check_most_confused_pairs(pairs_fn):
    """Check a student's most_confused_pairs(counts, k=3) -> [(true, predicted, count), ...]; True if right."""
    rng = np.random.default_rng(0)
    big = rng.permutation(100).reshape(10, 10)  # every count different: no ties
    big[np.arange(10), np.arange(10)] = 900
    return [
        ("the hand example, k = 3", lambda: confused_pairs_problem(pairs_fn, HAND_CONFUSION, 3)),
        ("a tie, k = 4", lambda: confused_pairs_problem(pairs_fn, HAND_CONFUSION, 4)),
        ("ten classes, k = 5", lambda: confused_pairs_problem(pairs_fn, big, 5)),
        ("the counts are left unchanged", lambda: confusion_counts_unchanged_problem(pairs_fn)),
        ("k beyond the confusions that happen", lambda: confused_pairs_problem(pairs_fn, FEW_CONFUSIONS, 4)),
        ("k = 0", lambda: None if pairs_fn(HAND_CONFUSION.copy(), 0) == [] else (
            "for k = 0 it should return no pairs, []: a slice such as order[-k:] takes everything when k is 0; "
            "take order[:k] of the counts sorted in decreasing order.")),
    ]
