"""A command run as a user runs it, timed whole, with the peak memory of its process tree.

Memory is measured over the command and all its descendants (worker processes), two ways:
PSS, where a page shared by several processes counts once in total (split between them),
which is what the tree really takes from the machine; and the sum of RSS, which counts a
shared page once per process that maps it (forked workers share their parent's loaded
pipelines, so this overstates them).

The sampling must not slow the command it measures. RSS is read every 20 ms from statm
(counters the kernel keeps). PSS needs smaps_rollup, which walks every page table of the
process: read every 20 ms over a pre-highlighting import it took a fifth of the machine's
CPU and made the import 1.25-1.3x slower. So PSS is read only when the tree's RSS reaches a
new high, at most every PSS_EVERY seconds, and once a second besides (a fork adds RSS, not
PSS, so a PSS peak can fall between RSS highs).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import threading
import time
from pathlib import Path

PSS = re.compile(r"^Pss:\s+(\d+) kB", re.M)
PAGE = os.sysconf("SC_PAGE_SIZE")
PSS_EVERY, PSS_AT_LEAST = 0.25, 1.0  # seconds between PSS readings: at most, and at least


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # gone meanwhile
            continue
        found.append(current)
    return found


def tree_rss(pids: list[int]) -> int:
    """Bytes of RSS summed over `pids`, from statm (cheap)."""
    return _summed(pids, lambda pid: int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE)


def tree_pss(pids: list[int]) -> int:
    """Bytes of PSS summed over `pids`, from smaps_rollup (walks their page tables)."""
    return _summed(pids, lambda pid: int(PSS.search(Path(f"/proc/{pid}/smaps_rollup").read_text()).group(1)) * 1024)


def _summed(pids: list[int], bytes_of) -> int:
    total = 0
    for pid in pids:
        try:
            total += bytes_of(pid)
        except (OSError, AttributeError, IndexError, ValueError):  # gone meanwhile, or read half-written
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
        last_pss = float("-inf")
        while not done.is_set():
            pids = tree(proc.pid)
            rss, now = tree_rss(pids), time.perf_counter()
            high = rss > peak["rss"]
            peak["rss"], peak["processes"] = max(peak["rss"], rss), max(peak["processes"], len(pids))
            if (high and now - last_pss >= PSS_EVERY) or now - last_pss >= PSS_AT_LEAST:
                peak["pss"], last_pss = max(peak["pss"], tree_pss(pids)), now
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
