"""tools/sync_mirrors.py puts the module's text into a mirrored cell, and --check finds nothing to do on main."""

import importlib.util
import subprocess
import sys

from helpers import ROOT

spec = importlib.util.spec_from_file_location("sync_mirrors", ROOT / "tools" / "sync_mirrors.py")
sync_mirrors = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync_mirrors)
DEFINITIONS = sync_mirrors.module_definitions((ROOT / "mnist_ann.py").read_text())


def test_a_drifted_cell_gets_the_module_text_back_in_its_own_order():
    stale = "# mirrored in mnist_ann.py\ndef relu(Z):\n    return Z\n\n\ndef softmax(logits):\n    return logits"
    fixed = sync_mirrors.synced(stale, DEFINITIONS)
    assert fixed == "# mirrored in mnist_ann.py\n" + DEFINITIONS["relu"] + "\n\n\n" + DEFINITIONS["softmax"]


def test_a_cell_naming_something_the_module_lacks_is_left_alone():
    assert sync_mirrors.synced("# mirrored in mnist_ann.py\ndef not_in_the_module():\n    pass", DEFINITIONS) is None


def test_the_notebooks_need_no_sync():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "sync_mirrors.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "", result.stdout
