"""The front door: a README read in five minutes, with every relative link, there and one link away, working."""

import re
from urllib.parse import unquote

import pytest

from helpers import ROOT

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "teachers" / "README.md",
         ROOT / "docs" / "results.md", ROOT / "docs" / "reliability.md", ROOT / "data" / "mnist" / "README.md",
         ROOT / "notebooks" / "00_summary.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text):
    """The targets of markdown links that point into the repository (no URL, no in-page anchor)."""
    targets = [unquote(target.split("#")[0]) for target in LINK.findall(text)]
    return [target for target in targets if target and not re.match(r"[a-z]+:", target)]


def words_of_prose(markdown):
    """Words of a markdown page, fenced code blocks left out."""
    return len(re.sub(r"```.*?```", "", markdown, flags=re.DOTALL).split())


def test_the_readme_is_read_in_five_minutes():
    words = words_of_prose((ROOT / "README.md").read_text())
    assert words <= 1500, f"README.md holds {words} words of prose; move details to a linked page"


def test_the_two_commands_are_the_readmes_first_code_block():
    first = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL).group(1)
    lines = first.strip().splitlines()
    assert lines[0].endswith("pip install -r requirements.txt && python mnist_ann.py") and lines[1] == "pytest"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_that_exists(page):
    missing = [target for target in relative_links(page.read_text()) if not (page.parent / target).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_link_check_finds_a_broken_link():
    assert relative_links("see [a](docs/none.md), [b](https://x.org/y), [c](#here), [d](../a%20b.md#s)") == [
        "docs/none.md", "../a b.md"]
    assert not (ROOT / "docs" / "none.md").exists()


def test_the_word_count_leaves_code_out():
    assert words_of_prose("one two\n```bash\nthree four five\n```\nsix") == 3
