"""The configuration's layers, read without Flask exactly as Flask's Config reads them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import Config

from annotator import config

SETTINGS = """
PAGE_SIZE = 20
NESTED = {"kept": 1}
lowercase_is_ignored = True
"""
WRITER_MODULES = (
    "annotator.formats.brat.writer",
    "annotator.formats.measeval.writer",
    "annotator.formats.conll",
    "annotator.formats.spacy_docbin",
)
QUANTITY_GRAMMAR = ("annotator.nlp.quantities", "annotator.nlp.numbers")  # only to parse a quantity span again
ENVIRONMENT = {
    "ANNOTATOR_NLP_PROCESSES": "1",  # JSON: the number
    "ANNOTATOR_EXPORTS_DIR": "out dir",  # not JSON: the text
    "ANNOTATOR_SUGGEST_CLAIMS": "false",
    "ANNOTATOR_NESTED__added": "[1, 2]",  # into the file's dictionary
    "ANNOTATOR_NEW__inner__deep": '{"a": null}',  # dictionaries made on the way
    "ANNOTATOR_PAGE_SIZE": "35",  # the environment over the file
}


def flask_reading(folder) -> dict:
    """The layers as Flask's Config read them, before the command line stopped loading Flask."""
    reading = Config(str(folder))
    reading.from_mapping(config.defaults(str(folder)))
    reading.from_pyfile("config.py", silent=True)
    reading.from_prefixed_env("ANNOTATOR")
    return dict(reading)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("ANNOTATOR_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_the_layers_read_as_flask_reads_them(instance, monkeypatch):
    (instance / "config.py").write_text(SETTINGS)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    expected = flask_reading(instance)
    loaded = config.load()
    assert loaded == expected
    assert loaded["PAGE_SIZE"] == 35 and loaded["NLP_PROCESSES"] == 1 and loaded["EXPORTS_DIR"] == "out dir"
    assert loaded["NESTED"] == {"kept": 1, "added": [1, 2]}
    assert loaded["NEW"] == {"inner": {"deep": {"a": None}}}
    assert "lowercase_is_ignored" not in loaded


def test_without_a_settings_file_the_defaults_and_the_environment(instance, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_PAGE_SIZE", "10")
    assert config.load() == flask_reading(instance)
    assert config.load()["PAGE_SIZE"] == 10
    (instance / "config.py").mkdir()  # a folder of that name is no settings file, for Flask too
    assert config.load() == flask_reading(instance)


def test_a_broken_settings_file_is_an_error_naming_it(instance):
    (instance / "config.py").write_text("PAGE_SIZE = = 3\n")
    with pytest.raises(SyntaxError) as caught:
        config.load()
    assert caught.value.filename == str(instance / "config.py")


def test_a_command_loads_neither_flask_nor_other_formats_writers(instance):
    """Only the web app needs Flask and werkzeug (~75 ms of start-up): an import and an
    export run without them. A JSONL export of settled documents, in a process of its own,
    also loads no other format's writer (~20 ms) and no quantity grammar (~25 ms)."""
    (instance / "one.txt").write_text("Huawei shipped 10,000 chips.\n")
    program = (
        "import sys\n"
        "from annotator.cli import main\n"
        "try:\n"
        "    main(sys.argv[2:], standalone_mode=False)\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "unwanted = {'flask', 'werkzeug', *sys.argv[1].split()}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in unwanted or m in unwanted))\n"
    )

    def loaded(args: list[str], unwanted: tuple[str, ...] = ()) -> str:
        ran = subprocess.run(
            [sys.executable, "-c", program, " ".join(unwanted), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)},
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.strip().splitlines()[-1]

    assert loaded(["import", "-q", "--no-prehighlight", str(instance / "one.txt")]) == "[]"
    assert loaded(["export", "-q", "--out", str(instance / "exports")], WRITER_MODULES + QUANTITY_GRAMMAR) == "[]"
    assert (instance / "exports").is_dir()
