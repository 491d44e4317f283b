"""A plain, non-editable install carries templates, static files, htmx, seeds, schema and
migrations, and serves pages from them."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_serves_pages_without_the_checkout(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    for needed in (
        "annotator/_templates/base.html",
        "annotator/_static/css/app.css",
        "annotator/_vendor/htmx/htmx.min.js",
        "annotator/schema/record.schema.json",
        "annotator/migrations/versions/0001_initial_schema.py",
        "annotator/data/labels.json",
        "annotator/data/units.json",
        "annotator/_seeds/000_a10f70cb594038cf.txt",
    ):
        assert needed in names, needed
    # every page and partial, in every folder: a folder left out of pyproject's packages is dropped
    for folder, packaged in (("templates", "_templates"), ("static", "_static")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                assert f"annotator/{packaged}/{path.relative_to(ROOT / folder).as_posix()}" in names, path
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import annotator
        assert annotator.__file__.startswith({str(site)!r}), annotator.__file__
        import annotator.cli  # every subpackage the command imports is in the wheel
        from annotator.web.app import create_app
        from annotator.db import ensure_schema, get_db
        app = create_app({{"INSTANCE_PATH": {str(tmp_path / "instance")!r}}})
        ensure_schema(get_db(app))
        client = app.test_client()
        assert client.get("/").headers["Location"].startswith("/login")
        page = client.get("/login")
        assert page.status_code == 200 and b"Log in" in page.data, page.status_code
        assert client.get("/static/css/app.css").status_code == 200
        assert client.get("/vendor/htmx/htmx.min.js").status_code == 200
        assert app.config["SEEDS_DIR"].startswith({str(site)!r})
        print("ok")
    """)
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.strip().endswith("ok"), ran.stdout + ran.stderr


def test_every_template_and_static_folder_is_a_listed_package():
    """setuptools still carries an unlisted data folder today, with a warning that it will
    stop: each folder is listed, so a new one cannot be dropped by a later setuptools."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    for folder, package in (("templates", "annotator._templates"), ("static", "annotator._static")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir():
                dotted = ".".join(path.relative_to(ROOT / folder).parts)
                assert f"{package}.{dotted}" in listed, f"{path} is not in pyproject's packages"


def test_every_package_the_code_imports_is_declared():
    """Each third-party module imported under annotator/ comes from a distribution listed in
    pyproject's dependencies (not merely from something a dependency happens to pull in)."""
    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {re.split(r"[<>=!\[; ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in project["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for path in (root / "annotator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "annotator"}
    assert {"numpy", "flask", "spacy"} <= third_party
    normal = lambda name: name.lower().replace("_", "-")  # noqa: E731
    providers = {module: {normal(n) for n in distributions.get(module, [module])} for module in third_party}
    assert {module: sorted(p) for module, p in providers.items() if not p & declared} == {}
