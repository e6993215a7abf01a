"""The pictures embedded in the notebooks are what tools/draw_figures.py draws now, so the two cannot drift."""

import base64
import importlib.util
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT
from PIL import Image

SCRIPT = ROOT / "tools" / "draw_figures.py"
REDRAW = "re-draw and re-embed them with `python tools/draw_figures.py`"


def registered_pictures():
    """[(notebook, picture name)] as the script lists them, read without drawing anything."""
    spec = importlib.util.spec_from_file_location("draw_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(notebook, name) for notebook, figures in module.pictures().items() for name in figures]


PICTURES = registered_pictures()


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The folder the script draws into, run as a reader would run it."""
    folder = tmp_path_factory.mktemp("figures")
    subprocess.run([sys.executable, str(SCRIPT), str(folder)], check=True, timeout=300,
                   stdin=subprocess.DEVNULL)
    return folder


def attachment(notebook, name):
    """The PNG bytes embedded as `name` in the markdown cell of notebook that shows it, or None."""
    for cell in json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]:
        if cell["cell_type"] == "markdown" and f"(attachment:{name})" in "".join(cell["source"]):
            data = cell.get("attachments", {}).get(name, {}).get("image/png")
            return None if data is None else base64.b64decode(data)
    return None


def pixels(png):
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def test_the_script_lists_a_picture_for_each_of_the_first_four_notebooks():
    assert {notebook[:2] for notebook, _ in PICTURES} >= {"01", "02", "03", "04"}


@pytest.mark.parametrize("notebook, name", PICTURES, ids=[f"{nb[:2]}-{name}" for nb, name in PICTURES])
def test_the_embedded_picture_is_what_the_script_draws(drawn, notebook, name):
    assert (drawn / name).is_file(), f"tools/draw_figures.py did not write {name}"
    embedded = attachment(notebook, name)
    assert embedded is not None, f"{notebook} does not embed {name}: {REDRAW}"
    # Pixels, not bytes: a new PNG encoder may compress the same picture differently.
    committed, fresh = pixels(embedded), pixels((drawn / name).read_bytes())
    assert committed.shape == fresh.shape, f"{name} changed size: {REDRAW}"
    assert np.array_equal(committed, fresh), f"{name} differs from what the script draws: {REDRAW}"


@pytest.mark.parametrize("notebook, name", PICTURES, ids=[f"{nb[:2]}-{name}" for nb, name in PICTURES])
def test_figures_are_a_notebook_cell_wide_and_carry_no_software_version(drawn, notebook, name):
    with Image.open(drawn / name) as image:
        assert image.width == 1000, "10 inches at 100 dpi, the width of a notebook cell"
        assert "Software" not in image.info, "a version in the metadata would change the bytes on every upgrade"

