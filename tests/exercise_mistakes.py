"""About two hundred wrong answers to the exercises, written the way students write them: a corpus for the checks.

Each entry of MISTAKES is (exercise, what is wrong, the student's function). None of these functions
is right, so every check must fail them; tests/test_exercises.py counts how many get through. They
were written from a list of how students go wrong (the statement misread, an axis, a sign, a shape,
the state, the bookkeeping of a loop), not from the checks' code. Each defines what it needs, as a
student's notebook would; the training loops use the two module functions the exercise hands out.
The dropout mistakes (exercise 5: a mask's scale, where it is drawn, where it is used again) were
written together with that exercise's checks, by the same hand.
A few (the optimizers that pair by position or change grads, momentum with lr inside the velocity, the
loops that ignore their rng, and others marked so in MISTAKES' order) come from an independent tester's
set that got through or was misnamed: they were added with the checks' fixes, so they are not a fresh test.
The same holds for the block marked "issue 21, second zoo" (borrowing through a staticmethod, functools.partial,
a default argument, yield from or a copy made by exec; counts in uint8 or floats; caches and reused buffers; ...):
one per class a second tester's zoo let through or misnamed, written after reading that zoo's answers.
"""

import functools
import inspect

import numpy as np

import mnist_ann


# ---- Exercise 1.1: softmax -----------------------------------------------------------------------------

def softmax_no_shift(logits):
    exps = np.exp(logits)
    return exps / np.sum(exps, axis=1, keepdims=True)


def softmax_columns_after_shift(logits):
    exps = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    return exps / np.sum(exps, axis=0, keepdims=True)


def softmax_columns(logits):
    return np.exp(logits) / np.exp(logits).sum(axis=0)


def softmax_whole_batch_after_shift(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum()


def softmax_shift_by_column_max(logits):
    exps = np.exp(logits - logits.max(axis=0, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_sum_without_keepdims(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1)


def softmax_max_without_keepdims(logits):
    exps = np.exp(logits - logits.max(axis=1))
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_in_place(logits):
    logits -= logits.max(axis=1, keepdims=True)
    exps = np.exp(logits)
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_no_division(logits):
    return np.exp(logits - logits.max(axis=1, keepdims=True))


def softmax_divides_by_max(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.max(axis=1, keepdims=True)


def softmax_adds_the_max(logits):
    exps = np.exp(logits + logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_transposed(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exps / exps.sum(axis=1, keepdims=True)).T


def softmax_loop_whole_sum(logits):
    P = np.zeros_like(logits)
    for i in range(len(logits)):
        P[i] = np.exp(logits[i] - logits[i].max()) / np.sum(np.exp(logits - logits.max()))
    return P


def softmax_returns_log(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# ---- Exercise 1.2: cross-entropy -------------------------------------------------------------------------

def log_softmax(logits):  # the student's own, right
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def own_softmax(logits):  # the student's own, right
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def ce_summed(logits, y):
    return -log_softmax(logits)[np.arange(len(y)), y].sum()


def ce_per_example(logits, y):
    return -log_softmax(logits)[np.arange(len(y)), y]


def ce_wrong_sign(logits, y):
    return np.mean(log_softmax(logits)[np.arange(len(y)), y])


def ce_mean_over_all_entries(logits, y):
    Y = np.zeros_like(logits)
    Y[np.arange(len(y)), y] = 1
    return -np.mean(Y * log_softmax(logits))


def ce_block(logits, y):
    return -log_softmax(logits)[:, y].mean()


def ce_no_log(logits, y):
    return -own_softmax(logits)[np.arange(len(y)), y].mean()


def ce_log_of_softmax(logits, y):
    return -np.log(own_softmax(logits)[np.arange(len(y)), y]).mean()


def ce_log_sum_exp_without_shift(logits, y):
    log_P = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def ce_log_of_unshifted_softmax(logits, y):
    exps = np.exp(logits)
    return -np.log(exps / exps.sum(axis=1, keepdims=True))[np.arange(len(y)), y].mean()


def ce_forgets_the_log_sum(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return -shifted[np.arange(len(y)), y].mean()


def ce_sum_down_columns(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def ce_first_term_unshifted(logits, y):
    m = logits.max(axis=1, keepdims=True)
    log_P = logits - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def ce_log10(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return -(shifted - np.log10(np.exp(shifted).sum(axis=1, keepdims=True)))[np.arange(len(y)), y].mean()


def ce_epsilon_in_log(logits, y):
    return -np.log(own_softmax(logits)[np.arange(len(y)), y] + 1e-12).mean()


def ce_clipped(logits, y):
    return -np.log(np.clip(own_softmax(logits), 1e-15, 1.0)[np.arange(len(y)), y]).mean()


# ---- Exercise 1.3: the gradient of cross-entropy -----------------------------------------------------

def one_hot_like(logits, y):
    Y = np.zeros_like(logits)
    Y[np.arange(len(y)), y] = 1
    return Y


def ceg_no_mean(logits, y):
    return own_softmax(logits) - one_hot_like(logits, y)


def ceg_mean_twice(logits, y):
    return (own_softmax(logits) - one_hot_like(logits, y)) / len(y) / len(y)


def ceg_y_minus_p(logits, y):
    return (one_hot_like(logits, y) - own_softmax(logits)) / len(y)


def ceg_no_labels(logits, y):
    return own_softmax(logits) / len(y)


def ceg_divides_by_classes(logits, y):
    return (own_softmax(logits) - one_hot_like(logits, y)) / logits.shape[1]


def ceg_whole_columns(logits, y):
    P = own_softmax(logits)
    P[:, y] -= 1
    return P / len(y)


def ceg_no_shift(logits, y):
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def ceg_transposed(logits, y):
    return ((own_softmax(logits) - one_hot_like(logits, y)) / len(y)).T


def ceg_only_labels_divided(logits, y):
    return own_softmax(logits) - one_hot_like(logits, y) / len(y)


def ceg_changes_logits(logits, y):
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def ceg_ten_classes(logits, y):
    return (own_softmax(logits) - np.eye(10)[y]) / len(y)


def ceg_divides_by_size(logits, y):
    return (own_softmax(logits) - one_hot_like(logits, y)) / logits.size


# ---- Exercise 2.1 and 2.2: one layer back ----------------------------------------------------------

def lb_dW_transposed(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)


def lb_missing_T(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


def lb_db_axis1(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.sum(dZ, axis=1)


def lb_db_everything(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, np.sum(dZ)


def lb_db_keepdims(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0, keepdims=True)


def lb_divides_by_B(dZ, X, W):
    B = X.shape[0]
    return dZ @ W.T, X.T @ dZ / B, dZ.sum(axis=0) / B


def lb_db_mean(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)


def lb_swapped(dZ, X, W):
    dX, dW = dZ @ W.T, X.T @ dZ
    return dW, dX, dZ.sum(axis=0)


def lb_two_values(dZ, X, W):
    return dZ @ W.T, X.T @ dZ


def lb_dX_transposed(dZ, X, W):
    return W @ dZ.T, X.T @ dZ, dZ.sum(axis=0)


def lb_dW_wrong_order(dZ, X, W):
    return dZ @ W.T, X @ dZ, dZ.sum(axis=0)


def lb_db_first_row(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ[0]


def rb_mask_only(dA, Z):
    return (Z > 0).astype(dA.dtype)


def rb_at_zero(dA, Z):
    return dA * (Z >= 0)


def rb_mask_from_dA(dA, Z):
    return dA * (dA > 0)


def rb_times_Z(dA, Z):
    return dA * Z


def rb_in_place(dA, Z):
    dA[Z <= 0] = 0
    return dA


def rb_relu_of_dA(dA, Z):
    return np.maximum(dA, 0)


def rb_unchanged(dA, Z):
    return dA.copy()


def rb_inverted(dA, Z):
    return np.where(Z < 0, dA, 0.0)


# ---- Exercise 2.3: the whole backward pass ----------------------------------------------------------

def linear_backward(dZ, X, W):  # the student's own, right
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def relu_backward(dA, Z):  # the student's own, right
    return dA * (Z > 0)


def bw_stops_at_layer_2(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 1, -1):
        A, _ = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
        dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_bias_wrong_axis(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        dA, grads[f"W{layer}"], _ = linear_backward(dZ, A, params[f"W{layer}"])
        grads[f"b{layer}"] = dZ.sum(axis=1)
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_dW_transposed(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"] = dZ.T @ A, dZ.sum(axis=0)
        if layer > 1:
            dZ = relu_backward(dZ @ params[f"W{layer}"].T, cache[layer - 2][1])
    return grads


def bw_divides_by_B(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        dA, dW, db = linear_backward(dZ, A, params[f"W{layer}"])
        grads[f"W{layer}"], grads[f"b{layer}"] = dW / len(dZ), db / len(dZ)
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_no_relu(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        dZ, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
    return grads


def bw_keyed_dW(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        dA, grads[f"dW{layer}"], grads[f"db{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_own_Z_in_relu(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, Z = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
        if layer > 1:
            dZ = relu_backward(dA, Z)
    return grads


def bw_output_as_input(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A = cache[layer][0] if layer < len(cache) else cache[layer - 1][0]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_wrong_layer_weights(params, cache, dlogits):
    grads, dZ = {}, dlogits
    L = len(params) // 2
    for layer in range(L, 0, -1):
        A, _ = cache[layer - 1]
        W = params[f"W{layer}"] if layer == L else params[f"W{layer + 1}"]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, W)
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_off_by_one(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2 - 1, -1, -1):
        A, _ = cache[layer]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer + 1}"])
        if layer > 0:
            dZ = relu_backward(dA, cache[layer - 1][1])
    return grads


def bw_returns_list(params, cache, dlogits):
    grads, dZ = [], dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        dA, dW, db = linear_backward(dZ, A, params[f"W{layer}"])
        grads += [dW, db]
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_unpacks_in_the_wrong_order(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, _ = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"], dA = linear_backward(dZ, A, params[f"W{layer}"])  # it gives dX first
        if layer > 1:
            dZ = relu_backward(dA, cache[layer - 2][1])
    return grads


def bw_changes_dlogits(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A, Z = cache[layer - 1]
        dA, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dZ, A, params[f"W{layer}"])
        if layer > 1:
            dZ = dA
            dZ[cache[layer - 2][1] <= 0] = 0
    dlogits *= 1.0 / 1.0
    dlogits[0] = 0.0  # "clean up" that changes the caller's array
    return grads


# ---- Exercise 3: optimizers -----------------------------------------------------------------------------

def sgd_uphill(params, grads, state, lr):
    for name in params:
        params[name] += lr * grads[name]
    return state


def sgd_no_lr(params, grads, state, lr):
    for name in params:
        params[name] -= grads[name]
    return state


def sgd_returns_nothing(params, grads, state, lr):
    for name in params:
        params[name] -= lr * grads[name]


def sgd_new_arrays(params, grads, state, lr):
    for name in params:
        params[name] = params[name] - lr * grads[name]
    return state


def sgd_new_dict(params, grads, state, lr):
    params = {name: params[name] - lr * grads[name] for name in params}
    return state


def sgd_lr_twice(params, grads, state, lr):
    for name, grad in grads.items():
        step = lr * grad
        params[name] -= lr * step
    return state


def sgd_weights_only(params, grads, state, lr):
    for name, grad in grads.items():
        if name.startswith("W"):
            params[name] -= lr * grad
    return state


def sgd_returns_params(params, grads, state, lr):
    for name, grad in grads.items():
        params[name] -= lr * grad
    return params


def sgd_pairs_by_position(params, grads, state, lr):
    for p, g in zip(params.values(), grads.values()):
        p -= lr * g
    return state


def sgd_scales_the_gradients(params, grads, state, lr):
    for name in params:
        grads[name] *= lr
        params[name] -= grads[name]
    return state


def sgd_zeroes_the_gradients(params, grads, state, lr):
    for name in params:
        params[name] -= lr * grads[name]
        grads[name][...] = 0  # zero_grad, as in PyTorch
    return state


def sgd_returns_a_new_state(params, grads, state, lr):
    for name in params:
        params[name] -= lr * grads[name]
    return {}


def sgd_local_name(params, grads, state, lr):
    for name in params:
        p = params[name]
        p = p - lr * grads[name]
    return state


def momentum_wrong_sign(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] - g
        params[name] -= lr * state[name]
    return state


def momentum_averaging(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + (1 - beta) * g
        params[name] -= lr * state[name]
    return state


def momentum_fresh_state(params, grads, state, lr, beta=0.9):
    state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= lr * state[name]
    return state


def momentum_minus_old(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = g - beta * state[name]
        params[name] -= lr * state[name]
    return state


def momentum_fixed_beta(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = 0.9 * state[name] + g
        params[name] -= lr * state[name]
    return state


def momentum_no_lr(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= state[name]
    return state


def momentum_lr_twice(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + lr * g
        params[name] -= lr * state[name]
    return state


def momentum_step_then_update(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        params[name] -= lr * state[name]
        state[name] = beta * state[name] + g
    return state


def momentum_nesterov(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= lr * (beta * state[name] + g)
    return state


def momentum_returns_nothing(params, grads, state, lr, beta=0.9):
    if not state:
        state.update({name: np.zeros_like(g) for name, g in grads.items()})
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= lr * state[name]


def momentum_new_arrays(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] = params[name] - lr * state[name]
    return state


def momentum_pairs_by_position(params, grads, state, lr, beta=0.9):
    for (name, p), g in zip(params.items(), grads.values()):
        if name not in state:
            state[name] = np.zeros_like(p)
        state[name] *= beta
        state[name] += g
        p -= lr * state[name]
    return state


def momentum_velocity_is_the_gradient(params, grads, state, lr, beta=0.9):
    for name in params:
        if name not in state:
            state[name] = grads[name]  # the caller's array itself, updated in place below at the next call
        else:
            state[name] *= beta
            state[name] += grads[name]
        params[name] -= lr * state[name]
    return state


def momentum_lr_in_velocity(params, grads, state, lr, beta=0.9):
    """v = beta * v + lr * g, params -= v: the same steps as long as lr stays the same."""
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + lr * g
        params[name] -= state[name]
    return state


def momentum_beta_on_both(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: np.zeros_like(g) for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * (state[name] + g)
        params[name] -= lr * state[name]
    return state


def momentum_starts_at_g(params, grads, state, lr, beta=0.9):
    if not state:
        state = {name: g.copy() for name, g in grads.items()}
    for name, g in grads.items():
        state[name] = beta * state[name] + g
        params[name] -= lr * state[name]
    return state


def momentum_keyed_by_id(params, grads, state, lr, beta=0.9):
    for name in params:
        key = id(grads[name])  # a new array at every call, and an id Python may give to another one later
        state[key] = beta * state.get(key, np.zeros_like(params[name])) + grads[name]
        params[name] -= lr * state[key]
    return state


def adam(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, mistake=None):
    """The student's Adam, with one mistake named by mistake."""
    if not state or mistake == "fresh state":
        state = {"t": 1 if mistake == "t starts at 1" else 0, "m": {n: np.zeros_like(g) for n, g in grads.items()},
                 "v": {n: np.zeros_like(g) for n, g in grads.items()}}
    if mistake == "fixed betas":
        beta1, beta2 = 0.9, 0.999
    if mistake not in ("t incremented after use", "t per parameter"):
        state["t"] = 1 if mistake == "t frozen" else state["t"] + 1
    for name, g in grads.items():
        if mistake == "t per parameter":
            state["t"] += 1
        t = state["t"]
        state["m"][name] = beta1 * state["m"][name] + (1 - beta1) * g
        g_squared = g ** 2
        if mistake == "squares g in place":
            g_squared = g
            g_squared **= 2  # also squares the caller's gradient
        g_squared = {"v of g": g, "v of |g|": np.abs(g)}.get(mistake, g_squared)
        state["v"][name] = beta2 * state["v"][name] + (1 - beta2) * g_squared
        m_hat = state["m"][name] / (1 if mistake in ("no bias correction", "only v corrected") else 1 - beta1 ** t)
        v_hat = state["v"][name] / (1 if mistake in ("no bias correction", "only m corrected") else 1 - beta2 ** t)
        if mistake == "powers misplaced":
            m_hat, v_hat = state["m"][name] / (1 - beta1) ** t, state["v"][name] / (1 - beta2) ** t
        denominator = {"no eps": np.sqrt(v_hat), "eps inside the root": np.sqrt(v_hat + eps),
                       "eps fixed": np.sqrt(v_hat) + 1e-8, "no root": v_hat + eps}.get(mistake, np.sqrt(v_hat) + eps)
        params[name] += (1 if mistake == "uphill" else -1) * lr * m_hat / denominator
    if mistake in ("t incremented after use", "t incremented twice"):
        state["t"] += 1
    return state


def adam_with(mistake):
    def adam_step(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        return adam(params, grads, state, lr, beta1, beta2, eps, mistake=mistake)
    return adam_step


def adam_without_eps_argument(params, grads, state, lr, beta1=0.9, beta2=0.999):
    return adam(params, grads, state, lr, beta1, beta2)


# ---- Exercise 4: the training loop ----------------------------------------------------------------------

def loop_step_once_per_epoch(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            total += loss * len(y_batch)
        state = step(params, grads, state, lr)
        losses.append(total / len(y))
    return losses


def loop_state_dropped(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_summed(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss
        losses.append(total)
    return losses


def loop_total_not_reset(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses, total = {}, [], 0.0
    for epoch in range(epochs):
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_first_batch(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            X_batch, y_batch = X[:batch_size], y[:batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_on_a_copy(params, X, y, step, lr, epochs, batch_size, rng):
    params = {name: value.copy() for name, value in params.items()}
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_returns_nothing(params, X, y, step, lr, epochs, batch_size, rng):
    state = {}
    for epoch in range(epochs):
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)


def loop_drops_last_batch(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        order, total = rng.permutation(len(X)), 0.0
        for k in range(len(X) // batch_size):
            batch = order[k * batch_size:(k + 1) * batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += loss * len(batch)
        losses.append(total / len(y))
    return losses


def loop_mean_of_batch_means(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        batch_losses = []
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            batch_losses.append(loss)
        losses.append(np.mean(batch_losses))
    return losses


def loop_unweighted_over_N(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss
        losses.append(total / len(X))
    return losses


def loop_not_shuffled(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_shuffled_once(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses, order = {}, [], rng.permutation(len(X))
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += loss * len(batch)
        losses.append(total / len(y))
    return losses


def loop_two_permutations(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        X_shuffled, y_shuffled, total = X[rng.permutation(len(X))], y[rng.permutation(len(y))], 0.0
        for start in range(0, len(X), batch_size):
            X_batch, y_batch = X_shuffled[start:start + batch_size], y_shuffled[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_full_batch(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X, y)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_fixed_lr(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, 0.01)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_last_loss(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
        losses.append(float(loss))
    return losses


def loop_state_reset_each_epoch(params, X, y, step, lr, epochs, batch_size, rng):
    losses = []
    for epoch in range(epochs):
        state, total = {}, 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_with_replacement(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = rng.integers(0, len(X), size=min(batch_size, len(X) - start))
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += loss * len(batch)
        losses.append(total / len(y))
    return losses


def loop_shuffles_in_place(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        rng.shuffle(X)
        rng.shuffle(y)
        total = 0.0
        for start in range(0, len(X), batch_size):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[start:start + batch_size], y[start:start + batch_size])
            state = step(params, grads, state, lr)
            total += loss * len(y[start:start + batch_size])
        losses.append(total / len(y))
    return losses


def loop_divides_by_batches_times_size(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total, batches = 0.0, 0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total, batches = total + loss * len(y_batch), batches + 1
        losses.append(total / (batches * batch_size))
    return losses


def loop_weighted_by_batch_size(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * batch_size
        losses.append(total / len(X))
    return losses


def loop_evaluates_at_the_end(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
        logits, _ = mnist_ann.forward(params, X)
        losses.append(mnist_ann.cross_entropy(logits, y))  # the loss after the epoch, not during it
    return losses


def loop_loss_twice(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            _, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            loss, _, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)  # the loss after the step
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_own_rng(params, X, y, step, lr, epochs, batch_size, rng):
    rng = np.random.default_rng(0)  # "to make it reproducible"
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_unseeded_rng(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        total = 0.0
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, np.random.default_rng()):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            total += loss * len(y_batch)
        losses.append(total / len(y))
    return losses


def loop_global_shuffle(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        order, total = np.random.permutation(len(X)), 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += loss * len(batch)
        losses.append(total / len(y))
    return losses


def loop_records_the_full_loss(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
            _, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
        loss, _, _ = mnist_ann.loss_and_grads(params, X, y)  # the loss on all the data, after the epoch
        losses.append(loss)
    return losses


def loop_one_epoch(params, X, y, step, lr, epochs, batch_size, rng):
    state, total = {}, 0.0
    for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
        loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
        state = step(params, grads, state, lr)
        total += loss * len(y_batch)
    return [total / len(y)] * epochs


# ---- Exercise 5: dropout ---------------------------------------------------------------------------------

def dropout_unscaled(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = rng.random(A.shape) >= rate
    return A * mask, mask


def dropout_unscaled_float_mask(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = (rng.random(A.shape) > rate).astype(A.dtype)
    return A * mask, mask


def dropout_scaled_twice(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask / (1 - rate), mask  # the mask is scaled already


def dropout_scaled_at_evaluation(A, rate, rng, training=True):
    if not training:
        return A / (1 - rate), None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_left_on_at_evaluation(A, rate, rng, training=True):
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_original_evaluation(A, rate, rng, training=True):
    if not training:
        return A * (1 - rate), None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_rate_as_keep_probability(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) < rate) / rate).astype(A.dtype)
    return A * mask, mask


def dropout_keeps_below_rate(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) < rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_divides_by_rate(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / rate).astype(A.dtype)
    return A * mask, mask


def dropout_per_unit(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape[1]) >= rate) / (1 - rate)).astype(A.dtype)  # one per hidden unit
    return A * mask, mask


def dropout_per_example(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random((A.shape[0], 1)) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_one_draw(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = np.full(A.shape, float(rng.random() >= rate) / (1 - rate), dtype=A.dtype)
    return A * mask, mask


def dropout_float64_mask(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = (rng.random(A.shape) >= rate) / (1 - rate)
    return A * mask, mask


def dropout_float64_mask_only(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = (rng.random(A.shape) >= rate) / (1 - rate)
    return (A * mask).astype(A.dtype), mask


def dropout_percent_integers(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.integers(0, 100, A.shape) >= rate * 100) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_correlated(A, rate, rng, training=True):
    if not training:
        return A, None
    keep = rng.random(A.shape[0])[:, None] * rng.random(A.shape[1])[None, :] >= rate ** 2
    mask = (keep / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_half_batch_repeated(A, rate, rng, training=True):
    if not training:
        return A, None
    half = (A.shape[0] + 1) // 2
    keep = np.concatenate([rng.random((half, A.shape[1])) >= rate] * 2)[:A.shape[0]]
    mask = (keep / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_mask_from_output(A, rate, rng, training=True):
    if not training:
        return A, None
    A_out = (A * (rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A_out, ((A_out != 0) / (1 - rate)).astype(A.dtype)


def dropout_in_place(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    A *= mask
    return A, mask


def dropout_returns_a_new_draw(A, rate, rng, training=True):
    if not training:
        return A, None
    A_out = A * ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)  # for the backward pass
    return A_out, mask


def dropout_returns_the_keep_pattern(A, rate, rng, training=True):
    if not training:
        return A, None
    keep = rng.random(A.shape) >= rate
    return A * keep / (1 - rate), keep


def dropout_no_threshold(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = (rng.random(A.shape) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_own_rng(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((np.random.default_rng(42).random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_global_random(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((np.random.rand(*A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_flag_backwards(A, rate, rng, training=True):
    if training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def dropout_returns_A_out_only(A, rate, rng, training=True):
    if not training:
        return A
    return A * ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)


def dropout_mask_at_evaluation(A, rate, rng, training=True):
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    if not training:
        return A, mask  # drawn, but not applied
    return A * mask, mask


def dropout_fixed_rate(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= 0.5) / 0.5).astype(A.dtype)
    return A * mask, mask


def dropout_backward_keep_pattern(dA_out, mask):
    return dA_out * (mask > 0)


def dropout_backward_scaled_again(dA_out, mask, rate=0.5):
    return dA_out * mask / (1 - rate)


def dropout_backward_squared(dA_out, mask):
    return dA_out * mask * mask


def dropout_backward_new_mask(dA_out, mask):
    keep = np.random.default_rng(1).random(dA_out.shape) >= 0.5  # a mask of its own
    return dA_out * keep / 0.5


def dropout_backward_divides(dA_out, mask):
    return dA_out / mask


def dropout_backward_unchanged(dA_out, mask):
    return dA_out


def dropout_backward_mask_only(dA_out, mask):
    return mask


def dropout_backward_in_place(dA_out, mask):
    dA_out *= mask
    return dA_out


def dropout_backward_float32(dA_out, mask):
    return (dA_out * mask).astype(np.float32)


def dropout_backward_inverted(dA_out, mask):
    return dA_out * (mask == 0)


def hidden_layer(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    return Z1, np.maximum(Z1, 0)


def inverted_mask(shape, rate, rng):
    return (rng.random(shape) >= rate) / (1 - rate)


def output_layer_backward(params, A1_dropped, dlogits, grads):
    grads["W2"], grads["b2"] = A1_dropped.T @ dlogits, dlogits.sum(axis=0)
    return dlogits @ params["W2"].T


def first_layer_backward(X, dZ1, grads):
    grads["W1"], grads["b1"] = X.T @ dZ1, dZ1.sum(axis=0)
    return grads


def net_dW2_before_dropout(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    mask = inverted_mask(A1.shape, rate, rng)
    logits = (A1 * mask) @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1, dlogits, grads)  # A1, not the dropped A1
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def own_dropout_forward(A, rate, rng, training=True):  # the student's own, right
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return A * mask, mask


def net_mask_redrawn(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    A1_dropped, _ = own_dropout_forward(A1, rate, rng)
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    _, mask = own_dropout_forward(A1, rate, rng)  # the mask, for the way back
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def net_forward_mask_redrawn_for_backward(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    mask = inverted_mask(A1.shape, rate, rng)
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    mask = inverted_mask(A1.shape, rate, rng)  # a new mask for the way back
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def net_no_dropout_backward(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    A1_dropped = A1 * inverted_mask(A1.shape, rate, rng)
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * (Z1 > 0), grads), logits


def net_keep_pattern_backward(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    keep = rng.random(A1.shape) >= rate
    A1_dropped = A1 * keep / (1 - rate)
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * keep * (Z1 > 0), grads), logits


def net_scaled_twice_backward(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    mask = inverted_mask(A1.shape, rate, rng)
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    dA1 = dA1_dropped * mask / (1 - rate)
    return loss, first_layer_backward(X, dA1 * (Z1 > 0), grads), logits


def net_dropout_on_logits(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    Z2 = A1 @ params["W2"] + params["b2"]
    mask = inverted_mask(Z2.shape, rate, rng)
    logits = Z2 * mask
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1 = output_layer_backward(params, A1, dlogits * mask, grads)
    return loss, first_layer_backward(X, dA1 * (Z1 > 0), grads), logits


def net_dropout_on_inputs(params, X, y, rate, rng):
    mask = inverted_mask(X.shape, rate, rng)
    X_dropped = X * mask
    Z1, A1 = hidden_layer(params, X_dropped)
    logits = A1 @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1 = output_layer_backward(params, A1, dlogits, grads)
    return loss, first_layer_backward(X_dropped, dA1 * (Z1 > 0), grads), logits


def net_unscaled(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    mask = rng.random(A1.shape) >= rate
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def net_own_rng(params, X, y, rate, rng):
    return net_right_but_for(params, X, y, rate, np.random.default_rng(0))


def net_right_but_for(params, X, y, rate, rng):  # right, given the rng it is handed
    Z1, A1 = hidden_layer(params, X)
    mask = inverted_mask(A1.shape, rate, rng)
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def net_fixed_rate(params, X, y, rate, rng):
    return net_right_but_for(params, X, y, 0.5, rng)


def net_no_dropout(params, X, y, rate, rng):
    return mnist_ann.loss_and_grads(params, X, y)


def net_loss_without_dropout(params, X, y, rate, rng):
    Z1, A1 = hidden_layer(params, X)
    mask = inverted_mask(A1.shape, rate, rng)
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss = mnist_ann.cross_entropy(A1 @ params["W2"] + params["b2"], y)  # the loss of the whole network
    dlogits = mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * mask * (Z1 > 0), grads), logits


def net_no_relu_backward(params, X, y, rate, rng):
    Z1 = X @ params["W1"] + params["b1"]
    mask = inverted_mask(Z1.shape, rate, rng)
    A1_dropped = np.maximum(Z1 * mask, 0)
    logits = A1_dropped @ params["W2"] + params["b2"]
    loss, dlogits = mnist_ann.cross_entropy(logits, y), mnist_ann.cross_entropy_grad(logits, y)
    grads = {}
    dA1_dropped = output_layer_backward(params, A1_dropped, dlogits, grads)
    return loss, first_layer_backward(X, dA1_dropped * mask, grads), logits


# ---- Added with the third round of the checks, from a second independent tester's set (not a fresh test) ----

def softmax_shift_by_largest_size(logits):
    exps = np.exp(logits - np.abs(logits).max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_clipped(logits):
    exps = np.exp(np.clip(logits, -500, 500))
    return exps / exps.sum(axis=1, keepdims=True)


def ce_clipped_logits(logits, y):
    clipped = np.clip(logits, -500, 500)
    log_P = clipped - np.log(np.exp(clipped).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def ce_grad_shift_by_largest_size(logits, y):
    exps = np.exp(logits - np.abs(logits).max(axis=1, keepdims=True))
    dlogits = exps / exps.sum(axis=1, keepdims=True)
    dlogits[np.arange(len(y)), y] -= 1
    return dlogits / len(y)


def relu_backward_with_tolerance(dA, Z):
    return dA * (Z > 1e-6)


def backward_into_params(params, cache, dlogits):
    grads, dZ = params, dlogits  # grads is params itself: the weights are overwritten
    for layer in range(len(params) // 2, 0, -1):
        A_in, _ = cache[layer - 1]
        dA_in = dZ @ params[f"W{layer}"].T
        grads[f"W{layer}"], grads[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = dA_in * (cache[layer - 2][1] > 0)
    return grads


def backward_masks_the_cache(params, cache, dlogits):
    grads, dZ = {}, dlogits
    for layer in range(len(params) // 2, 0, -1):
        A_in, _ = cache[layer - 1]
        grads[f"W{layer}"], grads[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            Z = cache[layer - 2][1]
            Z[Z <= 0] = 0  # writes into the cache
            Z[Z > 0] = 1
            dZ = (dZ @ params[f"W{layer}"].T) * Z
    return grads


SHARED_GRADS = {}


def backward_one_shared_dict(params, cache, dlogits):
    dZ = dlogits
    for layer in range(len(params) // 2, 0, -1):
        A_in, _ = cache[layer - 1]
        SHARED_GRADS[f"W{layer}"], SHARED_GRADS[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = (dZ @ params[f"W{layer}"].T) * (cache[layer - 2][1] > 0)
    return SHARED_GRADS


# ---- Issue 21: a class for each answer a fresh tester's zoo let through or that got a misleading diagnosis.
# Written from the issue's list of classes, with the checks' new tests beside them (so not a fresh test).

def softmax_batch_max_shift(logits):
    exps = np.exp(logits - np.max(logits))  # the batch's maximum, not each row's
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_first_row_shift(logits):
    exps = np.exp(logits - logits[0].max())
    return exps / exps.sum(axis=1, keepdims=True)


def ce_batch_max_shift(logits, y):
    shifted = logits - logits.max()
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_P[np.arange(len(y)), y].mean()


def ce_grad_batch_max_shift(logits, y):
    exps = np.exp(logits - logits.max())
    P = exps / exps.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)


def softmax_squeezed(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (exps / exps.sum(axis=1, keepdims=True)).squeeze()


def softmax_keepdim_typo(logits):
    exps = np.exp(logits - logits.max(axis=1, keepdim=True))
    return exps / exps.sum(axis=1, keepdims=True)


def ce_skips_first_example(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_P[np.arange(1, len(y)), y[1:]].sum() / len(y)


def ce_skips_first_example_mean(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    total = 0.0
    for i in range(1, len(y)):
        total += log_P[i, y[i]]
    return -total / (len(y) - 1)


_SAVED = {}  # arrays kept between calls, by shape: a student's idea of saving memory


def _buffer(name, shape, dtype=np.float64):
    key = (name, tuple(shape), np.dtype(dtype))
    if key not in _SAVED:
        _SAVED[key] = np.empty(shape, dtype=dtype)
    return _SAVED[key]


def ce_grad_reused_buffer(logits, y):
    out = _buffer("dlogits", logits.shape)
    np.exp(logits - logits.max(axis=1, keepdims=True), out=out)
    out /= out.sum(axis=1, keepdims=True)
    out[np.arange(len(y)), y] -= 1
    out /= len(y)
    return out


def ce_grad_fixed_batch_size(logits, y):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    P = exps / exps.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / 32  # the batch size of notebook 05


def lb_reused_buffers(dZ, X, W):
    dX, dW, db = _buffer("dX", X.shape), _buffer("dW", W.shape), _buffer("db", W.shape[1:])
    np.matmul(dZ, W.T, out=dX)
    np.matmul(X.T, dZ, out=dW)
    np.sum(dZ, axis=0, out=db)
    return dX, dW, db


def relu_backward_reused_buffer(dA, Z):
    out = _buffer("dZ", dA.shape)
    np.multiply(dA, Z > 0, out=out)
    return out


def relu_backward_negated(dA, Z):
    return -dA * (Z > 0)


def relu_backward_sigmoid(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def relu_backward_tanh(dA, Z):
    return dA * (1 - np.tanh(Z) ** 2)


def _walk(params, cache, dlogits, layers, entry, key, mask):
    """A backward pass over the given layer numbers, reading cache[entry(l)] and params[key(l)]."""
    grads, dZ = {}, dlogits
    for position, layer in enumerate(layers):
        A_prev = cache[entry(layer)][0]
        grads[key(layer, "W")] = A_prev.T @ dZ
        grads[key(layer, "b")] = dZ.sum(axis=0)
        if position + 1 < len(layers):
            dA = dZ @ params[key(layer, "W")].T
            dZ = dA * mask(cache[entry(layers[position + 1])][1])
    return grads


def backward_fixed_depth(params, cache, dlogits):
    L = 2  # the depth of the network in the notebook
    return _walk(params, cache, dlogits, range(L, 0, -1), lambda l: l - 1, lambda l, p: f"{p}{l}", lambda Z: Z > 0)


def backward_walks_forward(params, cache, dlogits):
    L = len(params) // 2
    return _walk(params, cache, dlogits, range(1, L + 1), lambda l: l - 1, lambda l, p: f"{p}{l}", lambda Z: Z > 0)


def backward_zero_based(params, cache, dlogits):
    L = len(params) // 2
    return _walk(params, cache, dlogits, range(L - 1, -1, -1), lambda l: l, lambda l, p: f"{p}{l}",
                 lambda Z: Z > 0)


def backward_relu_slope_one_at_zero(params, cache, dlogits):
    L = len(params) // 2
    return _walk(params, cache, dlogits, range(L, 0, -1), lambda l: l - 1, lambda l, p: f"{p}{l}",
                 lambda Z: Z >= 0)


def sgd_updates_grads(params, grads, state, lr):
    for name in params:
        grads[name] = params[name] - lr * grads[name]
    return state


def adam_folded_eps_not_scaled(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state.update(t=0, m={n: np.zeros_like(g) for n, g in grads.items()},
                     v={n: np.zeros_like(g) for n, g in grads.items()})
    state["t"] += 1
    t = state["t"]
    step_size = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)  # both corrections folded into one number
    for name, g in grads.items():
        state["m"][name] = beta1 * state["m"][name] + (1 - beta1) * g
        state["v"][name] = beta2 * state["v"][name] + (1 - beta2) * g * g
        params[name] -= step_size * state["m"][name] / (np.sqrt(state["v"][name]) + eps)  # eps not rescaled
    return state


def loop_new_rng_every_epoch(params, X, y, step, lr, epochs, batch_size, rng):
    state, losses = {}, []
    for epoch in range(epochs):
        rng = np.random.default_rng(0)
        order, total = rng.permutation(len(X)), 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads, _ = mnist_ann.loss_and_grads(params, X[batch], y[batch])
            state = step(params, grads, state, lr)
            total += loss * len(batch)
        losses.append(total / len(X))
    return losses


def dropout_swapped_order(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = ((rng.random(A.shape) >= rate) / (1 - rate)).astype(A.dtype)
    return mask, A * mask


def dropout_reused_mask(A, rate, rng, training=True):
    if not training:
        return A, None
    mask = _buffer("mask", A.shape, A.dtype)
    mask[...] = (rng.random(A.shape) >= rate) / (1 - rate)
    return A * mask, mask


def dropout_backward_matmul(dA_out, mask):
    return dA_out @ mask


def relu_backward_softplus(dA, Z):
    return dA / (1 + np.exp(-Z))  # the sigmoid: softplus's derivative


def dropout_backward_dot_transposed(dA_out, mask):
    return np.dot(dA_out, mask.T)


def dropout_backward_reused_buffer(dA_out, mask):
    out = _buffer("dA", dA_out.shape, dA_out.dtype)
    np.multiply(dA_out, mask, out=out)
    return out


def _two_layer(params, X, y, rate, rng, mask_dtype, slope):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    mask = ((rng.random(A1.shape) >= rate) / (1 - rate)).astype(mask_dtype or A1.dtype)
    A1_dropped = A1 * mask
    logits = A1_dropped @ params["W2"] + params["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    P = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(len(y)), y]).mean()
    dlogits = P.copy()
    dlogits[np.arange(len(y)), y] -= 1
    dlogits /= len(y)
    dZ1 = (dlogits @ params["W2"].T) * mask * slope(Z1)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1_dropped.T @ dlogits, "b2": dlogits.sum(axis=0)}
    return loss, grads, logits


def net_float64_mask(params, X, y, rate, rng):
    return _two_layer(params, X, y, rate, rng, np.float64, lambda Z: Z > 0)


def net_relu_slope_one_at_zero(params, X, y, rate, rng):
    return _two_layer(params, X, y, rate, rng, None, lambda Z: Z >= 0)

# ---- Exercise 6: reading the data (written with its checks) ------------------------------------------------

IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}  # as the notebook gives


def parse_sizes_little_endian(raw):
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "little") for i in range(ndim))
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def parse_data_native_order(raw):
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]).newbyteorder("<"), raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def parse_always_bytes(raw):
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)[:int(np.prod(shape))].reshape(shape)


def parse_header_one_byte_per_size(raw):
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=dtype, offset=4 + ndim)[:int(np.prod(shape))].reshape(shape)


def parse_flat(raw):
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)


def parse_sizes_from_byte_3(raw):
    dtype, ndim = np.dtype(IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(raw[7 + 4 * i] for i in range(ndim))  # the last byte of each size only
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def one_hot_whole_columns(y, num_classes=10):
    Y = np.zeros((len(y), num_classes), dtype=np.float32)
    Y[:, y] = 1
    return Y


def one_hot_eye_float64(y, num_classes=10):
    return np.eye(num_classes)[y]


def one_hot_width_from_labels(y, num_classes=10):
    return np.eye(y.max() + 1, dtype=np.float32)[y]


def one_hot_transposed(y, num_classes=10):
    Y = np.zeros((num_classes, len(y)), dtype=np.float32)
    Y[y, np.arange(len(y))] = 1
    return Y


def one_hot_inverted(y, num_classes=10):
    return 1 - np.eye(num_classes, dtype=np.float32)[y]


def minibatches_drop_last(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]


def minibatches_in_order(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


def minibatches_np_random(X, y, batch_size, rng):
    order = np.random.permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]


def minibatches_fixed_seed(X, y, batch_size, rng):
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]


def minibatches_labels_unshuffled(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], y[start:start + batch_size]


def minibatches_with_replacement(X, y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        batch = rng.integers(0, len(X), min(batch_size, len(X) - start))
        yield X[batch], y[batch]


def minibatches_shuffle_in_place(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    X[:], y[:] = X[order], y[order]  # the caller's arrays reordered
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]

# ---- Exercise 7: the forward pass (written with its checks) --------------------------------------------------

def lf_no_bias(X, W, b):
    return X @ W


def lf_bias_subtracted(X, W, b):
    return X @ W - b


def lf_transposed_weights(X, W, b):
    return X @ W.T + b


def lf_wrong_order(X, W, b):
    return (W.T @ X.T).T + b.sum()


def lf_bias_summed(X, W, b):
    return X @ W + np.sum(b)


def lf_in_place(X, W, b):
    X @= W  # only works when W is square; changes the caller's X
    X += b
    return X


def relu_np_max(Z):
    return np.max(Z, 0)


def relu_mask(Z):
    return Z > 0


def relu_abs(Z):
    return np.abs(Z)


def relu_minimum(Z):
    return np.minimum(Z, 0)


def relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


def relu_float64(Z):
    return np.where(Z > 0, Z, np.zeros(Z.shape))


def forward_relu_on_logits(params, X):
    cache, A = [], X
    for layer in range(1, len(params) // 2 + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0)
    return A, cache


def forward_no_relu(params, X):
    cache, A = [], X
    for layer in range(1, len(params) // 2 + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((A, Z))
        A = Z
    return A, cache


def forward_caches_outputs(params, X):
    cache, A, L = [], X, len(params) // 2
    for layer in range(1, L + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        A = np.maximum(Z, 0) if layer < L else Z
        cache.append((A, Z))
    return A, cache


def forward_cache_swapped(params, X):
    cache, A, L = [], X, len(params) // 2
    for layer in range(1, L + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        cache.append((Z, A))
        A = np.maximum(Z, 0) if layer < L else Z
    return A, cache


def forward_fixed_depth(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = np.maximum(Z2, 0)
    logits = A2 @ params["W3"] + params["b3"]
    return logits, [(X, Z1), (A1, Z2), (A2, logits)]


def forward_logits_only(params, X):
    A, L = X, len(params) // 2
    for layer in range(1, L + 1):
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        A = np.maximum(Z, 0) if layer < L else Z
    return A


def init_lecun(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(1 / i))


def _init(layer_sizes, rng, scale, draw=None, dtype=np.float32, shape=lambda i, o: (i, o), bias=0.0):
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        values = draw(rng, shape(n_in, n_out)) if draw else rng.standard_normal(shape(n_in, n_out))
        params[f"W{layer}"] = (values * scale(n_in, n_out)).astype(dtype)
        params[f"b{layer}"] = np.full(n_out, bias, dtype=dtype)
    return params


def init_fan_out(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / o))


def init_glorot(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / (i + o)))


def init_variance_as_std(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: 2 / i)


def init_uniform(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / i) * np.sqrt(3),
                 draw=lambda rng, shape: rng.uniform(-1, 1, shape))


def init_float64(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / i), dtype=np.float64)


def init_out_in(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / i), shape=lambda i, o: (o, i))


def init_bias_ones(layer_sizes, rng):
    return _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / i), bias=1.0)


def init_own_rng(layer_sizes, rng):
    return _init(layer_sizes, np.random.default_rng(), lambda i, o: np.sqrt(2 / i))


def init_seeded_rng(layer_sizes, rng):
    return _init(layer_sizes, np.random.default_rng(42), lambda i, o: np.sqrt(2 / i))


def init_zero_based(layer_sizes, rng):
    params = _init(layer_sizes, rng, lambda i, o: np.sqrt(2 / i))
    return {f"{name[0]}{int(name[1:]) - 1}": value for name, value in params.items()}

# ---- Exercise 8: the confusion matrix and the most confused pairs (written with its checks) ----------------

def cm_fancy_index(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=int)
    counts[y, predicted] += 1  # adds once per distinct pair
    return counts


def cm_transposed(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=int)
    for true, guess in zip(y, predicted):
        counts[guess, true] += 1
    return counts


def cm_ten_classes(predicted, y, num_classes=10):
    counts = np.zeros((10, 10), dtype=int)
    np.add.at(counts, (y, predicted), 1)
    return counts


def cm_size_from_labels(predicted, y, num_classes=10):
    C = max(y.max(), predicted.max()) + 1
    counts = np.zeros((C, C), dtype=int)
    np.add.at(counts, (y, predicted), 1)
    return counts


def cm_only_right(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=int)
    for true, guess in zip(y, predicted):
        if true == guess:
            counts[true, guess] += 1
    return counts


def cm_only_mistakes(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=int)
    for true, guess in zip(y, predicted):
        if true != guess:
            counts[true, guess] += 1
    return counts


def cm_skips_last(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=int)
    for n in range(len(y) - 1):
        counts[y[n], predicted[n]] += 1
    return counts


def cm_bincount_wrong_stride(predicted, y, num_classes=10):
    flat = np.bincount(predicted * num_classes + y, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


_COUNTS = {}


def cm_reused_buffer(predicted, y, num_classes=10):
    counts = _COUNTS.setdefault(num_classes, np.zeros((num_classes, num_classes), dtype=int))
    counts[...] = 0
    np.add.at(counts, (y, predicted), 1)
    return counts


def cm_labels_sorted(predicted, y, num_classes=10):
    y.sort()  # sorts the caller's labels in place
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (y, predicted), 1)
    return counts


def _flat_order(counts, k, kind="stable", keep_diagonal=False):
    off = np.array(counts, copy=True)
    if not keep_diagonal:
        np.fill_diagonal(off, -1)
    order = np.argsort(-off, axis=None, kind=kind)[:k]
    rows, cols = np.unravel_index(order, off.shape)
    return [(int(i), int(j), int(off[i, j])) for i, j in zip(rows, cols)]


def mcp_with_diagonal(counts, k=3):
    return _flat_order(counts, k, keep_diagonal=True)


def mcp_zeroes_callers_diagonal(counts, k=3):
    np.fill_diagonal(counts, 0)
    return _flat_order(counts, k)


def mcp_predicted_first(counts, k=3):
    return [(j, i, n) for i, j, n in _flat_order(counts, k)]


def mcp_ascending(counts, k=3):
    return sorted(_flat_order(counts, k), key=lambda pair: pair[2])


def mcp_least(counts, k=3):
    pairs = [(i, j, int(counts[i, j])) for i in range(len(counts)) for j in range(len(counts)) if i != j]
    return sorted(pairs, key=lambda pair: (pair[2], -pair[0], -pair[1]))[:k][::-1]


def mcp_unstable_ties(counts, k=3):
    pairs = [(i, j, int(counts[i, j])) for i in range(len(counts)) for j in range(len(counts)) if i != j]
    return sorted(pairs, key=lambda pair: (-pair[2], -pair[0]))[:k]  # ties by the true label, backwards


def mcp_k_ignored(counts, k=3):
    return _flat_order(counts, 3)


def mcp_one_extra(counts, k=3):
    return _flat_order(counts, k + 1)


def mcp_counts_only(counts, k=3):
    return [n for _, _, n in _flat_order(counts, k)]


def mcp_upper_triangle_only(counts, k=3):
    pairs = [(i, j, int(counts[i, j])) for i in range(len(counts)) for j in range(i + 1, len(counts))]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:k]


# ---- issue 21, second zoo: borrowing through objects the function keeps, and the classes it let through -----

class _Borrowed:  # a class of the student's, holding the module's answer as a staticmethod
    softmax = staticmethod(mnist_ann.softmax)


def softmax_through_a_staticmethod(logits):
    return _Borrowed.softmax(logits)


_one_hot_partial = functools.partial(mnist_ann.one_hot)


def one_hot_through_partial(y, num_classes=10):
    return _one_hot_partial(y, num_classes)


def init_through_a_default(layer_sizes, rng, _init=mnist_ann.init_params):
    return _init(layer_sizes, rng=rng)


def minibatches_yield_from_the_module(X, y, batch_size, rng):
    yield from mnist_ann.iterate_minibatches(X, y, batch_size, rng)


_COPIED = {"np": np}  # the module's text run again by exec, into a dict of the student's
exec(inspect.getsource(mnist_ann.relu), _COPIED)  # noqa: S102 (a student's disguised borrowing)


def relu_through_an_exec_copy(Z):
    return _COPIED["relu"](Z)


def parse_with_the_modules_header(raw):
    dtype, shape, header_size = mnist_ann.idx_header(raw)
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)


def cm_histogram2d(predicted, y, num_classes=10):
    counts, _, _ = np.histogram2d(y, predicted, bins=num_classes)
    return counts.astype(int)


def cm_uint8(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes), dtype=np.uint8)
    np.add.at(counts, (y, predicted), 1)
    return counts


def cm_float(predicted, y, num_classes=10):
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (y, predicted), 1)
    return counts


_ONE_HOT_CACHE = {}


def one_hot_cached_by_length(y, num_classes=10):
    key = (len(y), num_classes)
    if key not in _ONE_HOT_CACHE:
        Y = np.zeros((len(y), num_classes), dtype=np.float32)
        Y[np.arange(len(y)), y] = 1
        _ONE_HOT_CACHE[key] = Y
    return _ONE_HOT_CACHE[key]


def minibatches_one_buffer(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    X_batch, y_batch = np.empty((batch_size, *X.shape[1:]), X.dtype), np.empty(batch_size, y.dtype)
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        X_batch[:len(batch)], y_batch[:len(batch)] = X[batch], y[batch]
        yield X_batch[:len(batch)], y_batch[:len(batch)]


def momentum_velocity_by_shape(params, grads, state, lr, beta=0.9):
    for name in params:
        velocity = state.setdefault(params[name].shape, np.zeros_like(params[name]))
        velocity *= beta
        velocity += grads[name]
        params[name] -= lr * velocity
    return state


def forward_sorted_names(params, X):
    weights = [params[name] for name in sorted(params) if name.startswith("W")]
    biases = [params[name] for name in sorted(params) if name.startswith("b")]
    cache, A = [], X
    for layer, (W, b) in enumerate(zip(weights, biases), start=1):
        Z = A @ W + b
        cache.append((A, Z))
        A = np.maximum(Z, 0) if layer < len(weights) else Z
    return A, cache


def mcp_zeroed_diagonal_ranked(counts, k=3):
    off = counts.copy()
    np.fill_diagonal(off, 0)
    pairs = [(i, j, int(off[i, j])) for i in range(len(off)) for j in range(len(off))]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:k]


def sgd_return_in_the_loop(params, grads, state, lr):
    for name in params:
        params[name] -= lr * grads[name]
        return state


def momentum_return_in_the_loop(params, grads, state, lr, beta=0.9):
    for name in params:
        state[name] = beta * state.get(name, 0.0) + grads[name]
        params[name] -= lr * state[name]
        return state


def init_bias_row(layer_sizes, rng):
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{layer}"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32)
        params[f"b{layer}"] = np.zeros((1, n_out), dtype=np.float32)
    return params


def parse_sizes_one_byte_each(raw):
    ndim = raw[3]
    shape = tuple(raw[7 + 4 * i] for i in range(ndim))
    return np.frombuffer(raw, dtype=IDX_DTYPES[raw[2]], count=int(np.prod(shape)), offset=4 + 4 * ndim).reshape(shape)


def ceg_sorts_the_labels(logits, y):
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    P = exps / exps.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    y.sort()
    return P / len(y)


def loop_epochs_inside_batches(params, X, y, step, lr, epochs, batch_size, rng):
    losses, state = [0.0] * epochs, {}
    for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, batch_size, rng):
        for epoch in range(epochs):
            loss, grads, _ = mnist_ann.loss_and_grads(params, X_batch, y_batch)
            state = step(params, grads, state, lr)
            losses[epoch] += len(y_batch) * float(loss) / len(X)
    return losses


def dropout_evaluation_as_float(A, rate, rng, training=True):
    if not training:
        return A.astype(float), None
    mask = (rng.random(A.shape) >= rate).astype(A.dtype) / A.dtype.type(1 - rate)
    return A * mask, mask


MISTAKES = [
    ("softmax", "shift by the row's largest size", softmax_shift_by_largest_size),
    ("softmax", "clipped logits", softmax_clipped),
    ("cross_entropy", "clipped logits", ce_clipped_logits),
    ("cross_entropy_grad", "shift by the row's largest size", ce_grad_shift_by_largest_size),
    ("relu_backward", "a tolerance in the mask", relu_backward_with_tolerance),
    ("backward", "grads is params", backward_into_params),
    ("backward", "masks written into the cache", backward_masks_the_cache),
    ("backward", "one dict shared between calls", backward_one_shared_dict),
    ("softmax", "no max shift", softmax_no_shift),
    ("softmax", "columns, after the shift", softmax_columns_after_shift),
    ("softmax", "columns", softmax_columns),
    ("softmax", "whole batch, after the shift", softmax_whole_batch_after_shift),
    ("softmax", "shift by the column max", softmax_shift_by_column_max),
    ("softmax", "sum without keepdims", softmax_sum_without_keepdims),
    ("softmax", "max without keepdims", softmax_max_without_keepdims),
    ("softmax", "changes its input", softmax_in_place),
    ("softmax", "no division", softmax_no_division),
    ("softmax", "divides by the max", softmax_divides_by_max),
    ("softmax", "adds the max", softmax_adds_the_max),
    ("softmax", "transposed", softmax_transposed),
    ("softmax", "loop with the whole batch's sum", softmax_loop_whole_sum),
    ("softmax", "returns log P", softmax_returns_log),
    ("cross_entropy", "summed", ce_summed),
    ("cross_entropy", "per example", ce_per_example),
    ("cross_entropy", "wrong sign", ce_wrong_sign),
    ("cross_entropy", "mean over B×C", ce_mean_over_all_entries),
    ("cross_entropy", "log_P[:, y]", ce_block),
    ("cross_entropy", "no log", ce_no_log),
    ("cross_entropy", "log of softmax", ce_log_of_softmax),
    ("cross_entropy", "log-sum-exp without shift", ce_log_sum_exp_without_shift),
    ("cross_entropy", "log of an unshifted softmax", ce_log_of_unshifted_softmax),
    ("cross_entropy", "forgets the log-sum", ce_forgets_the_log_sum),
    ("cross_entropy", "sum down the columns", ce_sum_down_columns),
    ("cross_entropy", "first term unshifted", ce_first_term_unshifted),
    ("cross_entropy", "log10", ce_log10),
    ("cross_entropy", "epsilon in the log", ce_epsilon_in_log),
    ("cross_entropy", "clipped probabilities", ce_clipped),
    ("cross_entropy_grad", "no 1/B", ceg_no_mean),
    ("cross_entropy_grad", "1/B twice", ceg_mean_twice),
    ("cross_entropy_grad", "Y - P", ceg_y_minus_p),
    ("cross_entropy_grad", "labels not subtracted", ceg_no_labels),
    ("cross_entropy_grad", "divides by C", ceg_divides_by_classes),
    ("cross_entropy_grad", "whole columns", ceg_whole_columns),
    ("cross_entropy_grad", "no shift", ceg_no_shift),
    ("cross_entropy_grad", "transposed", ceg_transposed),
    ("cross_entropy_grad", "only Y divided", ceg_only_labels_divided),
    ("cross_entropy_grad", "changes logits", ceg_changes_logits),
    ("cross_entropy_grad", "ten classes", ceg_ten_classes),
    ("cross_entropy_grad", "divides by B×C", ceg_divides_by_size),
    ("linear_backward", "dW transposed", lb_dW_transposed),
    ("linear_backward", "missing .T", lb_missing_T),
    ("linear_backward", "db over axis 1", lb_db_axis1),
    ("linear_backward", "db over everything", lb_db_everything),
    ("linear_backward", "db with keepdims", lb_db_keepdims),
    ("linear_backward", "divides by B", lb_divides_by_B),
    ("linear_backward", "db a mean", lb_db_mean),
    ("linear_backward", "dX and dW swapped", lb_swapped),
    ("linear_backward", "two values", lb_two_values),
    ("linear_backward", "dX transposed", lb_dX_transposed),
    ("linear_backward", "X @ dZ", lb_dW_wrong_order),
    ("linear_backward", "db the first row", lb_db_first_row),
    ("relu_backward", "mask only", rb_mask_only),
    ("relu_backward", "Z >= 0", rb_at_zero),
    ("relu_backward", "mask from dA", rb_mask_from_dA),
    ("relu_backward", "times Z", rb_times_Z),
    ("relu_backward", "changes dA", rb_in_place),
    ("relu_backward", "relu of dA", rb_relu_of_dA),
    ("relu_backward", "dA unchanged", rb_unchanged),
    ("relu_backward", "mask inverted", rb_inverted),
    ("backward", "stops at layer 2", bw_stops_at_layer_2),
    ("backward", "bias over the wrong axis", bw_bias_wrong_axis),
    ("backward", "dW transposed", bw_dW_transposed),
    ("backward", "divides by B", bw_divides_by_B),
    ("backward", "no ReLU backward", bw_no_relu),
    ("backward", "keyed dW1", bw_keyed_dW),
    ("backward", "its own Z in relu_backward", bw_own_Z_in_relu),
    ("backward", "the layer's output as its input", bw_output_as_input),
    ("backward", "the next layer's weights", bw_wrong_layer_weights),
    ("backward", "layers off by one", bw_off_by_one),
    ("backward", "returns a list", bw_returns_list),
    ("backward", "changes dlogits", bw_changes_dlogits),
    ("backward", "unpacks in the wrong order", bw_unpacks_in_the_wrong_order),
    ("sgd_step", "uphill", sgd_uphill),
    ("sgd_step", "no lr", sgd_no_lr),
    ("sgd_step", "returns nothing", sgd_returns_nothing),
    ("sgd_step", "new arrays", sgd_new_arrays),
    ("sgd_step", "new dict", sgd_new_dict),
    ("sgd_step", "lr twice", sgd_lr_twice),
    ("sgd_step", "weights only", sgd_weights_only),
    ("sgd_step", "returns params", sgd_returns_params),
    ("sgd_step", "pairs by position", sgd_pairs_by_position),
    ("sgd_step", "scales the gradients in place", sgd_scales_the_gradients),
    ("sgd_step", "zeroes the gradients", sgd_zeroes_the_gradients),
    ("sgd_step", "returns a new state", sgd_returns_a_new_state),
    ("sgd_step", "a local name", sgd_local_name),
    ("momentum_step", "wrong sign", momentum_wrong_sign),
    ("momentum_step", "averaging form", momentum_averaging),
    ("momentum_step", "fresh state", momentum_fresh_state),
    ("momentum_step", "minus the old velocity", momentum_minus_old),
    ("momentum_step", "beta fixed", momentum_fixed_beta),
    ("momentum_step", "no lr", momentum_no_lr),
    ("momentum_step", "lr twice", momentum_lr_twice),
    ("momentum_step", "steps before updating", momentum_step_then_update),
    ("momentum_step", "Nesterov", momentum_nesterov),
    ("momentum_step", "returns nothing", momentum_returns_nothing),
    ("momentum_step", "new arrays", momentum_new_arrays),
    ("momentum_step", "pairs by position", momentum_pairs_by_position),
    ("momentum_step", "the velocity is the gradient array", momentum_velocity_is_the_gradient),
    ("momentum_step", "lr inside the velocity", momentum_lr_in_velocity),
    ("momentum_step", "beta on both", momentum_beta_on_both),
    ("momentum_step", "starts at g", momentum_starts_at_g),
    ("momentum_step", "keyed by id", momentum_keyed_by_id),
    ("adam_step", "no bias correction", adam_with("no bias correction")),
    ("adam_step", "only m corrected", adam_with("only m corrected")),
    ("adam_step", "only v corrected", adam_with("only v corrected")),
    ("adam_step", "t frozen", adam_with("t frozen")),
    ("adam_step", "uphill", adam_with("uphill")),
    ("adam_step", "fresh state", adam_with("fresh state")),
    ("adam_step", "betas fixed", adam_with("fixed betas")),
    ("adam_step", "no eps", adam_with("no eps")),
    ("adam_step", "eps inside the root", adam_with("eps inside the root")),
    ("adam_step", "eps fixed", adam_with("eps fixed")),
    ("adam_step", "no eps argument", adam_without_eps_argument),
    ("adam_step", "v of g, not g**2", adam_with("v of g")),
    ("adam_step", "t incremented after use", adam_with("t incremented after use")),
    ("adam_step", "(1 - beta) ** t", adam_with("powers misplaced")),
    ("adam_step", "no square root", adam_with("no root")),
    ("adam_step", "v of |g|", adam_with("v of |g|")),
    ("adam_step", "t per parameter", adam_with("t per parameter")),
    ("adam_step", "t starts at 1", adam_with("t starts at 1")),
    ("adam_step", "t incremented twice", adam_with("t incremented twice")),
    ("adam_step", "squares g in place", adam_with("squares g in place")),
    ("train_loop", "step once per epoch", loop_step_once_per_epoch),
    ("train_loop", "state dropped", loop_state_dropped),
    ("train_loop", "summed", loop_summed),
    ("train_loop", "total not reset", loop_total_not_reset),
    ("train_loop", "always the first batch", loop_first_batch),
    ("train_loop", "trains a copy", loop_on_a_copy),
    ("train_loop", "returns nothing", loop_returns_nothing),
    ("train_loop", "drops the last batch", loop_drops_last_batch),
    ("train_loop", "mean of batch means", loop_mean_of_batch_means),
    ("train_loop", "unweighted over N", loop_unweighted_over_N),
    ("train_loop", "not shuffled", loop_not_shuffled),
    ("train_loop", "shuffled once", loop_shuffled_once),
    ("train_loop", "two permutations", loop_two_permutations),
    ("train_loop", "the full batch to loss_and_grads", loop_full_batch),
    ("train_loop", "a fixed lr", loop_fixed_lr),
    ("train_loop", "the last batch's loss", loop_last_loss),
    ("train_loop", "state reset each epoch", loop_state_reset_each_epoch),
    ("train_loop", "with replacement", loop_with_replacement),
    ("train_loop", "shuffles X and y in place", loop_shuffles_in_place),
    ("train_loop", "divides by batches × batch_size", loop_divides_by_batches_times_size),
    ("train_loop", "the loss after the step", loop_loss_twice),
    ("train_loop", "one epoch only", loop_one_epoch),
    ("train_loop", "each batch weighted by batch_size", loop_weighted_by_batch_size),
    ("train_loop", "the loss after each epoch", loop_evaluates_at_the_end),
    ("train_loop", "its own seeded rng", loop_own_rng),
    ("train_loop", "an unseeded rng", loop_unseeded_rng),
    ("train_loop", "np.random's global shuffle", loop_global_shuffle),
    ("train_loop", "records the loss on all the data", loop_records_the_full_loss),
    ("dropout_forward", "not scaled", dropout_unscaled),
    ("dropout_forward", "not scaled, a float mask", dropout_unscaled_float_mask),
    ("dropout_forward", "scaled twice", dropout_scaled_twice),
    ("dropout_forward", "scaled at evaluation", dropout_scaled_at_evaluation),
    ("dropout_forward", "left on at evaluation", dropout_left_on_at_evaluation),
    ("dropout_forward", "times 1 - rate at evaluation", dropout_original_evaluation),
    ("dropout_forward", "rate as the keep probability", dropout_rate_as_keep_probability),
    ("dropout_forward", "keeps below rate", dropout_keeps_below_rate),
    ("dropout_forward", "divides by rate", dropout_divides_by_rate),
    ("dropout_forward", "one mask per unit", dropout_per_unit),
    ("dropout_forward", "one mask per example", dropout_per_example),
    ("dropout_forward", "one draw for the whole array", dropout_one_draw),
    ("dropout_forward", "a float64 mask", dropout_float64_mask),
    ("dropout_forward", "a float64 mask beside a float32 A_out", dropout_float64_mask_only),
    ("dropout_forward", "right at rate 0.25 only", dropout_percent_integers),
    ("dropout_forward", "a correlated mask", dropout_correlated),
    ("dropout_forward", "half the batch's mask repeated", dropout_half_batch_repeated),
    ("dropout_forward", "the mask read off A_out", dropout_mask_from_output),
    ("dropout_forward", "changes A", dropout_in_place),
    ("dropout_forward", "returns a new draw", dropout_returns_a_new_draw),
    ("dropout_forward", "returns the keep pattern", dropout_returns_the_keep_pattern),
    ("dropout_forward", "no threshold", dropout_no_threshold),
    ("dropout_forward", "a generator of its own", dropout_own_rng),
    ("dropout_forward", "np.random", dropout_global_random),
    ("dropout_forward", "the flag backwards", dropout_flag_backwards),
    ("dropout_forward", "A_out only", dropout_returns_A_out_only),
    ("dropout_forward", "a mask at evaluation", dropout_mask_at_evaluation),
    ("dropout_forward", "a fixed rate", dropout_fixed_rate),
    ("dropout_backward", "the keep pattern", dropout_backward_keep_pattern),
    ("dropout_backward", "scaled again", dropout_backward_scaled_again),
    ("dropout_backward", "the mask squared", dropout_backward_squared),
    ("dropout_backward", "a new mask", dropout_backward_new_mask),
    ("dropout_backward", "divides by the mask", dropout_backward_divides),
    ("dropout_backward", "dA_out unchanged", dropout_backward_unchanged),
    ("dropout_backward", "the mask only", dropout_backward_mask_only),
    ("dropout_backward", "changes dA_out", dropout_backward_in_place),
    ("dropout_backward", "always float32", dropout_backward_float32),
    ("dropout_backward", "the mask inverted", dropout_backward_inverted),
    ("loss_and_grads_with_dropout", "dW2 before dropout", net_dW2_before_dropout),
    ("loss_and_grads_with_dropout", "dropout_forward again for the mask", net_mask_redrawn),
    ("loss_and_grads_with_dropout", "a new mask for the way back", net_forward_mask_redrawn_for_backward),
    ("loss_and_grads_with_dropout", "no dropout on the way back", net_no_dropout_backward),
    ("loss_and_grads_with_dropout", "the keep pattern on the way back", net_keep_pattern_backward),
    ("loss_and_grads_with_dropout", "scaled twice on the way back", net_scaled_twice_backward),
    ("loss_and_grads_with_dropout", "dropout on the logits", net_dropout_on_logits),
    ("loss_and_grads_with_dropout", "dropout on the inputs", net_dropout_on_inputs),
    ("loss_and_grads_with_dropout", "not scaled", net_unscaled),
    ("loss_and_grads_with_dropout", "a generator of its own", net_own_rng),
    ("loss_and_grads_with_dropout", "a fixed rate", net_fixed_rate),
    ("loss_and_grads_with_dropout", "no dropout", net_no_dropout),
    ("loss_and_grads_with_dropout", "the loss without dropout", net_loss_without_dropout),
    ("loss_and_grads_with_dropout", "no ReLU on the way back", net_no_relu_backward),
    # issue 21
    ("softmax", "the batch's maximum", softmax_batch_max_shift),
    ("softmax", "the first row's maximum", softmax_first_row_shift),
    ("cross_entropy", "the batch's maximum", ce_batch_max_shift),
    ("cross_entropy_grad", "the batch's maximum", ce_grad_batch_max_shift),
    ("softmax", "squeezed", softmax_squeezed),
    ("softmax", "keepdim typo", softmax_keepdim_typo),
    ("cross_entropy", "example 0 skipped, divided by B", ce_skips_first_example),
    ("cross_entropy", "example 0 skipped, divided by B - 1", ce_skips_first_example_mean),
    ("cross_entropy_grad", "a buffer kept between calls", ce_grad_reused_buffer),
    ("cross_entropy_grad", "a fixed batch size", ce_grad_fixed_batch_size),
    ("linear_backward", "buffers kept between calls", lb_reused_buffers),
    ("relu_backward", "a buffer kept between calls", relu_backward_reused_buffer),
    ("relu_backward", "negated", relu_backward_negated),
    ("relu_backward", "the sigmoid's derivative", relu_backward_sigmoid),
    ("relu_backward", "tanh's derivative", relu_backward_tanh),
    ("backward", "a fixed depth", backward_fixed_depth),
    ("backward", "walks forward", backward_walks_forward),
    ("backward", "layers from 0", backward_zero_based),
    ("backward", "slope 1 at Z = 0", backward_relu_slope_one_at_zero),
    ("sgd_step", "updates grads", sgd_updates_grads),
    ("adam_step", "folded constants, eps not rescaled", adam_folded_eps_not_scaled),
    ("train_loop", "a new default_rng(0) every epoch", loop_new_rng_every_epoch),
    ("dropout_forward", "(mask, A_out)", dropout_swapped_order),
    ("dropout_forward", "a mask buffer kept between calls", dropout_reused_mask),
    ("dropout_backward", "@ for *", dropout_backward_matmul),
    ("dropout_backward", "a buffer kept between calls", dropout_backward_reused_buffer),
    ("loss_and_grads_with_dropout", "a float64 mask", net_float64_mask),
    ("loss_and_grads_with_dropout", "slope 1 at Z = 0", net_relu_slope_one_at_zero),
    ("confusion_matrix", "a fancy-indexed += 1", cm_fancy_index),
    ("confusion_matrix", "rows are the predictions", cm_transposed),
    ("confusion_matrix", "always ten classes", cm_ten_classes),
    ("confusion_matrix", "the size from the labels", cm_size_from_labels),
    ("confusion_matrix", "only the right answers", cm_only_right),
    ("confusion_matrix", "only the mistakes", cm_only_mistakes),
    ("confusion_matrix", "the last example skipped", cm_skips_last),
    ("confusion_matrix", "bincount with the labels swapped", cm_bincount_wrong_stride),
    ("confusion_matrix", "a buffer kept between calls", cm_reused_buffer),
    ("confusion_matrix", "sorts y in place", cm_labels_sorted),
    ("most_confused_pairs", "the diagonal included", mcp_with_diagonal),
    ("most_confused_pairs", "zeroes the caller's diagonal", mcp_zeroes_callers_diagonal),
    ("most_confused_pairs", "(predicted, true)", mcp_predicted_first),
    ("most_confused_pairs", "ascending", mcp_ascending),
    ("most_confused_pairs", "the least confused", mcp_least),
    ("most_confused_pairs", "ties backwards", mcp_unstable_ties),
    ("most_confused_pairs", "k ignored", mcp_k_ignored),
    ("most_confused_pairs", "one pair too many", mcp_one_extra),
    ("most_confused_pairs", "counts only", mcp_counts_only),
    ("most_confused_pairs", "the upper triangle only", mcp_upper_triangle_only),
    ("linear_forward", "no bias", lf_no_bias),
    ("linear_forward", "the bias subtracted", lf_bias_subtracted),
    ("linear_forward", "W.T", lf_transposed_weights),
    ("linear_forward", "the factors swapped", lf_wrong_order),
    ("linear_forward", "the biases summed", lf_bias_summed),
    ("linear_forward", "X changed in place", lf_in_place),
    ("relu", "np.max", relu_np_max),
    ("relu", "the mask", relu_mask),
    ("relu", "abs", relu_abs),
    ("relu", "np.minimum", relu_minimum),
    ("relu", "in place", relu_in_place),
    ("relu", "float64 zeros", relu_float64),
    ("forward", "relu on the logits", forward_relu_on_logits),
    ("forward", "no relu", forward_no_relu),
    ("forward", "outputs in the cache", forward_caches_outputs),
    ("forward", "(Z, A) in the cache", forward_cache_swapped),
    ("forward", "three layers written out", forward_fixed_depth),
    ("forward", "logits only", forward_logits_only),
    ("init_params", "LeCun's scale", init_lecun),
    ("init_params", "fan_out", init_fan_out),
    ("init_params", "Glorot's scale", init_glorot),
    ("init_params", "the variance as the std", init_variance_as_std),
    ("init_params", "uniform", init_uniform),
    ("init_params", "float64", init_float64),
    ("init_params", "(out, in)", init_out_in),
    ("init_params", "biases of 1", init_bias_ones),
    ("init_params", "a generator of its own", init_own_rng),
    ("init_params", "a fixed seed", init_seeded_rng),
    ("init_params", "layers from 0", init_zero_based),
    ("parse_idx", "sizes little-endian", parse_sizes_little_endian),
    ("parse_idx", "data in native order", parse_data_native_order),
    ("parse_idx", "always bytes", parse_always_bytes),
    ("parse_idx", "a header of 4 + ndim bytes", parse_header_one_byte_per_size),
    ("parse_idx", "flat", parse_flat),
    ("parse_idx", "one byte per size", parse_sizes_from_byte_3),
    ("one_hot", "whole columns", one_hot_whole_columns),
    ("one_hot", "np.eye, float64", one_hot_eye_float64),
    ("one_hot", "the width from the labels", one_hot_width_from_labels),
    ("one_hot", "(C, B)", one_hot_transposed),
    ("one_hot", "inverted", one_hot_inverted),
    ("minibatches", "the last batch dropped", minibatches_drop_last),
    ("minibatches", "in order", minibatches_in_order),
    ("minibatches", "np.random", minibatches_np_random),
    ("minibatches", "a fixed seed", minibatches_fixed_seed),
    ("minibatches", "labels not shuffled", minibatches_labels_unshuffled),
    ("minibatches", "with replacement", minibatches_with_replacement),
    ("minibatches", "shuffles the caller's arrays", minibatches_shuffle_in_place),
    ("relu_backward", "softplus's derivative", relu_backward_softplus),
    ("dropout_backward", "np.dot with mask.T", dropout_backward_dot_transposed),
    ("softmax", "the module's answer as a staticmethod", softmax_through_a_staticmethod),
    ("one_hot", "functools.partial of the module's answer", one_hot_through_partial),
    ("init_params", "the module's answer as a default argument", init_through_a_default),
    ("minibatches", "yield from the module's answer", minibatches_yield_from_the_module),
    ("relu", "the module's text run by exec into a dict", relu_through_an_exec_copy),
    ("parse_idx", "the module's idx_header", parse_with_the_modules_header),
    ("confusion_matrix", "np.histogram2d", cm_histogram2d),
    ("confusion_matrix", "uint8 counts", cm_uint8),
    ("confusion_matrix", "float counts", cm_float),
    ("one_hot", "cached by the length of y", one_hot_cached_by_length),
    ("minibatches", "one buffer for every batch", minibatches_one_buffer),
    ("momentum_step", "one velocity per shape", momentum_velocity_by_shape),
    ("forward", "layers in the sorted order of their names", forward_sorted_names),
    ("most_confused_pairs", "a zeroed diagonal ranked with the rest", mcp_zeroed_diagonal_ranked),
    ("sgd_step", "return inside the loop", sgd_return_in_the_loop),
    ("momentum_step", "return inside the loop", momentum_return_in_the_loop),
    ("init_params", "biases shaped (1, out)", init_bias_row),
    ("parse_idx", "each size read from one byte", parse_sizes_one_byte_each),
    ("cross_entropy_grad", "sorts y in place", ceg_sorts_the_labels),
    ("train_loop", "the epochs inside the batches", loop_epochs_inside_batches),
    ("dropout_forward", "A as float64 at evaluation", dropout_evaluation_as_float),
]
