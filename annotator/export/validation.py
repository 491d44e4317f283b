"""`annotator validate`: check a JSONL file record by record, naming file:line and field.

Records are held to the schema they were exported under: the schema.json beside the file
(an export's version folder), else the record schema of the label configuration given; and,
given a label configuration, their span and relation labels are held to it as
`import --layer` holds them. A file that is not JSON Lines at all (empty, not UTF-8, one
pretty-printed JSON document) gets one problem saying so, not one per line.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import orjson

from annotator.formats.checks import relation_problem
from annotator.formats.labelmap import STRUCTURAL_RELATIONS
from annotator.schema import RecordSchema, record_schema

NO_RECORDS = "no records in file"  # what `annotator import` says of an empty file
MESSAGE_MAX = 300  # a schema error quotes the failing value, which may be a whole huge line
_POSITION = re.compile(r"^(.*): line \d+ column (\d+) \(char \d+\)$")
_INDEX = re.compile(r"\[\d+\]")
_COLUMN = re.compile(r" at column \d+$")


def schema_for(path: Path, labels=None) -> RecordSchema:
    """The schema beside the file if it has one, else that of `labels` (the template's for None)."""
    beside = path.parent / "schema.json"
    if beside.is_file():
        try:
            return RecordSchema.from_bytes(beside.read_bytes())
        except (OSError, ValueError):
            pass  # not a schema after all: the configuration's is the one to use
    return record_schema(labels)


def validate_file(path: Path, schema: RecordSchema | None = None, labels=None) -> tuple[list[dict], int]:
    """Problems as {file, line, message} (line None: the file as a whole); the number of
    records read. `schema`: by default the one beside the file, else the template's;
    `labels`: a label configuration to check span and relation labels against (None: not checked)."""
    schema = schema or schema_for(path)
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [_problem(where, None, f"cannot read file: {exc.strerror or exc}")], 0
    text, problem = _decode(data, where)
    if problem:
        return [problem], 0
    document = one_document(text, path)
    if document:
        return [_problem(where, None, document)], 0
    problems, count = [], 0
    # split on "\n" only, as `annotator import` does: a JSON string may hold \r or \u2028
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        count += 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problems.append(_problem(where, lineno, malformed(exc)))
            continue
        problems.extend(_problem(where, lineno, m) for m in record_problems(record, schema, labels))
    if count == 0:  # 0 bytes or only whitespace: refused, as `annotator import` refuses it
        problems.append(_problem(where, None, NO_RECORDS))
    return problems, count


def _problem(path: str, line: int | None, message: str) -> dict:
    if len(message) > MESSAGE_MAX:
        message = message[: MESSAGE_MAX - 1] + "…"
    return {"file": path, "line": line, "message": message}


def _decode(data: bytes, path: str) -> tuple[str, dict | None]:
    """UTF-8 (a byte-order mark dropped), or the line where it stops being UTF-8, in the words
    of formats.files.decode; not imported from there, as that module loads the ORM."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (convert the file to UTF-8 first)"
        return "", _problem(path, line, message)


def malformed(exc: orjson.JSONDecodeError) -> str:
    """orjson's reason, placed by column: its "line 1" is always the record's own line."""
    found = _POSITION.match(str(exc))
    return f"malformed JSON: {found[1]} at column {found[2]}" if found else f"malformed JSON: {exc}"


def one_document(text: str, path: Path) -> str | None:
    """What the file is if it holds one JSON document (an array or object, typically
    pretty-printed) rather than JSON Lines, with how to convert it; None for anything else.

    It is one when it starts with [ or { and its first line does not parse alone (or is an
    array and the only line) while the whole text does. A JSON Lines file costs one parse of
    its first line here."""
    body = text.strip()
    if not body or body[0] not in "[{":
        return None
    first = body.split("\n", 1)[0]
    try:
        alone = orjson.loads(first)
    except orjson.JSONDecodeError:
        pass
    else:
        if not (isinstance(alone, list) and first == body):
            return None  # a record (or a line of some other shape): JSON Lines to check line by line
    try:
        whole = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # broken JSON either way: each line's problem is named
    target = path.with_suffix(".jsonl")
    if target == path:
        target = path.with_name(f"{path.stem}-lines.jsonl")
    src, out = shlex.quote(str(path)), shlex.quote(str(target))
    if isinstance(whole, list):
        what, hint = f"an array of {len(whole)} items", f"one item per line: jq -c '.[]' {src} > {out}"
    else:
        what, hint = "an object", f"if it is one record, put it on one line: jq -c . {src} > {out}"
    return f"this is one JSON document ({what}), not JSON Lines (one record per line); convert it with {hint}"


def record_problems(record, schema: RecordSchema, labels=None) -> list[str]:
    """What is wrong with one record, if anything.

    The compiled validator of the same schema and the consistency checks clear a good
    record in ~0.3 ms; only a record they refuse goes to the explaining validator (~25 ms
    for a seed-sized record, minutes for a 10,000-record export) to name what is wrong.
    """
    problems = [] if schema.is_valid(record) else schema.record_errors(record)
    return problems + (label_problems(record, labels) if labels is not None else [])


def label_problems(record, labels) -> list[str]:
    """Span and relation labels the label configuration lacks, and relations between labels
    it does not allow: what `import --layer` refuses. A label of the wrong type is the
    schema's to name."""
    if not isinstance(record, dict):
        return []
    spans, relations = record.get("spans"), record.get("relations")
    problems, label_of = [], {}
    for i, span in enumerate(spans if isinstance(spans, list) else []):
        label = span.get("label") if isinstance(span, dict) else None
        if not isinstance(label, str) or not label:
            continue
        if isinstance(span.get("id"), str):
            label_of[span["id"]] = label
        if label not in labels.entities:
            problems.append(f"$.spans[{i}].label: unknown span label {label!r}; {_known(labels.entities, labels)}")
    for i, rel in enumerate(relations if isinstance(relations, list) else []):
        label = rel.get("label") if isinstance(rel, dict) else None
        if not isinstance(label, str) or not label:
            continue
        if label not in labels.relations and label not in STRUCTURAL_RELATIONS:
            problems.append(
                f"$.relations[{i}].label: unknown relation label {label!r}; {_known(labels.relations, labels)}"
            )
            continue
        ends = [label_of.get(end) if isinstance(end, str) else None for end in (rel.get("head"), rel.get("child"))]
        if all(end in labels.entities for end in ends):  # an end missing or unknown is named already
            problem = relation_problem(labels, label, *ends)
            if problem:
                problems.append(f"$.relations[{i}]: {problem}")
    return problems


def _known(names, labels) -> str:
    return f"known: {', '.join(names) or '(none)'} (label configuration {labels.path})"


def same_problem(message: str) -> str:
    """A message with what differs from line to line (list indices, a column) left out, so
    the same problem on many lines is counted as one."""
    return _COLUMN.sub("", _INDEX.sub("[*]", message))


def summary(problems: list[dict]) -> list[dict]:
    """How many lines of each file have each problem (by same_problem), most first."""
    lines: dict[tuple[str, str], set] = {}
    for p in problems:
        lines.setdefault((p["file"], same_problem(p["message"])), set()).add(p["line"])
    ranked = sorted(lines.items(), key=lambda item: -len(item[1]))
    return [{"file": file, "problem": problem, "lines": len(found)} for (file, problem), found in ranked]


def capped(problems: list[dict], limit: int) -> tuple[list[dict], list[dict]]:
    """The problems to print, each problem on at most `limit` lines of a file; and, for each
    problem cut short, how many more lines have it ({file, problem, lines})."""
    shown, more = {}, {}
    out = []
    for p in problems:
        key = (p["file"], same_problem(p["message"]))
        lines = shown.setdefault(key, set())
        if p["line"] in lines or len(lines) < limit:
            lines.add(p["line"])
            out.append(p)
        else:
            more.setdefault(key, set()).add(p["line"])
    return out, [{"file": file, "problem": problem, "lines": len(found)} for (file, problem), found in more.items()]
