"""CLI start-up: whole runs of the `annotator` command, as a ratio to starting Python with SQLModel.

    .venv/bin/python -m benchmarks.cli_startup [--docs 10000] [--repeat 5]

Times whole subprocess runs of the installed console script (`annotator` beside the
interpreter) against a baseline run of `python -c "import sqlmodel"` (SQLAlchemy and
pydantic with it) by the same interpreter: every command that opens a project uses it, so
the baseline is the floor such a command cannot go under (Flask is the web app's alone; a
command does not load it). Each repetition runs, per command, the baseline and then the
command, so a change of machine load hits both alike; a command's figure is the median of
its per-pair ratios.
Target: every command within 2x of the baseline (reported, never the exit status: a missed
target is in the result file and the summary, and the benchmark still exits 0; a command
that exits non-zero or prints something unexpected fails the benchmark).

Commands: `--help`; `stats` on an empty project and on a project of `--docs` documents;
`show <uid>`, `users list` and `db upgrade` (already current) on that project; `validate`
of a small export (20 documents, made by `annotator export`). Every project is a SQLite
file in a temporary folder, named with --db, its instance folder given by
ANNOTATOR_INSTANCE_PATH (DATABASE_URL and other ANNOTATOR_* variables are left out).

Set-up (not in the ratios, its times reported): the documents written as JSONL (the shared
benchmark corpus, naming their language) and imported with `annotator import
--no-prehighlight`; one `annotator show` then settles the document it shows (tokens and
language on first use) before the timed runs, so the timed ones measure start-up, not that
one-time work; an
account is added for `users list`. The first measured round is reported on its own as
"cold" (the first run of each command here; the operating system's file cache is warm
from the set-up), the others as "warm". For a command over the target, one further run
under `-X importtime` lists what it imports beyond the baseline's packages.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from ._common import Target, Timing, machine_info, print_summary, spread, spreads, timed, write_result
from ._corpus import corpus, prodigy_spans

TARGET_RATIO = 2.0
BASELINE_CODE = "import sqlmodel"
SMALL_DOCS = 20
ACCOUNT, PASSWORD = "bench-curator", "benchmark-only-password"  # a throwaway project
IMPORTS_LISTED = 10


@dataclass
class Command:
    key: str  # the name in the result file
    shown: str  # the command as the summary prints it (no temporary paths)
    args: list[str]
    instance: Path
    expect: str  # printed by a run that did what is meant


def console_script() -> Path:
    script = Path(sys.executable).parent / "annotator"
    if not script.is_file():
        raise SystemExit(f"no `annotator` console script beside {Path(sys.executable).name}: install the project first")
    return script


def clean_env(instance: Path) -> dict[str, str]:
    """This environment without database or project settings, the instance folder given."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("ANNOTATOR_")}
    env["ANNOTATOR_INSTANCE_PATH"] = str(instance)
    return env


def run(argv: list[str], instance: Path, cwd: Path, expect: str = "") -> tuple[Timing, str]:
    """One whole process, timed; one that exits non-zero or lacks `expect` ends the benchmark."""
    env = clean_env(instance)
    timing, done = timed(lambda: subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True))
    if done.returncode != 0 or expect not in done.stdout:
        shown = " ".join(Path(a).name if os.sep in a else a for a in argv)
        why = f"exited {done.returncode}" if done.returncode else f"did not print {expect!r}"
        raise SystemExit(f"`{shown}` {why}:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return timing, done.stdout


def write_documents(path: Path, n: int) -> None:
    """JSONL documents of the shared corpus, three pre-annotations each, their language given."""
    with open(path, "wb") as handle:
        for i, (lang, text) in enumerate(corpus(n)):
            record = {"text": text, "lang": lang, "spans": prodigy_spans(text, random.Random(i)), "meta": {"n": i}}
            handle.write(orjson.dumps(record) + b"\n")


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'annotator.sqlite3'}"


def some_uid(instance: Path) -> str:
    """The id of the document in the middle of the project."""
    with sqlite3.connect(f"file:{instance / 'annotator.sqlite3'}?mode=ro", uri=True) as conn:
        (count,) = conn.execute("SELECT count(*) FROM document").fetchone()
        (uid,) = conn.execute("SELECT uid FROM document ORDER BY id LIMIT 1 OFFSET ?", (count // 2,)).fetchone()
    return uid


def set_up(tmp: Path, script: Path, n_docs: int) -> tuple[list[Command], dict]:
    """The three projects and the export; the commands to time on them; set-up seconds."""
    cli = [str(script)]
    empty, big, small = tmp / "empty", tmp / "large", tmp / "small"
    for folder in (empty, big, small):
        folder.mkdir()
    seconds: dict[str, float] = {}

    def step(name: str, argv: list[str], instance: Path, expect: str = "") -> str:
        timing, out = run(argv, instance, tmp, expect)
        seconds[name] = round(timing.wall, 2)
        return out

    started = time.perf_counter()
    documents = tmp / "documents.jsonl"
    write_documents(documents, n_docs)
    few = tmp / "few.jsonl"
    few.write_bytes(b"".join(documents.read_bytes().splitlines(keepends=True)[:SMALL_DOCS]))
    seconds["write_documents_jsonl"] = round(time.perf_counter() - started, 2)

    step("db_upgrade_empty_project", [*cli, "db", "upgrade", "--db", sqlite_url(empty)], empty, "Database at revision")
    step(
        f"import_{n_docs}_documents",
        [*cli, "import", "--no-prehighlight", str(documents), "--db", sqlite_url(big)],
        big,
        f"Imported {n_docs} new documents",
    )
    uid = some_uid(big)
    show = [*cli, "show", uid, "--db", sqlite_url(big)]
    step("first_show_settles_its_document", show, big, uid)
    password = tmp / "password.txt"
    password.write_text(PASSWORD + "\n")
    add = [
        *cli,
        "users",
        "add",
        ACCOUNT,
        "--role",
        "curator",
        "--password-file",
        str(password),
        "--db",
        sqlite_url(big),
    ]
    step("users_add", add, big, ACCOUNT)
    step("import_small_project", [*cli, "import", "--no-prehighlight", str(few), "--db", sqlite_url(small)], small)
    out = step(
        "export_small_project",
        [*cli, "export", "--db", sqlite_url(small), "--out", str(tmp / "exports"), "--json"],
        small,
    )
    export_file = Path(orjson.loads(out)["path"]) / "data.jsonl"
    if not export_file.is_file():
        raise SystemExit("`annotator export` wrote no data.jsonl")

    docs = f"{n_docs:,} documents"
    commands = [
        Command("help", "annotator --help", [*cli, "--help"], empty, "Commands:"),
        Command(
            "stats_empty",
            "annotator stats (empty project)",
            [*cli, "stats", "--db", sqlite_url(empty)],
            empty,
            "Documents: 0",
        ),
        Command(
            "stats_large",
            f"annotator stats ({docs})",
            [*cli, "stats", "--db", sqlite_url(big)],
            big,
            f"Documents: {n_docs}",
        ),
        Command("show", f"annotator show <uid> ({docs})", show, big, uid),
        Command(
            "validate",
            f"annotator validate <export of {SMALL_DOCS} documents>",
            [*cli, "validate", str(export_file)],
            small,
            f"{SMALL_DOCS} record(s) checked, 0 invalid",
        ),
        Command(
            "users_list",
            f"annotator users list ({docs})",
            [*cli, "users", "list", "--db", sqlite_url(big)],
            big,
            ACCOUNT,
        ),
        Command(
            "db_upgrade_current",
            f"annotator db upgrade (already current, {docs})",
            [*cli, "db", "upgrade", "--db", sqlite_url(big)],
            big,
            "(already current)",
        ),
    ]
    return commands, seconds


def measure(
    commands: list[Command], tmp: Path, rounds: int
) -> tuple[list[Timing], dict[str, list[tuple[Timing, Timing]]]]:
    """`rounds` rounds of (baseline, command) pairs per command; every baseline run, in order,
    and each command's pairs (the first of each is the cold round)."""
    baseline = [sys.executable, "-c", BASELINE_CODE]
    baselines: list[Timing] = []
    pairs: dict[str, list[tuple[Timing, Timing]]] = {c.key: [] for c in commands}
    for _ in range(rounds):
        for command in commands:
            base, _ = run(baseline, command.instance, tmp)
            timing, _ = run(command.args, command.instance, tmp, command.expect)
            baselines.append(base)
            pairs[command.key].append((base, timing))
    return baselines, pairs


def imported_packages(argv: list[str], instance: Path, cwd: Path) -> dict[str, float]:
    """Seconds of import (own time, summed) per top-level package, from one run under -X importtime."""
    env = clean_env(instance)
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=cwd, env=env, capture_output=True, text=True)
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = (part.strip() for part in line[len("import time:") :].split("|", 2))
        package = name.split(".", 1)[0]
        totals[package] = totals.get(package, 0.0) + int(own) / 1e6
    return totals


def beyond_baseline(command: Command, baseline: dict[str, float], tmp: Path) -> dict:
    """The packages a command imports that the baseline does not, slowest first (script: its path)."""
    script, *rest = command.args
    packages = imported_packages([script, *rest], command.instance, tmp)
    extra = {k: v for k, v in packages.items() if k not in baseline}
    ordered = sorted(extra.items(), key=lambda kv: kv[1], reverse=True)[:IMPORTS_LISTED]
    return {"total_import_s": round(sum(packages.values()), 3), "packages_s": {k: round(v, 3) for k, v in ordered}}


def summarise(command: Command, runs: list[tuple[Timing, Timing]]) -> dict:
    (cold_base, cold), warm = runs[0], runs[1:]
    ratios = [t.wall / b.wall for b, t in warm]
    return {
        "command": command.shown,
        "cold": {
            "wall_s": round(cold.wall, 4),
            "cpu_s": round(cold.cpu, 4),
            "baseline_wall_s": round(cold_base.wall, 4),
            "ratio": round(cold.wall / cold_base.wall, 2),
        },
        "warm": spreads([t for _, t in warm]),
        "warm_baseline": spreads([b for b, _ in warm]),
        "ratio": spread(ratios),
        "ratio_median": round(statistics.median(ratios), 2),
        "meets_target": statistics.median(ratios) <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000, help="documents in the large project")
    parser.add_argument("--repeat", type=int, default=5, help="warm rounds (after the one cold round)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.docs < 2:
        parser.error("--repeat must be at least 1 and --docs at least 2")
    started, machine = time.perf_counter(), machine_info()
    script = console_script()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        tmp = Path(tmp)
        commands, setup_s = set_up(tmp, script, args.docs)
        baselines, pairs = measure(commands, tmp, 1 + args.repeat)
        results = {c.key: summarise(c, pairs[c.key]) for c in commands}
        over = [c for c in commands if not results[c.key]["meets_target"]]
        if over:
            baseline_imports = imported_packages(["-c", BASELINE_CODE], commands[0].instance, tmp)
            for command in over:
                results[command.key]["imports_beyond_baseline_s"] = beyond_baseline(command, baseline_imports, tmp)
    cold_baseline, warm_baselines = baselines[0], baselines[len(commands) :]
    baseline = spreads(warm_baselines)
    figures = {
        "docs": args.docs,
        "repeat": args.repeat,
        "target_ratio": TARGET_RATIO,
        "baseline": {
            "command": f'python -c "{BASELINE_CODE}"',
            "cold_wall_s": round(cold_baseline.wall, 4),
            "warm": baseline,
        },
        "commands": results,
        "setup_s": setup_s,
    }
    targets = [
        Target(
            f"{results[c.key]['command']}: warm median / baseline",
            results[c.key]["ratio_median"],
            "<=",
            TARGET_RATIO,
            "x",
        )
        for c in commands
    ]
    notes = [
        "Ratios are per pair (the baseline run just before the command, same round), their median reported; "
        "the baseline figures are over every warm baseline run.",
        "Cold is the first measured run of each command (and the very first baseline run); the file cache is "
        "already warm from the set-up, so it shows first-run costs here, not a machine just booted.",
        "The first `annotator show` of a document imported with --no-prehighlight settles it (tokens and "
        "language on first use); that run is set-up (setup_s.first_show_settles_its_document), not timed.",
        "The target is reported, not enforced: the benchmark exits 0 whatever the ratios.",
    ]
    path = write_result("cli_startup", figures, targets, notes, machine, started)
    lines = [
        f'baseline `python -c "{BASELINE_CODE}"`: warm median {baseline["wall_s"]["median"]:.3f} s '
        f"(cold {cold_baseline.wall:.3f} s)"
    ]
    for command in commands:
        r = results[command.key]
        lines.append(
            f"{r['command']}: cold {r['cold']['wall_s']:.3f} s ({r['cold']['ratio']:.2f}x), "
            f"warm median {r['warm']['wall_s']['median']:.3f} s ({r['ratio_median']:.2f}x)"
        )
        if "imports_beyond_baseline_s" in r:
            imports = r["imports_beyond_baseline_s"]
            lines.append(
                f"  imports {imports['total_import_s']:.3f} s in all; beyond the baseline's packages: "
                + ", ".join(f"{k} {v:.3f} s" for k, v in imports["packages_s"].items())
            )
    lines.append("set-up: " + ", ".join(f"{k} {v} s" for k, v in setup_s.items()))
    print_summary("cli_startup", lines, targets, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
