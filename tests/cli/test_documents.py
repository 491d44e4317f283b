"""`annotator documents`, `annotator layers` and `show` by a unique id prefix, against a real
SQLite project: what they list is what the import stored."""

from __future__ import annotations

import orjson

RECORDS = [
    {"id": "a1", "text": "Nvidia makes the H100.", "lang": "en"},
    {"id": "b2", "text": "A Huawei fabrica o Ascend 910B.", "lang": "pt"},
    {"id": "c3", "text": "Intel makes the Gaudi 3.", "lang": "en"},
]


def lines(output: str) -> list[dict]:
    return [orjson.loads(line) for line in output.splitlines() if line.strip()]


def imported(cli, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in RECORDS))
    assert cli("import", "--no-prehighlight", path).exit_code == 0
    gold = tmp_path / "gold.jsonl"
    span = {"start": 0, "end": 6, "label": "ORG"}
    gold.write_bytes(orjson.dumps({**RECORDS[0], "spans": [span]}) + b"\n")
    result = cli("import", "--no-prehighlight", "--layer", "gold", "--done", gold)
    assert result.exit_code == 0, result.output


def test_documents_lists_and_filters_what_was_stored(cli, tmp_path):
    imported(cli, tmp_path)
    result = cli("documents", "--json")
    assert result.exit_code == 0, result.output
    listed = lines(result.stdout)
    assert sorted(d["source_id"] for d in listed) == ["a1", "b2", "c3"]
    assert len({d["id"] for d in listed}) == 3
    assert sorted(d["source_id"] for d in lines(cli("documents", "--lang", "pt", "--json").stdout)) == ["b2"]
    done = lines(cli("documents", "--layer", "gold", "--status", "done", "--json").stdout)
    assert [d["source_id"] for d in done] == ["a1"]
    assert lines(cli("documents", "--lang", "ja", "--json").stdout) == []
    plain = cli("documents")
    assert plain.exit_code == 0 and "a1" in plain.stdout and "gold:done" in plain.stdout


def test_layers_count_documents_and_spans(cli, tmp_path):
    imported(cli, tmp_path)
    result = cli("layers", "--json")
    assert result.exit_code == 0, result.output
    gold = next(layer for layer in orjson.loads(result.stdout) if layer["name"] == "gold")
    assert (gold["documents"], gold["done"], gold["spans"]) == (1, 1, 1)


def test_show_takes_a_unique_prefix_and_names_the_candidates_of_an_ambiguous_one(cli, tmp_path):
    imported(cli, tmp_path)
    ids = sorted(d["id"] for d in lines(cli("documents", "--json").stdout))
    for uid in ids:
        prefix = next(uid[:n] for n in range(1, len(uid) + 1) if sum(i.startswith(uid[:n]) for i in ids) == 1)
        result = cli("show", prefix, "--json")
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.stdout)["id"] == uid
    assert orjson.loads(cli("show", "b2", "--json").stdout)["source_id"] == "b2"
    result = cli("show", "")  # every id begins with the empty string
    assert result.exit_code == 1 and all(uid in result.output for uid in ids)
    result = cli("show", "zz-none")
    assert result.exit_code == 1 and "zz-none" in result.output
