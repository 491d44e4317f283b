"""Suggested claims on the seed articles against the claims a person confirms there.

    .venv/bin/python -m benchmarks.claims_seeds

`annotator import seeds/` into a temporary project (pre-highlighted as any import is), then
`annotator export --layer suggestions` (JSONL records: spans with ids, claims naming their
quantity, entity, property and condition spans), both timed whole as separate processes.
The suggestions are compared with the held-out list benchmarks/data/seed_claims.json:

- quantity found: a suggested QUANTITY span overlaps the listed quantity (its occurrence in
  the article given by `occurrence`);
- claim found: a suggested claim's quantity span overlaps it;
- among the found quantities, entity, property and condition right: some suggested claim on
  an overlapping quantity has that part overlapping the listed text's occurrence nearest the
  quantity (a property given as text is right when it contains the listed text or the other
  way round, ignoring case). Each part counts over the found quantities whose listed part is
  not null; a part suggested where the list has none is counted as extra.

Also the counts of suggested claims (all, and those on no listed quantity). No target: the
one target is that both commands ran. Writes benchmarks/results/claims_seeds.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ._common import SEEDS_DIR, Target, machine_info, print_summary, write_result
from .claims_measeval import Runner

NAME = "claims_seeds"
CLAIMS_FILE = Path(__file__).resolve().parent / "data" / "seed_claims.json"
PARTS = ("entity", "property", "condition")

Span = tuple[int, int]


def load_claims(seeds: Path = SEEDS_DIR) -> tuple[list[dict], dict[str, str]]:
    """The listed claims and the seed texts by file name; a listed text not in its article
    is an error in the list, not a miss."""
    claims = orjson.loads(CLAIMS_FILE.read_bytes())["claims"]
    texts = {p.name: p.read_bytes().decode("utf-8") for p in sorted(seeds.glob("*.txt"))}
    for claim in claims:
        text = texts[claim["document"]]
        for key in ("quantity", *PARTS):
            if claim[key] is not None and claim[key] not in text:
                raise SystemExit(f"{CLAIMS_FILE.name}: {claim[key]!r} is not in {claim['document']}")
    return claims, texts


def nth(text: str, fragment: str, n: int) -> Span:
    """The span of the n-th (0-based) occurrence of `fragment`."""
    start = -1
    for _ in range(n + 1):
        start = text.index(fragment, start + 1)
    return start, start + len(fragment)


def nearest(text: str, fragment: str, anchor: Span) -> Span:
    """The occurrence of `fragment` closest to `anchor` (characters between them)."""
    spans, start = [], text.find(fragment)
    while start >= 0:
        spans.append((start, start + len(fragment)))
        start = text.find(fragment, start + 1)
    return min(spans, key=lambda s: (max(0, s[0] - anchor[1], anchor[0] - s[1]), s[0]))


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def records_by_text(records: Path) -> dict[str, dict]:
    out = {}
    for line in records.read_bytes().splitlines():
        record = orjson.loads(line)
        out[record["text"]] = record
    return out


def claim_parts(record: dict, claim: dict) -> dict[str, Span | str | None]:
    """A suggested claim's quantity, entity, property and condition as spans (a property
    given as text stays text)."""
    spans = {s["id"]: (s["start"], s["end"]) for s in record["spans"]}
    prop = claim.get("property") or {}
    return {
        "quantity": spans.get(claim["quantity"]),
        "entity": spans.get(claim.get("entity")),
        "property": spans.get(prop.get("span")) if prop.get("span") else prop.get("text"),
        "condition": spans.get(claim.get("condition")),
    }


def part_right(suggested: Span | str | None, listed: str, text: str, quantity: Span) -> bool:
    if suggested is None:
        return False
    if isinstance(suggested, str):
        a, b = suggested.casefold(), listed.casefold()
        return a in b or b in a
    return overlaps(suggested, nearest(text, listed, quantity))


def judge(listed: dict, text: str, record: dict | None) -> dict:
    """What the suggestions got of one listed claim."""
    quantity = nth(text, listed["quantity"], listed.get("occurrence", 0))
    spans = [(s["start"], s["end"]) for s in (record or {}).get("spans", []) if s["label"] == "QUANTITY"]
    claims = [claim_parts(record, c) for c in (record or {}).get("claims", [])]
    on_it = [c for c in claims if c["quantity"] and overlaps(c["quantity"], quantity)]
    verdict = {
        "document": listed["document"],
        "quantity": listed["quantity"],
        "quantity_found": any(overlaps(s, quantity) for s in spans),
        "claim_found": bool(on_it),
    }
    for part in PARTS:
        if listed[part] is None:
            verdict[part] = "extra" if any(c[part] is not None for c in on_it) else None
        else:
            verdict[part] = any(part_right(c[part], listed[part], text, quantity) for c in on_it)
    return verdict


def tally(verdicts: list[dict]) -> dict:
    """Quantity recall over the list; each part's share right among the found quantities."""
    found = [v for v in verdicts if v["quantity_found"]]
    out = {
        "listed_claims": len(verdicts),
        "quantity_found": len(found),
        "quantity_recall": round(len(found) / len(verdicts), 4) if verdicts else None,
        "claim_found": sum(v["claim_found"] for v in verdicts),
    }
    for part in PARTS:
        listed = [v for v in found if v[part] is not None and v[part] != "extra"]
        right = sum(v[part] is True for v in listed)
        out[part] = {
            "listed_among_found": len(listed),
            "right": right,
            "share_right": round(right / len(listed), 4) if listed else None,
            "extra": sum(v[part] == "extra" for v in found),
        }
    return out


def suggested_counts(records: dict[str, dict], listed: list[dict], texts: dict[str, str]) -> dict:
    """Suggested claims in the seeds, and how many sit on no listed quantity."""
    quantities: dict[str, list[Span]] = {}
    for claim in listed:
        text = texts[claim["document"]]
        quantities.setdefault(text, []).append(nth(text, claim["quantity"], claim.get("occurrence", 0)))
    total = off_list = 0
    per_part = dict.fromkeys(PARTS, 0)
    for text, record in records.items():
        for claim in record.get("claims", []):
            parts = claim_parts(record, claim)
            total += 1
            off_list += not any(parts["quantity"] and overlaps(parts["quantity"], q) for q in quantities.get(text, []))
            for part in PARTS:
                per_part[part] += parts[part] is not None
    return {"claims": total, "on_no_listed_quantity": off_list, **{f"with_{p}": n for p, n in per_part.items()}}


def run_commands(runner: Runner) -> Path | None:
    """Import the seeds and export the suggestions; the data.jsonl (None if a command failed)."""
    if runner.json_of(runner.run("seeds", "seeds", ["import", str(SEEDS_DIR), "--json"])) is None:
        return None
    out = runner.tmp / "seeds" / "exports"
    exported = runner.json_of(
        runner.run("seeds", "seeds", ["export", "--layer", "suggestions", "--out", str(out), "--json"])
    )
    return Path(exported["path"]) / "data.jsonl" if exported else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    listed, texts = load_claims()
    with tempfile.TemporaryDirectory(prefix="bench-claims-seeds-") as tmp:
        runner = Runner(Path(tmp), {"seeds": SEEDS_DIR})
        data = run_commands(runner)
        records = records_by_text(data) if data else {}
        verdicts = [judge(c, texts[c["document"]], records.get(texts[c["document"]])) for c in listed]
        figures = {
            "status": "ok" if data else "failed",
            "listed": tally(verdicts),
            "suggested": suggested_counts(records, listed, texts),
            "documents_matched": sum(text in records for text in set(texts.values())),
            "claims": verdicts,
            "commands": runner.commands,
        }
        targets = [Target("commands that failed", runner.failed(), "<=", 0)]
    path = write_result(NAME, figures, targets, machine=machine, started=started)
    print_summary(NAME, summary_lines(figures), targets, path)
    return 0 if all(t.passed for t in targets) else 1


def summary_lines(figures: dict) -> list[str]:
    listed, suggested = figures["listed"], figures["suggested"]
    lines = [
        f"quantities found: {listed['quantity_found']}/{listed['listed_claims']} (recall {listed['quantity_recall']});"
        f" claims on them: {listed['claim_found']}",
    ]
    for part in PARTS:
        p = listed[part]
        lines.append(f"{part}: {p['right']}/{p['listed_among_found']} right among found (extra {p['extra']})")
    lines.append(
        f"suggested claims: {suggested['claims']} ({suggested['on_no_listed_quantity']} on no listed quantity)"
    )
    lines += [f"{c['wall_s']:8.2f} s  {c['command']}  (exit {c['exit_code']})" for c in figures["commands"]]
    return lines


if __name__ == "__main__":
    sys.exit(main())
