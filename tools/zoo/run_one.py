"""Run one answer through its check exactly as a student notebook does, and print the outcome.

usage: python tools/zoo/run_one.py ANSWER.py FUNCTION_NAME

The answer runs in the namespace the notebooks' setup cell gives, from the student folder; then
`checks.check_<function>(<function>)` runs as the check cell calls it. The last line printed is
`@@RESULT@@` and a JSON record: what the check returned, what it printed, and any traceback.
"""
import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import matplotlib

matplotlib.use("Agg")
STUDENT = Path(__file__).resolve().parents[2] / "notebooks" / "exercises" / "student"
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def run(answer, function):
    os.chdir(STUDENT)
    sys.path[:0] = [str(STUDENT.parent), str(STUDENT.parents[2])]  # checks.py, mnist_ann.py
    import checks
    import matplotlib.pyplot as plt
    import numpy as np

    import mnist_ann
    namespace = {"__name__": "__main__", "mnist_ann": mnist_ann, "checks": checks, "np": np,
                 "plt": plt, "os": os, "sys": sys, "Path": Path, "IDX_DTYPES": IDX_DTYPES}
    exec(compile(  # noqa: S102 (the answer is the code under test)
        Path(answer).read_text(), answer, "exec"), namespace)
    printed, record = io.StringIO(), {"file": answer, "crash": None}
    try:
        with contextlib.redirect_stdout(printed):
            passed = getattr(checks, f"check_{function}")(namespace[function])
        record["passed"] = passed if isinstance(passed, bool) else repr(passed)
    except BaseException as error:  # noqa: BLE001 (a crash of the check is what we look for)
        record["passed"] = None
        record["crash"] = "".join(traceback.format_exception(error))[-3000:]
    record["printed"] = printed.getvalue()
    return record


if __name__ == "__main__":
    print("@@RESULT@@" + json.dumps(run(sys.argv[1], sys.argv[2])))
