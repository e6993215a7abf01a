"""Training, its settings and faults, saving and loading, and reading a digit from outside MNIST."""

import json
import math
import pickle

import numpy as np
import pytest

import mnist_ann


@pytest.fixture(scope="module")
def mnist():
    return mnist_ann.load_mnist()


@pytest.fixture(scope="module")
def small(mnist):
    """256 training and 200 validation images from MNIST."""
    X, y, _, _ = mnist
    return X[:256], y[:256], X[1000:1200], y[1000:1200]


def fresh_params(seed=0, hidden=(32,)):
    return mnist_ann.init_params([784, *hidden, 10], "relu", np.random.default_rng(seed))


def test_a_small_network_overfits_256_examples(small):
    X, y, _, _ = small
    params = fresh_params()
    history = mnist_ann.train(params, X, y, optimizer=mnist_ann.momentum_step, lr=0.05, epochs=60, batch_size=32,
                              beta=0.9)
    assert history["train_loss"][-1] < history["train_loss"][0] / 10
    assert mnist_ann.accuracy(mnist_ann.predict(params, X), y) == 1.0


STEPS_AND_SETTINGS = [("sgd_step", {}), ("momentum_step", {"beta": 0.95}), ("adam_step", {})]


@pytest.mark.parametrize("optimizer, settings", STEPS_AND_SETTINGS)
def test_every_optimizer_lowers_the_loss(small, optimizer, settings):
    X, y, X_val, y_val = small
    lr = 0.001 if optimizer == "adam_step" else 0.05
    step = getattr(mnist_ann, optimizer)
    history = mnist_ann.train(fresh_params(), X, y, X_val, y_val, optimizer=step, lr=lr, epochs=5, **settings)
    assert history["val_loss"][-1] < history["val_loss"][0] < math.log(10) * 1.5
    assert set(history) == set(mnist_ann.HISTORY_KEYS) and history["epoch"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("optimizer, settings", STEPS_AND_SETTINGS)
def test_training_takes_the_textbook_steps(small, optimizer, settings):
    """train's steps are exactly those of notebook 05's loop, one update per array."""
    X, y, _, _ = small
    params, textbook, lr, steps = fresh_params(), fresh_params(), 0.02, 2 * 8
    first_weights = params["W1"]
    mnist_ann.train(params, X, y, optimizer=getattr(mnist_ann, optimizer), lr=lr, epochs=2, weight_decay=3e-4, seed=3,
                    **settings)
    rng, state, lrs = np.random.default_rng(3), {}, iter(
        [mnist_ann.learning_rate_at(t, steps, lr, "cosine") for t in range(steps)])
    for _ in range(2):  # epochs
        for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, 32, rng):
            _, grads, _ = mnist_ann.loss_and_grads(textbook, X_batch, y_batch, "relu")
            for name in ("W1", "W2"):
                grads[name] += 3e-4 * textbook[name]  # the L2 penalty's gradient; biases are not decayed
            state = getattr(mnist_ann, optimizer)(textbook, grads, state, next(lrs), **settings)
    assert params["W1"] is first_weights  # trained in place
    for name in params:
        np.testing.assert_array_equal(params[name], textbook[name], err_msg=name)


def test_the_history_records_the_cross_entropy_and_the_penalty_apart(small):
    """train_loss is the mean batch cross-entropy, the quantity val_loss measures; weight_penalty is the L2 term."""
    X, y, X_val, y_val = small
    X, y = X[:250], y[:250]  # 7 full batches of 32 and a last one of 26
    params, textbook = fresh_params(), fresh_params()
    history = mnist_ann.train(params, X, y, X_val, y_val, lr=0.05, schedule="constant", epochs=1, weight_decay=0.01)
    cross_entropy = penalty = 0.0
    for X_batch, y_batch in mnist_ann.iterate_minibatches(X, y, 32, np.random.default_rng(0)):
        loss, grads, _ = mnist_ann.loss_and_grads(textbook, X_batch, y_batch)
        batch_penalty = 0.005 * sum(np.sum(textbook[name].astype(np.float64) ** 2) for name in ("W1", "W2"))
        cross_entropy, penalty = cross_entropy + loss * len(y_batch), penalty + batch_penalty * len(y_batch)
        for name in ("W1", "W2"):
            grads[name] += 0.01 * textbook[name]
        mnist_ann.sgd_step(textbook, grads, {}, 0.05)
    assert history["train_loss"][0] == pytest.approx(cross_entropy / len(y), rel=1e-5)
    assert history["weight_penalty"][0] == pytest.approx(penalty / len(y), rel=1e-4)
    assert history["weight_penalty"][0] > 0.1 * history["train_loss"][0]  # large enough to matter if mixed in
    assert history["val_loss"][0] == pytest.approx(mnist_ann.evaluate(params, X_val, y_val)[0])


def test_without_weight_decay_the_penalty_is_zero(small):
    X, y, _, _ = small
    history = mnist_ann.train(fresh_params(), X, y, epochs=2)
    assert history["weight_penalty"] == [0.0, 0.0]


def test_an_interrupted_epoch_leaves_params_at_its_last_step(small):
    X, y, _, _ = small
    params, textbook = fresh_params(), fresh_params()
    batches = list(mnist_ann.iterate_minibatches(X, y, 32, np.random.default_rng(0)))

    def three_batches_then_ctrl_c():
        yield from batches[:3]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mnist_ann.train_epoch(params, three_batches_then_ctrl_c(), [0.05] * 8, mnist_ann.sgd_step,
                              {}, {}, mnist_ann.batch_loss_and_grads, "relu", 0.0)
    for X_batch, y_batch in batches[:3]:
        _, grads, _ = mnist_ann.loss_and_grads(textbook, X_batch, y_batch)
        mnist_ann.sgd_step(textbook, grads, {}, 0.05)
    for name in params:
        np.testing.assert_array_equal(params[name], textbook[name], err_msg=name)


def test_same_seed_gives_an_identical_history(small):
    X, y, X_val, y_val = small
    runs = [mnist_ann.train(fresh_params(), X, y, X_val, y_val, epochs=3, seed=5,
                            optimizer=mnist_ann.momentum_step, beta=0.95) for _ in range(2)]
    other = mnist_ann.train(fresh_params(), X, y, X_val, y_val, epochs=3, seed=6,
                            optimizer=mnist_ann.momentum_step, beta=0.95)
    for key in set(mnist_ann.HISTORY_KEYS) - {"seconds"}:
        assert runs[0][key] == runs[1][key], key
    assert runs[0]["train_loss"] != other["train_loss"]


def test_cosine_schedule_reaches_zero_in_the_last_epoch(small):
    X, y, _, _ = small
    history = mnist_ann.train(fresh_params(), X, y, epochs=4, lr=0.02)
    assert history["lr"][0] < 0.02 and history["lr"] == sorted(history["lr"], reverse=True)
    assert history["lr"][-1] == pytest.approx(mnist_ann.learning_rate_at(31, 32, 0.02, "cosine"))


def test_early_stopping_restores_the_best_weights(small):
    X, y, X_val, y_val = small
    params = fresh_params()
    # A constant, large learning rate on 256 images overfits: the validation loss turns up.
    history = mnist_ann.train(params, X, y, X_val, y_val, lr=0.1, schedule="constant", epochs=40, patience=3,
                              optimizer=mnist_ann.momentum_step, beta=0.9)
    best = min(history["val_loss"])
    assert len(history["epoch"]) < 40
    assert history["val_loss"].index(best) == len(history["epoch"]) - 4  # three worse epochs, then stop
    assert mnist_ann.evaluate(params, X_val, y_val)[0] == pytest.approx(best, rel=1e-6)


def test_divergence_stops_at_once_and_keeps_the_last_good_weights(small):
    X, y, X_val, y_val = small
    params = fresh_params()
    first_weights = params["W1"]
    with pytest.raises(mnist_ann.TrainingDiverged, match=r"diverged in epoch 1: .* --lr 1e\+06") as caught:
        with np.errstate(all="ignore"):
            mnist_ann.train(params, X, y, X_val, y_val, lr=1e7, epochs=3)
    assert caught.value.history["epoch"] == []
    assert all(np.array_equal(params[k], v) for k, v in fresh_params().items())  # the weights from before epoch 1
    assert params["W1"] is first_weights  # restored in place


@pytest.mark.parametrize("setting, message", [
    ({"lr": -0.1}, r"learning rate \(--lr\) must be a positive finite number, got -0.1"),
    ({"lr": 0.0}, r"--lr"),
    ({"lr": float("nan")}, r"--lr"),
    ({"lr": float("inf")}, r"--lr"),
    ({"batch_size": 0}, r"batch size \(--batch-size\) must be a whole number from 1 to 256, got 0"),
    ({"batch_size": 257}, r"--batch-size"),
    ({"epochs": 0}, r"epochs \(--epochs\) must be a whole number of at least 1"),
    ({"optimizer": "rmsprop"}, r"optimizer must be a step function such as sgd_step, .* got 'rmsprop'"),
    ({"beta": 0.9}, r"sgd_step takes no setting beta"),
    ({"schedule": "step"}, r"schedule \(--schedule\) must be one of constant, cosine"),
    ({"weight_decay": -1.0}, r"--weight-decay"),
    ({"patience": 0}, r"--patience"),
    ({"optimizer": mnist_ann.momentum_step, "beta": 1.0}, r"--momentum"),
])
def test_nonsense_settings_fail_before_any_work(small, setting, message):
    X, y, X_val, y_val = small
    params = fresh_params()
    with pytest.raises(mnist_ann.SettingError, match=message):
        mnist_ann.train(params, X, y, X_val, y_val, **{"epochs": 1, **setting})
    assert all(np.array_equal(params[k], v) for k, v in fresh_params().items())


def test_patience_needs_a_validation_set(small):
    with pytest.raises(mnist_ann.SettingError, match="validation set"):
        mnist_ann.train(fresh_params(), small[0], small[1], patience=2)
    with pytest.raises(mnist_ann.SettingError, match="validation set"):  # an empty one is none
        mnist_ann.train(fresh_params(), small[0], small[1], small[2][:0], small[3][:0], patience=2)


# ---- saving and loading -------------------------------------------------------------

def test_save_then_load_gives_the_same_predictions(tmp_path, small):
    params = fresh_params(hidden=(16, 8))
    mnist_ann.save_params(tmp_path / "w.npz", params, "tanh")
    loaded, activation = mnist_ann.load_params(tmp_path / "w.npz")
    assert activation == "tanh" and loaded.keys() == params.keys()
    np.testing.assert_array_equal(mnist_ann.predict(loaded, small[0], "tanh"), mnist_ann.predict(params, small[0], "tanh"))


def bad_weights(tmp_path, **arrays):
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


def test_weights_with_wrong_keys_shapes_or_activation_are_refused(tmp_path):
    W1, b1, W2, b2 = np.zeros((4, 3)), np.zeros(3), np.zeros((3, 2)), np.zeros(2)
    cases = [
        (dict(activation="relu", W1=W1, b1=b1, W3=W2, b3=b2), r"holds \['W1', 'W3', 'b1', 'b3'\] instead of W1, b1"),
        (dict(activation="relu", W1=W1, b1=np.zeros(4), W2=W2, b2=b2), r"W1 \(4, 3\) and b1 \(4,\) do not fit"),
        (dict(activation="relu", W1=W1, b1=b1, W2=np.zeros((5, 2)), b2=b2), r"W1 \(4, 3\) does not feed W2 \(5, 2\)"),
        (dict(activation="swish", W1=W1, b1=b1), r"activation 'swish' is not one of"),
        (dict(W1=W1, b1=b1), r"activation '' is not one of"),
        (dict(activation="relu", W1=W1.astype(int), b1=b1), "not floating point"),
        (dict(activation="relu"), "instead of W1"),
    ]
    for arrays, message in cases:
        with pytest.raises(mnist_ann.WeightsFileError, match=message):
            mnist_ann.load_params(bad_weights(tmp_path, **arrays))


class Payload:
    """Unpickling this would create a file: the proof that something was unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickles_are_never_unpickled(tmp_path):
    evidence = tmp_path / "unpickled.txt"
    (tmp_path / "w.npz").write_bytes(pickle.dumps(Payload(str(evidence))))
    with pytest.raises(mnist_ann.WeightsFileError, match="not a weights file saved by mnist_ann.py"):
        mnist_ann.load_params(tmp_path / "w.npz")
    np.savez(tmp_path / "objects.npz", activation="relu", W1=np.array([Payload(str(evidence))], dtype=object))
    with pytest.raises(mnist_ann.WeightsFileError, match="not a weights file"):
        mnist_ann.load_params(tmp_path / "objects.npz")
    assert not evidence.exists()


def test_truncated_and_missing_weights_files(tmp_path):
    mnist_ann.save_params(tmp_path / "w.npz", fresh_params())
    data = (tmp_path / "w.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(mnist_ann.WeightsFileError, match="cut.npz is not a weights file"):
        mnist_ann.load_params(tmp_path / "cut.npz")
    with pytest.raises(mnist_ann.WeightsFileError, match="missing.npz does not exist"):
        mnist_ann.load_params(tmp_path / "missing.npz")


def test_history_is_plain_json(small):
    history = mnist_ann.train(fresh_params(), small[0], small[1], small[2], small[3], epochs=1)
    assert json.loads(json.dumps(history)) == history


# ---- plots and a digit from outside MNIST -----------------------------------------------

def test_plots_return_figures(small):
    from matplotlib.figure import Figure

    params = fresh_params()
    history = mnist_ann.train(params, small[0], small[1], small[2], small[3], epochs=2)
    predicted = mnist_ann.predict(params, small[2])
    figures = [mnist_ann.plot_history(history), mnist_ann.plot_confusion(mnist_ann.confusion_matrix(predicted, small[3])),
               mnist_ann.plot_digits(small[2][:10], small[3][:10], predicted[:10]), mnist_ann.plot_first_layer(params["W1"])]
    assert all(isinstance(figure, Figure) for figure in figures)
    assert len(figures[0].axes) == 2


def photo_of(digit28, scale=6, canvas=(260, 240), at=(20, 60)):
    """A digit as someone might photograph it: larger, dark ink on light paper, off-centre, RGB."""
    big = np.kron(digit28.reshape(28, 28), np.ones((scale, scale)))
    paper = np.ones(canvas)
    paper[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] -= 0.9 * big
    return np.stack([paper] * 3, axis=-1)


def test_prepare_digit_undoes_size_position_and_polarity(mnist):
    X_test = mnist[2]
    for index in range(5):
        prepared = mnist_ann.prepare_digit(photo_of(X_test[index], at=(10 + 7 * index, 40 + 5 * index)))
        assert prepared.shape == (784,) and prepared.dtype == np.float32
        assert prepared.min() >= 0 and prepared.max() == pytest.approx(1.0)
        assert np.corrcoef(prepared, X_test[index])[0, 1] > 0.8


def test_prepare_digit_handles_transparency_and_bytes(mnist):
    digit = mnist[2][0]
    rgba = np.zeros((150, 150, 4))
    rgba[20:132, 30:142, 3] = np.kron(digit.reshape(28, 28), np.ones((4, 4)))  # black ink, alpha = ink
    assert np.corrcoef(mnist_ann.prepare_digit(rgba), digit)[0, 1] > 0.8
    as_bytes = (photo_of(digit) * 255).astype(np.uint8)
    assert np.corrcoef(mnist_ann.prepare_digit(as_bytes), digit)[0, 1] > 0.8


def test_grey_paper_becomes_an_exactly_black_background(mnist):
    digit = mnist[2][0]
    prepared = mnist_ann.prepare_digit(0.8 * photo_of(digit))  # paper at 0.8, not white
    rows, cols = np.nonzero(prepared.reshape(28, 28))
    box = prepared.reshape(28, 28)[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert np.mean(box == 0) > 0.3  # inside the digit's box, the paper between strokes is 0, as in MNIST
    assert np.corrcoef(prepared, digit)[0, 1] > 0.8


def test_a_blank_image_is_refused():
    with pytest.raises(mnist_ann.SettingError, match="no digit"):
        mnist_ann.prepare_digit(np.ones((50, 50)))


def test_adam_takes_the_derived_step_in_float64():
    """adam_step is the formula 06 derives: running means m and v, bias-corrected, written out here again."""
    rng = np.random.default_rng(4)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4)}
    expected = {name: value.copy() for name, value in params.items()}
    m = {name: np.zeros_like(value) for name, value in params.items()}
    v = {name: np.zeros_like(value) for name, value in params.items()}
    state, lr, beta1, beta2, eps = {}, 0.01, 0.8, 0.95, 1e-3
    for t in range(1, 6):
        grads = {name: rng.standard_normal(value.shape) for name, value in params.items()}
        state = mnist_ann.adam_step(params, grads, state, lr, beta1, beta2, eps)
        for name, g in grads.items():
            m[name] = beta1 * m[name] + (1 - beta1) * g
            v[name] = beta2 * v[name] + (1 - beta2) * g * g
            m_hat, v_hat = m[name] / (1 - beta1 ** t), v[name] / (1 - beta2 ** t)
            expected[name] = expected[name] - lr * m_hat / (np.sqrt(v_hat) + eps)
        for name in params:
            np.testing.assert_allclose(params[name], expected[name], rtol=1e-13, atol=1e-15)
    assert state["t"] == 5


def test_on_epoch_end_sees_every_finished_epoch(small):
    X, y, X_val, y_val = small
    seen = []
    mnist_ann.train(fresh_params(), X, y, X_val, y_val, epochs=3,
                    on_epoch_end=lambda history: seen.append(list(history["epoch"])))
    assert seen == [[1], [1, 2], [1, 2, 3]]


def test_an_interrupt_puts_back_the_last_finished_epoch(small):
    """The command line's wrapper: Ctrl-C in epoch 2 gives back the weights of a one-epoch run."""
    X, y, _, _ = small
    params, steps = fresh_params(), []

    def step(params, grads, state, lr):
        steps.append(1)
        if len(steps) == 8 + 3:  # three steps into epoch 2 (8 steps an epoch)
            raise KeyboardInterrupt
        return mnist_ann.sgd_step(params, grads, state, lr)

    with pytest.raises(mnist_ann.TrainingInterrupted) as caught:
        mnist_ann.train_keeping_finished_epochs(params, X, y, optimizer=step, epochs=3, seed=2)
    expected = fresh_params()  # the same run, its steps after epoch 1 left out
    steps.clear()

    def one_epoch_step(params, grads, state, lr):
        steps.append(1)
        return mnist_ann.sgd_step(params, grads, state, lr) if len(steps) <= 8 else state

    mnist_ann.train(expected, X, y, optimizer=one_epoch_step, epochs=3, seed=2)
    assert caught.value.history["epoch"] == [1] and caught.value.exit_status == 130
    for name in params:
        np.testing.assert_array_equal(params[name], expected[name], err_msg=name)
