"""Checks of the MeasEval corpus tools themselves: what they write from the real data, and
that their comparisons see what they should and nothing else."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from .measeval_corpus import (
    ann_lines,
    ann_lines_modulo_ids,
    compare_brat_folders,
    compare_measeval_folders,
    read_text,
    read_tsv_sets,
    require_measeval,
    span_f1_per_label,
    tsv_findings,
    write_brat_corpus,
)

ALLOWED_RELATIONS = {
    "HasProperty": ({"MeasuredEntity"}, {"MeasuredProperty"}),
    "HasQuantity": ({"MeasuredProperty", "MeasuredEntity"}, {"Quantity"}),
    "Qualifies": ({"Qualifier"}, {"Quantity", "MeasuredEntity", "MeasuredProperty"}),
}


@pytest.fixture(scope="module")
def measeval() -> Path:
    return require_measeval()


@pytest.fixture(scope="module")
def train_docs(measeval):
    return read_tsv_sets(measeval / "train" / "tsv", measeval / "train" / "text")


@pytest.fixture(scope="module")
def corpora(measeval, tmp_path_factory):
    """{annotator: (folder, summary)} for train, annotator 2 with seed 0."""
    base = tmp_path_factory.mktemp("brat")
    return {
        n: (base / f"a{n}", write_brat_corpus(measeval / "train", base / f"a{n}", annotator=n, seed=0)) for n in (1, 2)
    }


def t_lines(folder: Path):
    """(file name, T id, label, fragments, quoted text, paragraph) for every T line."""
    for ann in sorted(folder.glob("*.ann")):
        text = read_text(ann.with_suffix(".txt"))
        for line in ann_lines(ann):
            if line.startswith("T"):
                ident, head, quoted = line.split("\t")
                label, offsets = head.split(" ", 1)
                fragments = [tuple(int(n) for n in part.split()) for part in offsets.split(";")]
                yield ann.name, ident, label, fragments, quoted, text


# --- reading and writing ------------------------------------------------------------------


def test_train_is_read_completely(measeval, train_docs):
    assert len(train_docs) == 248
    assert sum(bool(sets) for _, sets in train_docs.values()) == 233
    tsvs = (measeval / "train" / "tsv").glob("*.tsv")
    lines = sum(len(p.read_text(encoding="utf-8").split("\n")) - 2 for p in tsvs)  # header, final newline
    assert sum(len(rows) for _, sets in train_docs.values() for rows in sets.values()) == lines
    assert not [f for f in tsv_findings(train_docs) if " text " in f]  # every row quotes its paragraph


def test_annotator_1_says_what_the_tsv_says(train_docs, corpora):
    folder, summary = corpora[1]
    rows = [r for _, sets in train_docs.values() for rs in sets.values() for r in rs]
    others = [r.other_json() for r in rows]
    sets = sum(len(sets) for _, sets in train_docs.values())
    units = sum(1 for r, o in zip(rows, others) if r.annot_type == "Quantity" and o.get("unit", "\0") in r.text)
    assert summary["sets"] == sets and summary["files"] == 2 * (sets + 15) == len(list(folder.iterdir()))
    assert summary["spans"] == dict(sorted((Counter(r.annot_type for r in rows) + Counter(Unit=units)).items()))
    links = Counter(key for o in others for key in o if key not in ("unit", "mods"))
    assert summary["relations"] == dict(sorted(links.items()))
    assert summary["attributes"] == sum(len(o.get("mods", [])) for o in others)
    assert summary["empty_files"] == 15 == sum(1 for p in folder.glob("*.ann") if p.stat().st_size == 0)
    assert summary["notes"] > 0 and summary["discontinuous"] > 0 and summary["changes"] == {}


def test_annotator_2_differs_by_its_seed_and_only_by_it(measeval, corpora, tmp_path):
    (folder1, s1), (folder2, s2) = corpora[1], corpora[2]
    changes = s2["changes"]
    assert 0.02 < changes["dropped sets"] / s1["sets"] < 0.10 and s2["sets"] == s1["sets"] - changes["dropped sets"]
    assert all(
        changes[k] > 0
        for k in ("shifted entity boundaries", "properties relabelled as entities", "quantities with changed modifiers")
    )
    assert s2["files"] == len(list(folder2.iterdir())) and s2["discontinuous"] > 0
    assert compare_brat_folders(folder1, folder2)
    write_brat_corpus(measeval / "train", tmp_path / "again", annotator=2, seed=0)
    assert compare_brat_folders(folder2, tmp_path / "again") == []
    write_brat_corpus(measeval / "train", tmp_path / "other", annotator=2, seed=1)
    assert compare_brat_folders(folder2, tmp_path / "other")


@pytest.mark.parametrize("annotator", [1, 2])
def test_every_t_line_quotes_the_text_at_its_offsets(corpora, annotator):
    folder, _ = corpora[annotator]
    for name, ident, _, fragments, quoted, text in t_lines(folder):
        assert quoted == " ".join(text[s:e] for s, e in fragments), (name, ident)
        assert all(0 <= s < e <= len(text) for s, e in fragments), (name, ident)
        assert quoted == quoted.strip(), (name, ident)
        for (_, e1), (s2, _) in zip(fragments, fragments[1:]):
            assert e1 < s2 and text[e1:s2].strip(), (name, ident)  # ordered, a word left out


@pytest.mark.parametrize("annotator", [1, 2])
def test_relations_attributes_and_notes_point_at_the_right_labels(corpora, annotator):
    folder, _ = corpora[annotator]
    for ann in folder.glob("*.ann"):
        lines = [line.split("\t") for line in ann_lines(ann)]
        label = {f[0]: f[1].split(" ")[0] for f in lines if f[0].startswith("T")}
        for fields in lines:
            words = fields[1].split(" ")
            if fields[0].startswith("R"):
                assert fields[2] == "", ann.name  # brat's tab after the arguments
                firsts, seconds = ALLOWED_RELATIONS[words[0]]
                assert label[words[1][5:]] in firsts and label[words[2][5:]] in seconds, (ann.name, fields)
            elif fields[0][0] in "A#":
                assert label[words[1]] == "Quantity", (ann.name, fields)


# --- comparing brat folders ---------------------------------------------------------------


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_bytes().decode("utf-8")
    assert old in content
    path.write_bytes(content.replace(old, new, 1).encode("utf-8"))


@pytest.fixture
def copy1(corpora, tmp_path) -> Path:
    return Path(shutil.copytree(corpora[1][0], tmp_path / "copy"))


def test_an_identical_copy_compares_equal(corpora, copy1):
    assert compare_brat_folders(corpora[1][0], copy1) == []


def test_a_changed_label_is_seen(corpora, copy1):
    ann = next(p for p in sorted(copy1.glob("*.ann")) if "\tMeasuredProperty " in p.read_text(encoding="utf-8"))
    edit(ann, "\tMeasuredProperty ", "\tMeasuredEntity ")
    diffs = compare_brat_folders(corpora[1][0], copy1)
    assert diffs and all(d.startswith(ann.name) for d in diffs)


def test_a_missing_trailing_tab_is_seen(corpora, copy1):
    ann = next(p for p in sorted(copy1.glob("*.ann")) if "\nR1\t" in "\n" + p.read_text(encoding="utf-8"))
    line = next(line for line in ann_lines(ann) if line.startswith("R1\t"))
    edit(ann, line + "\n", line.rstrip("\t") + "\n")
    assert compare_brat_folders(corpora[1][0], copy1)


def test_a_deleted_empty_ann_is_seen(corpora, copy1):
    empty = next(p for p in sorted(copy1.glob("*.ann")) if p.stat().st_size == 0)
    empty.unlink()
    assert compare_brat_folders(corpora[1][0], copy1) == [f"{empty.name}: only in {corpora[1][0]}"]


def test_a_changed_paragraph_is_seen(corpora, copy1):
    txt = sorted(copy1.glob("*.txt"))[0]
    txt.write_bytes(txt.read_bytes() + b"\n")
    assert compare_brat_folders(corpora[1][0], copy1) == [f"{txt.name}: contents differ"]


def renumber(content: str) -> str:
    """The same annotations with other ids (reversed per kind, from 9 up) in reverse order."""
    lines = content.split("\n")[:-1]
    mapping = {}
    for prefix in "TRA#":
        mine = [line.split("\t", 1)[0] for line in lines if line.startswith(prefix)]
        mapping.update({old: f"{prefix}{n}" for n, old in enumerate(reversed(mine), start=9)})
    renamed = []
    for line in reversed(lines):
        ident, head, *tail = line.split("\t")
        if not ident.startswith("T"):  # ids sit in the second field; T texts stay untouched
            head = re.sub(r"(?<=[ :])[TRA#]\d+\b", lambda m: mapping[m[0]], head)
        renamed.append("\t".join([mapping[ident], head, *tail]))
    return "".join(line + "\n" for line in renamed)


def test_other_id_numbers_compare_equal(corpora, copy1):
    for ann in copy1.glob("*.ann"):
        ann.write_bytes(renumber(ann.read_bytes().decode("utf-8")).encode("utf-8"))
    sample = next(p for p in sorted(copy1.glob("*.ann")) if "#9\t" in p.read_text(encoding="utf-8"))
    assert sample.read_bytes() != (corpora[1][0] / sample.name).read_bytes()
    assert compare_brat_folders(corpora[1][0], copy1) == []


def test_lines_modulo_ids_keep_everything_but_the_ids(tmp_path):
    base = (
        "T1\tQuantity 0 4\t5 kg\nT2\tMeasuredEntity 9 13\tbags\nT3\tUnit 2 4\tkg\n"
        "R1\tHasQuantity Arg1:T2 Arg2:T1\t\nA1\tQuantityQualifier T1 IsApproximate\n#1\tAnnotatorNotes T1\tkg\n"
    )
    same = (
        "T7\tUnit 2 4\tkg\nT5\tMeasuredEntity 9 13\tbags\nT2\tQuantity 0 4\t5 kg\n"
        "#4\tAnnotatorNotes T2\tkg\nA3\tQuantityQualifier T2 IsApproximate\nR8\tHasQuantity Arg1:T5 Arg2:T2\t\n"
    )
    (tmp_path / "a.ann").write_text(base, encoding="utf-8")
    (tmp_path / "b.ann").write_text(same, encoding="utf-8")
    assert ann_lines_modulo_ids(tmp_path / "a.ann") == ann_lines_modulo_ids(tmp_path / "b.ann")
    for old, new in [
        ("IsApproximate", "IsRange"),
        ("\tkg\n", "\tkg \n"),
        ("Arg1:T2 Arg2:T1", "Arg1:T1 Arg2:T2"),
        ("T1\t\n", "T1\n"),
        ("AnnotatorNotes T1", "AnnotatorNotes T3"),
        ("9 13", "9 14"),
    ]:
        (tmp_path / "c.ann").write_text(base.replace(old, new, 1), encoding="utf-8")
        assert ann_lines_modulo_ids(tmp_path / "a.ann") != ann_lines_modulo_ids(tmp_path / "c.ann"), (old, new)


# --- comparing MeasEval TSV folders -------------------------------------------------------


@pytest.fixture
def tsv_copy(measeval, tmp_path) -> Path:
    return Path(shutil.copytree(measeval / "train" / "tsv", tmp_path / "tsv"))


def test_a_tsv_copy_compares_equal_even_reordered(measeval, tsv_copy):
    tsv = sorted(tsv_copy.glob("*.tsv"))[0]
    header, *rows = tsv.read_text(encoding="utf-8").split("\n")[:-1]
    rows = [line.split("\t") for line in reversed(rows)]
    for fields in rows:  # JSON with other key order and spacing
        if fields[7]:
            fields[7] = json.dumps(dict(reversed(json.loads(fields[7]).items())), indent=None, separators=(",", ":"))
    tsv.write_text("\n".join([header, *("\t".join(f) for f in rows)]) + "\n", encoding="utf-8")
    assert compare_measeval_folders(measeval / "train" / "tsv", tsv_copy) == []


def test_an_added_unit_is_seen(measeval, tsv_copy):
    tsv = sorted(tsv_copy.glob("*.tsv"))[0]
    edit(tsv, '"HasQuantity": ', '"unit": "m", "HasQuantity": ')
    diffs = compare_measeval_folders(measeval / "train" / "tsv", tsv_copy)
    assert len(diffs) == 2 and all(d.startswith(tsv.name) for d in diffs)


def test_extra_and_missing_files_are_seen(measeval, tsv_copy):
    (tsv_copy / "notes.txt").write_text("x\n", encoding="utf-8")
    gone = sorted(tsv_copy.glob("*.tsv"))[-1]
    gone.unlink()
    assert compare_measeval_folders(measeval / "train" / "tsv", tsv_copy) == [
        f"{gone.name}: missing from {tsv_copy}",
        f"notes.txt: extra in {tsv_copy}",
    ]


# --- span agreement -----------------------------------------------------------------------


def test_a_folder_agrees_with_itself(corpora):
    scores = span_f1_per_label(corpora[1][0], corpora[1][0])
    assert set(scores) == {"Quantity", "MeasuredEntity", "MeasuredProperty", "Qualifier", "Unit", "micro"}
    assert all(entry["f1"] == 1.0 for entry in scores.values())


def test_the_two_annotators_disagree_on_entities(corpora):
    scores = span_f1_per_label(corpora[1][0], corpora[2][0])
    assert 0.5 < scores["MeasuredEntity"]["f1"] < 1.0
    assert scores["micro"]["f1"] < 1.0


def test_spans_are_pooled_per_paragraph_and_fragments_merged_over_whitespace(tmp_path):
    text = "the wet  soil of the field"
    a, b = tmp_path / "a", tmp_path / "b"
    files = {
        a / "d-1": "T1\tMeasuredEntity 0 7;9 13\tthe wet soil\n",  # gap of spaces: one span
        a / "d-2": "T1\tMeasuredEntity 0 3;14 16\tthe of\n",  # gap with a word: two spans
        b / "p": "T4\tMeasuredEntity 0 13\tthe wet  soil\nT5\tMeasuredEntity 14 16\tof\n",
        b / "other": "T1\tQuantity 0 3\tthe\n",
    }
    for stem, ann in files.items():
        stem.parent.mkdir(exist_ok=True)
        stem.with_suffix(".txt").write_text(text if stem.name != "other" else "another text", encoding="utf-8")
        stem.with_suffix(".ann").write_text(ann, encoding="utf-8")
    scores = span_f1_per_label(a, b)
    assert scores["MeasuredEntity"] == {"matched": 2, "a": 3, "b": 2, "f1": 0.8}
    assert "Quantity" not in scores  # "another text" is in one folder only
    assert span_f1_per_label(a, b, documents={"another text"})["Quantity"] == {"matched": 0, "a": 0, "b": 1, "f1": 0.0}
    assert span_f1_per_label(a, b, documents=set())["micro"]["f1"] is None
