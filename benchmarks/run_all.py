"""Run every benchmark in benchmarks/ and collect their verdicts (`make bench`).

    .venv/bin/python -m benchmarks.run_all [--only NAME ...] [--skip NAME ...]

Each benchmark is a module here whose name does not start with "_" (helpers) and runs as
`python -m benchmarks.<name>` in its own process, one after the other: they would disturb
each other's timings, and a fresh process keeps one benchmark's memory and loaded models out
of the next. Each writes benchmarks/results/<name>.json; this collects them into
benchmarks/results/summary.json and exits non-zero if any benchmark failed or missed a target.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ._common import RESULTS_DIR, ROOT, machine_info

HERE = Path(__file__).resolve().parent
# per benchmark: prehighlight at 10,000 documents runs spaCy over them three times, over an
# hour when the machine is slow
TIMEOUT_S = 7200
# modules here that are tools, not benchmarks: measeval_score is the scorer claims_measeval uses
NOT_BENCHMARKS = {"run_all", "measeval_score"}


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem not in NOT_BENCHMARKS)


def run_one(name: str) -> dict:
    """Run one benchmark (its output goes straight to the console) and read its result file."""
    result_file = RESULTS_DIR / f"{name}.json"
    started = time.time()
    print(f"\n### {name}", flush=True)
    try:
        code = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=ROOT, timeout=TIMEOUT_S).returncode
    except subprocess.TimeoutExpired:
        code = None
    seconds = round(time.time() - started, 1)
    fresh = result_file.exists() and result_file.stat().st_mtime >= started
    result = orjson.loads(result_file.read_bytes()) if fresh else {}
    return {
        "name": name,
        "exit_code": code,
        "duration_s": seconds,
        "result_file": str(result_file.relative_to(ROOT)) if fresh else None,
        "passed": _passed(result, code),
        "targets": result.get("targets", []),
        "error": None if fresh else ("timed out" if code is None else "wrote no result file"),
    }


def _passed(result: dict, code: int | None) -> bool:
    """The result file's verdict when it gives one, else the exit code's."""
    if code is None or not result:
        return False
    if isinstance(result.get("passed"), bool):
        return result["passed"]
    targets = result.get("targets")
    if isinstance(targets, list) and targets and all(isinstance(t, dict) and "passed" in t for t in targets):
        return all(bool(t["passed"]) for t in targets)
    return code == 0


def _describe(target: dict) -> str:
    value = target.get("value")
    shown = f"{value:,.3f}" if isinstance(value, (int, float)) else value
    return f"{target.get('name')}: {shown} (target {target.get('op', '')} {target.get('threshold', '')})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="run only these benchmarks")
    parser.add_argument("--skip", nargs="*", default=[], help="leave these benchmarks out")
    args = parser.parse_args(argv)
    names = [n for n in discover() if (args.only is None or n in args.only) and n not in args.skip]
    machine = machine_info()
    started = time.perf_counter()
    runs = [run_one(name) for name in names]
    summary = {
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.perf_counter() - started, 1),
        "machine": machine,
        "benchmarks": runs,
        "passed": bool(runs) and all(r["passed"] for r in runs),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "summary.json"
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    print("\n== summary")
    for run in runs:
        verdict = "PASS" if run["passed"] else "FAIL"
        detail = run["error"] or "; ".join(_describe(t) for t in run["targets"] if isinstance(t, dict))
        print(f"  [{verdict}] {run['name']} ({run['duration_s']} s) {detail}")
    print(f"  -> {path.relative_to(ROOT)}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
