"""The committed pictures are what tools/draw_figures.py draws now, so the two cannot drift apart."""

import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT
from PIL import Image

FIGURES = ROOT / "notebooks" / "figures"
NAMES = ["network.png", "softmax_cross_entropy_graph.png", "layer_forward_backward.png"]
REDRAW = "re-draw them with `python tools/draw_figures.py` and commit notebooks/figures/"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The folder the script draws into, run as a reader would run it."""
    folder = tmp_path_factory.mktemp("figures")
    subprocess.run([sys.executable, str(ROOT / "tools" / "draw_figures.py"), str(folder)], check=True,
                   timeout=300, stdin=subprocess.DEVNULL)
    return folder


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_figure_is_what_the_script_draws(drawn, name):
    assert (drawn / name).is_file(), f"tools/draw_figures.py did not write {name}"
    assert (FIGURES / name).is_file(), f"notebooks/figures/{name} is not there: {REDRAW}"
    # Pixels, not bytes: a new PNG encoder may compress the same picture differently (here the bytes agree too).
    committed, fresh = pixels(FIGURES / name), pixels(drawn / name)
    assert committed.shape == fresh.shape, f"{name} changed size: {REDRAW}"
    assert np.array_equal(committed, fresh), f"{name} differs from what the script draws: {REDRAW}"


@pytest.mark.parametrize("name", NAMES)
def test_figures_are_a_notebook_cell_wide_and_carry_no_software_version(drawn, name):
    with Image.open(drawn / name) as image:
        assert image.width == 1000, "10 inches at 100 dpi, the width of a notebook cell"
        assert "Software" not in image.info, "a version in the metadata would change the bytes on every upgrade"
