"""Split a zoo's src/<function>.txt into answers/<function>/<name>.py.

usage: python tools/zoo/split.py ZOO_FOLDER

Each answer in src/<function>.txt starts with a line `### name | wrong|right | intended cause`,
followed by its code. The kind and the cause become the answer file's first two lines.
"""
import re
import sys
from pathlib import Path


def split(zoo):
    for text in sorted((zoo / "src").glob("*.txt")):
        folder = zoo / "answers" / text.stem
        folder.mkdir(parents=True, exist_ok=True)
        for block in re.split(r"^### ", text.read_text(), flags=re.MULTILINE)[1:]:
            head, _, code = block.partition("\n")
            name, kind, cause = [part.strip() for part in head.split("|", 2)]
            (folder / f"{name}.py").write_text(f"# KIND: {kind}\n# CAUSE: {cause}\n{code}")


if __name__ == "__main__":
    split(Path(sys.argv[1]).resolve())
