"""mnist_ann: a fully connected neural network for MNIST, written from scratch in NumPy.

This file is the companion of the notebooks in notebooks/: sections 1-8 below are derived, line by
line, in the notebooks named in their headings, and the notebooks import this module to show that
their inline code and ours give the same answer. Read it top to bottom; it follows the notebooks.

    python mnist_ann.py                # train the default 784-128-64-10 network (about 98%)
    python mnist_ann.py --preset best  # 784-1024-1024-10 with dropout and augmentation (about 99%)
    python mnist_ann.py --help         # every option

Sections 1-8 are the lesson: the data, the network, its training, and what makes it generalise.
Section 9 holds the guards: a function you call from outside (load_mnist, init_params, forward,
loss_and_grads, train, evaluate, predict, ...) first makes one call to a guard, refuse_...,
which checks what it was given and says in one sentence what is wrong. That call is the only
place where the lesson looks ahead; skip the guards on a first reading. Section 10 downloads
data, saves and loads weights, keeps interrupted runs, and runs the command line. Every other
function comes after the functions and tables it uses. The checks of the exercises are not here:
they sit beside the exercises, in notebooks/exercises/checks.py.

What it leaves out on purpose: classes (but for its error types), automatic differentiation,
GPUs and convolutions. Each of those is a next step, not a first one.

Letters used in shapes: N examples in a split, B examples in a batch, D = 784 inputs, H hidden
units, C = 10 classes, K affine layers (W1, b1, ..., WK, bK).
"""

import argparse
import functools
import gzip
import hashlib
import http.client
import inspect
import itertools
import json
import math
import numbers
import os
import signal
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

# One BLAS thread, unless you say otherwise: a batch of 32 makes matrix products too small to
# share between threads, and two threads on two cores slow to a crawl whenever anything else
# runs (epochs of 4-20 s instead of 1 s, measured). Only takes effect before NumPy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402 (after the line above, on purpose)


# ---- 1. Data ------------------------------------------------------------- 01_data.ipynb

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data" / "mnist"

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# The third byte of an IDX header names the element type; IDX numbers are big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_file_bytes(path):
    """All bytes of a file, decompressed if its name ends in .gz."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def idx_header(raw):
    """The element type, shape and header length of IDX data: bytes 0-1 are 0, byte 2 names the
    type, byte 3 the number of dimensions; then one big-endian 4-byte size per dimension."""
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    return dtype, shape, 4 + 4 * ndim


def read_idx(path):
    """Read one IDX file, gzipped (.gz) or raw, into an array shaped as its header says."""
    raw = refuse_damaged_idx_file(path)  # read_file_bytes(path), once its header is checked
    dtype, shape, header_size = idx_header(raw)
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)


def idx_path(data_dir, name):
    """The path of one MNIST file in data_dir: name.gz if it is there, else the raw name."""
    gzipped = Path(data_dir) / f"{name}.gz"
    return gzipped if gzipped.exists() else Path(data_dir) / name


def images_and_labels(image_path, label_path):
    """One set's images as float32 pixels in [0, 1], X (N, 784), and its labels as int64, y (N,)."""
    pixels = read_idx(image_path)  # (N, 28, 28) uint8
    X = pixels.reshape(len(pixels), -1).astype(np.float32)  # (N, 28, 28) -> (N, 784)
    X /= 255.0  # in place: no second 188 MB array
    return X, read_idx(label_path).astype(np.int64)


def load_mnist(data_dir=None):
    """Load MNIST from data_dir (default: $MNIST_DATA_DIR, else data/mnist beside this file).

    Returns X_train (60000, 784), y_train (60000,), X_test (10000, 784), y_test (10000,).
    """
    paths = refuse_missing_or_damaged_data(data_dir)  # {"train_images": path, ...}, each checked
    X_train, y_train = images_and_labels(paths["train_images"], paths["train_labels"])
    X_test, y_test = images_and_labels(paths["test_images"], paths["test_labels"])
    return X_train, y_train, X_test, y_test


def split_validation(X, y, val_size=5000, seed=0, in_place=False):
    """Hold out a seeded random validation set: X (N, D) -> X_train (N - V, D), X_val (V, D).

    The training rows keep their original order. in_place=True moves them to the front
    of X itself and returns a view, so the 188 MB training set is never copied (X is
    overwritten: use it for nothing else afterwards).
    """
    refuse_bad_split(X, y, val_size)
    is_val = np.zeros(len(X), dtype=bool)
    is_val[np.random.default_rng(seed).choice(len(X), size=val_size, replace=False)] = True
    kept, X_val, y_val = np.flatnonzero(~is_val), X[is_val], y[is_val]
    if not in_place:
        return X[kept], y[kept], X_val, y_val
    for start in range(0, len(kept), 4096):  # chunk by chunk: each row only moves to the front
        rows = kept[start:start + 4096]
        X[start:start + len(rows)], y[start:start + len(rows)] = X[rows], y[rows]
    return X[:len(kept)], y[:len(kept)], X_val, y_val


def one_hot(y, num_classes=10):
    """Labels (B,) -> one-hot rows (B, C)."""
    Y = np.zeros((len(y), num_classes), dtype=np.float32)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def iterate_minibatches(X, y, batch_size, rng):
    """Yield batches (X (B, D), y (B,)) covering X once in random order; the last may be smaller."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]  # fancy indexing copies the rows into a contiguous batch


# ---- 2. Forward pass ---------------------------------------------------- 02_forward.ipynb

def linear_forward(X, W, b):
    """Affine layer: X (B, in) @ W (in, out) + b (out,) -> Z (B, out)."""
    return X @ W + b


def relu(Z):
    """ReLU, entry by entry: max(Z, 0). (B, H) -> (B, H)."""
    return np.maximum(Z, 0)


def leaky_relu(Z, slope=0.01):
    """Leaky ReLU: Z where positive, slope * Z elsewhere, so no unit is ever completely silent."""
    return np.where(Z > 0, Z, slope * Z)


def sigmoid(Z):
    """The logistic function 1 / (1 + exp(-Z)), entry by entry, in (0, 1)."""
    # exp(-|Z|) never overflows; the two branches give 1 / (1 + exp(-Z)) for either sign.
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def tanh(Z):
    """Hyperbolic tangent, entry by entry, in (-1, 1)."""
    return np.tanh(Z)


ACTIVATIONS = {"relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid, "tanh": tanh}


def he_scale(fan_in, fan_out):
    """He: std sqrt(2 / fan_in) makes up for ReLU zeroing half of its inputs."""
    return math.sqrt(2.0 / fan_in)


def glorot_scale(fan_in, fan_out):
    """Glorot: std sqrt(2 / (fan_in + fan_out)) keeps sigmoid and tanh near their linear middle."""
    return math.sqrt(2.0 / (fan_in + fan_out))


INIT_SCALES = dict(relu=he_scale, leaky_relu=he_scale, sigmoid=glorot_scale, tanh=glorot_scale)


def init_params(layer_sizes, activation="relu", rng=None):
    """Random weights for a network with the given layer sizes, e.g. [784, 128, 64, 10].

    Returns {"W1": (D, H1), "b1": (H1,), ..., "WK": (H, C), "bK": (C,)}, all float32.
    """
    refuse_bad_network_settings(layer_sizes, activation, rng)
    rng = rng if rng is not None else np.random.default_rng(0)
    layer_sizes, params = [int(n) for n in layer_sizes], {}
    for layer, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        # He keeps ReLU activations at a steady scale layer after layer; Glorot sigmoid and tanh's.
        scale = INIT_SCALES[activation](fan_in, fan_out)
        # float32, like the images: half the memory of float64 and faster matrix products (the
        # gradient checks, which need the precision, run in float64).
        params[f"W{layer}"] = (rng.standard_normal((fan_in, fan_out)) * scale).astype(np.float32)
        params[f"b{layer}"] = np.zeros(fan_out, dtype=np.float32)
    return params


def num_layers(params):
    """The number of affine layers K: params holds one W and one b for each."""
    return len(params) // 2


def run_layers(params, X, activation="relu"):
    """The layers one after another: X (B, D) -> logits (B, C), and the cache backward needs.

    cache[k - 1] is (the input of layer k, its pre-activation Z_k).
    """
    activate, cache, A = ACTIVATIONS[activation], [], X
    for layer in range(1, num_layers(params) + 1):
        Z = linear_forward(A, params[f"W{layer}"], params[f"b{layer}"])  # (B, in) -> (B, out)
        cache.append((A, Z))
        A = activate(Z) if layer < num_layers(params) else Z  # the last layer's Z: the logits
    return A, cache


def forward(params, X, activation="relu"):
    """Run the network on images you pass in: run_layers, after checking what it is given.

    Training checks its data once, at its own door, and then calls run_layers directly.
    """
    refuse_bad_network_input(params, X, activation)
    return run_layers(params, X, activation)


# ---- 3. Softmax, cross-entropy and gradient checks ------------ 03_softmax_cross_entropy.ipynb

def softmax(logits):
    """Row-wise softmax: logits (B, C) -> probabilities P (B, C)."""
    # Subtracting each row's maximum leaves P unchanged and keeps exp() from overflowing.
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True)


def log_softmax(logits):
    """Row-wise log P from logits (B, C), by log-sum-exp: never log(0)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits, y):
    """Mean cross-entropy of a batch: logits (B, C), labels y (B,) -> scalar loss."""
    return -log_softmax(logits)[np.arange(len(y)), y].mean()


def cross_entropy_grad(logits, y):
    """Gradient of the mean cross-entropy with respect to the logits: (P - Y) / B, shape (B, C)."""
    dlogits = softmax(logits)
    dlogits[np.arange(len(y)), y] -= 1  # P - Y, without building Y
    return dlogits / len(y)  # the loss is a mean over the batch: this is the only 1/B


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function f at x (float64), same shape as x.

    x is changed in place one entry at a time and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f(x)
        x[index] = original - eps
        f_minus = f(x)
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """max |a - b| / max(|a| + |b|): 0 when equal, about 1e-8 for a good float64 gradient check."""
    scale = np.max(np.abs(a) + np.abs(b))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


# ---- 4. Backpropagation ------------------------------------------------- 04_backprop.ipynb

def linear_backward(dZ, X, W, need_dX=True):
    """Backward of Z = X @ W + b: dZ (B, out) -> dX (B, in), dW (in, out), db (out,).

    The first layer's input is the images, whose gradient nobody needs: need_dX=False skips
    that (B, out) @ (out, D) product, the largest of the backward pass.
    """
    dW = X.T @ dZ  # (in, B) @ (B, out) -> (in, out)
    db = dZ.sum(axis=0)  # each bias touches every example: (B, out) -> (out,)
    dX = dZ @ W.T if need_dX else None  # (B, out) @ (out, in) -> (B, in)
    return dX, dW, db


def relu_backward(dA, Z):
    """Backward of A = relu(Z): the gradient passes where Z > 0. (B, H) -> (B, H)."""
    return dA * (Z > 0)


def leaky_relu_backward(dA, Z, slope=0.01):
    """Backward of leaky_relu: the slope is 1 where Z > 0, else `slope`. (B, H) -> (B, H)."""
    return np.where(Z > 0, dA, slope * dA)


def sigmoid_backward(dA, Z):
    """Backward of sigmoid, whose slope is S (1 - S). (B, H) -> (B, H)."""
    S = sigmoid(Z)
    return dA * S * (1 - S)


def tanh_backward(dA, Z):
    """Backward of tanh, whose slope is 1 - T^2. (B, H) -> (B, H)."""
    T = np.tanh(Z)
    return dA * (1 - T * T)


# The backward function of each activation in ACTIVATIONS, under the same name.
ACTIVATION_GRADIENTS = {
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "sigmoid": sigmoid_backward,
    "tanh": tanh_backward,
}


def backward(params, cache, dlogits, activation="relu"):
    """The loss's gradient for each parameter, from dlogits (B, C), keyed and shaped like params."""
    activate_backward, grads, dZ = ACTIVATION_GRADIENTS[activation], {}, dlogits
    for layer in range(num_layers(params), 0, -1):
        A_in, _ = cache[layer - 1]
        dA_in, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(
            dZ, A_in, params[f"W{layer}"], need_dX=layer > 1)
        if layer > 1:  # through the previous layer's activation
            dZ = activate_backward(dA_in, cache[layer - 2][1])
    return grads


def batch_loss_and_grads(params, X, y, activation="relu"):
    """The batch's mean cross-entropy (scalar), its gradients (keyed like params), logits (B, C).

    Forward, the loss, backward: one training step's arithmetic, without checks (see below).
    """
    logits, cache = run_layers(params, X, activation)
    dlogits = cross_entropy_grad(logits, y)  # (B, C)
    return cross_entropy(logits, y), backward(params, cache, dlogits, activation), logits


def loss_and_grads(params, X, y, activation="relu"):
    """batch_loss_and_grads for a batch you pass in, after checking it (training checks once)."""
    refuse_bad_batch(params, X, y, activation)
    return batch_loss_and_grads(params, X, y, activation)


def weights_only(params):
    """The names of the weight matrices W1, W2, ... (weight decay leaves the biases alone)."""
    return [name for name in params if name.startswith("W")]


def add_weight_decay(params, grads, weight_decay):
    """Add the L2 penalty (weight_decay / 2) * sum(W ** 2) to the loss, its gradient to grads.

    grads is changed in place. Returns the penalty, which training records apart from the loss.
    """
    penalty = 0.0
    for name in weights_only(params):  # biases are not decayed
        penalty += 0.5 * weight_decay * np.vdot(params[name], params[name])  # sum(W ** 2): W . W
        grads[name] += weight_decay * params[name]
    return penalty


# ---- 5. Mini-batch gradient descent ------------------------------- 05_minibatch_sgd.ipynb

def sgd_step(params, grads, state, lr):
    """Plain gradient descent: p -= lr * g, in place. It keeps no state."""
    for name, grad in grads.items():
        params[name] -= lr * grad
    return state


def predict(params, X, activation="relu"):
    """Predicted labels (N,) for images X (N, D)."""
    refuse_bad_images_to_predict(params, X, activation)
    logits, _ = run_layers(params, X, activation)
    return logits.argmax(axis=1)


def accuracy(predicted, y):
    """Fraction of predicted labels (N,) equal to the true labels (N,)."""
    return float(np.mean(predicted == y))


def evaluate(params, X, y, activation="relu"):
    """Mean cross-entropy and accuracy of the network on images X (N, D) with labels y (N,)."""
    refuse_bad_evaluation(params, X, y, activation)
    logits, _ = run_layers(params, X, activation)
    return float(cross_entropy(logits, y)), accuracy(logits.argmax(axis=1), y)


def learning_rate_at(step, total_steps, lr, schedule="constant"):
    """The learning rate of step 0, 1, ...: constant, or cosine decay from lr towards 0."""
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return lr


def epoch_learning_rates(epoch, steps_per_epoch, epochs, lr, schedule):
    """The learning rate of each step of epoch 1, 2, ..., computed epoch by epoch."""
    first, total = (epoch - 1) * steps_per_epoch, epochs * steps_per_epoch
    return [learning_rate_at(first + t, total, lr, schedule) for t in range(steps_per_epoch)]


# A batch cross-entropy this large means the right class's logit trails by about 1000:
# the weights have blown up, even if no number has overflowed yet.
DIVERGED_LOSS = 1000.0


def train_epoch(params, batches, lrs, optimizer, state, settings, gradients, activation,
                weight_decay):
    """One step per mini-batch, params updated in place; returns the optimizer's state and the
    epoch's mean cross-entropy, weight penalty and accuracy (all three nan once the loss explodes).

    gradients is batch_loss_and_grads, or a function like it (section 8's dropout).
    """
    loss_sum = penalty_sum = correct = seen = 0
    for (X_batch, y_batch), lr in zip(batches, lrs):
        loss, grads, logits = gradients(params, X_batch, y_batch, activation)
        penalty = add_weight_decay(params, grads, weight_decay) if weight_decay else 0.0
        if not loss < DIVERGED_LOSS:  # NaN too; without the penalty, so weight decay is not blamed
            return state, math.nan, math.nan, math.nan
        state = optimizer(params, grads, state, lr, **settings)
        loss_sum += float(loss) * len(y_batch)  # weighted by the batch's size: the last is smaller
        penalty_sum += float(penalty) * len(y_batch)
        correct += int(np.count_nonzero(logits.argmax(axis=1) == y_batch))
        seen += len(y_batch)
    return state, loss_sum / seen, penalty_sum / seen, correct / seen


def copy_params(params):
    """A copy of every array: a snapshot that later in-place steps cannot change."""
    return {name: value.copy() for name, value in params.items()}


def put_back(params, snapshot):
    """Overwrite params' arrays in place with a snapshot's: whoever holds them sees the change."""
    for name, value in snapshot.items():
        params[name][...] = value


# train_loss and val_loss are both the mean cross-entropy, so their curves compare; weight_penalty
# is the L2 term that training adds to the loss it descends (0 without weight decay).
HISTORY_KEYS = ("epoch", "train_loss", "weight_penalty", "train_accuracy", "val_loss",
                "val_accuracy", "lr", "seconds")


def record_epoch(history, *values):
    """Append one epoch's figures, in the order of HISTORY_KEYS, as plain Python numbers (JSON)."""
    for key, value in zip(HISTORY_KEYS, values, strict=True):
        history[key].append(float(value) if key != "epoch" else value)


def format_epoch(history, epochs):
    """One progress line for the last epoch in history."""
    last = {key: values[-1] for key, values in history.items()}
    return (f"epoch {last['epoch']:>2}/{epochs}  train loss {last['train_loss']:.4f}  "
            f"train acc {last['train_accuracy']:.2%}  val loss {last['val_loss']:.4f}  "
            f"val acc {last['val_accuracy']:.2%}  lr {last['lr']:.5f}  {last['seconds']:.1f} s")


class TrainingDiverged(ArithmeticError):
    """The loss exploded; `history` holds the epochs that finished, and params their weights."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


def divergence_message(epoch, lr):
    """What to say when the loss explodes: where, what was kept, and what to try."""
    return (f"training diverged in epoch {epoch}: the loss exploded (NaN, infinite or above "
            f"{DIVERGED_LOSS:g}); the weights from before that epoch are kept. Try a smaller "
            f"learning rate, e.g. --lr {lr / 10:g}.")


def loss_after_epoch(params, X, y, X_val, y_val, activation):
    """The validation loss and accuracy after an epoch; without a validation set, nan and the
    loss on the first 1000 training images, which only says whether the weights blew up."""
    if X_val is not None and len(X_val):
        val_loss, val_accuracy = evaluate(params, X_val, y_val, activation)
        return val_loss, val_accuracy, val_loss
    return math.nan, math.nan, evaluate(params, X[:1000], y[:1000], activation)[0]


def train(params, X, y, X_val=None, y_val=None, optimizer=sgd_step, lr=0.01, schedule="cosine",
          epochs=10, batch_size=32, activation="relu", weight_decay=0.0, patience=None, seed=0,
          progress=False, gradients=batch_loss_and_grads, augment=None, on_epoch_end=None,
          **optimizer_settings):
    """Train params in place by mini-batch gradient descent on X (N, D), y (N,); return the history.

    optimizer is a step function: sgd_step, or momentum_step or adam_step from section 6, with
    optimizer_settings (e.g. beta=0.95). With a patience, training stops after that many epochs
    without a lower validation loss and goes back to the best epoch. gradients and augment come
    from section 8 (dropout, moved images); on_epoch_end(history) is called after every epoch.
    """
    refuse_bad_training_call(params, X, y, X_val, y_val, activation, optimizer, optimizer_settings,
                             lr, schedule, epochs, batch_size, weight_decay, patience, seed,
                             gradients, augment, on_epoch_end)
    epochs, batch_size = int(epochs), int(batch_size)  # 2.0 or np.int64(2) are whole numbers too
    rng, steps_per_epoch = np.random.default_rng(seed), math.ceil(len(X) / batch_size)
    history, state = {key: [] for key in HISTORY_KEYS}, {}
    best_loss, best_params, best_epoch = math.inf, None, 0  # early stopping's best epoch so far
    for epoch in range(1, epochs + 1):
        started, before = time.perf_counter(), copy_params(params)  # to go back to if it blows up
        lrs = epoch_learning_rates(epoch, steps_per_epoch, epochs, lr, schedule)
        batches = iterate_minibatches(X, y, batch_size, rng)
        if augment is not None:
            batches = ((augment(X_batch), y_batch) for X_batch, y_batch in batches)
        state, *figures = train_epoch(params, batches, lrs, optimizer, state, optimizer_settings,
                                      gradients, activation, weight_decay)
        val_loss, val_accuracy, loss_now = loss_after_epoch(params, X, y, X_val, y_val, activation)
        if not (figures[0] < DIVERGED_LOSS and loss_now < DIVERGED_LOSS):
            put_back(params, before)
            raise TrainingDiverged(divergence_message(epoch, lr), history)
        seconds = time.perf_counter() - started
        record_epoch(history, epoch, *figures, val_loss, val_accuracy, lrs[-1], seconds)
        if progress:
            print(format_epoch(history, epochs), flush=True)
        if on_epoch_end is not None:
            on_epoch_end(history)
        if patience and val_loss < best_loss:
            best_loss, best_params, best_epoch = val_loss, copy_params(params), epoch
        if patience and epoch - best_epoch >= patience:
            break
    if best_params is not None:  # early stopping: go back to the best epoch
        put_back(params, best_params)
    return history


# ---- 6. Optimizers ------------------------------------------------- 06_optimizers.ipynb

def momentum_step(params, grads, state, lr, beta=0.9):
    """SGD with momentum: v = beta * v + g, then p -= lr * v, in place; state holds each v."""
    if not state:
        state = {name: np.zeros_like(grad) for name, grad in grads.items()}
    for name, grad in grads.items():
        velocity = state[name]
        velocity *= beta  # in place: velocity stays the array in state
        velocity += grad
        params[name] -= lr * velocity
    return state


def adam_step(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam: p -= lr * m_hat / (sqrt(v_hat) + eps), from m and v, the running means of g and g**2.

    m_hat and v_hat are m and v with their bias towards 0 corrected. state holds the step count
    t (from 1), and m and v per parameter.
    """
    if not state:
        state = {"t": 0, "m": {name: np.zeros_like(grad) for name, grad in grads.items()},
                 "v": {name: np.zeros_like(grad) for name, grad in grads.items()}}
    state["t"] += 1
    t = state["t"]
    for name, grad in grads.items():
        m, v = state["m"][name], state["v"][name]
        m *= beta1  # in place, as momentum's velocity: m stays the array in state
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)  # the means start at 0: these undo that bias
        v_hat = v / (1 - beta2**t)
        params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return state


OPTIMIZERS = {"sgd": sgd_step, "momentum": momentum_step, "adam": adam_step}


# ---- 7. What the network learned -------------------------------- 07_what_it_learned.ipynb

def confusion_matrix(predicted, y, num_classes=10):
    """Counts (C, C): row = true label, column = predicted label."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y, predicted), 1)
    return counts


def plot_history(history):
    """Loss and accuracy per epoch, training against validation: a Figure with two panels."""
    from matplotlib.figure import Figure  # imported here: training needs no plotting library

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for ax, metric, label in ((loss_ax, "loss", "cross-entropy"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(history["epoch"], history[f"train_{metric}"], "o-", label="training")
        ax.plot(history["epoch"], history[f"val_{metric}"], "s-", label="validation")
        ax.set(xlabel="epoch", ylabel=label)
        ax.legend()
    return fig


def plot_confusion(counts):
    """The confusion matrix as a heat map with its counts written in: a Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5.4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(np.log1p(counts), cmap="Blues")  # log: the diagonal would drown the mistakes
    for (true, said), count in np.ndenumerate(counts):
        ax.text(said, true, count, ha="center", va="center", fontsize=7,
                color="white" if true == said else "black")
    classes = range(len(counts))
    ax.set(xticks=classes, yticks=classes, xlabel="predicted", ylabel="true")
    return fig


def plot_digits(X, y, predicted=None, columns=8):
    """A grid of digits X (n, 784) titled with their labels (and predictions): a Figure."""
    from matplotlib.figure import Figure

    rows = math.ceil(len(X) / columns)
    fig = Figure(figsize=(1.2 * columns, 1.35 * rows), layout="constrained")
    for i, ax in enumerate(fig.subplots(rows, columns, squeeze=False).flat):
        ax.axis("off")
        if i < len(X):
            ax.imshow(X[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            title = f"{y[i]}" if predicted is None else f"true {y[i]}, said {predicted[i]}"
            ax.set_title(title, fontsize=8)
    return fig


def plot_first_layer(W1, count=32, columns=8):
    """The first `count` columns of W1 (784, H) as 28x28 images (red +, blue -): a Figure."""
    from matplotlib.figure import Figure

    rows = math.ceil(count / columns)
    fig = Figure(figsize=(1.2 * columns, 1.2 * rows), layout="constrained")
    for unit, ax in enumerate(fig.subplots(rows, columns, squeeze=False).flat):
        ax.axis("off")
        if unit < min(count, W1.shape[1]):
            limit = np.abs(W1[:, unit]).max()
            ax.imshow(W1[:, unit].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
    return fig


def lay_on_paper(image):
    """An RGBA image (H, W, 4) laid on paper: (H, W, 3).

    Transparent pixels count as white paper, unless the whole background is transparent and the
    ink light: then as black paper, so a white digit on a transparent background stays visible.
    """
    rgb, alpha = image[..., :3], image[..., 3:]
    border_alpha = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    # The mean brightness of the opaque pixels:
    ink_brightness = (rgb.mean(axis=2, keepdims=True) * alpha).sum() / max(alpha.sum(), 1e-12)
    paper = 0.0 if border_alpha.mean() < 0.5 and ink_brightness > 0.5 else 1.0
    return rgb * alpha + paper * (1 - alpha)


def to_ink(image):
    """Grey levels of an image (H, W) or (H, W, 3 or 4) as ink: 1 where the stroke is, 0 paper."""
    image = np.asarray(image, dtype=np.float64)
    image = image / 255 if image.max() > 1 else image
    if image.ndim == 3:
        if image.shape[2] == 4:  # transparent pixels count as paper
            image = lay_on_paper(image)
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114])  # the usual luminance weights
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if border.mean() > 0.5:  # MNIST digits are light on dark
        image, border = 1 - image, 1 - border
    # Grey paper becomes exactly 0, like MNIST's background.
    return np.clip(image - np.median(border), 0, None)


def area_resize_matrix(n_in, n_out):
    """(n_out, n_in) matrix whose row i averages the input pixels that output pixel i covers."""
    edges = np.linspace(0, n_in, n_out + 1)  # output pixel i covers [edges[i], edges[i + 1])
    starts = np.arange(n_in)
    overlap = np.minimum(edges[1:, None], starts + 1) - np.maximum(edges[:-1, None], starts)
    overlap = np.clip(overlap, 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def centre_by_mass(digit, size=28):
    """Paste a digit (h, w), at most 20x20, in a size x size canvas, its centre of mass central."""
    rows, cols = np.indices(digit.shape)
    centre = np.array([(rows * digit).sum(), (cols * digit).sum()]) / digit.sum()
    top, left = np.round(size / 2 - centre).astype(int)  # MNIST's centres of mass sit at (14, 14)
    top = min(max(top, 0), size - digit.shape[0])  # keep the whole digit on the canvas
    left = min(max(left, 0), size - digit.shape[1])
    canvas = np.zeros((size, size))
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return canvas


def prepare_digit(image):
    """Turn any picture of one digit into an MNIST-like input (784,) float32 in [0, 1].

    As MNIST was made: grey levels, a bright digit on a dark background, fitted into a
    20x20 box keeping its aspect ratio, and centred by its centre of mass in 28x28.
    """
    refuse_blank_image(image)
    ink = to_ink(image)
    rows, cols = np.nonzero(ink > 0.2 * ink.max())
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = 20 / max(digit.shape)
    height, width = (max(1, round(n * scale)) for n in digit.shape)
    rows_matrix, columns_matrix = area_resize_matrix(digit.shape[0], height), area_resize_matrix(
        digit.shape[1], width)
    digit = rows_matrix @ digit @ columns_matrix.T  # (height, h) @ (h, w) @ (w, width)
    return centre_by_mass(digit / digit.max()).reshape(-1).astype(np.float32)


# ---- 8. Generalisation ------------------------------------------ 08_generalisation.ipynb

def dropout_mask(shape, rate, rng):
    """Inverted dropout's mask, float32 of the given shape: 0 for a dropped unit (with probability
    rate), 1 / (1 - rate) for a kept one, so that each unit's expected value is unchanged."""
    keep = 1 - rate
    return (rng.random(shape, dtype=np.float32) < keep) * np.float32(1 / keep)


def dropout_forward(params, X, rates, rng, activation="relu"):
    """forward with dropout on the input of every layer: X (B, D) -> logits (B, C), and the cache.

    rates = (input rate, hidden rate): the first for the pixels, the second for every hidden
    layer's units. cache[k - 1] is (the input of layer k after dropout, its pre-activation Z_k,
    the mask that dropped it).
    """
    activate, cache, A = ACTIVATIONS[activation], [], X
    for layer in range(1, num_layers(params) + 1):
        mask = dropout_mask(A.shape, rates[0] if layer == 1 else rates[1], rng)  # (B, in)
        A = A * mask
        Z = linear_forward(A, params[f"W{layer}"], params[f"b{layer}"])  # (B, in) -> (B, out)
        cache.append((A, Z, mask))
        A = activate(Z) if layer < num_layers(params) else Z
    return A, cache


def dropout_backward(params, cache, dlogits, activation="relu"):
    """backward through dropout_forward: each layer's mask, from the cache, multiplies its input's
    gradient."""
    activate_backward, grads, dZ = ACTIVATION_GRADIENTS[activation], {}, dlogits
    for layer in range(num_layers(params), 0, -1):
        A_in, _, mask = cache[layer - 1]
        dA_in, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(
            dZ, A_in, params[f"W{layer}"], need_dX=layer > 1)
        if layer > 1:  # a dropped unit gave nothing forward, so it gets no gradient back
            dZ = activate_backward(dA_in * mask, cache[layer - 2][1])
    return grads


def loss_and_grads_with_dropout(params, X, y, activation="relu", *, rates, rng):
    """batch_loss_and_grads, with dropout at the given rates and masks drawn from rng."""
    logits, cache = dropout_forward(params, X, rates, rng, activation)
    dlogits = cross_entropy_grad(logits, y)  # (B, C)
    grads = dropout_backward(params, cache, dlogits, activation)
    return cross_entropy(logits, y), grads, logits


def with_dropout(rates, seed=0):
    """The gradients function for train(gradients=...): dropout at rates (input, hidden).

    Evaluation (evaluate, predict) runs without dropout: inverted masks need no rescaling there.
    """
    refuse_bad_dropout_rates(rates)
    # Its own stream of random numbers (seed, 1): the masks do not change the order of the batches.
    rng = np.random.default_rng([seed, 1])
    return functools.partial(loss_and_grads_with_dropout, rates=tuple(rates), rng=rng)


def shift_maps(n, rng, shift=2):
    """n whole-pixel shifts, up to `shift` pixels along each axis.

    Returns identity matrices (n, 2, 2) and shifts (n, 2).
    """
    shifts = rng.integers(-shift, shift + 1, (n, 2)).astype(float)
    return np.broadcast_to(np.eye(2), (n, 2, 2)), shifts


def affine_maps(n, rng, degrees=10.0, scale=0.1, shift=2.0):
    """n small random affine maps: turns within ±degrees, zooms within 1 ± scale, shifts ±shift px.

    Returns their matrices (n, 2, 2) and shifts (n, 2), on (row, column) about the image's centre.
    """
    angles = np.radians(rng.uniform(-degrees, degrees, n))
    zooms = rng.uniform(1 - scale, 1 + scale, n)
    cos, sin = zooms * np.cos(angles), zooms * np.sin(angles)
    matrices = np.stack([np.stack([cos, -sin], axis=1), np.stack([sin, cos], axis=1)], axis=1)
    return matrices, rng.uniform(-shift, shift, (n, 2))


def cell_of(coordinates, width):
    """For coordinates (B, P) along one axis of an image `width` pixels wide: the pixel before
    each, a whole number from 0 to width - 2, and how far past it the coordinate lies, from 0 to 1
    (float32)."""
    coordinates = np.clip(coordinates, 0, width - 1)
    before = np.minimum(np.floor(coordinates), width - 2)
    return before.astype(np.intp), (coordinates - before).astype(np.float32)


def transform_images(X, matrices, shifts, side=28):
    """Move every image of X (B, side * side) by its own map u -> R u + d about the centre.

    Pixel u of the result shows the original at R^-1 (u - centre - d) + centre, between pixels
    by bilinear interpolation, blank paper (0) outside. matrices (B, 2, 2), shifts (B, 2).
    """
    centre, width = (side - 1) / 2, side + 2
    # Every pixel's (row, column) about the centre: (1, P) each, P = side**2.
    rows, columns = np.indices((side, side), dtype=np.float32).reshape(2, 1, -1) - centre
    rows, columns = rows - shifts[:, :1], columns - shifts[:, 1:]  # (B, P), before the shift
    inverse = np.linalg.inv(matrices)[..., None].astype(np.float32)  # (B, 2, 2, 1): each R^-1
    # Where each pixel of the result comes from, in an image with one pixel of blank paper added
    # all round (hence + 1): a source up to a pixel outside blends with 0, a farther one is 0.
    row, down = cell_of(inverse[:, 0, 0] * rows + inverse[:, 0, 1] * columns + centre + 1, width)
    column, right = cell_of(inverse[:, 1, 0] * rows + inverse[:, 1, 1] * columns + centre + 1,
                            width)
    padded = np.pad(X.reshape(-1, side, side), ((0, 0), (1, 1), (1, 1))).ravel()  # (B width**2,)
    # (B, P): the index of each source's top-left pixel in padded.
    index = np.arange(len(X))[:, None] * width**2 + row * width + column
    top = (1 - right) * padded[index] + right * padded[index + 1]
    bottom = (1 - right) * padded[index + width] + right * padded[index + width + 1]
    return ((1 - down) * top + down * bottom).astype(X.dtype)


AUGMENTATIONS = {"shift": shift_maps, "affine": affine_maps}


def augment_batch(X, rng, kind="affine"):
    """A copy of X (B, D), every image moved at random by a map of the given kind (labels stay)."""
    refuse_images_that_are_not_28x28(X)
    matrices, shifts = AUGMENTATIONS[kind](len(X), rng)
    return transform_images(X, matrices, shifts)


def augmenter(kind, seed=0):
    """The augment function for train(augment=...): each call moves a batch by random maps."""
    refuse_unknown_augmentation(kind)
    # Its own stream (seed, 2), apart from the batch order's and dropout's.
    return functools.partial(augment_batch, rng=np.random.default_rng([seed, 2]), kind=kind)


# ---- 9. Guards: what the doors refuse --------------------------------------------------------
#
# Each function of sections 1-8 that you call from outside makes one call to a guard below,
# named for what it refuses. The guard checks everything the lesson's code would trip over and
# says in one sentence what is wrong and what to do, with one error type per kind of mistake.
# They protect the doors; they teach nothing about networks, so skip them on a first reading.

class MnistAnnError(Exception):
    """Base of this module's errors: each message says what is wrong and what to do."""


class MNISTDataError(MnistAnnError):
    """A data file is missing, damaged or not what it claims to be."""


class SettingError(MnistAnnError, ValueError):
    """A setting (layer sizes, learning rate, ...) makes no sense."""


class ImagesError(MnistAnnError, ValueError):
    """Images passed to the Python API have the wrong shape, type or range."""


class LabelsError(MnistAnnError, ValueError):
    """Labels passed to the Python API are not whole numbers 0-9, one per image."""


class ParamsError(MnistAnnError, ValueError):
    """A params dict lacks an array, holds an extra one, or its shapes do not chain."""


HOW_TO_GET_DATA = (
    "restore the shipped files with `git checkout data/mnist`, or fetch the "
    "missing or damaged ones with `python mnist_ann.py --download`."
)

# The size and SHA-256 of each file's decompressed content: a file of MNIST's name and size must
# be MNIST, byte for byte, whether gzipped or raw (the gzip files of different mirrors differ).
RAW_SIZES = {
    "train-images-idx3-ubyte": 47040016,
    "train-labels-idx1-ubyte": 60008,
    "t10k-images-idx3-ubyte": 7840016,
    "t10k-labels-idx1-ubyte": 10008,
}

RAW_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def chosen_data_dir(data_dir=None):
    """The data folder: the argument, else $MNIST_DATA_DIR, else the repository's data/mnist."""
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise SettingError(f"the data folder (--data-dir) must be a path, got {data_dir!r}.")
    return Path(data_dir or os.environ.get("MNIST_DATA_DIR") or DEFAULT_DATA_DIR)


def find_data_dir(data_dir=None):
    """The chosen data folder, which must exist."""
    data_dir = chosen_data_dir(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise MNISTDataError(f"{data_dir} is a file, not a folder; pass the folder that holds "
                             "the MNIST files.")
    if not data_dir.is_dir():
        raise MNISTDataError(
            f"the data folder {data_dir} does not exist; pass the folder that holds the "
            f"MNIST files (or set MNIST_DATA_DIR), or {HOW_TO_GET_DATA}"
        )
    return data_dir


def refuse_what_is_not_a_regular_file(path, error_type, what):
    """Refuse a path that exists but is no regular file (a folder, a FIFO that would block a
    reader for ever, a device): error_type's message names it and says what to pass instead."""
    if path.exists() and not path.is_file():
        raise error_type(f"{path} is not a file (it is a folder, a pipe or a device); pass "
                         f"{what}.")


def find_idx_file(data_dir, name):
    """idx_path(data_dir, name), which must exist and be a regular file."""
    path = idx_path(data_dir, name)
    if not path.exists():
        raise MNISTDataError(f"{data_dir / name}.gz does not exist; {HOW_TO_GET_DATA}")
    refuse_what_is_not_a_regular_file(path, MNISTDataError, f"the MNIST file itself; "
                                      f"{HOW_TO_GET_DATA}")
    return path


def sha256_of(data):
    """The SHA-256 of some bytes, as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def parse_sums_line(line):
    """(name, sha256) from a line of `sha256sum` output ("HASH  name", or "HASH *name"), or None."""
    digest, _, rest = line.strip().partition(" ")
    name = rest[1:] if rest[:1] in (" ", "*") else rest
    if len(digest) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digest) or not name:
        return None
    return name, digest.lower()


def read_sums_file(sums_file):
    """{file name: SHA-256} from a SHA256SUMS file ({} if there is none).

    Blank lines and # comments are skipped.
    """
    if not sums_file.exists():
        return {}
    refuse_what_is_not_a_regular_file(sums_file, MNISTDataError, "a SHA256SUMS file made by "
                                      "`sha256sum`, or delete it")
    try:
        if sums_file.stat().st_size > 2**20:  # a few lines for a few files: this is no list
            raise MNISTDataError(f"{sums_file} holds {sums_file.stat().st_size} bytes, far too "
                                 "many for a list of checksums; correct or delete it.")
        content = sums_file.read_text(errors="replace")
    except OSError as error:
        raise MNISTDataError(f"{sums_file} cannot be read ({error.strerror or error}); make it "
                             "readable (chmod a+r) or delete it.") from None
    sums = {}
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry = parse_sums_line(line)
        if entry is None:
            raise MNISTDataError(f"{sums_file}, line {number}, is not \"SHA-256  file name\": "
                                 f"{line.strip()[:80]!r}; correct or delete that line.")
        sums[entry[0]] = entry[1]
    return sums


def content_size(path):
    """The size of a file's content: its own size, or for .gz the size its last 4 bytes record."""
    if path.suffix != ".gz":
        return path.stat().st_size
    with path.open("rb") as f:
        if f.seek(0, os.SEEK_END) < 4:
            return -1
        f.seek(-4, os.SEEK_END)
        return int.from_bytes(f.read(4), "little")  # gzip's ISIZE: the size modulo 2**32


class StaleChecksumError(MNISTDataError):
    """A data file is intact MNIST, but SHA256SUMS lists another checksum for it."""


def known_mnist_file(path):
    """The name of the MNIST file whose content this file holds (by size, then SHA-256), or None."""
    try:
        size = content_size(path)
        for name, raw_size in RAW_SIZES.items():
            if raw_size == size and sha256_of(read_file_bytes(path)) == RAW_SHA256[name]:
                return name
    except (OSError, EOFError, zlib.error):  # damaged: it is no MNIST file
        pass
    return None


def verify_checksum(path):
    """Check a data file against the SHA256SUMS beside it if that lists it, else, if it has the
    size of an MNIST file, against that file's known content (RAW_SHA256); an MNIST file under
    another MNIST file's name (train and test swapped) is refused, and so is a stale SHA256SUMS."""
    sums_file, name = path.parent / "SHA256SUMS", path.name.removesuffix(".gz")
    listed = read_sums_file(sums_file)
    try:
        if path.name in listed:
            intact, source = sha256_of(path.read_bytes()) == listed[path.name], sums_file
            known = None if intact else known_mnist_file(path)
        elif content_size(path) in RAW_SIZES.values():
            known = known_mnist_file(path)
            if known is None and RAW_SIZES.get(name) != content_size(path):
                return  # data of its own that happens to have another MNIST file's size
            intact, source = known == name, "the known MNIST checksums"
        else:
            return
    except (OSError, EOFError, zlib.error) as error:
        raise MNISTDataError(f"{path} cannot be read ({error}); {HOW_TO_GET_DATA}") from None
    if not intact and known == name:
        raise StaleChecksumError(
            f"{path} is intact (it matches MNIST's own checksum), but {sums_file} lists another "
            f"checksum for {path.name}: that entry is stale; correct or delete it.")
    if not intact and known is not None:
        raise MNISTDataError(
            f"{path} holds MNIST's {known}, not {name}: the files look swapped or misnamed; give "
            "each file its own name.")
    if not intact:
        raise MNISTDataError(f"{path} does not match its checksum in {source}, so it is damaged "
                             f"or altered; {HOW_TO_GET_DATA}")


def idx_problem(raw, content_length):
    """What is wrong with IDX data whose first bytes are raw and whose length is content_length."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        return f"is not an IDX file (wrong magic number {raw[:4].hex() or 'none'})"
    if len(raw) < 4 + 4 * raw[3]:
        return "ends inside its header"
    dtype, shape, header_size = idx_header(raw)
    expected = math.prod(shape) * dtype.itemsize
    if content_length - header_size != expected:
        return (f"its header promises {expected} bytes of data for shape {shape}, but it holds "
                f"{content_length - header_size}")
    return None


def refuse_damaged_idx_file(path):
    """The bytes of an IDX file (decompressed if .gz), refused in one line if the file is missing,
    unreadable, damaged, or not as long as its header says."""
    path = Path(path)
    refuse_what_is_not_a_regular_file(path, MNISTDataError, "an original MNIST file")
    try:
        raw = read_file_bytes(path)
    except FileNotFoundError:
        raise MNISTDataError(f"{path} does not exist; {HOW_TO_GET_DATA}") from None
    except (OSError, EOFError, zlib.error) as error:
        raise MNISTDataError(f"{path} is damaged ({error}); replace it with an intact copy, "
                             f"{HOW_TO_GET_DATA}") from None
    problem = idx_problem(raw, len(raw))
    if problem:
        raise MNISTDataError(f"{path} {problem}; replace it with an original MNIST file.")
    return raw


def idx_shape(path):
    """The shape an IDX file's header declares, read from its first bytes only."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as f:
            start = f.read(4 + 4 * 255)  # the longest possible header
        problem = idx_problem(start, content_size(path))
        if problem and path.suffix == ".gz":  # a cut-off .gz records no true size: read it all
            problem = idx_problem(start, len(read_file_bytes(path)))
    except (OSError, EOFError, zlib.error) as error:
        raise MNISTDataError(f"{path} is damaged ({error}); replace it with an intact copy, "
                             f"{HOW_TO_GET_DATA}") from None
    if problem:
        raise MNISTDataError(f"{path} {problem}; replace it with an original MNIST file.")
    return idx_header(start)[1]


def refuse_mismatched_files(paths, shapes):
    """Refuse image and label files that do not belong together, or labels that are not 0-9."""
    for kind in ("train", "test"):
        images, labels = paths[f"{kind}_images"], paths[f"{kind}_labels"]
        image_shape, label_shape = shapes[f"{kind}_images"], shapes[f"{kind}_labels"]
        if len(image_shape) != 3 or len(label_shape) != 1:
            raise MNISTDataError(
                f"{images} must hold images (3 dimensions) and {labels} labels (1 dimension); "
                f"they have {len(image_shape)} and {len(label_shape)}: check that the files are "
                "not swapped.")
        if image_shape[0] != label_shape[0] or image_shape[0] == 0:
            raise MNISTDataError(
                f"{images} holds {image_shape[0]} images but {labels} holds {label_shape[0]} "
                "labels; use files from the same set, with at least one image.")
        digits = read_idx(labels)
        if digits.min() < 0 or digits.max() > 9:
            raise MNISTDataError(f"{labels} holds labels from {digits.min()} to {digits.max()}, "
                                 "not digits 0 to 9; replace it with an original MNIST file.")
    if shapes["train_images"][0] == 10000 and shapes["test_images"][0] == 60000:
        raise MNISTDataError(
            f"{paths['train_images']} holds 10000 images and {paths['test_images']} 60000, as "
            "MNIST's test and training sets do: the files look swapped; give each its own name.")
    train_pixels = math.prod(shapes["train_images"][1:])
    test_pixels = math.prod(shapes["test_images"][1:])
    if test_pixels != train_pixels:
        raise MNISTDataError(f"the test images have {test_pixels} pixels but the training images "
                             f"{train_pixels}; use files from the same set.")


def refuse_missing_or_damaged_data(data_dir):
    """The paths of the four MNIST files in the data folder, {"train_images": path, ...}, each
    checked: present, matching its checksum, an IDX file as long as its header says, and
    belonging with the others."""
    data_dir = find_data_dir(data_dir)
    paths = {key: find_idx_file(data_dir, name) for key, name in MNIST_FILES.items()}
    for path in paths.values():
        verify_checksum(path)
    refuse_mismatched_files(paths, {key: idx_shape(path) for key, path in paths.items()})
    return paths


def is_number(value):
    """True for a real number, Python's or NumPy's (np.float32(0.01) too), but not True or False."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_whole_number(value, least=0):
    """True for a whole number of at least `least`: 3, np.int64(3) or 3.0; not 3.5, NaN or True."""
    return is_number(value) and math.isfinite(value) and int(value) == value and value >= least


# Training holds about seven float32 copies of the parameters (params, their gradients, two
# optimizer arrays, the epoch's snapshot, the best epoch's, the finished epoch the command line
# keeps), and evaluation sends up to this many rows through the network at once (the command
# line counts its own: the whole validation or test set).
PARAMETER_COPIES = 7
ROWS_AT_ONCE = 10000


def memory_needed(layer_sizes, rows=ROWS_AT_ONCE, copies=PARAMETER_COPIES):
    """Bytes, roughly, that training a network of these layer sizes takes (with copies=0: that
    evaluating weights already loaded takes), with `rows` images going through it at once."""
    weights = sum(fan_in * fan_out + fan_out
                  for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    activations = 2 * rows * sum(layer_sizes[1:])  # each layer's Z and A
    return 4 * (copies * weights + activations)  # 4 bytes per float32


def limits_left():
    """[(bytes, name)]: what this process may still map under each of its limits that is set, the
    address space (ulimit -v, RLIMIT_AS) and the data size (ulimit -d, RLIMIT_DATA); [] without."""
    try:
        import resource

        used = Path("/proc/self/statm").read_text().split()  # pages: size, ..., data (6th)
        page = os.sysconf("SC_PAGE_SIZE")
        bounds = ((resource.RLIMIT_AS, used[0], "address-space limit (ulimit -v)"),
                  (resource.RLIMIT_DATA, used[5], "data-size limit (ulimit -d)"))
        return [(max(resource.getrlimit(kind)[0] - int(pages) * page, 0), name)
                for kind, pages, name in bounds
                if resource.getrlimit(kind)[0] != resource.RLIM_INFINITY]
    except (ImportError, OSError, ValueError, AttributeError, IndexError):
        return []


def physical_memory():
    """This machine's memory in bytes (16 GiB where the system does not say, as on Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def memory_available():
    """Bytes this process may still use: this machine's memory, or less under a limit of the
    process's (ulimit -v or -d)."""
    return min([physical_memory(), *(left for left, _ in limits_left())])


def in_gib(size):
    """A number of bytes for people, in GiB: "1.49 GiB", "2,918 GiB"."""
    return f"{size / 2**30:.3g} GiB" if size < 1000 * 2**30 else f"{size / 2**30:,.0f} GiB"


def memory_limit_named():
    """How memory_available() is bounded, for messages: a limit of the process, or the machine."""
    left, name = min(limits_left(), default=(physical_memory(), None))
    if name is None or left >= physical_memory():
        return "of this machine's memory"
    return f"left under this process's {name}"


def refuse_unknown_choice(option, value, choices):
    """Refuse a value that is not one of choices, naming the option and listing the choices."""
    if not isinstance(value, str) or value not in choices:
        raise SettingError(f"{option} must be one of {', '.join(choices)}, got {value!r}.")


def refuse_bad_layer_sizes(layer_sizes):
    """Refuse fewer than two layers, a size that is not a positive whole number, or a network
    too big for memory."""
    is_sequence = isinstance(layer_sizes, (list, tuple, np.ndarray))
    if not is_sequence or len(layer_sizes) < 2 or not all(is_whole_number(n, 1)
                                                           for n in layer_sizes):
        raise SettingError(
            f"layer sizes (--hidden) must be whole numbers of at least 1, with an input and an "
            f"output layer, got {list(layer_sizes) if is_sequence else repr(layer_sizes)}.")
    needed, available = memory_needed([int(n) for n in layer_sizes]), memory_available()
    if needed > available:  # checked before anything is allocated
        sizes = "-".join(str(int(n)) for n in layer_sizes)
        raise SettingError(f"layer sizes {sizes} would need about {in_gib(needed)} of memory, "
                           f"more than the {in_gib(available)} {memory_limit_named()}; choose "
                           "smaller --hidden sizes.")


def refuse_bad_network_settings(layer_sizes, activation, rng):
    """init_params' door: sensible layer sizes, a known activation, a NumPy Generator (or None)."""
    refuse_bad_layer_sizes(layer_sizes)
    refuse_unknown_choice("activation (--activation)", activation, ACTIVATIONS)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise SettingError(f"rng must be a NumPy Generator such as np.random.default_rng(0), "
                           f"got {rng!r}.")


def parameter_names(layers):
    """The names a network of this many layers has: {"W1", "b1", ..., "WK", "bK"}."""
    return {f"{kind}{layer}" for layer in range(1, layers + 1) for kind in "Wb"}


def names_problem(params):
    """Which arrays params lacks or has too many of, for as many layers as its W's or b's say."""
    if not params:
        return "params is empty; build it with init_params"
    layers = max(sum(str(name)[:1] == kind for name in params) for kind in "Wb")
    expected = parameter_names(layers)
    missing, extra = sorted(expected - params.keys()), sorted(map(str, params.keys() - expected))
    faults = ([f"lacks {', '.join(missing)}"] if missing else []) + (
        [f"has extra {', '.join(extra)}"] if extra else [])
    return f"params {' and '.join(faults)}; it needs W1, b1, ..., W{layers}, b{layers}"


def params_problem(params):
    """What keeps params from being a network (a missing or extra array, shapes that do not
    chain), or None."""
    if not isinstance(params, dict):
        return f"params must be a dict of arrays W1, b1, W2, b2, ..., got {type(params).__name__}"
    layers = len(params) // 2
    if not params or params.keys() != parameter_names(layers):
        return names_problem(params)
    for layer in range(1, layers + 1):
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        if not (isinstance(W, np.ndarray) and isinstance(b, np.ndarray)
                and W.dtype.kind == b.dtype.kind == "f"):
            return f"W{layer} and b{layer} must be floating-point NumPy arrays"
        if W.ndim != 2 or b.shape != (W.shape[1],):
            return f"W{layer} {W.shape} and b{layer} {b.shape} do not fit together"
        if layer > 1 and params[f"W{layer - 1}"].shape[1] != W.shape[0]:
            return f"W{layer - 1} {params[f'W{layer - 1}'].shape} does not feed W{layer} {W.shape}"
    return None


def refuse_bad_images(X, width=None):
    """Refuse images that are not a floating-point array (N, width), saying how to fix the usual
    mistakes."""
    shape = f"(N, {width if width is not None else 'D'})"
    if not isinstance(X, np.ndarray):
        raise ImagesError(f"images must be a NumPy array {shape}, got {type(X).__name__}.")
    if X.dtype.kind in "biu":
        raise ImagesError(f"images are {X.dtype}, not floating point; divide by 255 "
                          "(X.astype(np.float32) / 255) to get pixels in [0, 1].")
    if X.ndim == 1 and (width is None or X.shape == (width,)):
        raise ImagesError(f"one image of shape {X.shape} was passed; pass a batch of one, "
                          f"X[None, :], of shape (1, {len(X)}).")
    if X.dtype.kind != "f" or X.ndim != 2 or (width is not None and X.shape[1] != width):
        raise ImagesError(f"images must be a floating-point array {shape}, one image per row, "
                          f"got shape {X.shape} of {X.dtype}.")


def refuse_pixels_outside_0_1(X):
    """Refuse pixels outside [0, 1] (or NaN): a pass over X, so doors do it once, not per batch."""
    low, high = (float(X.min()), float(X.max())) if X.size else (0.0, 0.0)
    if not 0 <= low <= high <= 1:
        hint = "divide by 255" if 1 < high <= 255 and low >= 0 else "scale them into [0, 1]"
        raise ImagesError(f"pixels must lie in [0, 1], but they range from {low:g} to {high:g}; "
                          f"{hint}.")


def refuse_bad_labels(y, n, classes=10):
    """Refuse labels that are not whole numbers 0 to classes - 1, one per image (n of them)."""
    if not isinstance(y, np.ndarray) or y.ndim != 1:
        hint = "; for one-hot rows pass y.argmax(axis=1)" if getattr(y, "ndim", 0) == 2 else ""
        raise LabelsError("labels must be a 1-D NumPy array of whole numbers, one per "
                          f"image{hint}.")
    if y.dtype.kind not in "iu":
        raise LabelsError(f"labels must be an integer array, got {y.dtype}; use "
                          "y.astype(np.int64) if they are whole numbers.")
    if len(y) != n:
        raise LabelsError(f"there are {n} images but {len(y)} labels; pass one label per image.")
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise LabelsError(f"labels must be whole numbers from 0 to {classes - 1}, found "
                          f"{y.min()} to {y.max()}.")


def refuse_bad_split(X, y, val_size):
    """Refuse a validation size that is not a whole number from 0 to N - 1, or labels of another
    length than the images."""
    if not isinstance(X, np.ndarray) or X.ndim == 0:
        raise ImagesError(f"images must be a NumPy array, one image per row, got "
                          f"{type(X).__name__}.")
    if not isinstance(y, np.ndarray) or len(y) != len(X):
        raise LabelsError(f"there are {len(X)} images but "
                          f"{len(y) if hasattr(y, '__len__') else 0} labels; pass one label per "
                          "image.")
    if not isinstance(val_size, numbers.Integral) or not 0 <= val_size < len(X):
        raise SettingError(f"validation size (--val-size) must be a whole number from 0 to "
                           f"{len(X) - 1}, got {val_size!r}.")


def validate_network_input(params, X, activation):
    """A known activation, a well-formed params dict and images it can take."""
    refuse_unknown_choice("activation (--activation)", activation, ACTIVATIONS)
    problem = params_problem(params)
    if problem:
        raise ParamsError(f"{problem}.")
    refuse_bad_images(X, params["W1"].shape[0])


def classes_of(params):
    """The number of classes C a network answers: the length of its last bias."""
    return params[f"b{num_layers(params)}"].shape[0]


def refuse_bad_network_input(params, X, activation):
    """forward's door: a known activation, a well-formed network and images it can take."""
    validate_network_input(params, X, activation)


def refuse_bad_batch(params, X, y, activation):
    """loss_and_grads' door: forward's checks, and one label 0 to C - 1 per image."""
    validate_network_input(params, X, activation)
    refuse_bad_labels(y, len(X), classes_of(params))


def refuse_bad_images_to_predict(params, X, activation):
    """predict's door: forward's checks, and pixels in [0, 1]."""
    validate_network_input(params, X, activation)
    refuse_pixels_outside_0_1(X)


def refuse_bad_evaluation(params, X, y, activation):
    """evaluate's door: predict's checks, at least one image, and one label per image."""
    refuse_bad_images_to_predict(params, X, activation)
    if len(X) == 0:
        raise ImagesError("there are no images to evaluate on; pass at least one.")
    refuse_bad_labels(y, len(X), classes_of(params))


def refuse_bad_training_data(params, X, y, X_val, y_val, activation):
    """The network, and the images and labels of both sets, checked once per call of train."""
    validate_network_input(params, X, activation)
    if not all(value.flags.writeable for value in params.values()):  # training updates them
        raise ParamsError("params holds read-only arrays, which training cannot update; pass "
                          "copies, {name: value.copy() for name, value in params.items()}.")
    refuse_pixels_outside_0_1(X)
    refuse_bad_labels(y, len(X), classes_of(params))
    if X_val is not None:
        refuse_bad_images(X_val, X.shape[1])
        refuse_pixels_outside_0_1(X_val)
        refuse_bad_labels(y_val, len(X_val), classes_of(params))


def refuse_bad_optimizer_settings(optimizer, optimizer_settings):
    """Refuse a step function that is not one, or settings it does not take or cannot use."""
    if not callable(optimizer):
        raise SettingError("optimizer must be a step function such as sgd_step, momentum_step or "
                           f"adam_step, got {optimizer!r}.")
    for name, value in optimizer_settings.items():
        if name not in inspect.signature(optimizer).parameters:
            raise SettingError(f"{optimizer.__name__} takes no setting {name}; drop it, or "
                               "choose another optimizer.")
        if not (is_number(value) and math.isfinite(value)) or (name == "eps" and value <= 0):
            above = " above 0" if name == "eps" else ""
            raise SettingError(f"{name} must be a finite number{above}, got {value!r}.")
        if name.startswith("beta") and not 0 <= value < 1:
            raise SettingError(f"{name} (--momentum for SGD with momentum) must be at least 0 and "
                               f"below 1, got {value}.")


def refuse_bad_schedule(n_examples, lr, schedule, epochs, batch_size, weight_decay, seed):
    """Refuse a learning rate, schedule, number of epochs, batch size, weight decay or seed that
    makes no sense, naming the option."""
    refuse_unknown_choice("schedule (--schedule)", schedule, ("constant", "cosine"))
    if not (isinstance(seed, numbers.Integral) and seed >= 0):
        raise SettingError(f"seed (--seed) must be a whole number of at least 0, got {seed}.")
    if not (is_number(lr) and math.isfinite(lr) and lr > 0):
        raise SettingError(f"learning rate (--lr) must be a positive finite number, got {lr}.")
    if not is_whole_number(batch_size, 1) or batch_size > n_examples:
        raise SettingError(f"batch size (--batch-size) must be a whole number from 1 to "
                           f"{n_examples}, got {batch_size}.")
    if not is_whole_number(epochs, 1):
        raise SettingError(f"epochs (--epochs) must be a whole number of at least 1, got {epochs}.")
    if not (is_number(weight_decay) and math.isfinite(weight_decay) and weight_decay >= 0):
        raise SettingError(f"weight decay (--weight-decay) must be a finite number of at least "
                           f"0, got {weight_decay}.")


def refuse_bad_training_call(params, X, y, X_val, y_val, activation, optimizer, optimizer_settings,
                             lr, schedule, epochs, batch_size, weight_decay, patience, seed,
                             gradients, augment, on_epoch_end):
    """train's door: its data, and every setting, checked once, before any work."""
    refuse_bad_training_data(params, X, y, X_val, y_val, activation)
    refuse_bad_optimizer_settings(optimizer, optimizer_settings)
    hooks_fit = all(callable(f) or f is None for f in (augment, on_epoch_end))
    if not hooks_fit or not callable(gradients):
        raise SettingError("gradients must be a function like batch_loss_and_grads, and augment "
                           "and on_epoch_end None or functions (see with_dropout and augmenter).")
    refuse_bad_schedule(len(X), lr, schedule, epochs, batch_size, weight_decay, seed)
    has_validation = X_val is not None and len(X_val) > 0
    if patience is not None and (not is_whole_number(patience, 1) or not has_validation):
        raise SettingError("early stopping (--patience) needs a patience of at least 1 and a "
                           "validation set (--val-size above 0).")
    if augment is not None and X.shape[1] != 28 * 28:
        raise ImagesError(f"augmentation moves 28x28 images (784 pixels a row), but these have "
                          f"{X.shape[1]}; train without augment.")


def refuse_blank_image(image):
    """prepare_digit's door: a picture (H, W), (H, W, 3) or (H, W, 4) that shows some ink."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0 or (
            image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise SettingError("the image must be a NumPy array (H, W), (H, W, 3) or (H, W, 4), as "
                           "matplotlib's imread gives.")
    if not np.isfinite(image).all():
        raise SettingError("the image holds NaN or infinite pixels; pass an ordinary picture.")
    ink = to_ink(image)
    if ink.max() <= 0:
        raise SettingError("the image shows no digit (it is blank); draw a digit on a plain "
                           "background.")


def refuse_bad_dropout_rates(rates):
    """with_dropout's door: two rates, for the inputs and the hidden units, each in [0, 1)."""
    fits = isinstance(rates, (list, tuple)) and len(rates) == 2 and all(
        is_number(rate) and 0 <= rate < 1 for rate in rates)
    if not fits:
        raise SettingError(f"dropout (--dropout) needs two rates, for the inputs and the hidden "
                           f"units, each at least 0 and below 1 (e.g. 0.1 0.3), got {rates!r}.")


def refuse_images_that_are_not_28x28(X):
    """augment_batch's door: the transforms move 28x28 images, one per row."""
    refuse_bad_images(X, 28 * 28)


def refuse_unknown_augmentation(kind):
    """augmenter's door: a kind of map that AUGMENTATIONS knows."""
    refuse_unknown_choice("augmentation (--augment)", kind, AUGMENTATIONS)


# ---- 10. Files and the command line ---------------------------------------------------------

class WeightsFileError(MnistAnnError):
    """A weights file is not one that save_params wrote."""


class SaveError(MnistAnnError):
    """A file could not be written (full disk, no permission, ...); no partial file is left."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt, so that training stops the same
    way; signal_number says which."""

    def __init__(self, signal_number=signal.SIGTERM):
        super().__init__()
        self.signal_number = signal_number


def exit_status_of(interrupt):
    """128 + the signal's number, as shells report it: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP."""
    return 128 + int(getattr(interrupt, "signal_number", signal.SIGINT))


class TrainingInterrupted(MnistAnnError):
    """Ctrl-C (exit status 130), SIGTERM (143) or SIGHUP (129) arrived; params hold the last
    finished epoch."""

    outcome = "interrupted"  # what history.json records about how the run ended

    def __init__(self, message, history, terminated=False, exit_status=None):
        super().__init__(message)
        self.history = history
        self.exit_status = exit_status or (143 if terminated else 130)


class TrainingOutOfMemory(TrainingInterrupted):
    """Memory ran out in training, where no check foresaw it; params hold the last finished
    epoch. A failed run: exit status 1."""

    outcome = "out of memory"


def interruption_message(history):
    """What to say when Ctrl-C or SIGTERM stops training: where, and what was kept."""
    finished = len(history["epoch"])
    return (f"training interrupted in epoch {finished + 1}; the weights and history of the "
            f"{finished} finished epoch(s) are kept.")


def silence(stream):
    """Send whatever is still to be written to stream into /dev/null: a closed pipe or a full
    disk then fails no later write, nor the flush at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a stream without a file (a test's capture)
        pass


def tell(message, stream=None):
    """Print one line on stdout (or stream) as well as it allows: a character its encoding lacks
    is escaped, and a closed pipe (`| head -1`), a full disk (`> /dev/full`) or a terminal that
    is gone stops the printing, never the work."""
    stream = stream or sys.stdout
    try:
        try:
            print(message, file=stream, flush=True)
        except UnicodeEncodeError:  # PYTHONIOENCODING=ascii and a path in another script
            encoding = getattr(stream, "encoding", None) or "ascii"
            escaped = message.encode(encoding, "backslashreplace").decode(encoding)
            print(escaped, file=stream, flush=True)
    except (OSError, ValueError):
        silence(stream)


def train_keeping_finished_epochs(params, X, y, X_val=None, y_val=None, progress=False,
                                  **settings):
    """train, where Ctrl-C, SIGTERM or SIGHUP (or memory that runs out) puts back the weights of
    the last finished epoch and raises TrainingInterrupted (TrainingOutOfMemory) with the
    finished epochs' history. With progress, each epoch's line is printed once that epoch is
    kept, as well as stdout allows."""
    finished = [(copy_params(params), {key: [] for key in HISTORY_KEYS})]
    epochs = settings.get("epochs", inspect.signature(train).parameters["epochs"].default)

    def keep(history):  # one assignment, so an interrupt leaves the old pair or the new one
        finished[0] = (copy_params(params), {key: list(values) for key, values in history.items()})
        if progress:
            tell(format_epoch(history, epochs))

    try:
        return train(params, X, y, X_val, y_val, on_epoch_end=keep, **settings)
    except KeyboardInterrupt as interrupt:
        kept_params, kept_history = finished[0]
        put_back(params, kept_params)
        raise TrainingInterrupted(interruption_message(kept_history), kept_history,
                                  exit_status=exit_status_of(interrupt)) from None
    except MemoryError:
        kept_params, kept_history = finished[0]
        put_back(params, kept_params)
        message = interruption_message(kept_history).replace("interrupted", "ran out of memory")
        raise TrainingOutOfMemory(f"{message} Free some memory, or choose smaller --hidden sizes "
                                  "or --batch-size.", kept_history, exit_status=1) from None


# The signals that stop a run: Ctrl-C, `kill`, and a terminal or SSH session that closes.
STOP_SIGNALS = {getattr(signal, name): name for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name)}


class StopSignals:
    """The command line's handler of STOP_SIGNALS. The first signal stops the work where it is
    (KeyboardInterrupt, or Terminated); from then on, and while a finished run is saved
    (holding), signals are only noted, so that the save completes; a third noted one gives up
    the save (each file is whole or absent: write_atomically)."""

    def __init__(self):
        self.holding, self.noted = False, []
        self.folder = None  # the run's folder, once made: what an interrupt's message names
        self.reporting = False  # the last line is being told: nothing stops it

    def __call__(self, signal_number, frame):
        self.noted.append(signal_number)
        if self.reporting or (self.holding and len(self.noted) < 3):
            return
        self.holding = True  # the saving that follows waits for no second signal
        raise KeyboardInterrupt() if signal_number == signal.SIGINT else Terminated(signal_number)

    def install(self):
        """Handle STOP_SIGNALS (but those ignored, as nohup ignores SIGHUP); returns the previous
        handlers, for restore."""
        previous = {}
        for number in STOP_SIGNALS:
            if signal.getsignal(number) != signal.SIG_IGN:
                previous[number] = signal.signal(number, self)
        return previous

    def first_name(self):
        """The name of the first signal noted, as the user knows it."""
        name = STOP_SIGNALS[self.noted[0]]
        return "Ctrl-C (SIGINT)" if name == "SIGINT" else name


# Public copies of MNIST. Their gzip files differ byte-wise from ours, so a download
# is checked by the SHA-256 of its decompressed content.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# Each file must arrive from a mirror within DOWNLOAD_SECONDS (a deadline for the whole file, not
# one per read: a mirror that sends a byte now and then cannot hold the download forever), and a
# mirror that sends nothing for READ_SECONDS is given up for the next one.
DOWNLOAD_SECONDS = 300
READ_SECONDS = 60


def write_atomically(path, write):
    """Call write(file) on a temporary file beside path, then rename it to path, readable by all
    (0644).

    A failure or an interruption (Ctrl-C too) leaves the old file or the new one, never part of
    one.
    """
    path = Path(path)
    f = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".part",
                                    delete=False)
    try:
        with f:
            write(f)
        os.chmod(f.name, 0o644)  # NamedTemporaryFile makes it private (0600), unlike a user's file
        os.replace(f.name, path)  # atomic: the name points at the whole old file or the whole new
    except BaseException:
        Path(f.name).unlink(missing_ok=True)
        raise
    return path


def fetch_gzip(url, max_bytes, deadline):
    """The decompressed content of the .gz file at url; refused above max_bytes or past the
    deadline (monotonic)."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: gzip framing
    content, received = bytearray(), 0
    timeout = min(READ_SECONDS, max(deadline - time.monotonic(), 0.1))
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read1(1 << 16):  # what has arrived, up to 64 KiB: never waits
            received += len(chunk)
            # never more than the cap:
            content += decompressor.decompress(chunk, max_bytes + 1 - len(content))
            if len(content) > max_bytes or received > max_bytes + (1 << 20):
                raise ValueError(f"larger than the {max_bytes} bytes this file has")
            if time.monotonic() > deadline:
                raise TimeoutError("the download deadline passed")
    if not decompressor.eof:
        raise EOFError("the file ended early")
    return bytes(content)


def save_data_file(path, content):
    """Write a downloaded file; a damaged .gz of the same name goes, since the reader would take
    it first."""
    try:
        write_atomically(path, lambda f: f.write(content))
        Path(f"{path}.gz").unlink(missing_ok=True)
    except OSError as error:
        raise MNISTDataError(f"could not write {path} ({error.strerror or error}); no partial "
                             "file was left. Free some space, or pass another "
                             "--data-dir.") from None
    return path


def download_one(data_dir, name, mirrors, seconds, log):
    """Try each mirror for one file; write the first copy whose content checks out."""
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            content = fetch_gzip(url, RAW_SIZES[name], time.monotonic() + seconds)
        except (OSError, EOFError, zlib.error, http.client.HTTPException, ValueError) as error:
            failures.append(f"{url}: {error!r}")  # any failure: try the next mirror
            continue
        if sha256_of(content) != RAW_SHA256[name]:
            failures.append(f"{url}: content does not match the known checksum")
            continue
        log(f"downloaded {url}")
        return save_data_file(data_dir / name, content)
    raise MNISTDataError(
        f"could not download {name} from any mirror ({'; '.join(failures)}); "
        f"copy the file into {data_dir} by hand."
    )


def has_intact_copy(data_dir, name):
    """Whether data_dir holds a readable copy of one MNIST file that matches its checksums (or
    MNIST's own, where SHA256SUMS is stale: a download would not help, and loading names it)."""
    try:
        path = find_idx_file(data_dir, name)
        verify_checksum(path)
        read_idx(path)
    except StaleChecksumError:
        return True
    except MNISTDataError:
        return False
    return True


def make_data_dir(data_dir):
    """Create the data folder if it is new, or say in one line why it cannot be."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MNISTDataError(f"cannot create the data folder {data_dir} "
                             f"({error.strerror or error}); pass another --data-dir.") from None


def mirror_urls(mirrors):
    """Base URLs of mirrors, each ending in a slash (http://host/mnist means http://host/mnist/)."""
    return [mirror if mirror.endswith("/") else f"{mirror}/" for mirror in mirrors]


def download_mnist(data_dir=None, mirrors=None, log=print, seconds=DOWNLOAD_SECONDS):
    """Fetch each MNIST file missing from data_dir, or damaged there, trying the mirrors in turn.

    mirrors defaults to $MNIST_MIRRORS (base URLs separated by spaces), else MIRRORS.
    A file is saved raw (uncompressed) only after its content matches RAW_SHA256, and each must
    arrive from a mirror within `seconds`, or that mirror is given up. Returns the list of paths
    written.
    """
    data_dir = chosen_data_dir(data_dir)
    mirrors = mirror_urls(mirrors or os.environ.get("MNIST_MIRRORS", "").split() or MIRRORS)
    make_data_dir(data_dir)
    written = []
    for name in MNIST_FILES.values():
        if not has_intact_copy(data_dir, name):
            written.append(download_one(data_dir, name, mirrors, seconds, log))
    return written


def save_params(path, params, activation="relu"):
    """Save weights and the activation with np.savez (plain arrays, nothing pickled), atomically.

    As np.savez does, a name without .npz gets it. Returns the path written.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise SettingError(f"the weights file must be a path, got {path!r}.")
    problem = params_problem(params) or (
        activation not in ACTIVATIONS
        and f"the activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if problem or not all(np.isfinite(value).all() for value in params.values()):
        raise ParamsError(f"cannot save these weights: "
                          f"{problem or 'they hold NaN or infinite numbers'}.")
    path = Path(path) if str(path).endswith(".npz") else Path(f"{path}.npz")
    try:
        return write_atomically(
            path, lambda f: np.savez(f, activation=np.array(activation), **params))
    except OSError as error:
        raise SaveError(f"could not save {path} ({error.strerror or error}); no partial file was "
                        "left. Choose a folder that exists and can be written, with free "
                        "space.") from None


def check_params_layout(path, params, activation):
    """Check names, shapes and types: W1 (n0, n1), b1 (n1,), W2 (n1, n2), ... and a known
    activation."""
    layers = num_layers(params)
    expected = {f"{kind}{layer}" for layer in range(1, layers + 1) for kind in "Wb"}
    problem = None
    if activation not in ACTIVATIONS:
        problem = f"its activation {activation!r} is not one of {', '.join(ACTIVATIONS)}"
    elif layers < 1 or set(params) != expected:
        problem = f"it holds {sorted(params)} instead of W1, b1, ..., W{layers}, b{layers}"
    elif any(value.dtype.kind != "f" for value in params.values()):
        problem = "its arrays are not floating point"
    else:
        problem = params_problem(params)
    if not problem and not all(np.isfinite(value).all() for value in params.values()):
        problem = "it holds NaN or infinite weights, as a run that diverged would"
    if problem:
        raise WeightsFileError(f"{path} is not a weights file saved by mnist_ann.py: {problem}.")


def refuse_more_than_memory(needed, what, advice, error_type=SettingError):
    """Refuse work that would need more bytes than this process may still use, before any of it
    is allocated, with an estimate of the need."""
    available = memory_available()
    if needed > available:
        raise error_type(f"{what} would need about {in_gib(needed)} of memory, more than the "
                         f"{in_gib(available)} {memory_limit_named()}; {advice}")


def npz_bytes(archive):
    """The bytes that loading every array of an open .npz archive would take, from the arrays'
    headers: nothing is loaded."""
    total = 0
    for member in archive.zip.namelist():
        with archive.zip.open(member) as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
        total += math.prod(shape) * dtype.itemsize
    return total


# The first bytes of a zip archive, as np.savez writes (an empty one starts with PK\5\6).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def load_params(path):
    """Load what save_params wrote; returns params and the activation. Never unpickles, and
    refuses weights too large for memory before loading them."""
    path = Path(path)
    if not path.exists():
        raise WeightsFileError(f"{path} does not exist; pass a weights.npz that mnist_ann.py "
                               "saved.")
    refuse_what_is_not_a_regular_file(path, WeightsFileError, "the weights.npz of a training run")
    try:
        with path.open("rb") as f:
            start = f.read(4)
    except OSError as error:
        raise WeightsFileError(f"{path} cannot be read ({error.strerror or error}); make it "
                               "readable, or pass another weights file.") from None
    if start not in ZIP_MAGIC:
        raise WeightsFileError(f"{path} is not a weights file saved by mnist_ann.py (not an .npz "
                               "archive); pass the weights.npz of a training run.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            refuse_more_than_memory(npz_bytes(archive), f"loading {path}",
                                    "pass a smaller network's weights.", WeightsFileError)
            arrays = {key: archive[key] for key in archive.files}
    except WeightsFileError:
        raise
    except Exception as error:  # a pickle, a truncated zip, a header that lies: all the same here
        raise WeightsFileError(
            f"{path} is not a weights file saved by mnist_ann.py ({type(error).__name__}: "
            f"{error}); pass the weights.npz of a training run."
        ) from None
    activation = str(arrays.pop("activation", ""))
    check_params_layout(path, arrays, activation)
    return arrays, activation


def check_input_size(path, params, size, classes=10):
    """Refuse weights whose network does not take `size` pixels or does not answer one of
    `classes` digits."""
    inputs, outputs = params["W1"].shape[0], params[f"b{num_layers(params)}"].shape[0]
    if inputs != size or outputs != classes:
        raise WeightsFileError(f"{path} is a network from {inputs} pixels to {outputs} classes, "
                               f"not from {size} to {classes}; pass weights trained on MNIST.")


def layer_sizes_of(params):
    """[n0, n1, ..., nK]: the sizes of a network's layers, input first."""
    return [params["W1"].shape[0]] + [params[f"b{layer}"].shape[0]
                                      for layer in range(1, num_layers(params) + 1)]


def refuse_evaluation_beyond_memory(path, params, rows):
    """Refuse to send `rows` images through the network of path at once if that would not fit."""
    sizes = layer_sizes_of(params)
    refuse_more_than_memory(memory_needed(sizes, rows, copies=0),
                            f"the network {'-'.join(map(str, sizes))} of {path} on {rows} images",
                            "pass a smaller network's weights.", WeightsFileError)


# Reading a picture takes a few float64 copies of its four channels, about 100 bytes a pixel:
# 1.5 GiB at this many pixels, enough for a 12-megapixel phone photo of a digit (the network sees
# 28x28).
MAX_IMAGE_PIXELS = 4096 * 4096


def image_size(path):
    """(width, height) of an image, from its header: no pixel is decoded."""
    import warnings

    from PIL import Image

    # Pillow's own limit is lifted: huge images are refused here, by their size.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return image.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def upright_pixels(path):
    """An image file's pixels in [0, 1], (H, W), (H, W, 3) or (H, W, 4), turned as its EXIF
    orientation says: a phone stores a photo sideways and records how to show it upright."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith(("I", "F")):  # 16- or 32-bit grey levels
            pixels = np.asarray(image, dtype=np.float64)
            return pixels if image.mode == "F" else pixels / 65535
        transparent = "A" in image.getbands() or "transparency" in image.info
        mode = "RGBA" if transparent else "L" if image.mode in ("1", "L") else "RGB"
        return np.asarray(image.convert(mode), dtype=np.float32) / 255


def read_image(path):
    """The pixels of an image file, upright, refused in one line if it is missing, not a regular
    file, unreadable or too large."""
    path = Path(path)
    if not path.exists():
        raise SettingError(f"{path} does not exist; pass the path of a PNG image of one digit.")
    refuse_what_is_not_a_regular_file(path, SettingError, "a PNG image of one digit")
    try:
        width, height = image_size(path)
        if width * height <= MAX_IMAGE_PIXELS:
            return upright_pixels(path)
    except Exception as error:
        raise SettingError(f"{path} could not be read as an image ({error}); pass a PNG image of "
                           "one digit.") from None
    raise SettingError(f"{path} is {width}x{height} pixels, which would take about "
                       f"{width * height * 100 / 2**30:.1f} GiB to read; shrink it to at most "
                       "4096x4096 (the network sees 28x28).")


def runs_dir():
    """Where runs are saved and looked up: $MNIST_RUNS_DIR, else runs/ in this file's folder,
    wherever you are."""
    return Path(os.environ.get("MNIST_RUNS_DIR") or Path(__file__).resolve().parent / "runs")


# A run's history.json holds a few kilobytes; one far larger is no run's, and is not read.
MAX_HISTORY_BYTES = 16 * 2**20


def run_outcome(folder):
    """How the run in folder ended, as its history.json records it ("finished", "diverged", ...),
    or None if that is no readable JSON file (a pipe, a folder, damaged, huge or absurdly
    nested)."""
    path = folder / "history.json"
    try:
        if not path.is_file() or path.stat().st_size > MAX_HISTORY_BYTES:
            return None
        record = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    # Runs saved before outcomes were recorded: those with a test accuracy finished.
    return record.get("outcome",
                      "finished" if record.get("test_accuracy") is not None else "diverged")


def newest_finished_weights():
    """The weights of the newest run in runs_dir() that finished (not one that diverged, failed
    or was interrupted)."""
    runs = [path for path in runs_dir().glob("*/weights.npz")
            if path.is_file() and run_outcome(path.parent) == "finished"]
    if not runs:
        raise SettingError(f"no trained weights found in {runs_dir()} (no run there finished); "
                           "train first (python mnist_ann.py) or pass --weights.")
    return max(runs, key=lambda path: path.stat().st_mtime)


# What a run writes in its folder.
RUN_FILES = ("weights.npz", "history.json", "curves.png", "confusion.png")


def claim_folder(out):
    """Make the folder --out names (and its parents) if new; refuse a file, a symbolic link that
    leads nowhere, or a folder holding a run's files."""
    if out.is_symlink() and not out.exists():
        raise SettingError(f"{out} is a symbolic link to {os.readlink(out)}, which does not exist "
                           "or leads round in a loop; point it at a folder, or choose another "
                           "--out.")
    if out.exists() and not out.is_dir():
        raise SettingError(f"{out} is a file, not a folder; choose another --out.")
    if (out / "weights.npz").exists():
        raise SettingError(f"{out} already holds a run; choose another --out, or delete that "
                           "folder.")
    clashes = [name for name in RUN_FILES if (out / name).exists()]
    if clashes:
        raise SettingError(f"{out} already holds {', '.join(clashes)}, which this run would "
                           "overwrite; choose another --out.")
    try:  # a new folder is made exclusively, so two runs started together cannot both claim it
        out.mkdir(parents=True, exist_ok=out.is_dir())
    except FileExistsError:
        raise SettingError(f"{out} was made by another run just now; choose another "
                           "--out.") from None
    return out


def new_run_folder(base):
    """A new folder base/<date-time>, created exclusively: two runs started in the same second get
    two folders."""
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    for number in itertools.count(1):
        folder = base / (stamp if number == 1 else f"{stamp}_{number}")
        try:
            folder.mkdir(parents=True)  # fails if another run made it first: try the next name
            return folder
        except FileExistsError:
            if not base.is_dir():
                raise


def make_run_folder(out=None):
    """Create this run's folder before training, and prove that a file can be written in it."""
    try:
        folder = claim_folder(Path(out)) if out is not None else new_run_folder(runs_dir())
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"0")
            probe.flush()
    except OSError as error:
        raise SettingError(f"cannot write in the output folder {out or runs_dir()} "
                           f"({error.strerror or error}); choose another --out.") from None
    return folder


def save_file(path, write):
    """write_atomically, with a failure told in one line (SaveError)."""
    try:
        return write_atomically(path, write)
    except OSError as error:
        raise SaveError(f"could not save {path} ({error.strerror or error}); no partial file was "
                        "left. Free some space or choose another --out, and train again.") from None


def strict_json(value):
    """value with every NaN or infinity replaced by None, which JSON writes as null: NaN is no
    JSON, and other tools' parsers refuse it (a run without a validation set has no val_loss)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value


def save_run(out, params, activation, history, layer_sizes, settings, test_accuracy, outcome):
    """Save the weights, and as strict JSON the settings, the history and how the run ended (its
    outcome), in out."""
    record = {"layer_sizes": layer_sizes, "activation": activation, **settings, "outcome": outcome,
              "test_accuracy": test_accuracy, "history": history}
    as_json = json.dumps(strict_json(record), indent=2, allow_nan=False).encode()
    save_file(out / "weights.npz", lambda f: np.savez(f, activation=np.array(activation), **params))
    save_file(out / "history.json", lambda f: f.write(as_json))


def save_figures(out, history, counts):
    """Draw curves.png and confusion.png in out. The figures are optional: returns None, or why
    they were skipped (a broken plotting backend, a full disk), the run being saved without
    them."""
    try:
        save_file(out / "curves.png",
                  lambda f: plot_history(history).savefig(f, format="png", dpi=100))
        save_file(out / "confusion.png",
                  lambda f: plot_confusion(counts).savefig(f, format="png", dpi=100))
    except Exception as error:
        reason = " ".join(str(error).split())
        return f"{type(error).__name__}: {reason[:120]}{'...' if len(reason) > 120 else ''}"
    return None


def step_settings(args):
    return {"beta": args.momentum} if args.optimizer == "momentum" else {}


def training_settings(args):
    """The settings of train, as given on the command line (the optimizer by its name, as the run
    records it)."""
    return {"optimizer": args.optimizer, "lr": args.lr, "schedule": args.schedule,
            "epochs": args.epochs, "batch_size": args.batch_size,
            "weight_decay": args.weight_decay, "patience": args.patience, "seed": args.seed,
            **step_settings(args)}


def generalisation_settings(args):
    """--dropout and --augment as train takes them (gradients and augment functions), checked."""
    gradients = with_dropout(args.dropout, args.seed) if any(args.dropout) else loss_and_grads
    augment = augmenter(args.augment, args.seed) if args.augment != "none" else None
    return {"gradients": gradients, "augment": augment}


def recorded_settings(args):
    """What the run records of how it was trained: train's settings, with dropout and
    augmentation by name."""
    return {**training_settings(args), "dropout": args.dropout, "augment": args.augment,
            "preset": args.preset}


# A run whose test accuracy stays below this (twice chance, for ten digits) learned nothing: it is
# recorded as failed. Judged only on a test set of at least NEAR_CHANCE_IMAGES images, where the
# accuracy is measured to within about 1%.
NEAR_CHANCE = 0.2
NEAR_CHANCE_IMAGES = 1000


# Dropout above this rate drops nearly every unit: nothing can be learned, whatever the learning
# rate, so the command line refuses it before training.
MAX_DROPOUT = 0.9
# Fewer training images than this cannot teach ten digits.
FEW_IMAGES = 1000


def likely_cause_of_collapse(args, n_train=None):
    """The likeliest reason a network learned nothing (the same digit for everything, or answers
    near chance), and what to try."""
    dropout = getattr(args, "dropout", [0.0, 0.0])
    if max(dropout) >= 0.5:
        return (f"--dropout {dropout[0]:g} {dropout[1]:g} drops most of the units at every step; "
                "try rates up to 0.3, e.g. --dropout 0.1 0.3")
    if args.weight_decay >= 0.01:
        return (f"--weight-decay {args.weight_decay:g} shrinks every weight towards 0 faster than "
                "the data can grow them; try --weight-decay 3e-4")
    if n_train is not None and n_train < FEW_IMAGES:
        return (f"{n_train} training images are too few to learn ten digits from; train on more "
                "(a smaller --val-size)")
    if len(args.hidden) > 8:
        return (f"{len(args.hidden)} hidden layers pass too little signal back to the first ones; "
                "try 1 to 3 hidden layers")
    if args.lr < 1e-4:
        return (f"at --lr {args.lr:g} the steps are too small to move the weights; try --lr 0.01 "
                "(the default)")
    return (f"at --lr {args.lr:g} the steps were too large, and the hidden units died (each "
            f"outputs 0 for every image, so no gradient reaches them); try --lr {args.lr / 10:g}")


def collapse_warning(params, X_val, y_val, args, checked_on="validation", n_train=None):
    """A sentence if the network gives (nearly) the same answer for every image of X_val (the
    validation images, or without them the test images: checked_on says which) and is near
    chance on them, else None."""
    if len(X_val) == 0:
        return None
    predicted = predict(params, X_val, args.activation)
    counts = np.bincount(predicted)
    val_accuracy = accuracy(predicted, y_val)
    if counts.max() < 0.9 * len(predicted) or val_accuracy >= NEAR_CHANCE:
        return None
    return (f"{checked_on} accuracy {val_accuracy:.2%} is near chance: the network answers "
            f"{counts.argmax()} for {counts.max() / len(predicted):.0%} of the images. Likely "
            f"cause: {likely_cause_of_collapse(args, n_train)}.")


def near_chance_warning(test_accuracy, n_test, args, n_train):
    """A sentence if the test accuracy is near chance (on enough test images to tell), else None."""
    if n_test < NEAR_CHANCE_IMAGES or test_accuracy >= NEAR_CHANCE:
        return None
    return (f"test accuracy {test_accuracy:.2%} is near chance (10% for ten digits; a run below "
            f"{NEAR_CHANCE:.0%} learned nothing). Likely cause: "
            f"{likely_cause_of_collapse(args, n_train)}.")


def refuse_extreme_dropout(rates):
    """Refuse dropout that drops nearly everything: it fails whatever the learning rate."""
    if max(rates) > MAX_DROPOUT:
        raise SettingError(f"dropout (--dropout) {rates[0]:g} {rates[1]:g} drops nearly every "
                           f"unit (rates above {MAX_DROPOUT:g}), so the network could learn "
                           "nothing, whatever the learning rate; use rates up to 0.5, e.g. "
                           "--dropout 0.1 0.3.")


def validate_before_training(args, params, X_train, y_train, X_val, y_val):
    """Every check that train would make, made before the run folder is created."""
    try:
        refuse_bad_training_data(params, X_train, y_train, X_val, y_val, args.activation)
    except (ImagesError, LabelsError) as error:  # from the data files: name them, not the API
        raise MNISTDataError(f"the files in {find_data_dir(args.data_dir)} are not MNIST: {error} "
                             f"Replace them; {HOW_TO_GET_DATA}") from None
    refuse_bad_optimizer_settings(OPTIMIZERS[args.optimizer], step_settings(args))
    refuse_bad_schedule(len(X_train), args.lr, args.schedule, args.epochs, args.batch_size,
                        args.weight_decay, args.seed)
    if args.patience is not None and (args.patience < 1 or len(X_val) == 0):
        raise SettingError("early stopping (--patience) needs a patience of at least 1 and a "
                           "validation set (--val-size above 0).")
    refuse_unknown_choice("augmentation (--augment)", args.augment, ("none", *AUGMENTATIONS))
    refuse_bad_dropout_rates(args.dropout)
    refuse_extreme_dropout(args.dropout)


def refuse_training_beyond_memory(args, layer_sizes, rows, rows_are):
    """Refuse, before the network is made, a run whose training and largest evaluation (`rows`
    images at once: rows_are says which set) would not fit in the memory left."""
    sizes = "-".join(map(str, layer_sizes))
    refuse_more_than_memory(memory_needed(layer_sizes, rows),
                            f"training {sizes} and evaluating it on {rows} images at once "
                            f"({rows_are})",
                            "choose smaller --hidden sizes, or a smaller --val-size.")


def run_failure(params, X_check, y_check, test_accuracy, n_test, args, checked_on, n_train):
    """(warning, outcome) of a run that learned nothing: collapsed or near chance; else
    (None, "finished")."""
    warning = collapse_warning(params, X_check, y_check, args, checked_on, n_train)
    if warning:
        return warning, "collapsed"
    warning = near_chance_warning(test_accuracy, n_test, args, n_train)
    return (warning, "near chance") if warning else (None, "finished")


def finish_run(args, out, params, history, layer_sizes, data, started, signals):
    """Test the trained network once, check that it learned something, save the run with how it
    ended, and report; returns the exit status. Signals wait (signals.holding) until it is
    saved."""
    X_check, y_check, X_test, y_test, checked_on, n_train = data
    predicted = predict(params, X_test, args.activation)  # the test set's one use
    test_accuracy = accuracy(predicted, y_test)
    warning, outcome = run_failure(params, X_check, y_check, test_accuracy, len(y_test), args,
                                   checked_on, n_train)
    save_run(out, params, args.activation, history, layer_sizes, recorded_settings(args),
             test_accuracy, outcome)
    skipped = None if signals.noted else save_figures(
        out, history, confusion_matrix(predicted, y_test))
    tell(f"test accuracy {test_accuracy:.2%} in {time.perf_counter() - started:.1f} s; saved in "
         f"{out}")
    if skipped:
        tell(f"mnist_ann: warning: the figures were skipped ({skipped}); the weights and history "
             f"are saved in {out}.", sys.stderr)
    if warning:
        tell(f"mnist_ann: warning: {warning} The run is saved in {out} as failed ({outcome}).",
             sys.stderr)
    if signals.noted:
        tell(f"mnist_ann: {signals.first_name()} arrived after the last epoch; the run was saved "
             f"complete first (weights and history, without figures) in {out}, as "
             f"{outcome}.", sys.stderr)
        return 128 + signals.noted[0]
    return 1 if warning else 0


def save_interrupted_run(out, params, args, error, layer_sizes, settings):
    """Save a run that diverged or was interrupted, with its finished epochs; raise the error on,
    its message saying where the run is."""
    outcome = getattr(error, "outcome", "diverged")
    save_run(out, params, args.activation, error.history, layer_sizes, settings, None, outcome)
    note = ""
    if isinstance(error, TrainingDiverged) and max(args.dropout) >= 0.5:  # not only the rate
        note = (f" With --dropout {args.dropout[0]:g} {args.dropout[1]:g}, most units are dropped "
                "at every step: lower the rates first, e.g. --dropout 0.1 0.3.")
    error.args = (f"{error}{note} Saved in {out}.",)
    raise error


def train_command(args, signals):
    say = (lambda message: None) if args.quiet else tell
    started = time.perf_counter()
    refuse_unknown_choice("optimizer (--optimizer)", args.optimizer, OPTIMIZERS)
    X_train, y_train, X_test, y_test = load_mnist(args.data_dir)
    X_train, y_train, X_val, y_val = split_validation(X_train, y_train, args.val_size, args.seed,
                                                      in_place=True)
    layer_sizes = [X_train.shape[1], *args.hidden, 10]  # ten digits; the labels are checked 0-9
    # Without a validation set, the collapse check looks at the test images, if there are enough
    # to tell (training images would not do: a network can learn them by heart).
    enough = len(X_val) or len(X_test) >= NEAR_CHANCE_IMAGES
    X_check, y_check = (X_val, y_val) if len(X_val) else (X_test, y_test) if enough else (
        X_test[:0], y_test[:0])
    checked_on = "validation" if len(X_val) else "test"
    rows = max(len(X_val), len(X_test), min(args.batch_size, len(X_train)))
    refuse_bad_layer_sizes(layer_sizes)
    largest = "the validation set" if len(X_val) >= len(X_test) else "the test set"
    refuse_training_beyond_memory(args, layer_sizes, rows, largest)
    params = init_params(layer_sizes, args.activation, np.random.default_rng(args.seed))
    validate_before_training(args, params, X_train, y_train, X_val, y_val)
    out = make_run_folder(args.out)  # before training: a folder that cannot be written is found now
    signals.folder = out
    settings = recorded_settings(args)
    say(f"network {'-'.join(map(str, layer_sizes))}, {args.activation}; training on "
        f"{len(X_train)} images, validating on {len(X_val)}; "
        + ", ".join(f"{k} {v}" for k, v in settings.items() if v is not None))
    try:
        history = train_keeping_finished_epochs(
            params, X_train, y_train, X_val, y_val, activation=args.activation,
            progress=not args.quiet,
            **{**training_settings(args), "optimizer": OPTIMIZERS[args.optimizer]},
            **generalisation_settings(args))
        signals.holding = True  # from the last epoch on, signals wait until the run is saved
    except (TrainingDiverged, TrainingInterrupted) as error:  # keep the last finished epoch
        signals.holding = True
        if type(error) is TrainingInterrupted and len(error.history["epoch"]) == args.epochs:
            history = error.history  # every epoch was kept: the run is finished, and so saved
        else:
            save_interrupted_run(out, params, args, error, layer_sizes, settings)
    data = (X_check, y_check, X_test, y_test, checked_on, len(X_train))
    return finish_run(args, out, params, history, layer_sizes, data, started, signals)


def evaluate_command(args, signals):
    # True: --evaluate alone, the newest finished run's weights
    weights = newest_finished_weights() if args.evaluate is True else args.evaluate
    params, activation = load_params(weights)
    _, _, X_test, y_test = load_mnist(args.data_dir)
    check_input_size(weights, params, X_test.shape[1])
    refuse_evaluation_beyond_memory(weights, params, len(X_test))
    predicted = predict(params, X_test, activation)
    tell(f"test accuracy of {weights}: {accuracy(predicted, y_test):.2%} on {len(y_test)} images")
    return 0


def predict_command(args, signals):
    weights = args.weights or newest_finished_weights()
    params, activation = load_params(weights)
    check_input_size(weights, params, 784)
    refuse_evaluation_beyond_memory(weights, params, 1)
    x = prepare_digit(read_image(args.predict))
    tell(f"weights {weights}")
    probabilities = softmax(forward(params, x[None, :], activation)[0])[0]  # (1, 784) -> (C,)
    for digit in np.argsort(probabilities)[::-1][:3]:
        tell(f"{digit}: {probabilities[digit]:.1%}")
    return 0


def usage_error(message):
    tell(f"mnist_ann: error: {message} (see python mnist_ann.py --help)", sys.stderr)
    sys.exit(2)


def text(value):
    """argparse type of the options that take a name: an empty one (an unset shell variable, say)
    is refused."""
    if not value.strip():
        raise argparse.ArgumentTypeError("needs a value, got an empty one")
    return value


def whole_number(value):
    """argparse type of --seed: a whole number of at least 0 (NumPy's generators refuse negative
    seeds)."""
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got {value!r}")
    return int(value)


# A preset is a named set of the options below; an option written out on the command line
# overrides it. "best" was chosen on the validation set (never the test set), within 10 minutes of
# training on 2 cores.
PRESETS = {
    "default": {"hidden": [128, 64], "optimizer": "momentum", "momentum": 0.95, "lr": 0.01,
                "schedule": "cosine", "batch_size": 32, "epochs": 10, "weight_decay": 3e-4,
                "dropout": [0.0, 0.0], "augment": "none"},
    "best": {"hidden": [1024, 1024], "optimizer": "momentum", "momentum": 0.9, "lr": 0.1,
             "schedule": "cosine", "batch_size": 256, "epochs": 40, "weight_decay": 1e-5,
             "dropout": [0.1, 0.3], "augment": "affine"},
}


def as_options(settings):
    """A preset's settings as the options that set them: ["--hidden 128 64", "--lr 0.01", ...]."""
    return [f"--{name.replace('_', '-')} "
            f"{' '.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in settings.items()]


def presets_help():
    """The end of --help: each preset and the options it sets, never an option split across two
    lines."""
    header = "presets (--preset NAME sets these options; any option written out overrides its "
    lines = [header + "preset):"]
    for name, settings in PRESETS.items():
        lines.append(f"  {name}:")
        for option in as_options(settings):
            if len(lines[-1]) + len(option) < 100 and lines[-1].startswith("    "):
                lines[-1] += " " + option
            else:
                lines.append("    " + option)
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python mnist_ann.py",
        description="Train a fully connected network on MNIST (the defaults reach about 98% test "
                    "accuracy, --preset best about 99%), evaluate saved weights, or read your own "
                    "digit.",
        epilog=presets_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    model = parser.add_argument_group("the network and its training")
    model.add_argument("--hidden", type=int, nargs="+", default=[128, 64], metavar="SIZE",
                       help="hidden layer sizes (default: %(default)s)")
    model.add_argument("--activation", type=text, default="relu",
                       help=f"hidden activation: {', '.join(ACTIVATIONS)} (default: %(default)s)")
    model.add_argument("--optimizer", type=text, default="momentum",
                       help=f"one of {', '.join(OPTIMIZERS)} (default: %(default)s)")
    model.add_argument("--lr", type=float, default=0.01,
                       help="learning rate (the peak, with a schedule) (default: %(default)s)")
    model.add_argument("--schedule", type=text, default="cosine",
                       help="learning-rate schedule: constant or cosine (default: %(default)s)")
    model.add_argument("--momentum", type=float, default=0.95,
                       help="momentum beta (for --optimizer momentum) (default: %(default)s)")
    model.add_argument("--weight-decay", type=float, default=3e-4,
                       help="L2 weight decay on the weights (not the biases) "
                            "(default: %(default)s)")
    model.add_argument("--batch-size", type=int, default=32,
                       help="examples per mini-batch (default: %(default)s)")
    model.add_argument("--epochs", type=int, default=10,
                       help="passes over the training set (default: %(default)s)")
    model.add_argument("--seed", type=whole_number, default=0,
                       help="seed of the initial weights, the split and the batch order "
                            "(default: %(default)s)")
    model.add_argument("--val-size", type=int, default=5000,
                       help="training images held out for validation (default: %(default)s)")
    model.add_argument("--patience", type=int, default=None,
                       help="stop after this many epochs without a better validation loss "
                            "(default: off)")
    model.add_argument("--dropout", type=float, nargs=2, default=[0.0, 0.0],
                       metavar=("INPUT", "HIDDEN"),
                       help="dropout rates of the pixels and of the hidden units, in training, "
                            f"each at most {MAX_DROPOUT:g} (default: 0 0)")
    model.add_argument("--augment", type=text, default="none",
                       help=f"move each training image at random: none, "
                            f"{', '.join(AUGMENTATIONS)} (default: %(default)s)")
    model.add_argument("--preset", type=text, default=None,
                       help=f"a named set of the options above: {', '.join(PRESETS)} "
                            "(listed below)")
    files = parser.add_argument_group("files")
    files.add_argument("--data-dir", type=text, default=None,
                       help="folder of the MNIST files (default: $MNIST_DATA_DIR or data/mnist)")
    files.add_argument("--download", action="store_true",
                       help="first fetch any missing or damaged MNIST file from a public mirror")
    files.add_argument("--out", type=text, default=None,
                       help="output folder, new or empty (default: a new runs/<date-time> beside "
                            "mnist_ann.py)")
    files.add_argument("--quiet", action="store_true", help="no configuration or progress lines")
    other = parser.add_argument_group("instead of training")
    # nargs="?": --evaluate alone (const True, not a name) takes the newest finished run.
    other.add_argument("--evaluate", metavar="WEIGHTS", type=text, nargs="?", const=True,
                       help="report the test accuracy of a saved weights.npz (alone: the newest "
                            "finished run's)")
    other.add_argument("--predict", metavar="IMAGE", type=text,
                       help="read one digit from a PNG and print the top guesses")
    other.add_argument("--weights", metavar="WEIGHTS", type=text,
                       help="weights for --predict (default: the newest finished run's)")
    parser.error = usage_error  # one line, like every other error of this program
    return parser


def options_given(argv):
    """The options written out in argv, by destination (an option left at its default is not
    among them)."""
    parser = build_parser()
    for action in parser._actions:  # parse again with no defaults: only what argv spells out
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


# Options that only training uses.
TRAINING_OPTIONS = ("hidden", "activation", "optimizer", "lr", "schedule", "momentum",
                    "weight_decay", "batch_size", "epochs", "seed", "val_size", "patience",
                    "dropout", "augment", "preset", "out", "quiet")


def unused_options(mode, given):
    """The options in given that a mode ("evaluate", "predict", or None for training) would
    ignore."""
    if mode is None:
        return given & {"weights"}
    ignored = set(TRAINING_OPTIONS) | ({"weights"} if mode == "evaluate" else set())
    if mode == "predict" and "download" not in given:
        ignored.add("data_dir")  # predicting reads no data, unless --download is to fetch it first
    return given & ignored


def refuse_conflicting_options(given):
    """Refuse modes that exclude each other, and options that the chosen mode would ignore."""
    if {"evaluate", "predict"} <= given:
        usage_error("--evaluate and --predict exclude each other; run one, then the other")
    mode = "evaluate" if "evaluate" in given else "predict" if "predict" in given else None
    unused = unused_options(mode, given)
    if unused:
        names = ", ".join(f"--{name.replace('_', '-')}" for name in sorted(unused))
        usage_error(f"{'--' + mode if mode else 'training'} does not use {names}; drop it"
                    + ("" if mode else " (--weights goes with --predict IMAGE)"))


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.preset is not None:  # parse again, with the preset's settings as the defaults
        if args.preset not in PRESETS:
            usage_error(f"--preset must be one of {', '.join(PRESETS)}, got {args.preset!r}")
        parser.set_defaults(**PRESETS[args.preset])
        args = parser.parse_args(argv)
    given = options_given(argv)
    refuse_conflicting_options(given)
    if "momentum" in given and args.optimizer != "momentum":
        usage_error(f"--optimizer {args.optimizer} does not use --momentum; drop it, or choose "
                    "--optimizer momentum")
    return args


def run_command(args, signals):
    """Download if asked, then train (the default), --evaluate or --predict. Returns the exit
    status."""
    if args.download:
        download_mnist(args.data_dir, log=tell)
    if args.evaluate is not None:
        return evaluate_command(args, signals)
    if args.predict:
        return predict_command(args, signals)
    return train_command(args, signals)


def what_is_kept(folder):
    """Which of a run's files its folder holds, whole, for the message of an interrupt."""
    if folder is None:
        return "every file written is complete"
    kept = [name for name in RUN_FILES if (folder / name).is_file()]
    return (f"{folder} holds {', '.join(kept)}, each complete" if kept
            else f"nothing was saved in {folder}")


def main(argv=None):
    """The command line. Returns the exit status: 0 done, 1 a run that failed, 2 bad input,
    130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (a closed terminal); every failure is told in one line,
    and output that cannot be written (a closed pipe, a full disk) never stops the work."""
    try:
        args = parse_args(argv)
    except BrokenPipeError:  # --help | head -1
        silence(sys.stdout)
        return 0
    signals = StopSignals()
    previous = signals.install()
    try:
        with np.errstate(all="ignore"):  # a run that blows up is told in one line, not warnings
            return run_command(args, signals)
    except (TrainingDiverged, TrainingInterrupted) as error:  # its work saved
        signals.reporting = True
        waited = " A second signal waited for the save." if len(signals.noted) > 1 else ""
        tell(f"mnist_ann: {error}{waited}", sys.stderr)
        return getattr(error, "exit_status", 1)
    except KeyboardInterrupt as interrupt:
        signals.reporting = True
        tell(f"mnist_ann: interrupted; {what_is_kept(signals.folder)}, and no partial file was "
             "left.", sys.stderr)
        return exit_status_of(interrupt)
    except MemoryError:  # what the checks before allocation did not foresee
        signals.reporting = True
        tell(f"mnist_ann: error: ran out of memory; {what_is_kept(signals.folder)}. Free some "
             "memory, raise the limit (ulimit -v or -d), or choose smaller --hidden sizes or "
             "--val-size.", sys.stderr)
        return 2
    except MnistAnnError as error:
        signals.reporting = True
        tell(f"mnist_ann: error: {error}", sys.stderr)
        return 2
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    sys.exit(main())
