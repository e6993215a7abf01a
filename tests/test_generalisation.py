"""Section 8, generalisation: dropout, augmentation and the presets (issue 13)."""

import json
import shlex

import numpy as np
import pytest

import mnist_ann
from helpers import run_cli, write_small_mnist


def small_network(seed=0, sizes=(6, 5, 4, 3)):
    """A float64 network and a batch for gradient checks: X (7, 6) in [0, 1], labels 0-2."""
    rng = np.random.default_rng(seed)
    params = {name: value.astype(np.float64) for name, value in mnist_ann.init_params(list(sizes), rng=rng).items()}
    for name in params:
        if name.startswith("b"):
            params[name] += rng.normal(0, 0.1, params[name].shape)  # nonzero biases, so their gradients are tested
    return params, rng.random((7, sizes[0])), rng.integers(0, sizes[-1], 7)


# ---- dropout

@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("rates", [(0.2, 0.5), (0.0, 0.3), (0.5, 0.0)])
def test_dropout_gradients_match_central_differences_with_a_fixed_mask(activation, rates):
    params, X, y = small_network()

    def loss_of(_):  # a fresh generator with one seed for every evaluation: the same masks each time
        return mnist_ann.loss_and_grads_with_dropout(params, X, y, activation, rates=rates,
                                                     rng=np.random.default_rng(7))[0]

    _, grads, _ = mnist_ann.loss_and_grads_with_dropout(params, X, y, activation, rates=rates,
                                                        rng=np.random.default_rng(7))
    for name in params:
        numerical = mnist_ann.numerical_gradient(loss_of, params[name])
        assert mnist_ann.relative_error(grads[name], numerical) < 1e-7, name


def test_dropout_backward_uses_the_masks_of_its_forward_pass():
    """Masks drawn again for the backward pass would give gradients of another network: not these."""
    params, X, y = small_network()
    logits, cache = mnist_ann.dropout_forward(params, X, (0.3, 0.5), np.random.default_rng(1))
    dlogits = mnist_ann.cross_entropy_grad(logits, y)
    grads = mnist_ann.dropout_backward(params, cache, dlogits)
    masks = [mask for _, _, mask in cache]
    # The same network without dropout, its inputs multiplied by those masks by hand, has the same gradients.
    A, by_hand = X, []
    for layer in (1, 2, 3):
        A = A * masks[layer - 1]
        Z = A @ params[f"W{layer}"] + params[f"b{layer}"]
        by_hand.append((A, Z))
        A = np.maximum(Z, 0)
    np.testing.assert_allclose(by_hand[-1][1], logits)
    grads_by_hand = {}
    dZ = dlogits
    for layer in (3, 2, 1):
        A_in, _ = by_hand[layer - 1]
        grads_by_hand[f"W{layer}"], grads_by_hand[f"b{layer}"] = A_in.T @ dZ, dZ.sum(axis=0)
        if layer > 1:
            dZ = (dZ @ params[f"W{layer}"].T) * masks[layer - 1] * (by_hand[layer - 2][1] > 0)
    for name in params:
        np.testing.assert_allclose(grads[name], grads_by_hand[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_no_dropout_is_the_plain_network():
    params, X, y = small_network()
    plain = mnist_ann.loss_and_grads(params, X, y)
    dropped = mnist_ann.loss_and_grads_with_dropout(params, X, y, rates=(0.0, 0.0), rng=np.random.default_rng(0))
    assert plain[0] == dropped[0]
    for name in params:
        np.testing.assert_array_equal(plain[1][name], dropped[1][name])


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.8])
def test_inverted_dropout_leaves_the_mean_activation_unchanged(rate):
    rng = np.random.default_rng(0)
    mask = mnist_ann.dropout_mask((20000, 50), rate, rng)
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, np.float32(1 / (1 - rate))}  # dropped, or kept and scaled up
    assert abs(np.mean(mask == 0) - rate) < 0.005  # the fraction dropped is the rate
    A = rng.random(50).astype(np.float32) * 3
    mean_output = (A * mask).mean(axis=0)  # (50,): each unit's mean over 20000 draws
    np.testing.assert_allclose(mean_output, A, rtol=0.05)


def test_dropout_is_off_when_the_network_is_evaluated():
    X, y = np.random.default_rng(0).random((200, 6), dtype=np.float32), np.arange(200) % 3
    params = mnist_ann.init_params([6, 8, 3])
    history = mnist_ann.train(params, X[:150], y[:150], X[150:], y[150:], epochs=2, batch_size=16,
                              gradients=mnist_ann.with_dropout((0.2, 0.5)))
    # The recorded validation loss is the network's without dropout, and evaluating twice gives one answer.
    assert history["val_loss"][-1] == pytest.approx(mnist_ann.evaluate(params, X[150:], y[150:])[0])
    assert mnist_ann.evaluate(params, X[150:], y[150:]) == mnist_ann.evaluate(params, X[150:], y[150:])


def test_training_with_dropout_is_reproducible_and_its_seed_matters():
    X, y = np.random.default_rng(0).random((100, 6), dtype=np.float32), np.arange(100) % 3

    def trained(dropout_seed):
        params = mnist_ann.init_params([6, 8, 3])
        mnist_ann.train(params, X, y, epochs=2, batch_size=10, gradients=mnist_ann.with_dropout((0.2, 0.5),
                                                                                              dropout_seed))
        return params["W1"]

    np.testing.assert_array_equal(trained(0), trained(0))
    assert not np.array_equal(trained(0), trained(1))


@pytest.mark.parametrize("rates", [(0.5,), (0.1, 1.0), (-0.1, 0.2), (0.1, float("nan")), "0.1 0.3", None])
def test_dropout_rates_that_make_no_sense_are_refused(rates):
    with pytest.raises(mnist_ann.SettingError, match=r"dropout \(--dropout\) needs two rates"):
        mnist_ann.with_dropout(rates)


# ---- augmentation

def blob(centre=(13.5, 13.5), sigma=2.5, side=28):
    """A round blob of ink at centre (row, column), in [0, 1], flattened to (side * side,)."""
    rows, columns = np.indices((side, side))
    return np.exp(-((rows - centre[0]) ** 2 + (columns - centre[1]) ** 2) / (2 * sigma ** 2)).ravel()


def centre_of_mass(images, side=28):
    """(B, 2): each image's centre of mass as (row, column)."""
    rows, columns = np.indices((side, side)).reshape(2, -1)
    mass = images.sum(axis=1)
    return np.stack([images @ rows / mass, images @ columns / mass], axis=1)


def test_the_identity_map_returns_every_image_exactly():
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    moved = mnist_ann.transform_images(X, np.broadcast_to(np.eye(2), (5, 2, 2)), np.zeros((5, 2)))
    np.testing.assert_array_equal(moved, X)


@pytest.mark.parametrize("kind", ["shift", "affine"])
def test_augmentation_keeps_shape_type_range_and_is_reproducible(kind):
    X = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    before = X.copy()
    moved = mnist_ann.augmenter(kind, seed=3)(X)
    assert moved.shape == X.shape and moved.dtype == np.float32
    assert moved.min() >= 0 and moved.max() <= 1
    np.testing.assert_array_equal(X, before)  # a copy: the training set is not changed
    np.testing.assert_array_equal(moved, mnist_ann.augmenter(kind, seed=3)(X))
    assert not np.array_equal(moved, mnist_ann.augmenter(kind, seed=4)(X))
    assert not np.array_equal(moved, X)


@pytest.mark.parametrize("shift", [(2, 0), (0, -2), (1, 2), (1.5, -0.25)])
def test_a_shift_moves_the_centre_of_mass_by_the_shift(shift):
    X = np.stack([blob(), blob((11, 15), sigma=1.5), blob((15, 12), sigma=1.5)])  # well inside: no ink falls off
    moved = mnist_ann.transform_images(X, np.broadcast_to(np.eye(2), (3, 2, 2)), np.tile(shift, (3, 1)))
    np.testing.assert_allclose(centre_of_mass(moved) - centre_of_mass(X), np.tile(shift, (3, 1)), atol=1e-4)


def test_whole_pixel_shifts_move_pixels_exactly():
    X = np.random.default_rng(0).random((1, 784), dtype=np.float32)
    moved = mnist_ann.transform_images(X, np.eye(2)[None], np.array([[2.0, -1.0]]))
    np.testing.assert_array_equal(moved.reshape(28, 28)[2:, :-1], X.reshape(28, 28)[:-2, 1:])
    assert not moved.reshape(28, 28)[:2].any() and not moved.reshape(28, 28)[:, -1].any()  # blank paper


def test_rotation_and_zoom_turn_about_the_centre():
    """With no shift, a blob at the centre stays there; a blob off centre stays at its distance, times the zoom."""
    angle = np.radians(90)
    quarter_turn = np.array([[[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]])
    for matrix in (quarter_turn, 1.1 * np.eye(2)[None], 0.9 * quarter_turn):
        centred = mnist_ann.transform_images(blob()[None], matrix, np.zeros((1, 2)))
        np.testing.assert_allclose(centre_of_mass(centred), [[13.5, 13.5]], atol=1e-3)
        off = mnist_ann.transform_images(blob((13.5, 9.5))[None], matrix, np.zeros((1, 2)))
        offset = centre_of_mass(off)[0] - 13.5
        expected = matrix[0] @ np.array([0.0, -4.0])  # the map acts on (row, column) about the centre
        np.testing.assert_allclose(offset, expected, atol=0.05)


def test_random_maps_stay_within_their_bounds():
    rng = np.random.default_rng(0)
    matrices, shifts = mnist_ann.affine_maps(1000, rng, degrees=10, scale=0.1, shift=2)
    zooms = np.sqrt(np.linalg.det(matrices))
    angles = np.degrees(np.arctan2(matrices[:, 1, 0], matrices[:, 0, 0]))
    assert np.all(np.abs(zooms - 1) <= 0.1 + 1e-12) and np.all(np.abs(angles) <= 10 + 1e-9)
    assert np.all(np.abs(shifts) <= 2) and np.abs(shifts).max() > 1.9
    _, whole = mnist_ann.shift_maps(1000, rng, shift=2)
    assert set(np.unique(whole)) == {-2.0, -1.0, 0.0, 1.0, 2.0}


def test_augmented_training_keeps_every_label_with_its_image():
    """train hands the augment function the images only: the label batches are the ones it would see without."""
    X, y = np.random.default_rng(0).random((60, 784), dtype=np.float32), np.arange(60) % 10
    seen = {True: [], False: []}

    def recording(augmented):
        def gradients(params, X_batch, y_batch, activation="relu"):
            seen[augmented].append(y_batch.copy())
            return mnist_ann.batch_loss_and_grads(params, X_batch, y_batch, activation)
        return gradients

    for augmented in (False, True):
        augment = mnist_ann.augmenter("affine") if augmented else None
        mnist_ann.train(mnist_ann.init_params([784, 5, 10]), X, y, epochs=2, batch_size=8,
                        gradients=recording(augmented), augment=augment)
    assert len(seen[True]) == len(seen[False]) == 16
    for with_augmentation, without in zip(seen[True], seen[False], strict=True):
        np.testing.assert_array_equal(with_augmentation, without)


def test_train_refuses_hooks_that_are_not_functions():
    X, y = np.zeros((10, 4), dtype=np.float32), np.arange(10) % 3
    for hooks in ({"gradients": "dropout"}, {"augment": "affine"}):
        with pytest.raises(mnist_ann.SettingError, match="gradients must be a function"):
            mnist_ann.train(mnist_ann.init_params([4, 3]), X, y, **hooks)
    with pytest.raises(mnist_ann.SettingError, match=r"augmentation \(--augment\) must be one of"):
        mnist_ann.augmenter("rotate")


# ---- presets

def presets_in_help():
    """{preset: the options --help lists for it, as an argument list}."""
    result = run_cli("--help")
    assert result.returncode == 0
    listing = result.stdout.split("presets (--preset NAME sets these options")[1].splitlines()[1:]
    presets, name = {}, None
    for line in listing:
        if line.startswith("  ") and not line.startswith("    "):
            name = line.strip().rstrip(":")
            presets[name] = []
        elif line.strip():
            presets[name] += shlex.split(line)
    return presets


def test_the_presets_set_what_help_says():
    listed = presets_in_help()
    assert set(listed) == set(mnist_ann.PRESETS) == {"default", "best"}
    for name, options in listed.items():
        by_preset = vars(mnist_ann.parse_args(["--preset", name]))
        by_options = vars(mnist_ann.parse_args(options))
        for setting, value in mnist_ann.PRESETS[name].items():
            assert by_preset[setting] == by_options[setting] == value, (name, setting)


def test_the_default_preset_is_the_plain_run():
    """--preset default is what python mnist_ann.py does with no options."""
    plain, preset = vars(mnist_ann.parse_args([])), vars(mnist_ann.parse_args(["--preset", "default"]))
    assert {**plain, "preset": "default"} == preset


def test_an_option_written_out_overrides_its_preset():
    args = mnist_ann.parse_args(["--preset", "best", "--epochs", "3", "--dropout", "0", "0.2"])
    assert args.epochs == 3 and args.dropout == [0.0, 0.2] and args.hidden == [1024, 1024]
    args = mnist_ann.parse_args(["--epochs", "3", "--preset", "best"])  # wherever the option stands
    assert args.epochs == 3


def test_a_run_with_dropout_and_augmentation_records_them_and_saves_everything(tmp_path):
    data_dir = write_small_mnist(tmp_path / "data", n_train=120, n_test=40)
    out = tmp_path / "out"
    result = run_cli("--data-dir", data_dir, "--out", out, "--epochs", 2, "--val-size", 20, "--hidden", 16,
                     "--dropout", 0.1, 0.3, "--augment", "affine", "--batch-size", 16)
    assert result.returncode == 0, result.stderr
    assert "dropout [0.1, 0.3], augment affine" in result.stdout.splitlines()[0]
    record = json.loads((out / "history.json").read_text())
    assert record["dropout"] == [0.1, 0.3] and record["augment"] == "affine" and record["preset"] is None
    assert record["outcome"] == "finished" and len(record["history"]["epoch"]) == 2
    assert sorted(path.name for path in out.iterdir()) == ["confusion.png", "curves.png", "history.json",
                                                           "weights.npz"]
