"""Run every answer of a zoo through its check, each in its own process, and summarise.

usage: J=2 python tools/zoo/run_all.py ZOO_FOLDER [ANSWER.py ...]

Writes ZOO_FOLDER/results/<function>__<name>.json and prints one line per answer. An answer that
takes more than 60 s of wall time is recorded as a hang (the checks' own limit is 10 s of CPU time).
Run it alone on the machine: a busy machine can stretch a right answer past the wall limit.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

RUN_ONE = Path(__file__).resolve().parent / "run_one.py"


def header(answer):
    kind, cause = answer.read_text().splitlines()[:2]
    return kind.split(":", 1)[1].strip(), cause.split(":", 1)[1].strip()


def run(answer):
    function = answer.parent.name
    kind, cause = header(answer)
    record = {"func": function, "name": answer.stem, "kind": kind, "cause": cause, "hang": False}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    try:
        command = [sys.executable, str(RUN_ONE), str(answer), function]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env,
                              check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("@@RESULT@@")]
        if lines:
            record.update(json.loads(lines[-1][len("@@RESULT@@"):]))
        else:
            record.update(passed=None, crash="runner failed: " + done.stderr[-2000:],
                          printed=done.stdout[-2000:])
    except subprocess.TimeoutExpired:
        record.update(passed=None, crash=None, printed="", hang=True)
    return record


def verdict(record):
    if record["hang"]:
        return "HANG"
    if record["crash"]:
        return "CRASH"
    return "accept" if record["passed"] is True else "reject"


def main(zoo, answers):
    answers = answers or sorted((zoo / "answers").glob("*/*.py"))
    (zoo / "results").mkdir(exist_ok=True)
    workers = int(os.environ.get("J", "2"))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for record in pool.map(run, answers):
            name = f"{record['func']}__{record['name']}.json"
            (zoo / "results" / name).write_text(json.dumps(record, indent=1))
            print(f"{record['kind']:5} {verdict(record):6} {record['func']}/{record['name']}: "
                  f"{record['printed'].strip()[:300]!r}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), [Path(a).resolve() for a in sys.argv[2:]])
