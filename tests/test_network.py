"""The network's mathematics: every gradient against central differences in float64, the optimizers by hand."""

import math

import numpy as np
import pytest

import mnist_ann

ACTIVATIONS = list(mnist_ann.ACTIVATIONS)


def rng():
    return np.random.default_rng(0)


def small_float64_network(activation, sizes=(6, 5, 4, 3)):
    params = mnist_ann.init_params(list(sizes), activation, rng())
    params = {name: value.astype(np.float64) for name, value in params.items()}
    for name in params:
        if name.startswith("b"):  # nonzero biases: an all-zero input row must not land exactly on ReLU's kink
            params[name] += np.random.default_rng(2).uniform(0.05, 0.2, params[name].shape)
    return params


def check_gradient(f, x, analytic, tolerance=1e-6):
    """analytic must equal the central-difference gradient of the scalar f at x."""
    numeric = mnist_ann.numerical_gradient(f, x)
    assert analytic.shape == x.shape
    error = mnist_ann.relative_error(analytic, numeric)
    assert error < tolerance, error


# ---- the checker itself ---------------------------------------------------------

def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    numeric = mnist_ann.numerical_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_allclose(numeric, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored after probing


def test_relative_error_tells_equal_from_different():
    a = np.array([1.0, 2.0])
    assert mnist_ann.relative_error(a, a) == 0.0
    assert mnist_ann.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert mnist_ann.relative_error(a, 2 * a) == pytest.approx(2 / 6)


# ---- forward pieces ----------------------------------------------------------------

def test_init_params_shapes_types_and_scales():
    params = mnist_ann.init_params([784, 128, 64, 10], "relu", rng())
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (784, 128), "b1": (128,), "W2": (128, 64), "b2": (64,), "W3": (64, 10), "b3": (10,)}
    assert all(v.dtype == np.float32 for v in params.values())
    assert params["W1"].std() == pytest.approx(math.sqrt(2 / 784), rel=0.02)  # He
    glorot = mnist_ann.init_params([784, 128, 10], "tanh", rng())
    assert glorot["W1"].std() == pytest.approx(math.sqrt(2 / (784 + 128)), rel=0.02)
    assert not np.any(params["b1"])


def test_init_params_is_seeded():
    a = mnist_ann.init_params([5, 4, 3], "relu", np.random.default_rng(7))
    b = mnist_ann.init_params([5, 4, 3], "relu", np.random.default_rng(7))
    c = mnist_ann.init_params([5, 4, 3], "relu", np.random.default_rng(8))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


@pytest.mark.parametrize("sizes", [[], [784], [784, 0, 10], [784, -3, 10], [784, 2.5, 10]])
def test_init_params_refuses_nonsense_layer_sizes(sizes):
    with pytest.raises(mnist_ann.SettingError, match=r"layer sizes \(--hidden\) must be whole numbers"):
        mnist_ann.init_params(sizes)


def test_init_params_refuses_an_unknown_activation():
    with pytest.raises(mnist_ann.SettingError, match=r"activation \(--activation\) must be one of relu, leaky_relu"):
        mnist_ann.init_params([4, 3], "softplus")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_shapes_and_cache(activation):
    params = mnist_ann.init_params([784, 128, 64, 10], activation, rng())
    X = rng().random((32, 784), dtype=np.float32)
    logits, cache = mnist_ann.forward(params, X, activation)
    assert logits.shape == (32, 10) and logits.dtype == np.float32
    assert [(a.shape, z.shape) for a, z in cache] == [((32, 784), (32, 128)), ((32, 128), (32, 64)),
                                                      ((32, 64), (32, 10))]


def test_activations_by_hand():
    Z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(mnist_ann.relu(Z), [0, 0, 3])
    np.testing.assert_allclose(mnist_ann.leaky_relu(Z), [-0.02, 0, 3])
    np.testing.assert_allclose(mnist_ann.sigmoid(Z), 1 / (1 + np.exp(-Z)))
    np.testing.assert_allclose(mnist_ann.tanh(Z), np.tanh(Z))
    with np.errstate(over="raise"):
        assert mnist_ann.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


# ---- softmax and cross-entropy ------------------------------------------------------

def test_softmax_by_hand_and_at_extreme_logits():
    P = mnist_ann.softmax(np.array([[0.0, np.log(3.0)], [1000.0, -1000.0]]))
    np.testing.assert_allclose(P, [[0.25, 0.75], [1.0, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        P = mnist_ann.softmax(np.array([[1000.0, 999.0, -1000.0]]))
    np.testing.assert_allclose(P, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0]])


def test_cross_entropy_by_hand_and_without_log_of_zero():
    logits = np.array([[0.0, np.log(3.0)], [0.0, 0.0]])
    assert mnist_ann.cross_entropy(logits, np.array([1, 0])) == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = mnist_ann.cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(2000.0)


def test_cross_entropy_grad_is_p_minus_y_over_b():
    logits = rng().standard_normal((7, 10))
    y = rng().integers(0, 10, 7)
    expected = (mnist_ann.softmax(logits) - mnist_ann.one_hot(y)) / 7
    np.testing.assert_allclose(mnist_ann.cross_entropy_grad(logits, y), expected, atol=1e-7)


def test_cross_entropy_grad_against_central_differences():
    logits = rng().standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    check_gradient(lambda z: mnist_ann.cross_entropy(z, y), logits, mnist_ann.cross_entropy_grad(logits, y))


# ---- backward pieces -------------------------------------------------------------------

def test_linear_backward_against_central_differences():
    X, W, b = rng().standard_normal((4, 5)), rng().standard_normal((5, 3)), rng().standard_normal(3)
    dZ = np.random.default_rng(1).standard_normal((4, 3))
    dX, dW, db = mnist_ann.linear_backward(dZ, X, W)

    def loss(_):  # any scalar whose gradient w.r.t. Z is dZ
        return np.sum(mnist_ann.linear_forward(X, W, b) * dZ)

    check_gradient(loss, X, dX)
    check_gradient(loss, W, dW)
    check_gradient(loss, b, db)
    assert mnist_ann.linear_backward(dZ, X, W, need_dX=False)[0] is None


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_backward_against_central_differences(activation):
    forward_fn, backward_fn = mnist_ann.ACTIVATIONS[activation], mnist_ann.ACTIVATION_GRADIENTS[activation]
    Z = rng().standard_normal((4, 6))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep away from ReLU's kink, where no derivative exists
    dA = np.random.default_rng(1).standard_normal((4, 6))
    check_gradient(lambda z: np.sum(forward_fn(z) * dA), Z, backward_fn(dA, Z))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_whole_network_gradients_against_central_differences(activation):
    params = small_float64_network(activation)
    X, y = rng().standard_normal((8, 6)), np.arange(8) % 3
    _, grads, _ = mnist_ann.loss_and_grads(params, X, y, activation)
    assert grads.keys() == params.keys()
    for name in params:
        check_gradient(lambda _: mnist_ann.loss_and_grads(params, X, y, activation)[0], params[name], grads[name])


def loss_with_weight_decay(params, X, y, weight_decay):
    """The cross-entropy plus the L2 penalty, and the gradients of that sum."""
    loss, grads, _ = mnist_ann.loss_and_grads(params, X, y, "relu")
    return loss + mnist_ann.add_weight_decay(params, grads, weight_decay), grads


def test_weight_decay_gradient_against_central_differences():
    params = small_float64_network("relu")
    X, y = rng().standard_normal((8, 6)), np.arange(8) % 3
    loss, grads = loss_with_weight_decay(params, X, y, 0.1)
    plain, _, _ = mnist_ann.loss_and_grads(params, X, y, "relu")
    assert loss == pytest.approx(plain + 0.05 * sum(np.sum(params[w] ** 2) for w in ("W1", "W2", "W3")))
    for name in params:
        check_gradient(lambda _: loss_with_weight_decay(params, X, y, 0.1)[0], params[name], grads[name])


def test_the_doors_give_what_the_lesson_computes():
    """forward and loss_and_grads check their inputs, then run run_layers and batch_loss_and_grads."""
    params = small_float64_network("relu")
    X, y = rng().standard_normal((8, 6)), np.arange(8) % 3
    logits, cache = mnist_ann.forward(params, X)
    np.testing.assert_array_equal(logits, mnist_ann.run_layers(params, X)[0])
    loss, grads, _ = mnist_ann.loss_and_grads(params, X, y)
    plain_loss, plain_grads, _ = mnist_ann.batch_loss_and_grads(params, X, y)
    assert loss == plain_loss and grads.keys() == params.keys()
    for name in params:
        np.testing.assert_array_equal(grads[name], plain_grads[name])


def test_deeper_network_gradients():
    params = small_float64_network("relu", sizes=(5, 7, 6, 5, 4, 3))
    X, y = rng().standard_normal((6, 5)), np.arange(6) % 3
    _, grads, _ = mnist_ann.loss_and_grads(params, X, y)
    for name in params:
        check_gradient(lambda _: mnist_ann.loss_and_grads(params, X, y)[0], params[name], grads[name])


# ---- one step of each optimizer, by hand -----------------------------------------------

def quadratic():
    """params p = [1, -2], loss 0.5 * |p|^2, so the gradient is p itself."""
    return {"p": np.array([1.0, -2.0])}


def test_sgd_step_by_hand():
    params = quadratic()
    state = mnist_ann.sgd_step(params, {"p": params["p"].copy()}, {}, lr=0.1)
    np.testing.assert_allclose(params["p"], [0.9, -1.8])
    assert state == {}


def test_momentum_steps_by_hand():
    params = quadratic()
    state = mnist_ann.momentum_step(params, {"p": np.array([1.0, -2.0])}, {}, lr=0.1, beta=0.5)
    np.testing.assert_allclose(params["p"], [0.9, -1.8])  # v = g on the first step
    state = mnist_ann.momentum_step(params, {"p": np.array([1.0, 1.0])}, state, lr=0.1, beta=0.5)
    np.testing.assert_allclose(state["p"], [1.5, 0.0])  # v = 0.5 * [1, -2] + [1, 1]
    np.testing.assert_allclose(params["p"], [0.75, -1.8])


def test_adam_steps_by_hand():
    params = quadratic()
    grads = {"p": np.array([1.0, -2.0])}
    state = mnist_ann.adam_step(params, grads, {}, lr=0.1)
    # t = 1: m_hat = g and v_hat = g^2, so the step is lr * g / |g| = lr * sign(g).
    np.testing.assert_allclose(params["p"], [0.9, -1.9], rtol=1e-7)
    state = mnist_ann.adam_step(params, {"p": np.array([3.0, -2.0])}, state, lr=0.1)
    m = 0.9 * 0.1 * np.array([1.0, -2.0]) + 0.1 * np.array([3.0, -2.0])
    v = 0.999 * 0.001 * np.array([1.0, 4.0]) + 0.001 * np.array([9.0, 4.0])
    m_hat, v_hat = m / (1 - 0.9 ** 2), v / (1 - 0.999 ** 2)
    np.testing.assert_allclose(params["p"], np.array([0.9, -1.9]) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8))
    assert state["t"] == 2


def adam_textbook(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as the paper writes it first: running means, bias-corrected, then the step."""
    t = state.get("t", 0) + 1
    m = {n: beta1 * state.get("m", {}).get(n, 0) + (1 - beta1) * g for n, g in grads.items()}
    v = {n: beta2 * state.get("v", {}).get(n, 0) + (1 - beta2) * g ** 2 for n, g in grads.items()}
    for name in grads:
        params[name] -= lr * (m[name] / (1 - beta1 ** t)) / (np.sqrt(v[name] / (1 - beta2 ** t)) + eps)
    return {"t": t, "m": m, "v": v}


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_takes_the_textbook_steps(betas):
    # Gradients from 1e-8 (where eps matters) to 1e2, 200 steps: the folded constants change nothing.
    generator = rng()
    gradients = generator.standard_normal((200, 3, 4)) * np.array([1e-8, 1e-4, 1.0, 1e2])
    ours = {"W": generator.standard_normal((3, 4))}
    textbook = {"W": ours["W"].copy()}
    our_state, textbook_state = {}, {}
    for g in gradients:
        our_state = mnist_ann.adam_step(ours, {"W": g}, our_state, 0.01, *betas)
        textbook_state = adam_textbook(textbook, {"W": g}, textbook_state, 0.01, *betas)
        np.testing.assert_allclose(ours["W"], textbook["W"], rtol=1e-12)


def test_cosine_schedule():
    assert mnist_ann.learning_rate_at(0, 100, 0.01, "cosine") == pytest.approx(0.01)
    assert mnist_ann.learning_rate_at(50, 100, 0.01, "cosine") == pytest.approx(0.005)
    assert mnist_ann.learning_rate_at(100, 100, 0.01, "cosine") == pytest.approx(0.0, abs=1e-15)
    assert mnist_ann.learning_rate_at(50, 100, 0.01, "constant") == 0.01


# ---- evaluation -------------------------------------------------------------------------

def test_accuracy_and_confusion_matrix():
    y = np.array([0, 1, 2, 2, 1])
    predicted = np.array([0, 2, 2, 2, 1])
    assert mnist_ann.accuracy(predicted, y) == 0.8
    counts = mnist_ann.confusion_matrix(predicted, y, num_classes=3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
