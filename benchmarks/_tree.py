"""A command run as a user runs it, timed whole, with the peak memory of its process tree.

Memory is sampled every 20 ms over the command and all its descendants (worker
processes), two ways: PSS, where a page shared by several processes counts once in
total (split between them), which is what the tree really takes from the machine; and
the sum of RSS, which counts a shared page once per process that maps it (forked
workers share their parent's loaded pipelines, so this overstates them).
"""

from __future__ import annotations

import re
import resource
import subprocess
import threading
import time
from pathlib import Path

FIELDS = {"pss": re.compile(r"^Pss:\s+(\d+) kB", re.M), "rss": re.compile(r"^Rss:\s+(\d+) kB", re.M)}


def tree_memory(pid: int) -> dict[str, int]:
    """Bytes of PSS and of RSS over a process and all its descendants (0 once gone)."""
    total, todo = {"pss": 0, "rss": 0, "processes": 0}, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            for name, pattern in FIELDS.items():
                total[name] += int(pattern.search(rollup).group(1)) * 1024
            total["processes"] += 1
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):  # gone meanwhile
            continue
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(argv: list[str], env: dict, every: float = 0.02) -> dict:
    """Run `argv` to its end: wall and CPU seconds (its workers included), peak PSS and
    peak RSS sum of its tree in MiB, the most processes seen at once, and its output."""
    peak, done = {"pss": 0, "rss": 0, "processes": 0}, threading.Event()
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def sample():
        while not done.is_set():
            for name, value in tree_memory(proc.pid).items():
                peak[name] = max(peak[name], value)
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {
        "seconds": round(seconds, 3),
        "cpu_s": round(children_cpu() - cpu, 2),
        "peak_pss_mib": round(peak["pss"] / 2**20, 1),
        "peak_rss_sum_mib": round(peak["rss"] / 2**20, 1),
        "most_processes": peak["processes"],
        "stdout": out.decode(),
    }
